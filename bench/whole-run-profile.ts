// Where a C program's whole run goes, by kind of work, under Dogma beside node:wasi (issue 20;
// docs/LOADER.md "A whole run by kind of work"). Each side runs in a process of its own under
// `perf record -k CLOCK_MONOTONIC` with V8's perf map, as bench/real-programs.ts runs it (a fresh
// machine, the cached load, the spawn, the run to exit; V8's module cache off); the child writes
// each timed run's monotonic start and end, and only the samples inside those windows count, so
// that neither side's start-up (Node, the harness, the first rewrite) is in the figures.
// `node bench/whole-run-profile.ts [PROGRAM] [RUNS]` (a program of bench/c; needs clang and perf).
// The figures are ms of samples a run at PERF_HZ: perf's own cost inflates them all alike.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { WASI } from "node:wasi";
import { dogma, settle } from "./harness.ts";

const PERF_HZ = 2000;

/** One side's runs, each window's monotonic start and end (seconds) written to `windows`. */
async function child(side: string, wasm: string, program: string, runs: number, windows: string): Promise<void> {
  setFlagsFromString("--no-wasm-native-module-cache");
  const bytes = new Uint8Array(readFileSync(wasm));
  const records = new Map<string, Uint8Array>();
  const monotonic = (): string => (Number(process.hrtime.bigint()) / 1e9).toFixed(6);
  const timed: string[] = [];
  for (let run = 0; run <= runs; run++) {
    settle();
    await new Promise((resolve) => setTimeout(resolve, 50));
    settle();
    if (side === "native") {
      const fd = openSync("/dev/null", "w");
      const start = monotonic();
      const wasi = new WASI({ version: "preview1", args: [program], env: {}, returnOnExit: true, stdout: fd });
      const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { wasi_snapshot_preview1: wasi.wasiImport } as WebAssembly.Imports);
      const code = wasi.start(instance);
      closeSync(fd);
      if (code !== 0) throw new Error(`bench bug: ${program} exited ${code} under node:wasi`);
      if (run > 0) timed.push(`${start} ${monotonic()}`); // the first: a warm-up
    } else {
      const machine = dogma(256, { cache: { get: async (k) => records.get(k) ?? null, put: async (k, v) => void records.set(k, v) } });
      const start = monotonic();
      const image = await machine.loader.load(bytes, program);
      const process = machine.kernel.spawn(image, { args: [program] });
      await machine.kernel.run();
      if (process.outcome?.kind !== "exited" || process.outcome.code !== 0) throw new Error(`bench bug: ${program} under Dogma: ${JSON.stringify(process.outcome)}`);
      if (run > 0) timed.push(`${start} ${monotonic()}`); // the first: a warm-up (and the cold load)
    }
  }
  writeFileSync(windows, timed.join("\n"));
}

/** The kind of work a sample of `perf script -F comm,time,ip,sym,dso` was in, and the Wasm function's name when it was one. */
function kindOf(thread: string, symbol: string, dso: string): { kind: string; wasm?: string } {
  if (thread !== "node-MainThread") {
    if (dso.includes("kallsyms")) return { kind: "other threads: the host's kernel" };
    if (/Mark|Sweep|Scaveng|Heap|GC|Evacuat|Concurrent/.test(symbol)) return { kind: "other threads: the collector" };
    if (/compiler|turboshaft|Liftoff|wasm|Register|Instruction/.test(symbol)) return { kind: "other threads: TurboFan" };
    return { kind: "other threads: else" };
  }
  if (dso.includes("kallsyms")) return { kind: "the host's kernel (faults, timers)" };
  const tier = /^JS:(.*)-\d+-(liftoff|turbofan)$/.exec(symbol);
  if (tier && !symbol.includes("file://") && !symbol.includes("node:")) return { kind: "the program's Wasm code", wasm: `${tier[1]} (${tier[2]})` };
  if (symbol.includes("file://") && symbol.includes("/src/")) return { kind: "Dogma's JavaScript (optimized)" };
  if (dso.includes("libc") && symbol.startsWith("__memset")) return { kind: "memset (the kernel's frame fills: first touches)" };
  if (dso.includes("libc")) return { kind: "libc else" };
  if (/Mark|Sweep|Scaveng|Heap::|GC|Evacuat|Marking/.test(symbol)) return { kind: "V8 on the machine's thread: the collector" };
  if (/compiler|turboshaft|Liftoff|wasm::/.test(symbol)) return { kind: "V8 on the machine's thread: compiling, decoding" };
  return { kind: "V8 on the machine's thread: else (cold JavaScript, ICs, wasm-to-JS)" };
}

