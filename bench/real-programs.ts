// Real C programs (bench/c: a sort, a hash table, an LZ compressor, a bytecode interpreter), built
// from source with Debian's clang and wasi-libc at the default link flags (data in page 0), run
// whole under Dogma (loaded, spawned, run to exit) beside node:wasi running the same binary in the
// same process. Outputs are compared on every run.
import { execFileSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WASI } from "node:wasi";
import { decodeRecord } from "../src/loader/cache.ts";
import { SectionId, readModule } from "../src/loader/wasm/module-info.ts";
import { dogma, geomean, median, now, result, type Result, type Section } from "./harness.ts";

const PROGRAMS = ["sort", "hash", "lz", "interp"] as const;
const RUNS = 3;

function build(dir: string, name: string): Uint8Array<ArrayBuffer> {
  const source = new URL(`./c/${name}.c`, import.meta.url).pathname;
  const out = join(dir, `${name}.wasm`);
  execFileSync("clang", ["--target=wasm32-wasi", "-O2", source, "-o", out]);
  return new Uint8Array(readFileSync(out));
}

function runNative(dir: string, name: string, module: WebAssembly.Module): { ms: number; stdout: string } {
  const file = join(dir, `${name}.out`);
  const fd = openSync(file, "w");
  const start = now();
  try {
    const wasi = new WASI({ version: "preview1", args: [name], env: {}, returnOnExit: true, stdout: fd });
    const instance = new WebAssembly.Instance(module, { wasi_snapshot_preview1: wasi.wasiImport } as WebAssembly.Imports);
    const code = wasi.start(instance);
    if (code !== 0) throw new Error(`bench bug: ${name} exited ${code} under node:wasi`);
  } finally {
    closeSync(fd);
  }
  return { ms: now() - start, stdout: readFileSync(file, "utf8") };
}

export async function realPrograms(): Promise<Section> {
  const dir = mkdtempSync(join(tmpdir(), "dogma-real-"));
  const results: Result[] = [];
  const notes: string[] = [];
  const ratios: number[] = [];
  try {
    execFileSync("clang", ["--version"]);
  } catch {
    return { title: "Real C programs", results, notes: ["clang is not installed: skipped"] };
  }
  try {
    const records = new Map<string, Uint8Array>();
    for (const name of PROGRAMS) {
      const bytes = build(dir, name);
      const native = new WebAssembly.Module(bytes);
      const times = { native: [] as number[], dogma: [] as number[] };
      for (let run = 0; run <= RUNS; run++) {
        const n = runNative(dir, name, native);
        const machine = dogma(256, { cache: { get: async (k) => records.get(k) ?? null, put: async (k, v) => void records.set(k, v) } });
        const start = now();
        const image = await machine.loader.load(bytes, name);
        const process = machine.kernel.spawn(image, { args: [name] });
        await machine.kernel.run();
        const ms = now() - start;
        if (process.outcome?.kind !== "exited" || process.outcome.code !== 0) throw new Error(`bench bug: ${name} under Dogma: ${JSON.stringify(process.outcome)}`);
        if (machine.stdout() !== n.stdout) throw new Error(`MISMATCH in ${name}: Dogma printed ${JSON.stringify(machine.stdout())}, node:wasi ${JSON.stringify(n.stdout)}`);
        if (run === 0) continue; // warm-up (and the cold load)
        times.native.push(n.ms);
        times.dogma.push(ms);
      }
      const nativeMs = median(times.native);
      const dogmaMs = median(times.dogma);
      results.push(result(`${name}.c: Dogma, whole run (cached load, spawn, run)`, dogmaMs, "ms", "node:wasi, instantiate and run", nativeMs));
      ratios.push(dogmaMs / nativeMs);
      const rewritten = decodeRecord([...records.values()].at(-1)!)!.rewritten;
      const code = (b: Uint8Array) => {
        const section = readModule(b).sections.find((s) => s.id === SectionId.code)!;
        return section.end - section.start;
      };
      notes.push(
        `${name}.c: ${bytes.length} B built, rewritten ${rewritten.length} B (custom sections other than names dropped); ` +
          `code section ${code(bytes)} B → ${code(rewritten)} B (${(code(rewritten) / code(bytes)).toFixed(2)}×).`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  results.push(result("geometric mean of Dogma/node:wasi, real C programs", geomean(ratios), "×", "node:wasi", 1));
  notes.push(
    "Built with `clang --target=wasm32-wasi -O2` and default link flags (wasi-libc puts data at 1024, in page 0: docs/MEMORY.md \"Page 0\"). Output goes to a file (node:wasi) and to the console device (Dogma), and must match.",
    "sort: libc qsort of 1M ints and 200k strings, a merge sort; hash: open addressing, 600k string keys; lz: LZ77 over 6 MiB, unaligned 4- and 8-byte accesses; interp: a switch-dispatch bytecode VM (fib(27), primes below 300000).",
  );
  return { title: `Real C programs (median of ${RUNS} after a warm-up)`, results, notes };
}
