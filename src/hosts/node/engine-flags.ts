import { setFlagsFromString } from "node:v8";
import { isMainThread } from "node:worker_threads";
import { setRefusalExplainer } from "../../loader/validate.ts";

/**
 * V8 flags the Node host runs with, set before the first WebAssembly compile of a program (every
 * entry point calls `applyEngineFlags` first: the CLI through nodeLoader, the test setup, the
 * benchmarks). Not sooner than that: V8's flags are part of the key of every code cache, so each
 * of Node's own modules loaded after a flag changes is compiled from its source instead of from
 * the code cache Node ships (100 million instructions more for node:crypto, zlib, perf_hooks and
 * four others, against 156 million for the whole process before; callgrind), and `dogma run`
 * loads perf_hooks as it builds the machine. Why each flag (docs/LOADER.md "How V8 compiles the
 * output"):
 *
 * - `--wasm-lazy-validation`: V8 validates a function body when it first compiles it (at its
 *   first call; V8 compiles lazily by default) instead of every body of the module at compile
 *   time. A cache hit of yosys (31 MB, 61 MB rewritten) then compiles in about 85 ms of CPU
 *   instead of 250-310; a process calls a small part of a big program's functions. Nothing
 *   unvalidated ever runs, and a malformed body fails its first call with a CompileError. The
 *   loader has its own fresh output validated in full, so that a loader bug is still a LoadError
 *   at load time: a big one by its compile on a loader worker with the flag off meanwhile
 *   (validatingEagerly), a small one by WebAssembly.validate (Loader). What V8 then cannot give is its message for a binary
 *   whose bodies are wrong (`new WebAssembly.Module` accepts it): `explainRefusal` asks a Node
 *   without the flag, in a child process (about 50 ms, on that refusal's path only, one child at
 *   a time, the machine running meanwhile).
 * - `--wasm-tiering-budget=100000000` (V8's default 13,000,000): a function leaves Liftoff for
 *   TurboFan once it has run about that many bytes of its code. The rewritten code is 2-5× the
 *   original's bytes, so it spent the budget after a half to a fifth of the original's work, and
 *   TurboFan's time grows faster than a function's size: a short run of a big program spent
 *   much of its time optimizing functions it would leave soon. CPU seconds of whole `dogma run`s
 *   on a shared 2-core machine, 3-5 runs each, default → 100M (node:wasi beside): clang -O2 -c
 *   of a 4 KB C file 3.87 → 2.83 (1.77), yosys's SAT proof 1.04 → 0.74 (0.44); 40M gave
 *   3.49 and 0.91, 200M the same as 100M. The C programs of bench/c and flite, which run a
 *   second or less in a few hot functions, and the bench-* kernels did not move (within 5%).
 */
const FLAGS = ["--wasm-lazy-validation", "--wasm-tiering-budget=100000000"];

/**
 * A program whose code section is this big or bigger runs with a tiering budget of
 * BIG_PROGRAM_TIERING_BUDGET (`tuneEngineFor`). Its run time is spread over many functions that
 * each get hot for a while (a compiler's passes, a Go program's runtime and packages), and
 * TurboFan compiling them on V8's threads cost more than their optimized code saved: esbuild
 * (Go, 13.8 MB of code) spent 2.3 s of its 4.6 s of CPU in TurboFan at 100M (node:wasi 1.5 of
 * 2.5: the rewritten code is bigger and its accesses calls, so TurboFan takes about 1.5× as long
 * on each function), and its rewritten code ran in TurboFan or Liftoff about the same. CPU of
 * whole `dogma run`s, module cached, rounds alternating on the shared 2-core machine (issue 20,
 * gocost2), 100M → 300M / 600M / 1G: esbuild --minify 4.59 → 4.19 / 4.11 / 3.94 s (median of
 * four; node:wasi 2.47), clang -O2 -c 2.47 → 2.21 / - / 2.20 (three; 1.93-2.21), yosys's SAT
 * proof 0.67 → 0.66 / - / 0.63 (three; 0.46); 2G the same as 1G for clang. The C programs of
 * bench/c and flite, whose few hot functions run long (a loop outlined to tier up: docs/LOADER.md),
 * keep 100M: their code is far below the line (0.02 and 0.2 MB).
 */
export const BIG_PROGRAM_CODE_BYTES = 4 << 20;
const BIG_PROGRAM_TIERING_BUDGET = 1_000_000_000;

let applied = false;
/** Whether this thread set FLAGS (the main thread, once): only then is validation lazy to switch off. */
let lazyValidation = false;
/** Compiles under way that need every body validated (validatingEagerly). */
let eagerCompiles = 0;

/**
 * Sets FLAGS (before the first compile; from the main thread only, since they are the process's)
 * and tells this thread's loader how to explain a refusal; a worker thread that loads calls it
 * too. Later calls do nothing.
 */
export function applyEngineFlags(): void {
  if (applied) return;
  applied = true;
  if (isMainThread) for (const flag of FLAGS) setFlagsFromString(flag);
  lazyValidation = isMainThread;
  setRefusalExplainer(explainRefusal);
}

