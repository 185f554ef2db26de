// Debugging (issue 14, docs/DEBUGGING.md): what the debug support costs a process with no debugger
// (nothing: the same rewritten code runs, and the kernel's slow paths test one field), what an
// attached debugger with nothing armed costs (nothing either), what a breakpoint armed somewhere
// costs while the process runs (every safe point then takes a stack trace), and a breakpoint's
// hit and continue. Every figure beside its baseline in the same run.
import { Capability } from "../src/kernel/caps/capability.ts";
import { BreakAt, Rights } from "../src/kernel/caps/object-abi.ts";
import { Receiver } from "../src/kernel/caps/receiver.ts";
import type { LoadedImage } from "../src/kernel/image.ts";
import type { Process } from "../src/kernel/process.ts";
import type { TestMachine } from "../test/helpers/test-host.ts";
import { CLIENT, SERVER } from "./ipc.ts";
import { assertSame, deadline, dogma, median, now, program, result, schedulerState, wat, type Section } from "./harness.ts";

const RUNS = 5;
const KERNELS = ["bench-sort", "bench-hash"] as const;
const ROUND_TRIPS = 50_000;
const LOOP = 20_000; // iterations of the loop program, per run
const HITS = 2_000; // breakpoint hits, per run

/** `run(n)`: a loop calling `step` n times (two safe points an iteration: the loop header and step's entry). */
const LOOPER = wat(`(module
  (global $sum (mut i32) (i32.const 0))
  (func $step (param $i i32)
    (global.set $sum (i32.add (global.get $sum) (i32.mul (local.get $i) (local.get $i))))
    (if (i32.eq (local.get $i) (i32.const -1)) (then (call $other))))
  (func $other (global.set $sum (i32.const 0)) (if (i32.eq (global.get $sum) (i32.const 7)) (then (call $other))))
  (func (export "run") (param $n i32) (result i32) (local $i i32)
    (loop $again
      (call $step (local.get $i))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $again (i32.lt_u (local.get $i) (local.get $n))))
    (global.get $sum)))`);
/** Function indices of LOOPER (no imports): 0 step, 1 other. */
const STEP = 0;
const OTHER = 1;

/** Blocks for ever: the debugger the kernel's sessions name (its end would detach them). */
const HOLDER = wat(`(module
  (import "dogma" "invoke" (func $invoke (param i32 i32 i32) (result i32)))
  (memory 1)
  (func (export "_start")
    (i32.store (i32.const 0x1000) (i32.const 0xffff0300))
    (drop (call $invoke (i32.const 2) (i32.const 0x1000) (i32.const 292)))
    (unreachable)))`);

class Bench {
  readonly machine: TestMachine = dogma(256);
  holder!: Process;
  /** DEBUG_STOPPED messages go here; the bench reads them from the host. */
  readonly events = new Receiver(1024);
  /** The host's own receive capability: it keeps the Receiver alive when sessions drop theirs. */
  readonly eventsHeld = new Capability(this.events, Rights.RECEIVER_RECEIVE);

  async start(): Promise<void> {
    const holder = await this.machine.loader.load(HOLDER, "debugger");
    this.holder = this.machine.kernel.spawn(holder, { caps: [this.machine.kernel.capability(new Receiver(1), Rights.RECEIVER_RECEIVE)] });
    await this.machine.kernel.run();
  }

  /** A process of `image` at `entry(args)`, created, and (with `attach`) debugged before it starts. */
  spawn(image: LoadedImage, entry: string, args: readonly number[], attach: boolean, caps: Capability[] = []): Process {
    const kernel = this.machine.kernel;
    const process = kernel.spawn(image, { entry, entryArgs: args, caps });
    if (!attach) return process;
    const status = kernel.debugging.attach(this.holder, process, new Capability(this.events, Rights.RECEIVER_SEND), false);
    if (status !== 0) throw new Error(`bench bug: attach answered ${status}`);
    this.events.take();
    process.debug!.continue();
    return process;
  }

  /** Runs the kernel until `processes` end (the holder stays); ms. */
  async run(what: string, processes: Process[], onStop: () => void = () => {}): Promise<number> {
    const kernel = this.machine.kernel;
    const start = now();
    for (;;) {
      await deadline(what, 120_000, kernel.run(), () => schedulerState(kernel));
      if (processes.every((p) => !p.alive)) break;
      if (processes.some((p) => p.debug?.stop === null)) throw new Error(`${what}: stuck: ${schedulerState(kernel)}`);
      onStop();
    }
    const ms = now() - start;
    for (const p of processes) if (p.outcome?.kind !== "exited" || p.outcome.code !== 0) throw new Error(`${what}: ${JSON.stringify(p.outcome)} ${this.machine.faults.join("; ")}`);
    return ms;
  }
}

