// Where the slowdown comes from: the bench-* kernels rewritten as the loader does, but with every
// safe point removed (each `global.set $dogma$fuel` becomes a nop, and the optimizer then drops
// the checks). What remains over native is the inline software-TLB translation; the difference
// from the real rewrite is what the safe points cost. An ablation only: such a process cannot be
// preempted.
import { binaryen, type BinaryenModule, type ExpressionRef } from "../src/loader/legacy/binaryen.ts";
import { childrenById, type ChildSlot } from "../src/loader/legacy/expression-children.ts";
import { FUEL_GLOBAL } from "../src/loader/legacy/safe-points.ts";
import { assertSame, dogma, median, now, program, result, runProcess, type Result } from "./harness.ts";
import { rewriteSteps } from "./rewrite-steps.ts";
import { PROGRAMS } from "./rewritten-vs-native.ts";

const RUNS = 5;

type Accessor = (expr: ExpressionRef) => ExpressionRef;
type Setter = (expr: ExpressionRef, child: ExpressionRef) => void;
const classes = binaryen as unknown as Record<string, Record<string, Accessor & Setter>>;
const slot = (cls: string, field: string): ChildSlot => ({
  get: (e) => classes[cls]![`get${field}`]!(e),
  set: (e, c) => void classes[cls]![`set${field}`]!(e, c),
});
/** The rewritten code's own loads and stores (of physical memory), which childrenById leaves to the rewriter. */
const memoryChildren = new Map<number, ChildSlot[]>([
  [binaryen.LoadId, [slot("Load", "Ptr")]],
  [binaryen.StoreId, [slot("Store", "Ptr"), slot("Store", "Value")]],
]);

function stripSafePoints(module: BinaryenModule): number {
  let removed = 0;
  const walk = (expr: ExpressionRef): ExpressionRef => {
    const id = binaryen.getExpressionId(expr);
    if (id === binaryen.GlobalSetId && classes.GlobalSet!.getName!(expr) === (FUEL_GLOBAL as unknown as number)) {
      removed++;
      return module.nop();
    }
    const slots = memoryChildren.get(id) ?? childrenById.get(id)?.(expr);
    if (!slots) throw new Error(`bench bug: no children known for expression id ${id}`);
    for (const s of slots) {
      const child = s.get(expr);
      if (!child) continue;
      const next = walk(child);
      if (next !== child) s.set(expr, next);
    }
    return expr;
  };
  for (let i = 0; i < module.getNumFunctions(); i++) {
    const func = module.getFunctionByIndex(i);
    const info = binaryen.getFunctionInfo(func);
    if (info.module || info.name.startsWith("dogma$")) continue; // imports and the loader's helpers have none
    const body = walk(info.body);
    if (body !== info.body) throw new Error("bench bug: a function body is itself a safe point");
  }
  if (removed === 0) throw new Error("bench bug: found no safe points to remove");
  return removed;
}

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
    const full = (await rewriteSteps(bytes, name, { optimize: true })).image;
    const bare = (await rewriteSteps(bytes, `${name} (no safe points)`, { optimize: true, transform: stripSafePoints })).image;
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
