// Loader throughput in MB/s of original Wasm: cold (a fresh Loader, no cache: validate, policy,
// rewrite, optimize, compile), cold without the optimizer, and cached (a fresh Loader over a
// Map-backed ModuleCache that an earlier loader filled: hash, decode, compile). Baseline: V8's own
// `new WebAssembly.Module` of the original bytes, timed in the same run.
import { standardImportModules } from "../src/hosts/standard-imports.ts";
import { decodeRecord, type ModuleCache } from "../src/loader/cache.ts";
import { Loader } from "../src/loader/loader.ts";
import { bigModule } from "./big-module.ts";
import { MB, median, now, program, result, type Result } from "./harness.ts";

interface Subject {
  label: string;
  bytes: Uint8Array<ArrayBuffer>;
  /** Samples of the cold optimized load (the slow one); the others take more. */
  coldRuns: number;
}

class MapCache implements ModuleCache {
  readonly records = new Map<string, Uint8Array>();
  async get(key: string): Promise<Uint8Array | null> {
    return this.records.get(key) ?? null;
  }
  async put(key: string, record: Uint8Array): Promise<void> {
    this.records.set(key, record);
  }
}

const loaderWith = (optimize: boolean, cache: ModuleCache | null = null) =>
  new Loader({ importModules: standardImportModules(), cache });

async function timeLoad(loader: Loader, subject: Subject): Promise<number> {
  const start = now();
  await loader.load(subject.bytes, subject.label);
  return now() - start;
}

function mbPerS(bytes: number, ms: number): number {
  return bytes / MB / (ms / 1000);
}

export interface ThroughputOutput {
  results: Result[];
  notes: string[];
}

export async function loaderThroughput(): Promise<ThroughputOutput> {
  const medium = bigModule(400);
  const big = bigModule(6300);
  const subjects: Subject[] = [
    { label: "hello.wasm", bytes: program("hello"), coldRuns: 7 },
    { label: `generated ${(medium.length / 1024).toFixed(0)} KB`, bytes: medium, coldRuns: 3 },
    { label: `generated ${(big.length / MB).toFixed(1)} MB`, bytes: big, coldRuns: 1 },
  ];
  await loaderWith(true).load(program("hello"), "warm-up"); // binaryen's first use pays its own start-up

  const results: Result[] = [];
  const notes: string[] = [];
  for (const subject of subjects) {
    const size = subject.bytes.length;
    const v8: number[] = [];
    for (let i = 0; i < 5; i++) {
      const start = now();
      new WebAssembly.Module(subject.bytes);
      v8.push(now() - start);
    }
    const v8Ms = median(v8);
    const cold: number[] = [];
    for (let i = 0; i < subject.coldRuns; i++) cold.push(await timeLoad(loaderWith(true), subject));
    const unoptimized: number[] = [];
    for (let i = 0; i < Math.max(subject.coldRuns, 2); i++) unoptimized.push(await timeLoad(loaderWith(false), subject));

    const cache = new MapCache();
    await loaderWith(true, cache).load(subject.bytes, subject.label);
    const cached: number[] = [];
    for (let i = 0; i < 5; i++) {
      const loader = loaderWith(true, cache);
      cached.push(await timeLoad(loader, subject));
      if (loader.stats.diskHits !== 1 || loader.stats.rewrites !== 0) throw new Error(`bench bug: ${subject.label} missed the cache`);
    }

    const rewritten = decodeRecord([...cache.records.values()][0]!)!.rewritten.length;
    const coldMs = median(cold);
    const unoptimizedMs = median(unoptimized);
    const cachedMs = median(cached);
    const v8Rate = mbPerS(size, v8Ms);
    const what = `${subject.label} (${size} B)`;
    results.push(result(`load cold, ${what}`, mbPerS(size, coldMs), "MB/s", "V8 new WebAssembly.Module", v8Rate));
    results.push(result(`load cold optimize:false, ${what}`, mbPerS(size, unoptimizedMs), "MB/s", "V8 new WebAssembly.Module", v8Rate));
    results.push(result(`load cached, ${what}`, mbPerS(size, cachedMs), "MB/s", "V8 new WebAssembly.Module", v8Rate));
    results.push(result(`optimizer time, ${what}`, coldMs - unoptimizedMs, "ms", "rest of the cold load (optimize:false)", unoptimizedMs));
    notes.push(
      `${what}: cold ${coldMs.toFixed(1)} ms (${(coldMs / (size / MB)).toFixed(0)} ms/MB, ${subject.coldRuns} run${subject.coldRuns > 1 ? "s" : ""}), ` +
        `optimize:false ${unoptimizedMs.toFixed(1)} ms, cached ${cachedMs.toFixed(2)} ms, V8 ${v8Ms.toFixed(2)} ms; ` +
        `rewritten and optimized: ${rewritten} B (${(rewritten / size).toFixed(1)}× the original).`,
    );
  }
  notes.push(
    "V8 compiles Wasm lazily (a function is compiled on its first call), so `new WebAssembly.Module` mostly validates and decodes; the loader's own compile step is the same call on the rewritten bytes.",
    "The generated modules are thousands of exported functions, each a loop of eight i32 load/store pairs and an i64 load/store (bench/big-module.ts).",
  );
  return { results, notes };
}
