import { setFlagsFromString } from "node:v8";
import { isMainThread } from "node:worker_threads";
import { setRefusalExplainer } from "../../loader/validate.ts";

/**
 * V8 flags the Node host runs with, set before the first WebAssembly compile of the process (every
 * entry point calls `applyEngineFlags` first: the CLI, the test setup, the benchmarks). Why each
 * (docs/LOADER.md "How V8 compiles the output"):
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

export async function validatingEagerly<T>(compile: () => Promise<T>): Promise<T> {
  if (!lazyValidation) return compile(); // V8's default (eager), or another thread's flags to keep
  if (eagerCompiles++ === 0) setFlagsFromString("--no-wasm-lazy-validation");
  try {
    return await compile();
  } finally {
    if (--eagerCompiles === 0) setFlagsFromString("--wasm-lazy-validation");
  }
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