/** ms of samples a run by kind, and the Wasm functions' own, from one side's perf data. */
function categorize(data: string, windowsFile: string): { kinds: Map<string, number>; functions: Map<string, number> } {
  const windows = readFileSync(windowsFile, "utf8").trim().split("\n").map((line) => line.split(" ").map(Number) as [number, number]);
  const script = execFileSync("perf", ["script", "-i", data, "-F", "comm,time,ip,sym,dso"], { maxBuffer: 1 << 30, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  const kinds = new Map<string, number>();
  const functions = new Map<string, number>();
  const perRun = 1000 / PERF_HZ / windows.length;
  for (const line of script.split("\n")) {
    const sample = /^\s*(\S+)\s+([\d.]+):\s+[0-9a-f]+\s+(.*?)\s*\((.*)\)$/.exec(line);
    if (!sample) continue;
    const time = Number(sample[2]);
    if (!windows.some(([start, end]) => start <= time && time <= end)) continue;
    const { kind, wasm } = kindOf(sample[1]!, sample[3]!.replace(/\+0x[0-9a-f]+$/, ""), sample[4]!);
    kinds.set(kind, (kinds.get(kind) ?? 0) + perRun);
    if (wasm) functions.set(wasm, (functions.get(wasm) ?? 0) + perRun);
  }
  return { kinds, functions };
}

async function main(): Promise<void> {
  const [first, ...rest] = process.argv.slice(2);
  if (first === "--child") {
    const [side, wasm, program, runs, windows] = rest;
    await child(side!, wasm!, program!, Number(runs), windows!);
    return;
  }
  const program = first ?? "hash";
  const runs = Number(rest[0] ?? 3);
  const dir = mkdtempSync(join(tmpdir(), "dogma-whole-run-profile-"));
  try {
    const wasm = join(dir, `${program}.wasm`);
    // Without node_modules/.bin in the PATH: clang runs the first wasm-opt it finds there after
    // linking (binaryen's, under npm), which drops the name section the profile names functions by.
    const path = (process.env.PATH ?? "").split(":").filter((dir) => !dir.includes("node_modules")).join(":");
    execFileSync("clang", ["--target=wasm32-wasi", "-O2", new URL(`./c/${program}.c`, import.meta.url).pathname, "-o", wasm], { env: { ...process.env, PATH: path } });
    const sides = new Map<string, ReturnType<typeof categorize>>();
    for (const side of ["dogma", "native"]) {
      const data = join(dir, `${side}.perf`);
      const windows = join(dir, `${side}.windows`);
      const perf = spawnSync("perf", ["record", "-q", "-k", "CLOCK_MONOTONIC", "-F", String(PERF_HZ), "-o", data, process.execPath, "--perf-basic-prof", "--no-warnings", new URL(import.meta.url).pathname, "--child", side, wasm, program, String(runs), windows], { stdio: ["ignore", "ignore", "inherit"], cwd: dir }); // V8's perf logging leaves its isolate logs in the working directory
      if (perf.error || perf.status !== 0) throw new Error(`perf record failed (is perf installed and allowed?): ${perf.error?.message ?? `status ${perf.status}`}`);
      sides.set(side, categorize(data, windows));
    }
    const dogmaSide = sides.get("dogma")!;
    const nativeSide = sides.get("native")!;
    const total = (kinds: Map<string, number>): number => [...kinds.values()].reduce((a, b) => a + b, 0);
    console.log(`${program}.c, ms of samples a run (${runs} runs a side after a warm-up): Dogma / node:wasi`);
    const kinds = [...new Set([...dogmaSide.kinds.keys(), ...nativeSide.kinds.keys()])].sort((a, b) => (dogmaSide.kinds.get(b) ?? 0) - (dogmaSide.kinds.get(a) ?? 0));
    for (const kind of kinds) console.log(`  ${(dogmaSide.kinds.get(kind) ?? 0).toFixed(1).padStart(8)} / ${(nativeSide.kinds.get(kind) ?? 0).toFixed(1).padStart(8)}  ${kind}`);
    const added = total(dogmaSide.kinds) - total(nativeSide.kinds);
    const code = (dogmaSide.kinds.get("the program's Wasm code") ?? 0) - (nativeSide.kinds.get("the program's Wasm code") ?? 0);
    const share = added > 0 ? `, the Wasm code ${((100 * code) / added).toFixed(0)}% of it` : " (none: the machine's noise is larger than the difference; more runs)";
    console.log(`  ${total(dogmaSide.kinds).toFixed(1).padStart(8)} / ${total(nativeSide.kinds).toFixed(1).padStart(8)}  in all: Dogma adds ${added.toFixed(0)}${share}`);
    console.log("Wasm functions (ms a run, Dogma's outlined loops by their own names):");
    const top = (functions: Map<string, number>): string => [...functions].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([name, ms]) => `${name} ${ms.toFixed(1)}`).join(", ");
    console.log(`  Dogma: ${top(dogmaSide.functions)}`);
    console.log(`  node:wasi: ${top(nativeSide.functions)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
process.exit(0);
