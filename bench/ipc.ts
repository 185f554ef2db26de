// IPC: call/reply round trips (0 and 64 words), one-way send throughput and a 1 MiB Region
// handed back and forth, between two Dogma processes on one thread; beside the same exchanges
// between the main thread and a worker_threads Worker (postMessage, and SharedArrayBuffer +
// Atomics.wait/notify). Then where a null round trip's time goes: the same kernel's non-blocking
// invoke, getpid and yield, and a bare JSPI stack switch with no kernel at all.
// `DogmaIpc` is exported for ad-hoc runs and profiles of one figure.
import { getHeapStatistics } from "node:v8";
import { type Transferable, Worker } from "node:worker_threads";
import { Receiver } from "../src/kernel/caps/receiver.ts";
import type { Capability } from "../src/kernel/caps/capability.ts";
import type { LoadedImage } from "../src/kernel/image.ts";
import type { Process } from "../src/kernel/process.ts";
import { CAP_MOVE, Op, Rights } from "../src/kernel/caps/object-abi.ts";
import { Status } from "../src/kernel/errors.ts";
import { deadline, dogma, median, now, result, schedulerState, wat, type Section } from "./harness.ts";
import { TestStore } from "../test/helpers/test-store.ts";

const RUNS = 5;
const ROUND_TRIPS = 100_000; // Dogma call/reply, per sample
const WORKER_ROUND_TRIPS = 20_000; // worker ping-pong, per sample
const SENDS = 200_000; // one-way messages, per sample (both sides)
const HANDOFFS = 5_000; // Region round trips (two moves each), per sample
const WORKER_HANDOFFS = 5_000;
const INVOKES = 500_000; // non-blocking invokes and getpid calls, per sample
const SWITCHES = 200_000; // dogma.yield and bare JSPI switches, per sample
const REGION_PAGES = 256; // 1 MiB of 4 KiB pages
const REGION_BYTES = REGION_PAGES * 4096;
const DEADLINE_MS = 60_000;

// ---------------------------------------------------------------- Dogma programs (WAT)

/** One message buffer at 8192 (5-word header, words, capability indices; capacity 292), as test/caps/wat-programs.ts. */
const BUF = 8192;
const CAPACITY = 292;
const prelude = `
  (import "dogma" "invoke" (func $invoke (param i32 i32 i32) (result i32)))
  (import "dogma" "yield" (func $yield))
  (import "dogma" "getpid" (func $getpid (result i32)))
  (memory 1)
  (func $msg (param $label i32) (param $n i32) (param $c i32)
    (i32.store (i32.const ${BUF}) (local.get $label))
    (i32.store (i32.const ${BUF + 4}) (local.get $n))
    (i32.store (i32.const ${BUF + 8}) (local.get $c))
    (i32.store (i32.const ${BUF + 12}) (i32.const 0)))
  (func $word (param $i i32) (result i32) (i32.load offset=${BUF + 20} (i32.shl (local.get $i) (i32.const 2))))
  (func $setword (param $i i32) (param $v i32) (i32.store offset=${BUF + 20} (i32.shl (local.get $i) (i32.const 2)) (local.get $v)))
  (func $call (param $cap i32) (result i32) (call $invoke (local.get $cap) (i32.const ${BUF}) (i32.const ${CAPACITY})))
`;

const hex = (n: number) => `0x${n.toString(16)}`;

/**
 * `serve(recv, count)`: answers `count` calls, each with label+1 and the same words (the first
 * one plus one), by reply-and-receive; the last reply is a plain reply. Returns count or a status.
 * `take(recv, count)`: the same for calls that carry a Region owner capability (words: i, the
 * Region's address): it listens (so the capability is installed), checks and bumps the word i
 * left in page i % 256, and moves the capability back in the reply.
 */
