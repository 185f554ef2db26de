import { Op, Rights } from "../../src/kernel/caps/object-abi.ts";
import { Receiver, receiverPages } from "../../src/kernel/caps/receiver.ts";
import type { Process } from "../../src/kernel/process.ts";
import type { TestMachine } from "./test-host.ts";
import { wat } from "./wat.ts";

/**
 * Many live processes, each blocked in a receive with pages of its own, all answering a call
 * (issue 18): for test/kernel/many-processes.test.ts and bench/scheduling.ts.
 *
 * A server (`(memory 1 1)`: a one-frame TLB) writes its pid into a page of its own, registers a
 * handler on the Receiver at slot 2 (PROCESS_SERVE) and returns: between messages it has no stack
 * at all, only its two pages. Each call bumps a counter beside its pid and answers both. Servers
 * share a Receiver GROUP at a time: a Receiver gives each call to the process that has waited on
 * it longest, so GROUP calls through one reach each of its servers once, in the order they
 * started. A caller per Receiver makes them and checks each answer.
 */
export const SERVER = (): Uint8Array => wat(`(module
  (import "dogma" "invoke" (func $invoke (param i32 i32 i32) (result i32)))
  (import "dogma" "getpid" (func $getpid (result i32)))
  (memory 1 1)
  (data (i32.const 0x1000) "handle")
  ;; Page 1: the handler's name, the receive buffer (0x1100), the message it sends (0x1200).
  ;; Page 2: its pid (0x2000) and how many calls it answered (0x2004).
  (func (export "run") (result i32)
    (i32.store (i32.const 0x2000) (call $getpid))
    (i32.store (i32.const 0x1200) (i32.const ${Op.PROCESS_SERVE}))
    (i32.store (i32.const 0x1204) (i32.const 5))
    (i32.store (i32.const 0x1208) (i32.const 0))
    (i32.store (i32.const 0x1214) (i32.const 0x1000))
    (i32.store (i32.const 0x1218) (i32.const 6))
    (i32.store (i32.const 0x121c) (i32.const 2))
    (i32.store (i32.const 0x1220) (i32.const 0x1100))
    (i32.store (i32.const 0x1224) (i32.const 64))
    (call $invoke (i32.const 1) (i32.const 0x1200) (i32.const 64)))
  (func (export "handle") (param $status i32) (result i32)
    (if (i32.lt_s (local.get $status) (i32.const 0)) (then (return (i32.const 9))))
    (i32.store (i32.const 0x2004) (i32.add (i32.load (i32.const 0x2004)) (i32.const 1)))
    (i32.store (i32.const 0x1200) (i32.const 0))
    (i32.store (i32.const 0x1204) (i32.const 2))
    (i32.store (i32.const 0x1208) (i32.const 0))
    (i32.store (i32.const 0x1214) (i32.load (i32.const 0x2000)))
    (i32.store (i32.const 0x1218) (i32.load (i32.const 0x2004)))
    (drop (call $invoke (i32.load (i32.const 0x1110)) (i32.const 0x1200) (i32.const 64)))
    (i32.const 0))
  (func (export "_start")))`);

/**
 * Calls slot 2 `count` times, answer i checked against the pid expected at 0x8000 + 4i (written by
 * the host before it runs) and a count of 1. Returns how many calls failed or answered otherwise.
 */
export const CALLER = (): Uint8Array => wat(`(module
  (import "dogma" "invoke" (func $invoke (param i32 i32 i32) (result i32)))
  (memory 1 1)
  (func (export "run") (param $count i32) (result i32) (local $i i32) (local $wrong i32)
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
      (i32.store (i32.const 0x3000) (i32.const 0x77))
      (i32.store (i32.const 0x3004) (i32.const 0))
      (i32.store (i32.const 0x3008) (i32.const 0))
      (i32.store (i32.const 0x300c) (i32.const 0))
      (if (i32.or (i32.or
            (i32.ne (call $invoke (i32.const 2) (i32.const 0x3000) (i32.const 64)) (i32.const 0))
            (i32.ne (i32.load (i32.const 0x3014)) (i32.load (i32.add (i32.const 0x8000) (i32.shl (local.get $i) (i32.const 2))))))
            (i32.ne (i32.load (i32.const 0x3018)) (i32.const 1)))
        (then (local.set $wrong (i32.add (local.get $wrong) (i32.const 1)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next)))
    (local.get $wrong))
  (func (export "_start")))`);

/** Servers on one Receiver (the caller's expected pids fill at most 16 KiB of its one 64 KiB page). */
export const GROUP = 1000;

export interface ServerFarm {
  servers: Process[];
  /** Each Receiver and its servers, in the order they started waiting on it. */
  groups: Array<{ receiver: Receiver; servers: Process[] }>;
}

/**
 * Spawns `count` more servers into `farm` (a new one by default), GROUP to a Receiver (capacity
 * 1), and runs them until each waits in its serve loop.
 */
export async function startServers(t: TestMachine, count: number, farm: ServerFarm = { servers: [], groups: [] }): Promise<ServerFarm> {
  const image = await t.loader.load(SERVER(), "server");
  const kernel = t.kernel;
  for (let i = 0; i < count; i++) {
    let group = farm.groups.at(-1);
    if (!group || group.servers.length === GROUP) {
      const receiver = new Receiver(1);
      if (!kernel.rootMemory.adopt(receiver, receiverPages(1))) throw new RangeError(`no quota for receiver ${farm.groups.length}`);
      group = { receiver, servers: [] };
      farm.groups.push(group);
    }
    // Its binary unmapped: it never reads it, and the mapping would cost a page table.
    const server = kernel.spawn(image, { entry: "run", mapImage: false, caps: [kernel.capability(group.receiver, Rights.RECEIVER_RECEIVE)] });
    group.servers.push(server);
    farm.servers.push(server);
  }
  await kernel.run(); // each registers and returns: then nothing can run
  return farm;
}

/** Calls every server once, a caller per Receiver; returns how many calls failed or answered wrongly. */
export async function callEach(t: TestMachine, farm: ServerFarm): Promise<number> {
  const kernel = t.kernel;
  const image = await t.loader.load(CALLER(), "caller");
  const callers = farm.groups.map(({ receiver, servers }) => {
    const caller = kernel.spawn(image, { entry: "run", entryArgs: [servers.length], caps: [kernel.capability(receiver, Rights.RECEIVER_CALL)] });
    const expected = new Uint32Array(servers.map((s) => s.pid));
    if (!kernel.writeMemory(caller, 0x8000, new Uint8Array(expected.buffer))) throw new Error("cannot write the caller's expected pids");
    return caller;
  });
  await kernel.run();
  let wrong = 0;
  for (const caller of callers) {
    const outcome = caller.outcome;
    if (outcome?.kind !== "exited" || outcome.code !== 0) throw new Error(`caller ended with ${JSON.stringify(outcome)}`);
    wrong += caller.returnValue as number;
  }
  return wrong;
}

/** Ends every server and disposes of the Receivers. */
export async function endServers(t: TestMachine, farm: ServerFarm): Promise<void> {
  for (const s of farm.servers) t.kernel.kill(s.pid);
  await t.kernel.run();
  for (const { receiver } of farm.groups) receiver.destroy();
}
