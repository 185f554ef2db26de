// The cost of the rewrite: the bench-* kernels run as Dogma processes (software TLB, safe points)
// against the same original binaries run natively by V8, with the results checked equal.
import { assertSame, dogma, geomean, median, now, program, result, runProcess, type Result, type Section } from "./harness.ts";

export const PROGRAMS = ["bench-sort", "bench-hash", "bench-bytes", "bench-memcpy"] as const;
const N = 1; // run(1): tens to hundreds of milliseconds each
const RUNS = 5; // timed runs per side, after one warm-up run

/** A fresh native instance (fresh memory, as a new process gets), then run(n). */
function runNative(module: WebAssembly.Module, n: number): { value: unknown; ms: number } {
  const start = now();
  const instance = new WebAssembly.Instance(module, {});
  const value = (instance.exports.run as (n: number) => number)(n);
  return { value, ms: now() - start };
}

export async function rewrittenVsNative(): Promise<Section> {
  const machine = dogma(256);
  const results: Result[] = [];
  const starts: Result[] = [];
  const ratios: number[] = [];
  for (const name of PROGRAMS) {
    const bytes = program(name);
    const native = new WebAssembly.Module(bytes);
    const image = await machine.loader.load(bytes, name);
    const times = { native: [] as number[], dogma: [] as number[], spawn: [] as number[] };
    for (let run = 0; run <= RUNS; run++) {
      const n = runNative(native, N);
      const d = await runProcess(machine, image, "run", [N]);
      assertSame(name, d.value, n.value);
      if (run === 0) continue; // warm-up
      times.native.push(n.ms);
      times.dogma.push(d.totalMs);
      times.spawn.push(d.spawnMs);
    }
    const nativeMs = median(times.native);
    const dogmaMs = median(times.dogma);
    results.push(result(`${name}: Dogma spawn+run`, dogmaMs, "ms", "native instantiate+run", nativeMs));
    starts.push(result(`${name}: process start (spawn)`, median(times.spawn) * 1000, "µs", "Dogma spawn+run", dogmaMs * 1000));
    ratios.push(dogmaMs / nativeMs);
  }
  const g = geomean(ratios);
  results.push(result("geometric mean of Dogma/native", g, "×", "native", 1));
  return {
    title: "Rewritten vs native (bench-* kernels, run(1), median of 5 after a warm-up)",
    results: [...results, ...starts],
    notes: [
      "Both sides start from fresh memory each run: native times `new WebAssembly.Instance` + `run(1)` of a compiled module; Dogma times `kernel.spawn` + `kernel.run()` of a loaded image (first-touch page faults and zero-fill included, nothing subtracted).",
      "Results are compared on every run; a mismatch aborts the benchmark.",
    ],
  };
}
