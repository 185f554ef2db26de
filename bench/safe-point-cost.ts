// Where the slowdown comes from: the bench-* kernels rewritten as the loader does, and again
// without safe points (the rewriter's `safePoints: false` variant). What remains over native is
// the inline software-TLB translation; the difference from the real rewrite is what the safe
// points cost. An ablation only: such a process cannot be preempted.
import { assertSame, dogma, median, now, program, result, runProcess, type Result } from "./harness.ts";
import { rewriteSteps } from "./rewrite-steps.ts";
import { PROGRAMS } from "./rewritten-vs-native.ts";

const RUNS = 5;

function runNative(module: WebAssembly.Module): { value: unknown; ms: number } {
  const start = now();
  const value = (new WebAssembly.Instance(module, {}).exports.run as (n: number) => number)(1);
  return { value, ms: now() - start };
}

export async function safePointCost(): Promise<Result[]> {
  const machine = dogma(256);
  const results: Result[] = [];
  for (const name of PROGRAMS) {
    const bytes = program(name);
    const native = new WebAssembly.Module(bytes);
    const full = (await rewriteSteps(bytes, name)).image;
    const bare = (await rewriteSteps(bytes, `${name} (no safe points)`, { safePoints: false })).image;
    const times = { native: [] as number[], full: [] as number[], bare: [] as number[] };
    for (let run = 0; run <= RUNS; run++) {
      const n = runNative(native);
      const f = await runProcess(machine, full, "run", [1]);
      const b = await runProcess(machine, bare, "run", [1]);
      assertSame(name, f.value, n.value);
      assertSame(`${name} (no safe points)`, b.value, n.value);
      if (run === 0) continue;
      times.native.push(n.ms);
      times.full.push(f.totalMs);
      times.bare.push(b.totalMs);
    }
    const nativeMs = median(times.native);
    const fullMs = median(times.full);
    const bareMs = median(times.bare);
    results.push(result(`${name}: TLB only (safe points removed)`, bareMs, "ms", "native instantiate+run", nativeMs));
    results.push(result(`${name}: safe points' share of Dogma time`, fullMs - bareMs, "ms", "Dogma spawn+run (full rewrite)", fullMs));
  }
  return results;
}
