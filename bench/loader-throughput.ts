// Loader throughput in MB/s of original Wasm: cold on the machine's thread (a fresh Loader, no cache:
// validate, read, policy, rewrite, assemble, compile), cold with the Node host's worker threads, and
// cached (a fresh Loader over a Map-backed ModuleCache that an earlier loader filled: hash, decode,
// compile). Baseline: V8's own `new WebAssembly.Module` of the original bytes, in the same run.
import { enableCompileCache } from "node:module";
import { NODE_WORKERS_MIN_CODE, nodeLoaderWorkers, nodeSha256 } from "../src/hosts/node/node-loader.ts";
import { NodeLoaderWorkers } from "../src/hosts/node/loader-workers.ts";
import { standardImportModules } from "../src/hosts/standard-imports.ts";
import { decodeRecord, type ModuleCache } from "../src/loader/cache.ts";
import type { CodeWorkers } from "../src/loader/rewrite-code.ts";
import { Loader } from "../src/loader/loader.ts";
import { bigModule } from "./big-module.ts";
import { generatedModule } from "./generated-module.ts";
import { MB, median, now, program, result, type Result } from "./harness.ts";

interface Subject {
  label: string;
  bytes: Uint8Array<ArrayBuffer>;
  runs: number;
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

// With workers, the Node host's loader: its hash too (node-loader.ts).
const loaderWith = (cache: ModuleCache | null = null, workers: CodeWorkers | null = null) =>
  new Loader({ importModules: standardImportModules(), cache, workers, ...(workers && { sha256: nodeSha256 }) });

/**
 * Starts watching this thread: a 1 ms timer notes the longest gap between its ticks (what a
 * process due to run waits at worst). The returned function stops it and gives that gap in ms.
 */
function watchStalls(): () => number {
  let last = now();
  let longest = 0;
  const timer = setInterval(() => {
    const t = now();
    longest = Math.max(longest, t - last);
    last = t;
  }, 1);
  return () => {
    clearInterval(timer);
    return Math.max(longest, now() - last);
  };
}

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
  // As bin/dogma.js does, so that each cold load's fresh workers load the loader's compiled code
  // rather than strip its TypeScript again (Node's type stripper in each worker: 0.5-1.2 s of a
  // worker's time in a profile of one load on a loaded machine) — what `dogma run` pays.
  enableCompileCache();
  const medium = bigModule(400);
  const big = bigModule(6300);
  const huge = generatedModule(90_000);
  const subjects: Subject[] = [
    { label: "hello.wasm", bytes: program("hello"), runs: 7 },
    { label: `generated ${(medium.length / 1024).toFixed(0)} KB`, bytes: medium, runs: 5 },
    { label: `generated ${(big.length / MB).toFixed(1)} MB`, bytes: big, runs: 3 },
    { label: `generated ${(huge.length / MB).toFixed(0)} MB`, bytes: huge, runs: 3 },
  ];
  const huge25 = subjects.at(-1)!;
  const workers = nodeLoaderWorkers();
  await loaderWith(null, workers).load(huge, "warm-up"); // starts the workers
  // A pool that keeps its workers between loads (loader-workers.ts `keep`), for the whole section:
  // the warm-up load has had its workers optimize the rewriter.
  const kept = new NodeLoaderWorkers(undefined, 10 * 60_000, NODE_WORKERS_MIN_CODE, true);
  await loaderWith(null, kept).load(huge, "warm-up");
  const results: Result[] = [];
  const notes: string[] = [];
  try {
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
      const parallel: number[] = [];
      const keptRuns: number[] = [];
      const stalls: number[] = [];
      for (let i = 0; i < subject.runs; i++) {
        cold.push(await timeLoad(loaderWith(), subject));
        const stopWatching = watchStalls();
        parallel.push(await timeLoad(loaderWith(null, workers), subject));
        stalls.push(stopWatching());
        if (subject === huge25) keptRuns.push(await timeLoad(loaderWith(null, kept), subject));
      }
      const cache = new MapCache();
      await loaderWith(cache).load(subject.bytes, subject.label);
      const cached: number[] = [];
      for (let i = 0; i < 5; i++) {
        const loader = loaderWith(cache);
        cached.push(await timeLoad(loader, subject));
        if (loader.stats.diskHits !== 1 || loader.stats.rewrites !== 0) throw new Error(`bench bug: ${subject.label} missed the cache`);
      }
      const rewritten = decodeRecord([...cache.records.values()][0]!)!.rewritten.length;
      const coldMs = median(cold);
      const parallelMs = median(parallel);
      const cachedMs = median(cached);
      const v8Rate = mbPerS(size, v8Ms);
      const what = `${subject.label} (${size} B)`;
      results.push(result(`load cold, ${what}`, mbPerS(size, coldMs), "MB/s", "V8 new WebAssembly.Module", v8Rate));
      results.push(result(`load cold, worker threads, ${what}`, mbPerS(size, parallelMs), "MB/s", "V8 new WebAssembly.Module", v8Rate));
      results.push(result(`load cached, ${what}`, mbPerS(size, cachedMs), "MB/s", "V8 new WebAssembly.Module", v8Rate));
      results.push(result(`rewritten size, ${what}`, rewritten, "B", "original size", size));
      if (subject === huge25) {
        const keptMs = median(keptRuns);
        results.push(result(`load cold, worker threads kept between loads, ${what}`, mbPerS(size, keptMs), "MB/s", "V8 new WebAssembly.Module", v8Rate));
        notes.push(`${what}, cold on worker threads kept between loads (a pool made once, NodeLoaderWorkers \`keep\`; \`dogma run\`'s pool ends its workers after each load): ${keptRuns.map((ms) => ms.toFixed(0)).join(", ")} ms; their engines have optimized the rewriter in an earlier load, and the compile goes to one of them.`);
        results.push(result(`longest stall of the machine's thread, cold load on worker threads, ${what}`, median(stalls), "ms", "the whole cold load on worker threads", parallelMs));
        notes.push(`${what}, cold on worker threads: the longest gap between ticks of a 1 ms timer on the machine's thread in each run: ${stalls.map((ms) => ms.toFixed(0)).join(", ")} ms (the row: their median; ratio: its share of the whole load). What is left on this thread, each pass followed by a turn of the event loop: reading the module (one pass, the longest), its names, the policy, cutting chunks, placing the chunks that come back, assembling the output around them (write-module.ts).`);
      }
      notes.push(
        `${what}: cold ${coldMs.toFixed(1)} ms (${subject.runs} runs), with ${workers === null ? 0 : "worker"} threads ${parallelMs.toFixed(1)} ms, ` +
          `cached ${cachedMs.toFixed(2)} ms, V8 ${v8Ms.toFixed(2)} ms; rewritten: ${rewritten} B (${(rewritten / size).toFixed(2)}× the original).`,
      );
    }
  } finally {
    await workers.close();
    await kept.close();
  }
  notes.push(
    "V8 compiles Wasm lazily (a function is compiled on its first call), so `new WebAssembly.Module` mostly validates and decodes; the loader's own compile step is `WebAssembly.compile` of the rewritten bytes.",
    "Cold on this thread: everything in 4 ms slices between turns of the event loop (the machine keeps running). Worker threads: binaries with 8 MiB of code or more (NODE_WORKERS_MIN_CODE) are validated and rewritten on the Node host's pool (one thread per core, here 2); others stay on this thread, and an output of 1 MiB or more is compiled (validated) on a worker.",
    "The 127 KB and 2.1 MB modules are thousands of exported functions, each a loop of eight i32 load/store pairs and an i64 load/store (bench/big-module.ts); the large one has the same shape, written as bytes (bench/generated-module.ts). Their memory instructions are far denser than a compiler's output, so their rewritten size is a worst case.",
  );
  return { results, notes };
}
