import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * The C programs of user/wasi/conformance and user/wasi/c and the C++ ones of user/wasi/cxx, built
 * from source with Debian's clang, lld, wasi-libc and WASI libc++ (installed by .ci/run) the first time a test needs them and again
 * when a source is newer; kept in build/wasi-conformance.
 */
const root = join(import.meta.dirname, "../..");
const SOURCES = join(root, "user/wasi/conformance");
const OUT = join(root, "build/wasi-conformance");
/**
 * Link flags: none. The suite runs what `clang --target=wasm32-wasi -O2` makes by default, its
 * data at 1024 in page 0 (docs/MEMORY.md "Page 0").
 */
export const LINK_FLAGS: readonly string[] = [];
const HEADERS = ["check.h", "raw.h"].map((h) => join(SOURCES, h));

/** The path of conformance program `name` (user/wasi/conformance/NAME.c), built if it must be. */
export function conformanceProgram(name: string): string {
  return built(join(SOURCES, `${name}.c`), name, HEADERS);
}

/** The path of C program `name` of user/wasi/c (NAME.c), built if it must be. */
export function cProgram(name: string): string {
  return built(join(root, "user/wasi/c", `${name}.c`), name, []);
}

/**
 * The path of C++ program `name` of user/wasi/cxx (NAME.cpp), built with clang++ and Debian's WASI
 * libc++ if it must be. `-fno-exceptions`: that libc++abi is built without exception support (a
 * `throw` links to nothing: `__cxa_throw` is undefined), as every WASI toolchain of clang 14 is.
 */
export function cxxProgram(name: string): string {
  return built(join(root, "user/wasi/cxx", `${name}.cpp`), name, [], ["clang++", "-std=c++17", "-fno-exceptions"]);
}

function built(source: string, name: string, headers: readonly string[], compiler: readonly string[] = ["clang"]): string {
  const out = join(OUT, `${name}.wasm`);
  const newest = Math.max(...[source, ...headers].map((f) => statSync(f).mtimeMs));
  if (existsSync(out) && statSync(out).mtimeMs > newest) return out;
  mkdirSync(OUT, { recursive: true });
  // Built beside it and renamed into place: test files running at once build the same program,
  // and one of them read another's half-written binary (refused: "not a WebAssembly binary").
  const partial = `${out}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  try {
    execFileSync(compiler[0]!, [...compiler.slice(1), "--target=wasm32-wasi", "-O2", ...LINK_FLAGS, source, "-o", partial], { stdio: ["ignore", "ignore", "pipe"] });
    renameSync(partial, out);
  } catch (error) {
    rmSync(partial, { force: true });
    const why = (error as { stderr?: Buffer }).stderr?.toString() ?? (error as Error).message;
    throw new Error(`cannot build ${source} (needs clang, lld, wasi-libc and libclang-rt-14-dev-wasm32, for C++ libc++-14-dev-wasm32 and libc++abi-14-dev-wasm32; see .ci/run):\n${why}`);
  }
  return out;
}

/** A fresh scratch folder on the host. */
export function scratchFolder(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `dogma-${prefix}-`));
}

/** What a conformance program printed: its failed and skipped checks by name, and its summary. */
export interface Verdict {
  readonly code: number | null;
  readonly failed: string[];
  readonly skipped: string[];
  readonly checks: number;
  readonly summary: string | null;
  readonly output: string;
}

export function verdictOf(name: string, output: string, code: number | null): Verdict {
  const lines = output.split("\n");
  const summary = lines.find((l) => l.startsWith(`${name}: `) && l.includes(" checks, ")) ?? null;
  return {
    code,
    failed: lines.filter((l) => l.startsWith("FAIL ")).map((l) => l.slice(5).split("\t")[0]!),
    skipped: lines.filter((l) => l.startsWith("skip ")).map((l) => l.slice(5).split("\t")[0]!),
    checks: summary ? Number(/: (\d+) checks/.exec(summary)![1]) : 0,
    summary,
    output,
  };
}

/** Rewritten modules, cached across runs (keyed by their content's hash, so never stale). */
const cacheDir = join(OUT, "module-cache");

export interface Ran {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to its end (or kills it after 60 s), without blocking the event loop, so tests can run side by side. */
function ran(command: string, args: readonly string[], env: NodeJS.ProcessEnv, cwd?: string): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** `dogma run ARGS` as a person would type it, with the Node that runs the tests (26). */
export function dogmaRun(args: readonly string[], env: Record<string, string> = {}): Promise<Ran> {
  return ran(process.execPath, [join(root, "bin/dogma.js"), "run", ...args], { ...process.env, DOGMA_CACHE_DIR: cacheDir, ...env }, root);
}

/** Runs `wasm` under Node's own WASI (node:wasi) with `dir` as its only preopen ".", in a child process. */
export function nodeWasiRun(wasm: string, dir: string, args: readonly string[], env: Record<string, string>): Promise<Ran> {
  return ran(process.execPath, ["--no-warnings", join(import.meta.dirname, "node-wasi-runner.ts"), wasm, dir, ...args], { ...process.env, WASI_ENV: JSON.stringify(env) });
}