/**
 * Whether a compile under validatingEagerly is running: the process's flags are not the ones it
 * starts with, and V8's flags are part of the key of Node's compile cache (a hash of them in each
 * code cache): a module a thread compiles after `--no-wasm-lazy-validation` is set has its cache
 * rejected, and cached again under those flags, for the next start to reject (seen on the main
 * thread; the loader workers' modules were accepted either way in the cold loads traced). So a
 * loader worker pool starts no worker meanwhile (loader-workers.ts), as a precaution.
 */
export function eagerValidationOpen(): boolean {
  return eagerCompiles > 0;
}

/**
 * Runs `compile` with the engine validating every body of the modules compiled meanwhile (the
 * process's flag set back to lazy once no such compile is left): the loader's fresh output,
 * compiled on a loader worker (loader-workers.ts `compileValidated`), is then validated by its
 * compile, where it took `WebAssembly.validate` first (a decode, a copy and a pass over every
 * body of its own) and a lazy compile after. The flag is the process's: a module another thread
 * compiles meanwhile (a cached one) is validated in full too, which costs that compile time and
 * nothing else. `compile` must not settle before the engine has validated (a synchronous compile
 * in the worker). V8 reads the flag at each compile (test/loader/loader-bug.test.ts); flags are
 * changed after start up elsewhere too (loader-workers.ts withoutConcurrentJit).
 */
export async function validatingEagerly<T>(compile: () => Promise<T>): Promise<T> {
  if (!lazyValidation) return compile(); // V8's default (eager), or another thread's flags to keep
  if (eagerCompiles++ === 0) setFlagsFromString("--no-wasm-lazy-validation");
  try {
    return await compile();
  } finally {
    if (--eagerCompiles === 0) setFlagsFromString("--wasm-lazy-validation");
  }
}

/**
 * `WebAssembly.compile` of `bytes` with every function body validated by it (Loader's
 * `compileValidating`): V8 validates them in its background decode, off the calling thread, and
 * rejects with its message (the function and the offset) when one is invalid. On this thread only
 * when it set FLAGS (the main thread): a worker's loader would compile lazily under the main
 * thread's flags, unvalidated, so it gets null and the loader validates first.
 */
export function compileValidating(): ((bytes: Uint8Array) => Promise<WebAssembly.Module>) | null {
  if (!lazyValidation) return null;
  return (bytes) => validatingEagerly(() => WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>));
}

/** Compiles `bytes` read from stdin, printing the engine's message when it refuses them. */
const EXPLAIN = `const chunks = []; for await (const c of process.stdin) chunks.push(c);
try { new WebAssembly.Module(Buffer.concat(chunks)); } catch (e) { process.stdout.write(String(e.message)); }`;

/** Explanations asked for, one child at a time: refusals in a burst (a hostile program's) queue up. */
let explaining: Promise<unknown> = Promise.resolve();

/**
 * The message of a Node that validates eagerly, for a binary WebAssembly.validate refused; null
 * when none comes. Asynchronous, so that the machine keeps running meanwhile.
 */
export function explainRefusal(bytes: Uint8Array): Promise<string | null> {
  const answer = explaining.then(() => explainInChild(bytes));
  explaining = answer;
  return answer;
}

/** node:child_process is loaded on this path only: every start of `dogma run` would pay for it (and dgram, net). */
async function explainInChild(bytes: Uint8Array): Promise<string | null> {
  const { execFile } = await import("node:child_process");
  return new Promise((resolve) => {
    const child = execFile(process.execPath, ["--input-type=module", "-e", EXPLAIN], { encoding: "utf8", timeout: 60_000, maxBuffer: 1 << 20 }, (error, stdout) => {
      resolve(error === null && stdout !== "" ? stdout : null);
    });
    child.stdin?.on("error", () => {}); // a child that died early
    child.stdin?.end(bytes);
  });
}

/** V8's own tiering budget (its default: `node --v8-options`), for restoreEngineFlags. */
const V8_DEFAULT_TIERING_BUDGET = 13_000_000;

/**
 * Sets V8's flags back as the process started with them (this thread's FLAGS and tuneEngineFor's
 * budget), for a code cache made at the end of a run (cli-bundle.js runBundle): V8 keeps a hash of
 * its flags in each cache and refuses one made under other flags, and the next start compiles the
 * bundle before any flag is set. Nothing may compile WebAssembly after.
 */
export function restoreEngineFlags(): void {
  if (!lazyValidation) return;
  setFlagsFromString("--no-wasm-lazy-validation");
  setFlagsFromString(`--wasm-tiering-budget=${V8_DEFAULT_TIERING_BUDGET}`);
}

/**
 * Sets the engine for a process that runs mostly one program whose code section is `codeBytes`
 * long (`dogma run`), before that program is compiled. V8 reads the tiering budget when it makes
 * a compiled module and each time a function's budget runs out, so what the process compiled
 * before keeps going as it was.
 */
export function tuneEngineFor(codeBytes: number): void {
  const budget = tieringBudgetFor(codeBytes);
  if (isMainThread && budget !== null) setFlagsFromString(`--wasm-tiering-budget=${budget}`);
}

/** The tiering budget for a program of `codeBytes` of code, or null to keep FLAGS' own. */
export function tieringBudgetFor(codeBytes: number): number | null {
  return codeBytes >= BIG_PROGRAM_CODE_BYTES ? BIG_PROGRAM_TIERING_BUDGET : null;
}