export async function debugging(): Promise<Section> {
  const bench = new Bench();
  await bench.start();
  const kernel = bench.machine.kernel;
  const results = [];

  // 1. The bench-* kernels with and without a debugger attached (nothing armed), interleaved.
  for (const name of KERNELS) {
    const image = await bench.machine.loader.load(program(name), name);
    const times = { plain: [] as number[], attached: [] as number[] };
    for (let run = 0; run <= RUNS; run++) {
      for (const attach of [false, true]) {
        const process = bench.spawn(image, "run", [1], attach);
        const ms = await bench.run(name, [process]);
        if (run > 0) times[attach ? "attached" : "plain"].push(ms);
      }
    }
    results.push(result(`${name}: a debugger attached, nothing armed`, median(times.attached), "ms", "no debugger", median(times.plain)));
  }

  // 2. A call/reply round trip between two processes, both debugged (nothing armed), and not.
  const server = await bench.machine.loader.load(SERVER, "ipc-server");
  const client = await bench.machine.loader.load(CLIENT, "ipc-client");
  const trips = { plain: [] as number[], attached: [] as number[] };
  for (let run = 0; run <= RUNS; run++) {
    for (const attach of [false, true]) {
      const receiver = new Receiver(16);
      const s = bench.spawn(server, "serve", [2, ROUND_TRIPS], attach, [kernel.capability(receiver, Rights.RECEIVER_RECEIVE)]);
      const c = bench.spawn(client, "run", [2, ROUND_TRIPS, 0], attach, [kernel.capability(receiver, Rights.RECEIVER_CALL, 1)]);
      const ms = await bench.run("round trips", [s, c]);
      if (run > 0) trips[attach ? "attached" : "plain"].push((ms * 1e6) / ROUND_TRIPS);
    }
  }
  results.push(result("call/reply round trip, both ends debugged (nothing armed)", median(trips.attached), "ns", "no debugger", median(trips.plain)));

  // 3. A loop while a breakpoint is armed on a function it never calls: every safe point is a trace.
  const looper = await bench.machine.loader.load(LOOPER, "looper");
  const loops = { plain: [] as number[], armed: [] as number[] };
  let expected: unknown = undefined;
  for (let run = 0; run <= RUNS; run++) {
    for (const armed of [false, true]) {
      const process = bench.spawn(looper, "run", [LOOP], armed);
      if (armed && process.debug!.addBreakpoint(OTHER, BreakAt.ENTRY, 0) < 0) throw new Error("bench bug: no breakpoint");
      const ms = await bench.run("armed loop", [process]);
      const value = process.returnValue;
      if (expected === undefined) expected = value;
      assertSame("looper", value, expected);
      if (run > 0) loops[armed ? "armed" : "plain"].push((ms * 1e3) / (2 * LOOP));
    }
  }
  const observed = median(loops.armed);
  results.push(result("safe point while a breakpoint is armed (a stack trace each)", observed, "µs", "the same loop, no debugger (per safe point)", median(loops.plain)));

  // 4. A breakpoint hit and continued from the host: stop, DEBUG_STOPPED queued, continue, run to the next.
  const hits: number[] = [];
  for (let run = 0; run <= RUNS; run++) {
    const process = bench.spawn(looper, "run", [HITS], true);
    process.debug!.addBreakpoint(STEP, BreakAt.ENTRY, 0);
    let stops = 0;
    const ms = await bench.run("breakpoint hits", [process], () => {
      while (bench.events.take()) stops++;
      process.debug!.continue();
    });
    assertSame("breakpoint hits", stops, HITS);
    if (run > 0) hits.push((ms * 1e3) / HITS);
  }
  results.push(result("breakpoint hit and continue", median(hits), "µs", "safe point while a breakpoint is armed", observed));

  kernel.terminate(bench.holder);
  return {
    title: `Debugging: what it costs (median of ${RUNS})`,
    results,
    notes: [
      "Attached, nothing armed: a debugger holds the process (PROCESS_DEBUG_ATTACH) and let it go on; no breakpoint, watchpoint or step, so its safe points keep their fuel and nothing is traced. The kernel's only extra work with or without a debugger is a null test in the safe point's slow path (every 10 000 units of fuel), in a TLB miss and in each memory slow path: the figures are the same within noise.",
      `Armed: a breakpoint on a function the loop never calls (${LOOP} iterations, two safe points each): every safe point calls the kernel, which takes a stack trace (V8's capture, about 5 µs) to see where the process is. Only a process with a breakpoint or a step armed pays it; watchpoints cost only the accesses to their pages (each one a slow path).`,
      `Hit and continue: ${HITS} hits of a breakpoint at a function's entry; each stops the process (a JSPI suspension in its safe point), queues DEBUG_STOPPED, and the host continues it (PROCESS_DEBUG_CONTINUE's work) before the kernel runs again.`,
    ],
  };
}