export const SERVER = wat(`(module ${prelude}
  (func (export "serve") (param $recv i32) (param $count i32) (result i32)
    (local $r i32) (local $i i32) (local $n i32) (local $reply i32)
    (call $msg (i32.const ${hex(Op.RECEIVER_RECEIVE)}) (i32.const 0) (i32.const 0))
    (local.set $r (call $call (local.get $recv)))
    (loop $serve
      (if (i32.lt_s (local.get $r) (i32.const 0)) (then (return (local.get $r))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (local.set $n (i32.load (i32.const ${BUF + 4})))
      (if (local.get $n) (then (call $setword (i32.const 0) (i32.add (call $word (i32.const 0)) (i32.const 1)))))
      (local.set $reply (i32.load (i32.const ${BUF + 16})))
      (call $msg (i32.add (i32.load (i32.const ${BUF})) (i32.const 1)) (local.get $n) (i32.const 0))
      (if (i32.lt_u (local.get $i) (local.get $count)) (then (i32.store (i32.const ${BUF + 12}) (local.get $recv))))
      (local.set $r (call $call (local.get $reply)))
      (br_if $serve (i32.lt_u (local.get $i) (local.get $count))))
    (if (i32.lt_s (local.get $r) (i32.const 0)) (then (return (local.get $r))))
    (local.get $count))

  (func (export "take") (param $recv i32) (param $count i32) (result i32)
    (local $r i32) (local $i i32) (local $v i32) (local $at i32) (local $cap i32) (local $reply i32)
    (call $msg (i32.const ${hex(Op.PROCESS_LISTEN)}) (i32.const 1) (i32.const 0))
    (call $setword (i32.const 0) (i32.const 1))
    (local.set $r (call $call (i32.const 1)))
    (if (i32.lt_s (local.get $r) (i32.const 0)) (then (return (i32.sub (i32.const -5000) (local.get $r)))))
    (call $msg (i32.const ${hex(Op.RECEIVER_RECEIVE)}) (i32.const 0) (i32.const 0))
    (local.set $r (call $call (local.get $recv)))
    (loop $serve
      (if (i32.lt_s (local.get $r) (i32.const 0)) (then (return (local.get $r))))
      (if (i32.ne (i32.load (i32.const ${BUF + 8})) (i32.const 1)) (then (return (i32.sub (i32.const -3000) (local.get $i)))))
      (local.set $cap (i32.load offset=${BUF + 20} (i32.shl (i32.load (i32.const ${BUF + 4})) (i32.const 2))))
      (local.set $v (call $word (i32.const 0)))
      (local.set $at (i32.add (call $word (i32.const 1)) (i32.shl (i32.and (local.get $v) (i32.const 255)) (i32.const 12))))
      (if (i32.ne (i32.load (local.get $at)) (local.get $v)) (then (return (i32.sub (i32.const -1000) (local.get $i)))))
      (i32.store (local.get $at) (i32.add (local.get $v) (i32.const 1)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (local.set $reply (i32.load (i32.const ${BUF + 16})))
      (call $msg (i32.const 8) (i32.const 0) (i32.const 1))
      (i32.store (i32.const ${BUF + 20}) (i32.or (local.get $cap) (i32.const ${hex(CAP_MOVE)})))
      (if (i32.lt_u (local.get $i) (local.get $count)) (then (i32.store (i32.const ${BUF + 12}) (local.get $recv))))
      (local.set $r (call $call (local.get $reply)))
      (br_if $serve (i32.lt_u (local.get $i) (local.get $count))))
    (if (i32.lt_s (local.get $r) (i32.const 0)) (then (return (local.get $r))))
    (local.get $count))

  (func (export "drain") (param $recv i32) (param $count i32) (result i32)
    (local $r i32) (local $i i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
        (call $msg (i32.const ${hex(Op.RECEIVER_RECEIVE)}) (i32.const 0) (i32.const 0))
        (local.set $r (call $call (local.get $recv)))
        (if (i32.lt_s (local.get $r) (i32.const 0)) (then (return (local.get $r))))
        (if (i32.ne (call $word (i32.const 0)) (local.get $i)) (then (return (i32.sub (i32.const -1000) (local.get $i)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $count)))`);

/**
 * `run(cap, count, n)`: `count` calls with label 7 and n words (the first = i); checks each
 * answer (label 8, n words, first = i+1). Returns count, a status, or -1000-i for a wrong answer.
 * `send(cap, count)`: `count` one-word sends (word = i); on E_QUEUE_FULL yields and sends again.
 * Returns how many times the queue was full, or a status.
 * `hand(memory, cap, count)`: creates a 256-page Region, then `count` times writes i into page
 * i % 256, calls with the owner capability moved (words i, address), gets it back in the reply
 * and checks that the server left i+1 there. Returns count or a status.
 * `info(cap, count)`: `count` RECEIVER_INFO invokes (answered at once, 2 words). `pids(count)`:
 * `count` getpid calls. `yields(count)`: `count` dogma.yield calls. All three return count.
 */
