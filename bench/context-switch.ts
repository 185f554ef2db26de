// Context switch: two Dogma processes handing the CPU to each other N times (JSPI suspend, the
// scheduler's dispatch, resume), against two Node threads doing the same hand-off by postMessage
// and by SharedArrayBuffer + Atomics.wait/notify. Nanoseconds per switch; a worker round trip
// is two switches.
import { Worker } from "node:worker_threads";
import { deadline, dogma, median, now, result, schedulerState, wat, type Result } from "./harness.ts";

const SWITCHES = 200_000; // Dogma: per sample, both processes together
const ROUND_TRIPS = 20_000; // workers: per sample
const RUNS = 3;

const YIELDER = wat(`(module
  (import "dogma" "yield" (func $yield))
  (func (export "run") (param $n i32) (result i32) (local $i i32)
    (loop $again
      (call $yield)
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $again (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $i)))`);

/** yield_to the other process (arg 0: the one spawned next); returns how many calls answered OK (0). */
const YIELD_TO = wat(`(module
  (import "dogma" "yield_to" (func $yield_to (param i32) (result i32)))
  (import "dogma" "getpid" (func $getpid (result i32)))
  (func (export "run") (param $n i32) (param $other i32) (result i32) (local $i i32) (local $ok i32)
    (if (i32.eqz (local.get $other)) (then (local.set $other (i32.add (call $getpid) (i32.const 1)))))
    (loop $again
      (if (i32.eqz (call $yield_to (local.get $other)))
        (then (local.set $ok (i32.add (local.get $ok) (i32.const 1)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $again (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $ok)))`);

async function dogmaSwitches(useYieldTo: boolean): Promise<number> {
  const machine = dogma(16);
  const image = await machine.loader.load(useYieldTo ? YIELD_TO : YIELDER, useYieldTo ? "yield_to" : "yield");
  const kernel = machine.kernel;
  const sample = async (switches: number): Promise<number> => {
    const each = switches / 2;
    const start = now();
    // Pids are handed out in order: the first process names the second as its own pid + 1.
    const a = kernel.spawn(image, { entry: "run", entryArgs: useYieldTo ? [each, 0] : [each] });
    const b = kernel.spawn(image, { entry: "run", entryArgs: useYieldTo ? [each, a.pid] : [each] });
    if (useYieldTo && b.pid !== a.pid + 1) throw new Error("bench bug: pids are not consecutive");
    await deadline("context switch: kernel.run", 60_000, kernel.run(), () => schedulerState(kernel));
    const ms = now() - start;
    for (const p of [a, b]) {
      const value = p.returnValue;
      // yield_to: each call but the last of whichever ends first answers OK.
      const ok = useYieldTo ? typeof value === "number" && value >= each - 1 : value === each;
      if (p.outcome?.kind !== "exited" || !ok) throw new Error(`context switch: pid ${p.pid} ended with ${JSON.stringify(p.outcome)}, returned ${String(value)}`);
    }
    return (ms * 1e6) / switches;
  };
  await sample(20_000); // warm-up
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i++) samples.push(await sample(SWITCHES));
  return median(samples);
}

async function postMessageSwitch(): Promise<number> {
  const worker = new Worker(`require("node:worker_threads").parentPort.on("message", (m) => require("node:worker_threads").parentPort.postMessage(m));`, { eval: true });
  const pingPong = (trips: number) =>
    deadline("postMessage ping-pong", 60_000, new Promise<number>((done) => {
      let left = trips;
      const start = now();
      const onMessage = () => {
        if (--left > 0) worker.postMessage(left);
        else {
          worker.off("message", onMessage);
          done(((now() - start) * 1e6) / (2 * trips));
        }
      };
      worker.on("message", onMessage);
      worker.postMessage(left);
    }));
  await pingPong(2000);
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i++) samples.push(await pingPong(ROUND_TRIPS));
  await worker.terminate();
  return median(samples);
}

async function atomicsSwitch(): Promise<number> {
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const total = 2000 + RUNS * ROUND_TRIPS;
  // The worker waits while the flag is 0, clears it and wakes the main thread; the main thread
  // sets it, wakes the worker and waits while it is 1.
  const worker = new Worker(
    `const { workerData } = require("node:worker_threads");
     const flag = new Int32Array(workerData.buffer);
     for (let i = 0; i < workerData.total; i++) { while (Atomics.load(flag, 0) === 0) Atomics.wait(flag, 0, 0); Atomics.store(flag, 0, 0); Atomics.notify(flag, 0); }`,
    { eval: true, workerData: { buffer: flag.buffer, total } },
  );
  await new Promise((resolve) => worker.once("online", resolve));
  const trips = (n: number) => {
    const start = now();
    for (let i = 0; i < n; i++) {
      Atomics.store(flag, 0, 1);
      Atomics.notify(flag, 0);
      // A late notify can wake this wait early: only the flag says the worker has answered.
      while (Atomics.load(flag, 0) === 1) {
        if (Atomics.wait(flag, 0, 1, 10_000) === "timed-out") throw new Error(`Atomics ping-pong: the worker did not answer within 10 s (round trip ${i})`);
      }
    }
    return ((now() - start) * 1e6) / (2 * n);
  };
  trips(2000);
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i++) samples.push(trips(ROUND_TRIPS));
  await worker.terminate();
  return median(samples);
}

export async function contextSwitch(): Promise<Result[]> {
  const yieldNs = await dogmaSwitches(false);
  const yieldToNs = await dogmaSwitches(true);
  const messageNs = await postMessageSwitch();
  const atomicsNs = await atomicsSwitch();
  return [
    result("switch: dogma.yield, 2 processes", yieldNs, "ns", "worker_threads postMessage round trip / 2", messageNs),
    result("switch: dogma.yield, 2 processes (vs Atomics)", yieldNs, "ns", "worker_threads Atomics.wait/notify round trip / 2", atomicsNs),
    result("switch: dogma.yield_to(other), 2 processes", yieldToNs, "ns", "worker_threads Atomics.wait/notify round trip / 2", atomicsNs),
  ];
}
