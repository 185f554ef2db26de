// Shared by the benchmarks: the result shape, timing and statistics, and a Dogma machine.
import { readFileSync } from "node:fs";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import binaryen from "binaryen";
import type { LoadedImage } from "../src/kernel/image.ts";
import type { Kernel } from "../src/kernel/kernel.ts";
import { testMachine, type TestMachine } from "../test/helpers/test-host.ts";
import type { LoaderOptions } from "../src/loader/loader.ts";
import { applyEngineFlags } from "../src/hosts/node/engine-flags.ts";

// The benchmarks run with the V8 flags the Node host sets, native baselines in this process too.
applyEngineFlags();

/** One figure beside the comparison measured in the same run; ratio = value / baseline.value. */
export interface Result {
  name: string;
  value: number;
  unit: string;
  baseline: { name: string; value: number };
  ratio: number;
}

/** A benchmark's output: its results, and notes (diagnostics that have no baseline) for the report. */
export interface Section {
  title: string;
  results: Result[];
  notes: string[];
}

export function result(name: string, value: number, unit: string, baselineName: string, baselineValue: number): Result {
  return { name, value, unit, baseline: { name: baselineName, value: baselineValue }, ratio: value / baselineValue };
}

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error("bench bug: median of nothing");
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Microseconds a synchronous `work` takes: `warmUp` calls first, then the median of 5 batches of
 * `perBatch` calls.
 */
export function microsPerCall(work: () => void, perBatch: number, warmUp = perBatch): number {
  for (let i = 0; i < warmUp; i++) work();
  const batches: number[] = [];
  for (let b = 0; b < 5; b++) {
    const start = now();
    for (let i = 0; i < perBatch; i++) work();
    batches.push(((now() - start) * 1000) / perBatch);
  }
  return median(batches);
}

export function geomean(values: readonly number[]): number {
  return Math.exp(values.reduce((sum, v) => sum + Math.log(v), 0) / values.length);
}

/** Milliseconds since an arbitrary origin. */
export const now = (): number => performance.now();

export function program(name: string): Uint8Array<ArrayBuffer> {
  const path = new URL(`../build/user/${name}.wasm`, import.meta.url);
  return new Uint8Array(readFileSync(path));
}

/** A binary from WebAssembly text, through binaryen. */
export function wat(text: string): Uint8Array<ArrayBuffer> {
  const module = binaryen.parseText(text);
  try {
    if (!module.validate()) throw new Error("bench bug: WAT module does not validate");
    return new Uint8Array(module.emitBinary());
  } finally {
    module.dispose();
  }
}

/** A Dogma machine wired like the CLI's (the test host's devices), with `memoryMiB` of RAM. */
export function dogma(memoryMiB: number, loader: Partial<LoaderOptions> = {}): TestMachine {
  return testMachine({ memory: memoryMiB << 20, loader });
}

/**
 * Spawns `image` at `entry(args)` and runs the kernel until every process ends; fails loudly if
 * the process did not exit normally. Returns its return value and the spawn and total times.
 */
export async function runProcess(
  machine: TestMachine,
  image: LoadedImage,
  entry: string,
  args: readonly number[],
): Promise<{ value: unknown; spawnMs: number; totalMs: number }> {
  const kernel: Kernel = machine.kernel;
  const start = now();
  const process = kernel.spawn(image, { entry, entryArgs: args, mapImage: true });
  const spawned = now();
  await deadline(`${image.name}: kernel.run`, 120_000, kernel.run(), () => schedulerState(kernel));
  const end = now();
  const outcome = process.outcome;
  if (!outcome || outcome.kind !== "exited" || outcome.code !== 0) {
    throw new Error(`${image.name} did not exit cleanly: ${JSON.stringify(outcome)} ${machine.faults.join("; ")}`);
  }
  return { value: process.returnValue, spawnMs: spawned - start, totalMs: end - start };
}

/** Fails the whole run when Dogma and native disagree. */
export function assertSame(what: string, dogmaValue: unknown, nativeValue: unknown): void {
  if (dogmaValue !== nativeValue) throw new Error(`MISMATCH in ${what}: Dogma returned ${String(dogmaValue)}, native ${String(nativeValue)}`);
}

/** MB here is 10^6 bytes. */
export const MB = 1e6;

const collect: (() => void) | null = (() => {
  try {
    setFlagsFromString("--expose-gc");
    return runInNewContext("gc") as () => void;
  } catch {
    return null;
  }
})();

/** A full garbage collection between benchmarks, so one's garbage (machines of 256 MiB, retired instances) is not timed in the next. */
export function settle(): void {
  collect?.();
}

/** What the scheduler holds, for a run that never ends. */
export function schedulerState(kernel: Kernel): string {
  const queues = (kernel.scheduler as unknown as { queues: Array<Array<{ pid: number }>> }).queues;
  const processes = [...kernel.processes.values()].filter((p) => p.alive).map((p) => `${p.pid}:${p.state}${p.resume ? "+resume" : ""}`);
  return `current ${kernel.scheduler.current?.pid ?? "none"}, ready ${JSON.stringify(queues.map((q) => q.map((p) => p.pid)))}, live ${processes.join(" ")}`;
}

/** `work`, or a loud failure when it takes longer than `ms` (a hang must not stall the whole run). */
export function deadline<T>(what: string, ms: number, work: Promise<T>, describe: () => string = () => ""): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000} s ${describe()}`)), ms);
  });
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}