export const CLIENT = wat(`(module ${prelude}
  (func (export "run") (param $cap i32) (param $count i32) (param $n i32) (result i32)
    (local $i i32) (local $r i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
        (call $msg (i32.const 7) (local.get $n) (i32.const 0))
        (if (local.get $n) (then (call $setword (i32.const 0) (local.get $i))))
        (local.set $r (call $call (local.get $cap)))
        (if (i32.lt_s (local.get $r) (i32.const 0)) (then (return (local.get $r))))
        (if (i32.ne (i32.load (i32.const ${BUF})) (i32.const 8)) (then (return (i32.sub (i32.const -1000) (local.get $i)))))
        (if (i32.ne (i32.load (i32.const ${BUF + 4})) (local.get $n)) (then (return (i32.sub (i32.const -1000) (local.get $i)))))
        (if (local.get $n) (then
          (if (i32.ne (call $word (i32.const 0)) (i32.add (local.get $i) (i32.const 1))) (then (return (i32.sub (i32.const -1000) (local.get $i)))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $count))

  (func (export "send") (param $cap i32) (param $count i32) (result i32)
    (local $i i32) (local $r i32) (local $full i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
        (call $msg (i32.const 7) (i32.const 1) (i32.const 0))
        (call $setword (i32.const 0) (local.get $i))
        (local.set $r (call $call (local.get $cap)))
        (if (i32.eq (local.get $r) (i32.const ${Status.E_QUEUE_FULL})) (then
          (local.set $full (i32.add (local.get $full) (i32.const 1)))
          (call $yield)
          (br $next)))
        (if (i32.lt_s (local.get $r) (i32.const 0)) (then (return (local.get $r))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $full))

  (func (export "hand") (param $memory i32) (param $cap i32) (param $count i32) (result i32)
    (local $i i32) (local $r i32) (local $region i32) (local $address i32) (local $at i32)
    (call $msg (i32.const ${hex(Op.MEMORY_CREATE_REGION)}) (i32.const 2) (i32.const 0))
    (call $setword (i32.const 0) (i32.const ${REGION_PAGES}))
    (call $setword (i32.const 1) (i32.const 0))
    (local.set $r (call $call (local.get $memory)))
    (if (i32.lt_s (local.get $r) (i32.const 0)) (then (return (i32.sub (i32.const -5000) (local.get $r)))))
    (local.set $region (call $word (i32.const 0)))
    (call $msg (i32.const ${hex(Op.REGION_INFO)}) (i32.const 0) (i32.const 0))
    (local.set $r (call $call (local.get $region)))
    (if (i32.lt_s (local.get $r) (i32.const 0)) (then (return (i32.sub (i32.const -6000) (local.get $r)))))
    (local.set $address (call $word (i32.const 0)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
        (local.set $at (i32.add (local.get $address) (i32.shl (i32.and (local.get $i) (i32.const 255)) (i32.const 12))))
        (i32.store (local.get $at) (local.get $i))
        (call $msg (i32.const 7) (i32.const 2) (i32.const 1))
        (call $setword (i32.const 0) (local.get $i))
        (call $setword (i32.const 1) (local.get $address))
        (call $setword (i32.const 2) (i32.or (local.get $region) (i32.const ${hex(CAP_MOVE)})))
        (local.set $r (call $call (local.get $cap)))
        (if (i32.lt_s (local.get $r) (i32.const 0)) (then (return (local.get $r))))
        (if (i32.ne (i32.load (i32.const ${BUF + 8})) (i32.const 1)) (then (return (i32.sub (i32.const -2000) (local.get $i)))))
        (local.set $region (i32.load offset=${BUF + 20} (i32.shl (i32.load (i32.const ${BUF + 4})) (i32.const 2))))
        (if (i32.ne (i32.load (local.get $at)) (i32.add (local.get $i) (i32.const 1))) (then (return (i32.sub (i32.const -1000) (local.get $i)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $count))

  (func (export "info") (param $cap i32) (param $count i32) (result i32)
    (local $i i32) (local $r i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
        (call $msg (i32.const ${hex(Op.RECEIVER_INFO)}) (i32.const 0) (i32.const 0))
        (local.set $r (call $call (local.get $cap)))
        (if (i32.lt_s (local.get $r) (i32.const 0)) (then (return (local.get $r))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $count))

  (func (export "pids") (param $count i32) (result i32)
    (local $i i32) (local $sum i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
        (local.set $sum (i32.add (local.get $sum) (call $getpid)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (drop (local.get $sum))
    (local.get $count))

  (func (export "yields") (param $count i32) (result i32)
    (local $i i32)
    (loop $again
      (call $yield)
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $again (i32.lt_u (local.get $i) (local.get $count))))
    (local.get $i)))`);

// ---------------------------------------------------------------- Dogma side

interface Spawn {
  entry: string;
  args: number[];
  caps: Capability[];
  /** What the entry must return (a check on the value, which is printed when it fails). */
  ok: (value: unknown) => boolean;
}

export class DogmaIpc {
  readonly machine = dogma(64);
  private server!: LoadedImage;
  private client!: LoadedImage;

  async load(): Promise<void> {
    this.server = await this.machine.loader.load(SERVER, "ipc-server");
    this.client = await this.machine.loader.load(CLIENT, "ipc-client");
  }

  get kernel() {
    return this.machine.kernel;
  }

  receiver(capacity = 16): Receiver {
    const receiver = new Receiver(capacity);
    if (!this.kernel.rootMemory.adopt(receiver, 1)) throw new Error("bench bug: no room for a Receiver");
    return receiver;
  }

  /** Spawns the processes (the first from the server image, the rest from the client's), runs the kernel until they end; ms and values. */
  async run(what: string, server: Spawn | null, clients: Spawn[]): Promise<{ ms: number; values: unknown[] }> {
    const kernel = this.kernel;
    const start = now();
    const processes: Process[] = [];
    if (server) processes.push(kernel.spawn(this.server, { entry: server.entry, entryArgs: server.args, caps: server.caps }));
    for (const c of clients) processes.push(kernel.spawn(this.client, { entry: c.entry, entryArgs: c.args, caps: c.caps }));
    await deadline(`${what}: kernel.run`, DEADLINE_MS, kernel.run(), () => schedulerState(kernel));
    const ms = now() - start;
    const specs = server ? [server, ...clients] : clients;
    const values = processes.map((p) => p.returnValue);
    processes.forEach((p, i) => {
      if (p.outcome?.kind !== "exited" || p.outcome.code !== 0 || !specs[i]!.ok(values[i])) {
        throw new Error(`${what}: pid ${p.pid} (${specs[i]!.entry}) ended with ${JSON.stringify(p.outcome)}, returned ${String(values[i])}; ${this.machine.faults.join("; ")}`);
      }
    });
    return { ms, values };
  }

