// Big tools as their authors ship them on npm (devDependencies): YoWASP's clang 22 (75 MB)
// compiling bench/c/interp.c with -O2, yosys (31 MB) proving a 10-bit multiplier commutes with
// its SAT solver, and esbuild (a Go program, 20 MB) minifying AssemblyScript's 756 KB compiler. Whole processes, as a person runs them: `dogma run` with its module cache warm
// (a fresh cache is filled in a first run, whose cold load is reported apart) beside Node's own
// node:wasi in a child process (test/personality/node-wasi-runner.ts), each with the same folder.
// Wall time, and CPU time of the whole child process (bench/child-cpu.ts), which holds better
// on a shared machine.
import { execFileSync } from "node:child_process";
import { closeSync, copyFileSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { median, now, result, type Result, type Section } from "./harness.ts";

const RUNS = 3;
const childCpu = fileURLToPath(new URL("child-cpu.ts", import.meta.url));

interface Tool {
  name: string;
  wasm: string;
  args: string[];
  /** Dogma's machine: clang needs more than the default 128 MiB. */
  memory: string;
  /** A file of the work folder given as standard input; the two runs' standard outputs must match. */
  stdin?: string;
}

export function bigTools(): Section {
  const root = fileURLToPath(new URL("..", import.meta.url));
  const require = createRequire(import.meta.url);
  const results: Result[] = [];
  const notes: string[] = [];
  let clangDir: string;
  let yosysDir: string;
  let esbuildDir: string;
  let assemblyscriptDir: string;
  try {
    clangDir = dirname(require.resolve("@yowasp/clang"));
    yosysDir = dirname(require.resolve("@yowasp/yosys"));
    esbuildDir = dirname(require.resolve("@esbuild/wasi-preview1/package.json"));
    assemblyscriptDir = dirname(require.resolve("assemblyscript/package.json"));
  } catch {
    return { title: "Big tools from npm", results, notes: ["@yowasp/clang, @yowasp/yosys or @esbuild/wasi-preview1 is not installed (npm install): skipped"] };
  }
  const work = mkdtempSync(join(tmpdir(), "dogma-big-tools-"));
  // Beside the work folder, not in it: `dogma run` refuses a writable --dir share that holds its module cache.
  const cacheDir = mkdtempSync(join(tmpdir(), "dogma-big-tools-cache-"));
  try {
    mkdirSync(join(work, "sysroot"));
    execFileSync("tar", ["-xf", join(clangDir, "llvm-resources.tar"), "-C", join(work, "sysroot")]);
    copyFileSync(join(root, "bench/c/interp.c"), join(work, "interp.c"));
    copyFileSync(join(assemblyscriptDir, "dist/assemblyscript.js"), join(work, "in.js"));
    writeFileSync(join(work, "mul.v"), "module mul(input [9:0] a, input [9:0] b, output [19:0] x, output [19:0] y);\n  assign x = a * b;\n  assign y = b * a;\nendmodule\n");
    const tools: Tool[] = [
      { name: "clang -O2 -c interp.c (@yowasp/clang, 75 MB)", wasm: join(clangDir, "llvm.core.wasm"), memory: "1G", args: ["clang", "--target=wasm32-wasip1", "--sysroot=sysroot", "-resource-dir=sysroot", "-O2", "-c", "interp.c", "-o", "interp.o"] },
      { name: "yosys SAT proof, 10-bit multiplier (@yowasp/yosys, 31 MB)", wasm: join(yosysDir, "yosys.core.wasm"), memory: "512M", args: ["-q", "-p", "read_verilog mul.v; proc; opt; sat -prove x y"] },
      // Go's runtime for wasip1; its input on standard input (given a path, esbuild's resolver fails under node:wasi too).
      { name: "esbuild --minify of a 756 KB script (@esbuild/wasi-preview1, Go, 20 MB)", wasm: join(esbuildDir, "esbuild.wasm"), memory: "1G", args: ["--minify"], stdin: "in.js" },
    ];
    const outputs = new Map<string, Buffer>();
    const cpuFile = join(work, "cpu");
    /** Runs a child Node: its wall time and CPU time, in ms. */
    const timed = (tool: Tool, side: string, args: string[], env: NodeJS.ProcessEnv = {}): { ms: number; cpu: number } => {
      writeFileSync(cpuFile, "");
      // Files, not pipes: node:wasi writes to a non-blocking pipe and fails once it is full.
      const input = tool.stdin ? openSync(join(work, tool.stdin), "r") : "ignore";
      const output = tool.stdin ? openSync(join(work, "stdout"), "w") : "ignore";
      const start = now();
      try {
        execFileSync(process.execPath, ["--import", childCpu, ...args], { cwd: work, env: { ...process.env, DOGMA_BENCH_CPU_FILE: cpuFile, ...env }, stdio: [input, output, "ignore"] });
      } finally {
        if (typeof input === "number") closeSync(input);
        if (typeof output === "number") closeSync(output);
      }
      const ms = now() - start;
      if (tool.stdin) {
        const out = readFileSync(join(work, "stdout"));
        const seen = outputs.get(tool.name);
        if (out.length === 0) throw new Error(`${tool.name}: no output under ${side}`);
        if (seen && !seen.equals(out)) throw new Error(`MISMATCH: ${tool.name} wrote different output under ${side}`);
        outputs.set(tool.name, out);
      }
      return { ms, cpu: Number(readFileSync(cpuFile, "utf8").trim()) };
    };
    const run = (tool: Tool, side: string, args: string[], env: NodeJS.ProcessEnv = {}): number => timed(tool, side, args, env).ms;
    for (const tool of tools) {
      const dogma = [join(root, "bin/dogma.js"), "run", "--memory", tool.memory, "--dir", ".", tool.wasm, ...tool.args];
      const native = ["--no-warnings", join(root, "test/personality/node-wasi-runner.ts"), tool.wasm, work, ...tool.args];
      const cold = run(tool, "Dogma", dogma, { DOGMA_CACHE_DIR: cacheDir });
      const dogmaMs: number[] = [];
      const nativeMs: number[] = [];
      const dogmaCpu: number[] = [];
      const nativeCpu: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const ours = timed(tool, "Dogma", dogma, { DOGMA_CACHE_DIR: cacheDir });
        const theirs = timed(tool, "node:wasi", native);
        dogmaMs.push(ours.ms);
        dogmaCpu.push(ours.cpu);
        nativeMs.push(theirs.ms);
        nativeCpu.push(theirs.cpu);
      }
      if (tool.name.startsWith("clang")) {
        // The same object file either way: the compiler ran the same under both.
        const ours = readFileSync(join(work, "interp.o"));
        run(tool, "node:wasi", native.map((a) => (a === "interp.o" ? "interp-native.o" : a)));
        if (!ours.equals(readFileSync(join(work, "interp-native.o")))) throw new Error("MISMATCH: clang under Dogma and under node:wasi made different objects");
      }
      results.push(result(`${tool.name}: dogma run, module cached, whole process`, median(dogmaMs), "ms", "node:wasi, whole process", median(nativeMs)));
      results.push(result(`${tool.name}: the same, CPU time of the whole process`, median(dogmaCpu), "ms", "node:wasi, CPU time", median(nativeCpu)));
      notes.push(`${tool.name}: the first run, with an empty module cache (the cold load), took ${(cold / 1000).toFixed(1)} s.`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
    rmSync(cacheDir, { recursive: true, force: true });
  }
  return { title: `Big tools from npm (ms, median of ${RUNS} after a first run that fills the cache)`, results, notes };
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(JSON.stringify(bigTools(), null, 2));
