/**
 * Serving processes (PROCESS_SERVE) and the clone of a process that has run: a server's entry
 * registers a handler and returns; the kernel then receives for it and calls the handler per
 * message, so that between messages it has no frames anywhere. Cloned there, the copy takes its
 * memory copy-on-write and its globals, starts in the serve loop on the same Receiver, and both go
 * on from the same state, each on its own. Refusals: a process that is running or blocked in a
 * call of its own, a program whose tables it writes, bad registrations.
 */
import { describe, expect, it } from "vitest";
import { processKernelFrames } from "../../src/kernel/caps/memory-object.ts";
import { ALL_RIGHTS, Op, Rights } from "../../src/kernel/caps/object-abi.ts";
import { Receiver } from "../../src/kernel/caps/receiver.ts";
import { Status } from "../../src/kernel/errors.ts";
import type { Process } from "../../src/kernel/process.ts";
import { testMachine } from "../helpers/test-host.ts";
import { TestStore } from "../helpers/test-store.ts";
import { wat } from "../helpers/wat.ts";
import { counterServer as server } from "../helpers/counter-server.ts";
import { Script, runAll, scriptMachine } from "../caps/script.ts";
import { patience } from "../helpers/patience.ts";

describe("serving processes", () => {
  it("serve each message through the handler, between messages with no frames, and end when it says so", async () => {
    const m = await scriptMachine();
    const receiver = new Receiver(16);
    m.kernel.rootMemory.adopt(receiver, 1);
    const served = m.kernel.spawn(await m.loader.load(server(), "server"), { entry: "run", entryArgs: [2], caps: [m.kernel.capability(receiver, Rights.RECEIVER_RECEIVE)] });
    const s = new Script();
    const calls = [1, 2, 3].map(() => s.invoke(2, 0x77, { words: [] }));
    const last = s.invoke(2, 1, { words: [] });
    s.end();
    const client = m.spawn(s, { caps: [m.kernel.capability(receiver, Rights.RECEIVER_CALL)] });
    await runAll(m);
    const log = m.log();
    expect(client.fault).toBe(null);
    expect(calls.map((id) => log.answer(client, id).words)).toEqual([1, 2, 3].map((n) => [served.pid, n, 10 * n]));
    // The fourth message asked it to end: no reply (the call sees the Reply disposed), exit code 3.
    expect(log.status(client, last)).toBe(Status.E_PEER_DEAD);
    expect(served.outcome).toEqual({ kind: "exited", code: 3 });
  });

  it("are cloned between messages: the copy shares its frames, has its globals, and both go on from there", async () => {
    const m = await scriptMachine();
    const receiver = new Receiver(16);
    m.kernel.rootMemory.adopt(receiver, 1);
    const served = m.kernel.spawn(await m.loader.load(server(), "server"), { entry: "run", entryArgs: [24], caps: [m.kernel.capability(receiver, Rights.RECEIVER_RECEIVE)] });
    const s = new Script();
    const copy = s.reg();
    const before = [1, 2, 3].map(() => s.invoke(2, 0x77, { words: [] }));
    const cloned = s.invoke(3, Op.PROCESS_CLONE, { caps: [4] });
    s.loadCap(copy);
    const started = s.invoke(copy, Op.PROCESS_START);
    // The copy runs until it waits for a message too (a call switches straight to a waiting server).
    s.yield();
    const after = [1, 2, 3, 4].map(() => s.invoke(2, 0x77, { words: [] }));
    s.end();
    const client = m.spawn(s, {
      caps: [m.kernel.capability(receiver, Rights.RECEIVER_CALL), m.kernel.capability(served, ALL_RIGHTS), m.kernel.capability(m.kernel.rootMemory, ALL_RIGHTS)],
    });
    await runAll(m);
    const log = m.log();
    expect(client.fault).toBe(null);
    expect([log.status(client, cloned), log.status(client, started)]).toEqual([Status.OK, Status.OK]);
    expect(before.map((id) => log.answer(client, id).words)).toEqual([1, 2, 3].map((n) => [served.pid, n, 10 * n]));
    // Each went on from count 3 and word 30 on its own: the global and the page were copied.
    const answers = after.map((id) => log.answer(client, id).words);
    const pids = [...new Set(answers.map(([pid]) => pid!))];
    expect(pids).toHaveLength(2);
    for (const pid of pids) {
      const own = answers.filter(([p]) => p === pid).map(([, count, word]) => [count, word]);
      expect(own).toEqual(own.map((_, i) => [4 + i, 10 * (4 + i)]));
    }
  });

  it("share every page with their clone until one side writes", async () => {
    const t = testMachine();
    const receiver = new Receiver(16);
    t.kernel.rootMemory.adopt(receiver, 1);
    const pages = 40;
    const source = t.kernel.spawn(await t.loader.load(server(), "server"), { entry: "run", entryArgs: [pages], caps: [t.kernel.capability(receiver, Rights.RECEIVER_RECEIVE)] });
    await t.kernel.run(); // it registers, returns, and waits: nothing else can run
    expect(source.alive).toBe(true);
    const free = t.kernel.frames.freeCount;
    const clone = t.kernel.cloneProcess(source, t.kernel.rootMemory, source) as Process;
    expect(typeof clone).toBe("object");
    // Its fixed cost and its page tables; none of the source's dirty pages.
    expect(free - t.kernel.frames.freeCount).toBeLessThanOrEqual(processKernelFrames(source.image) + 2);
    expect(clone.space.residentPages).toBe(source.space.residentPages);
    expect(clone.space.mapping(0x10000 + 5 * 4096)!.frame).toBe(source.space.mapping(0x10000 + 5 * 4096)!.frame);
    expect(clone.serving).toEqual(source.serving);
    expect(clone.caps.get(2)!.object).toBe(receiver);
    t.kernel.kill(source.pid);
    t.kernel.kill(clone.pid);
  });

  it("cannot be cloned while running their entry or blocked in a call of their own, nor when they write a table", async () => {
    const t = testMachine();
    const receiver = new Receiver(16);
    t.kernel.rootMemory.adopt(receiver, 1);
    // Created, never run: the one quiescent point a program without PROCESS_SERVE has.
    const tableServer = t.kernel.spawn(await t.loader.load(server({ table: true }), "table-server"), { entry: "run", entryArgs: [1], caps: [t.kernel.capability(receiver, Rights.RECEIVER_RECEIVE)] });
    const blocked = t.kernel.spawn(await t.loader.load(wat(`(module
      (import "dogma" "futex_wait" (func $wait (param i32 i32 i64) (result i32)))
      (memory 1)
      (func (export "_start") (drop (call $wait (i32.const 0x1000) (i32.const 0) (i64.const -1)))))`), "waiter"));
    await t.kernel.run();
    expect(tableServer.alive && blocked.alive).toBe(true);
    expect(t.kernel.cloneProcess(tableServer, t.kernel.rootMemory, blocked)).toBe(Status.E_NOT_READY);
    expect(t.kernel.cloneProcess(blocked, t.kernel.rootMemory, blocked)).toBe(Status.E_NOT_READY);
    t.kernel.kill(tableServer.pid);
    t.kernel.kill(blocked.pid);
  });

  it("refuse a handler the program does not export and a slot that is no Receiver it may receive on", async () => {
    const t = testMachine();
    const receiver = new Receiver(16);
    t.kernel.rootMemory.adopt(receiver, 1);
    const spawn = async (name: string, handler: string, cap: ReturnType<typeof t.kernel.capability>) =>
      t.kernel.spawn(await t.loader.load(server({ name: handler }), name), { entry: "run", entryArgs: [1], caps: [cap] });
    const refused = [
      await spawn("wrong-name", "absent", t.kernel.capability(receiver, Rights.RECEIVER_RECEIVE)),
      await spawn("loader-name", "__dogma_fuel", t.kernel.capability(receiver, Rights.RECEIVER_RECEIVE)),
      await spawn("no-receiver", "handle", t.kernel.capability(t.kernel.rootMemory, ALL_RIGHTS)),
      await spawn("send-only", "handle", t.kernel.capability(receiver, Rights.RECEIVER_SEND)),
    ];
    await t.kernel.run();
    // Without a registration the entry's return ends it, with PROCESS_SERVE's status as its value.
    expect(refused.map((p) => p.returnValue)).toEqual([Status.E_INVALID_ARGUMENT, Status.E_INVALID_ARGUMENT, Status.E_WRONG_TYPE, Status.E_MISSING_RIGHT]);
    expect(refused.every((p) => p.outcome?.kind === "exited")).toBe(true);
  });

  it("are cloned with pages out: the caller waits for them to come back, and the copy has every byte", async () => {
    // The client thrashes (the server's pages go out), calls the server once, clones it, starts
    // the copy and calls twice more: it returns the first count, the clone's status, the next two counts and words.
    const client = wat(`(module
      (import "dogma" "invoke" (func $invoke (param i32 i32 i32) (result i32)))
      (import "dogma" "yield" (func $yield))
      (memory 600)
      (func $call (result i32)
        (i32.store (i32.const 0x2000) (i32.const 0x77))
        (i32.store (i32.const 0x2004) (i32.const 0))
        (i32.store (i32.const 0x2008) (i32.const 0))
        (drop (call $invoke (i32.const 2) (i32.const 0x2000) (i32.const 64)))
        ;; count * 1000 + word / 10: both must say the same number
        (i32.add (i32.mul (i32.load (i32.const 0x2018)) (i32.const 1000)) (i32.div_u (i32.load (i32.const 0x201c)) (i32.const 10))))
      (func (export "run") (param $pages i32) (result i32 i32 i32 i32) (local $i i32) (local $first i32) (local $cloned i32) (local $copy i32)
        (block $done (loop $next
          (br_if $done (i32.ge_u (local.get $i) (local.get $pages)))
          (i32.store (i32.add (i32.const 0x100000) (i32.shl (local.get $i) (i32.const 12))) (local.get $i))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $next)))
        (local.set $first (call $call))
        (call $yield)
        (i32.store (i32.const 0x2000) (i32.const ${Op.PROCESS_CLONE}))
        (i32.store (i32.const 0x2004) (i32.const 0))
        (i32.store (i32.const 0x2008) (i32.const 1))
        (i32.store (i32.const 0x2014) (i32.const 4))
        (local.set $cloned (call $invoke (i32.const 3) (i32.const 0x2000) (i32.const 64)))
        (local.set $copy (i32.load (i32.const 0x2014)))
        (i32.store (i32.const 0x2000) (i32.const ${Op.PROCESS_START}))
        (i32.store (i32.const 0x2004) (i32.const 0))
        (i32.store (i32.const 0x2008) (i32.const 0))
        (drop (call $invoke (local.get $copy) (i32.const 0x2000) (i32.const 64)))
        (call $yield)
        (local.get $first) (local.get $cloned) (call $call) (call $call))
      (func (export "_start")))`);
    const t = testMachine({ memory: 4 << 20 });
    const store = new TestStore();
    t.kernel.enablePaging(store, { storePages: 8192, lowWater: 64 });
    const receiver = new Receiver(16);
    t.kernel.rootMemory.adopt(receiver, 1);
    const source = t.kernel.spawn(await t.loader.load(server(), "server"), { entry: "run", entryArgs: [40], caps: [t.kernel.capability(receiver, Rights.RECEIVER_RECEIVE)] });
    await t.kernel.run();
    const caller = t.kernel.spawn(await t.loader.load(client, "client"), {
      entry: "run",
      entryArgs: [2048],
      caps: [t.kernel.capability(receiver, Rights.RECEIVER_CALL), t.kernel.capability(source, ALL_RIGHTS), t.kernel.capability(t.kernel.rootMemory, ALL_RIGHTS)],
    });
    await t.kernel.run();
    expect(caller.fault).toBe(null);
    // The server's pages went out while the client thrashed, and came back for the copy.
    expect([...store.pages.keys()].filter((key) => key.startsWith(`${source.pid}:`)).length).toBeGreaterThan(30);
    expect(source.fault).toBe(null);
    // One call, then the copy; the two later calls went one to each, both at count 2.
    expect(caller.returnValue).toEqual([1001, Status.OK, 2002, 2002]);
    for (const p of [...(t.kernel as unknown as { processes: Map<number, Process> }).processes.values()]) if (p.alive) t.kernel.kill(p.pid);
  }, patience(60_000));

  it("take a new registration made by their handler from the next message on", async () => {
    // "first" answers 1 and registers "second" (same Receiver and buffer); "second" answers 2.
    const switching = wat(`(module
      (import "dogma" "invoke" (func $invoke (param i32 i32 i32) (result i32)))
      (memory 2)
      (data (i32.const 0x1000) "first")
      (data (i32.const 0x1010) "second")
      (func $register (param $name i32) (param $length i32) (result i32)
        (i32.store (i32.const 0x3000) (i32.const ${Op.PROCESS_SERVE}))
        (i32.store (i32.const 0x3004) (i32.const 5))
        (i32.store (i32.const 0x3008) (i32.const 0))
        (i32.store (i32.const 0x3014) (local.get $name))
        (i32.store (i32.const 0x3018) (local.get $length))
        (i32.store (i32.const 0x301c) (i32.const 2))
        (i32.store (i32.const 0x3020) (i32.const 0x2000))
        (i32.store (i32.const 0x3024) (i32.const 292))
        (call $invoke (i32.const 1) (i32.const 0x3000) (i32.const 64)))
      (func $reply (param $value i32)
        (i32.store (i32.const 0x3000) (i32.const 0))
        (i32.store (i32.const 0x3004) (i32.const 1))
        (i32.store (i32.const 0x3008) (i32.const 0))
        (i32.store (i32.const 0x3014) (local.get $value))
        (drop (call $invoke (i32.load (i32.const 0x2010)) (i32.const 0x3000) (i32.const 64))))
      (func (export "run") (result i32) (call $register (i32.const 0x1000) (i32.const 5)))
      (func (export "first") (param i32) (result i32)
        (call $reply (i32.const 1))
        (drop (call $register (i32.const 0x1010) (i32.const 6)))
        (i32.const 0))
      (func (export "second") (param i32) (result i32)
        (call $reply (i32.const 2))
        (i32.const 0))
      (func (export "_start")))`);
    const m = await scriptMachine();
    const receiver = new Receiver(16);
    m.kernel.rootMemory.adopt(receiver, 1);
    const served = m.kernel.spawn(await m.loader.load(switching, "switching"), { entry: "run", caps: [m.kernel.capability(receiver, Rights.RECEIVER_RECEIVE)] });
    const s = new Script();
    const calls = [1, 2, 3].map(() => s.invoke(2, 0x77, { words: [] }));
    s.end();
    const client = m.spawn(s, { caps: [m.kernel.capability(receiver, Rights.RECEIVER_CALL)] });
    await runAll(m);
    const log = m.log();
    expect(client.fault).toBe(null);
    expect(calls.map((id) => log.answer(client, id).words)).toEqual([[1], [2], [2]]);
    m.kernel.kill(served.pid);
  });
});