  /** ns per call/reply round trip with `words` data words each way. */
  async roundTrip(words: number, trips: number): Promise<number> {
    const receiver = this.receiver();
    const { ms } = await this.run(`call/reply ${words} words`, {
      entry: "serve", args: [2, trips], caps: [this.kernel.capability(receiver, Rights.RECEIVER_RECEIVE)], ok: (v) => v === trips,
    }, [{ entry: "run", args: [2, trips, words], caps: [this.kernel.capability(receiver, Rights.RECEIVER_CALL, 1)], ok: (v) => v === trips }]);
    return (ms * 1e6) / trips;
  }

  /**
   * Bytes V8 allocates on its heap per null round trip (its total_allocated_bytes over `trips`,
   * the two spawns included): a figure the machine's load does not move, where the times do.
   */
  async allocatedPerTrip(trips: number): Promise<number> {
    const allocated = () => (getHeapStatistics() as ReturnType<typeof getHeapStatistics> & { total_allocated_bytes: number }).total_allocated_bytes;
    const before = allocated();
    await this.roundTrip(0, trips);
    return (allocated() - before) / trips;
  }

  /** Messages per second sent one way through a Receiver of `capacity`, and queue-full yields per message. */
  async sendThroughput(capacity: number, count: number): Promise<{ perSecond: number; fullPerMessage: number }> {
    const receiver = this.receiver(capacity);
    const { ms, values } = await this.run(`send, queue ${capacity}`, {
      entry: "drain", args: [2, count], caps: [this.kernel.capability(receiver, Rights.RECEIVER_RECEIVE)], ok: (v) => v === count,
    }, [{ entry: "send", args: [2, count], caps: [this.kernel.capability(receiver, Rights.RECEIVER_SEND, 1)], ok: (v) => typeof v === "number" && v >= 0 }]);
    return { perSecond: count / (ms / 1000), fullPerMessage: (values[1] as number) / count };
  }

  /** µs per Region round trip: two moves of the 1 MiB owner capability, a word touched on each side. */
  async regionHandoff(trips: number): Promise<number> {
    const receiver = this.receiver();
    const memory = this.kernel.capability(this.kernel.rootMemory, 0xffff_ffff);
    const { ms } = await this.run("Region hand-off", {
      entry: "take", args: [2, trips], caps: [this.kernel.capability(receiver, Rights.RECEIVER_RECEIVE)], ok: (v) => v === trips,
    }, [{ entry: "hand", args: [2, 3, trips], caps: [memory, this.kernel.capability(receiver, Rights.RECEIVER_CALL, 1)], ok: (v) => v === trips }]);
    return (ms * 1e3) / trips;
  }

  /** ns per non-blocking invoke (RECEIVER_INFO, a 2-word answer). */
  async invokeCost(count: number): Promise<number> {
    const receiver = this.receiver();
    const { ms } = await this.run("RECEIVER_INFO", null, [{ entry: "info", args: [2, count], caps: [this.kernel.capability(receiver, Rights.RECEIVER_RECEIVE)], ok: (v) => v === count }]);
    return (ms * 1e6) / count;
  }

  /** ns per getpid: a call into the kernel that neither reads a message nor blocks. */
  async getpidCost(count: number): Promise<number> {
    const { ms } = await this.run("getpid", null, [{ entry: "pids", args: [count], caps: [], ok: (v) => v === count }]);
    return (ms * 1e6) / count;
  }

  /** ns per switch: two processes yielding to each other. */
  async yieldSwitch(switches: number): Promise<number> {
    const each = switches / 2;
    const spec = { entry: "yields", args: [each], caps: [], ok: (v: unknown) => v === each };
    const { ms } = await this.run("yield", null, [spec, spec]);
    return (ms * 1e6) / switches;
  }
}

// ---------------------------------------------------------------- A bare JSPI switch (no kernel)

/**
 * Two stacks of one plain (not rewritten) Wasm module handing the CPU to each other through a
 * JSPI-suspending import, the way the scheduler's handoff does (resolve the other's promise,
 * return a new one for yourself), with nothing else: the floor of any switch built on JSPI.
 */
async function bareJspiSwitch(switches: number): Promise<number> {
  const module = new WebAssembly.Module(wat(`(module
    (import "host" "switch" (func $switch (param i32)))
    (func (export "run") (param $me i32) (param $n i32) (result i32) (local $i i32)
      (loop $again
        (call $switch (local.get $me))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $again (i32.lt_u (local.get $i) (local.get $n))))
      (local.get $i)))`));
  const pending: Array<((value: unknown) => void) | null> = [null, null];
  const imports = {
    host: {
      switch: new WebAssembly.Suspending((me: number) => {
        const other = pending[1 - me];
        pending[1 - me] = null;
        other?.(undefined);
        return new Promise((resolve) => (pending[me] = resolve));
      }),
    },
  };
  const instance = new WebAssembly.Instance(module, imports as unknown as WebAssembly.Imports);
  const run = WebAssembly.promising(instance.exports.run as (me: number, n: number) => number) as (me: number, n: number) => Promise<number>;
  const each = switches / 2;
  const start = now();
  void run(1, each + 1); // parks at once; ends parked (its last switch has no partner)
  const value = await deadline("bare JSPI switch", DEADLINE_MS, run(0, each));
  const ms = now() - start;
  if (value !== each) throw new Error(`bare JSPI switch: ${value} of ${each}`);
  return (ms * 1e6) / switches;
}

/** ns per call of a JSPI-suspending import that returns a number at once (no suspension): what entering any blocking kernel call costs. */
async function bareSuspendingReturn(calls: number): Promise<number> {
  const module = new WebAssembly.Module(wat(`(module
    (import "host" "call" (func $call (param i32) (result i32)))
    (func (export "run") (param $n i32) (result i32) (local $i i32) (local $sum i32)
      (loop $again
        (local.set $sum (i32.add (local.get $sum) (call $call (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $again (i32.lt_u (local.get $i) (local.get $n))))
      (local.get $i)))`));
  const imports = { host: { call: new WebAssembly.Suspending((x: number) => x & 1) } };
  const instance = new WebAssembly.Instance(module, imports as unknown as WebAssembly.Imports);
  const run = WebAssembly.promising(instance.exports.run as (n: number) => number) as (n: number) => Promise<number>;
  const start = now();
  const value = await run(calls);
  const ms = now() - start;
  if (value !== calls) throw new Error(`bare suspending import: ${value} of ${calls}`);
  return (ms * 1e6) / calls;
}


// ---------------------------------------------------------------- worker_threads side

function newWorker(code: string, workerData?: unknown): Promise<Worker> {
  const worker = new Worker(code, { eval: true, workerData });
  return deadline("worker start", DEADLINE_MS, new Promise<Worker>((resolve, reject) => {
    worker.once("online", () => resolve(worker));
    worker.once("error", reject);
  }));
}

/** A worker that posts every message back: numbers and typed arrays (cloned) as they came, {i, buffer} with the buffer transferred after bumping the word i left in page i % 256. */
const ECHO_WORKER = `
  const { parentPort } = require("node:worker_threads");
  parentPort.on("message", (m) => {
    if (m !== null && typeof m === "object" && m.buffer instanceof ArrayBuffer && !ArrayBuffer.isView(m)) {
      const words = new Int32Array(m.buffer);
      const at = (m.i & 255) * 1024;
      if (words[at] !== m.i) throw new Error("region word " + words[at] + ", expected " + m.i);
      words[at] = m.i + 1;
      parentPort.postMessage(m, [m.buffer]);
    } else if (m instanceof Uint32Array) {
      m[0]++;
      parentPort.postMessage(m);
    } else parentPort.postMessage(m);
  });`;

/** ns per postMessage round trip of `make(i)`, checked by `check(answer, i)`. */
async function postMessageRoundTrip(worker: Worker, trips: number, make: (i: number) => { message: unknown; transfer?: Transferable[] }, check: (answer: unknown, i: number) => boolean): Promise<number> {
  return deadline("postMessage ping-pong", DEADLINE_MS, new Promise<number>((done, fail) => {
    let i = 0;
    const start = now();
    const post = () => {
      const { message, transfer } = make(i);
      worker.postMessage(message, transfer);
    };
    const onMessage = (answer: unknown) => {
      if (!check(answer, i)) {
        worker.off("message", onMessage);
        fail(new Error(`postMessage ping-pong: wrong answer to round trip ${i}`));
        return;
      }
      if (++i < trips) post();
      else {
        worker.off("message", onMessage);
        done(((now() - start) * 1e6) / trips);
      }
    };
    const onError = (error: Error) => {
      worker.off("message", onMessage);
      fail(error);
    };
    worker.on("message", onMessage);
    worker.once("error", onError);
    post();
  }).finally(() => worker.removeAllListeners("error")));
}

/**
 * Atomics round trips with `words` words copied through the SharedArrayBuffer each way: the main
 * thread writes them, sets the flag and wakes the worker; the worker copies them out, bumps the
 * first, copies them back, clears the flag and wakes the main thread, which copies them out (both
 * wait in a loop that re-checks the flag, as a futex wait must). The
 * worker serves `total` round trips, which `trips(n)` spends n at a time (ns per round trip).
 */
async function atomicsPinger(words: number, total: number): Promise<{ trips(n: number): number; close(): Promise<number> }> {
  const shared = new Int32Array(new SharedArrayBuffer(4 * (1 + words)));
  const worker = await newWorker(
    `const { workerData } = require("node:worker_threads");
     const shared = new Int32Array(workerData.buffer);
     const words = workerData.words;
     const local = new Int32Array(words);
     for (let i = 0; i < workerData.total; i++) {
       while (Atomics.load(shared, 0) !== 1) Atomics.wait(shared, 0, 0);
       if (words > 0) { local.set(shared.subarray(1, 1 + words)); local[0]++; shared.set(local, 1); }
       Atomics.store(shared, 0, 0);
       Atomics.notify(shared, 0);
     }`,
    { buffer: shared.buffer, total, words },
  );
  const out = new Int32Array(words);
  const back = new Int32Array(words);
  let left = total;
  return {
    trips(n: number): number {
      if (n > left) throw new Error("bench bug: the Atomics worker has fewer round trips left");
      left -= n;
      const start = now();
      for (let i = 0; i < n; i++) {
        if (words > 0) {
          out[0] = i;
          shared.set(out, 1);
        }
        Atomics.store(shared, 0, 1);
        Atomics.notify(shared, 0);
        while (Atomics.load(shared, 0) !== 0) {
          if (Atomics.wait(shared, 0, 1, 10_000) === "timed-out") throw new Error(`Atomics ping-pong: the worker did not answer within 10 s (round trip ${i})`);
        }
        if (words > 0) {
          back.set(shared.subarray(1, 1 + words));
          if (back[0] !== i + 1) throw new Error(`Atomics ping-pong: wrong answer to round trip ${i}: ${back[0]}, flag ${Atomics.load(shared, 0)}`);
        }
      }
      return ((now() - start) * 1e6) / n;
    },
    close: () => worker.terminate(),
  };
}

/** A worker that counts the numbers posted to it (and checks their order); `sample(n)` posts n and answers messages per second once the worker has them all. */
async function postMessageCounter(): Promise<{ sample(n: number): Promise<number>; close(): Promise<number> }> {
  const worker = await newWorker(`
    const { parentPort } = require("node:worker_threads");
    let expected = 0, seen = 0;
    parentPort.on("message", (m) => {
      if (m < 0) { expected = -m; seen = 0; return; }
      if (m !== seen) throw new Error("message " + m + " arrived as number " + seen);
      if (++seen === expected) parentPort.postMessage(seen);
    });`);
  return {
    sample: (n: number) =>
      deadline("postMessage throughput", DEADLINE_MS, new Promise<number>((done, fail) => {
        worker.once("error", fail);
        worker.once("message", () => {
          worker.off("error", fail);
          done(n / ((now() - start) / 1000));
        });
        worker.postMessage(-n);
        const start = now();
        for (let i = 0; i < n; i++) worker.postMessage(i);
      })),
    close: () => worker.terminate(),
  };
}

// ---------------------------------------------------------------- the benchmark

const us = (ns: number) => (ns / 1000).toFixed(2);

export async function ipc(): Promise<Section[]> {
  const d = new DogmaIpc();
  await d.load();
  // First, on round trips alone: the other figures' workloads leave the kernel's code less
  // optimized for them (2,141 bytes a round trip measured after the samples, 1,740 before).
  await d.roundTrip(0, ROUND_TRIPS);
  const allocatedNull0 = await d.allocatedPerTrip(3 * ROUND_TRIPS);
  // The same machine with demand paging on (a host store; nothing is evicted at 64 MiB): what the
  // kernel calls' page-in wrapper (kernel/resident-call.ts) costs an IPC round trip.
  const paged = new DogmaIpc();
  await paged.load();
  paged.kernel.enablePaging(new TestStore(), { storePages: 1024 });

  const echo = await newWorker(ECHO_WORKER);
  const numberTrip = (i: number) => ({ message: i });
  const sameNumber = (answer: unknown, i: number) => answer === i;
  const array = new Uint32Array(64);
  const arrayTrip = (i: number) => {
    array[0] = i;
    return { message: array };
  };
  const bumped = (answer: unknown, i: number) => answer instanceof Uint32Array && answer.length === 64 && answer[0] === i + 1;
  let buffer = new ArrayBuffer(REGION_BYTES);
  const bufferTrip = (i: number) => {
    new Int32Array(buffer)[(i & 255) * 1024] = i;
    return { message: { i, buffer }, transfer: [buffer] };
  };
  const bufferBack = (answer: unknown, i: number) => {
    const m = answer as { i: number; buffer: ArrayBuffer };
    if (!(m.buffer instanceof ArrayBuffer) || m.buffer.byteLength !== REGION_BYTES) return false;
    buffer = m.buffer;
    return new Int32Array(buffer)[(i & 255) * 1024] === i + 1;
  };
    const atomics0Worker = await atomicsPinger(0, (RUNS + 1) * WORKER_ROUND_TRIPS);
  const atomics64Worker = await atomicsPinger(64, (RUNS + 1) * WORKER_ROUND_TRIPS);
  const counter = await postMessageCounter();

  // Four blocks, each a figure with its comparisons (and, for the null round trip, its parts):
  // within a block the samples are interleaved, so that a figure and its comparison see the same
  // moments of a machine that other work shares; a first round of every block is a warm-up.
  const samples = new Map<string, number[]>();
  const block = async (samplers: Array<[string, () => number | Promise<number>]>) => {
    for (let run = -1; run < RUNS; run++) {
      for (const [name, sample] of samplers) {
        const value = await sample();
        if (run >= 0) samples.set(name, [...(samples.get(name) ?? []), value]);
      }
    }
  };
  let full16 = 0;
  let full1024 = 0;
  await block([
    ["null0", () => d.roundTrip(0, ROUND_TRIPS)],
    ["null0paged", () => paged.roundTrip(0, ROUND_TRIPS)],
    ["pm0", () => postMessageRoundTrip(echo, WORKER_ROUND_TRIPS, numberTrip, sameNumber)],
    ["atomics0", () => atomics0Worker.trips(WORKER_ROUND_TRIPS)],
    ["jspi", () => bareJspiSwitch(SWITCHES)],
    ["suspending", () => bareSuspendingReturn(INVOKES)],
    ["invoke", () => d.invokeCost(INVOKES)],
    ["getpid", () => d.getpidCost(INVOKES)],
    ["yield", () => d.yieldSwitch(SWITCHES)],
  ]);
  await block([
    ["null64", () => d.roundTrip(64, ROUND_TRIPS)],
    ["pm64", () => postMessageRoundTrip(echo, WORKER_ROUND_TRIPS, arrayTrip, bumped)],
    ["atomics64", () => atomics64Worker.trips(WORKER_ROUND_TRIPS)],
  ]);
  await block([
    ["send16", async () => {
      const { perSecond, fullPerMessage } = await d.sendThroughput(16, SENDS);
      full16 = Math.max(full16, fullPerMessage);
      return perSecond;
    }],
    ["send1024", async () => {
      const { perSecond, fullPerMessage } = await d.sendThroughput(1024, SENDS);
      full1024 = Math.max(full1024, fullPerMessage);
      return perSecond;
    }],
    ["pmSends", () => counter.sample(SENDS)],
  ]);
  await block([
    ["region", () => d.regionHandoff(HANDOFFS)],
    ["pmRegion", async () => (await postMessageRoundTrip(echo, WORKER_HANDOFFS, bufferTrip, bufferBack)) / 1000],
  ]);
  await echo.terminate();
  await atomics0Worker.close();
  await atomics64Worker.close();
  await counter.close();
  const m = (name: string) => median(samples.get(name)!);
  const [null0, pm0, atomics0, null64, pm64, atomics64] = [m("null0"), m("pm0"), m("atomics0"), m("null64"), m("pm64"), m("atomics64")];
  const [send16, send1024, pmSends] = [m("send16"), m("send1024"), m("pmSends")];
  const [region, pmRegion, jspiNs, suspendingNs, invokeNs, getpidNs, yieldNs] = [m("region"), m("pmRegion"), m("jspi"), m("suspending"), m("invoke"), m("getpid"), m("yield")];

  const ipcSection: Section = {
    title: `IPC between two processes (median of ${RUNS})`,
    results: [
      result("call/reply round trip, 0 words", null0, "ns", "worker_threads postMessage round trip", pm0),
      result("call/reply round trip, 0 words (vs Atomics)", null0, "ns", "worker_threads Atomics.wait/notify round trip", atomics0),
      result("call/reply round trip, 0 words, demand paging on", m("null0paged"), "ns", "the same, paging off", null0),
      result("call/reply round trip, 64 words each way", null64, "ns", "postMessage round trip of a 64-word Uint32Array", pm64),
      result("call/reply round trip, 64 words each way (vs Atomics)", null64, "ns", "Atomics round trip, 64 words copied through the SAB", atomics64),
      result("send throughput, 1 word, queue of 16", send16, "msg/s", "postMessage one way to a worker", pmSends),
      result("send throughput, 1 word, queue of 1024", send1024, "msg/s", "postMessage one way to a worker", pmSends),
      result("Region hand-off round trip, 1 MiB (2 moves)", region, "µs", "postMessage 1 MiB ArrayBuffer, transferred, round trip", pmRegion),
    ],
    notes: [
      `Goal (the issue): a round trip under 1 µs; Linux pipes take about 9 µs, seL4 about 0.25 µs. Dogma's null call/reply round trip is ${us(null0)} µs here: ${(null0 / 1000).toFixed(1)}× the goal, ${(9000 / null0).toFixed(1)}× faster than the pipe figure, ${(null0 / 250).toFixed(0)}× seL4's.`,
      "Dogma: a client process calls a server process that answers by reply-and-receive (header word 3); both run on one thread, a call and its reply are each a direct switch (JSPI suspend of one stack, resume of the other). Every answer is checked. Times include spawning both processes (about 0.2 ms, 0.1 % of a sample of 100 000 round trips).",
      `Sampling: each figure is measured in a block with its comparisons (and the null round trip with its parts, next table), samples interleaved, after one warm-up round of the block; medians of ${RUNS}.`,
      "Workers: the main thread and one worker_threads Worker on separate cores. postMessage clones the 64-word Uint32Array each way; the Atomics variant copies the 64 words into and out of the SharedArrayBuffer on both sides.",
      `Send: the client sends 200 000 one-word messages (RECEIVER_SEND) and yields when the queue is full (E_QUEUE_FULL; at most ${full16.toFixed(3)} yields per message with 16 slots, ${full1024.toFixed(4)} with 1024); the server receives and checks their order. For throughput a ratio above 1 means Dogma is faster. postMessage: the main thread posts 200 000 numbers, the worker checks their order and answers after the last.`,
      `Region: the client creates a 256-page Region (MEMORY_CREATE_REGION on a Memory capability), then each round trip writes a word in one of its pages, moves the owner capability to the listening server in a call, the server checks and bumps that word and moves it back in the reply. A move unmaps the 256 pages from the sender and maps them into the receiver. postMessage: a 1 MiB ArrayBuffer transferred to the worker and back, the same word written and checked.`,
    ],
  };

  const kernelInvokeNs = invokeNs - suspendingNs;
  const rest = null0 - 2 * jspiNs - 2 * kernelInvokeNs;
  const extra64 = null64 - null0;
  const total = "null call/reply round trip";
  const breakdown: Section = {
    title: `Where a call/reply round trip's time goes (median of ${RUNS})`,
    results: [
      result("null call/reply round trip", null0, "ns", total, null0),
      result("part: 2 × bare JSPI switch (no kernel)", 2 * jspiNs, "ns", total, null0),
      result("part: 2 × kernel work of a non-blocking invoke", 2 * kernelInvokeNs, "ns", total, null0),
      result("part: rest, what a call and a reply add to an invoke", rest, "ns", total, null0),
      result("2 × JSPI-suspending import returning at once (no kernel)", 2 * suspendingNs, "ns", total, null0),
      result("2 × non-blocking invoke (RECEIVER_INFO)", 2 * invokeNs, "ns", total, null0),
      result("2 × getpid (kernel call, plain import)", 2 * getpidNs, "ns", total, null0),
      result("2 × dogma.yield switch (through the run queue)", 2 * yieldNs, "ns", total, null0),
      result("64 words each way: round trip over the null one", extra64, "ns", total, null0),
    ],
    notes: [
      "ratio = share of the null round trip. A round trip is two invokes (the call; the reply-and-receive), each of which suspends its process and resumes the other; the three `part` rows add up to it.",
      `Bare JSPI switch: ${jspiNs.toFixed(0)} ns — two stacks of a plain Wasm module handing over through a suspending import (resolve the other's promise, return a new one for yourself), the mechanism of the scheduler's handoff, with no kernel: the floor of any switch built on JSPI. Two of them are ${us(2 * jspiNs)} µs of each round trip; the 1 µs goal leaves ${us(1000 - 2 * jspiNs)} µs for everything else.`,
      `Non-blocking invoke: ${invokeNs.toFixed(0)} ns — one process invoking RECEIVER_INFO (read the 5-word header from its buffer, look the capability up, write a 2-word answer), of which ${suspendingNs.toFixed(0)} ns is entering and leaving a JSPI-suspending import at all (a plain import such as getpid costs ${getpidNs.toFixed(0)} ns): the kernel's own work is about ${kernelInvokeNs.toFixed(0)} ns an invoke.`,
      `The rest, ${rest.toFixed(0)} ns, is call/reply itself: a Reply object and its capability installed in the server's table and disposed, the waiter lists, the handoff's bookkeeping and clock reads, promises and the garbage they leave. One CPU profile of this benchmark (node --cpu-prof, 25 × 200 000 round trips, loading left out; taken once, not on every run) splits a round trip's time: 40 % inside V8 itself (stack switches, promise jobs), 35 % kernel JavaScript spread thinly (reply, invoke, readMessage, writeMessage, deliver, handoff and the TLB lookup each 1-3 %), 6-7 % garbage collection, 6 % the two processes' own Wasm, 5 % JS/Wasm call wrappers, 5 % performance.now (the clock read on every handoff).`,
      `dogma.yield: ${yieldNs.toFixed(0)} ns a switch, through the run queue and the dispatch loop; half a round trip less the invoke's kernel work (a direct handoff plus the call/reply logic) is ${((null0 - 2 * kernelInvokeNs) / 2).toFixed(0)} ns.`,
      `Garbage: V8 allocates ${allocatedNull0.toFixed(0)} bytes on its heap per null round trip (its total_allocated_bytes over ${3 * ROUND_TRIPS} round trips after ${ROUND_TRIPS} more, before the timed samples): a figure the machine's load does not move, where the times above moved by a third between runs of one tree on a busy machine. 2,226 at 2338965, measured so (2,217-2,246 at 100587f and 9bb8f3e: the same code path), 1,740 with this note's commits; the two handoffs' promises and the Reply, its capability and the envelope of the call are most of it.`,
      "64 words: the kernel reads a message's words as a view of the sender's frame and writes them straight into the waiting receiver's buffer (one copy); it copies them out only when the message must wait in a queue. (Before, two Uint32Array slices of 64 words, which V8 backs off-heap, cost about as much as the whole null round trip.)",
      `Region: a move maps or unmaps the Region's 256 pages one at a time (page-table update and TLB flush per page), four times per round trip: about ${((region * 1000) / (4 * REGION_PAGES)).toFixed(0)} ns a page; the cost grows with the Region's size, where a transferred ArrayBuffer's does not.`,
    ],
  };
  return [ipcSection, breakdown];
}
