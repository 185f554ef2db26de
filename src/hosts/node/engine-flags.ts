import { setFlagsFromString } from "node:v8";

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
 *   loader validates its own fresh output in full (Loader, "validateOutput"), so that a loader
 *   bug is still a LoadError at load time.
 */
const FLAGS = ["--wasm-lazy-validation"];

let applied = false;

/** Sets FLAGS once per process; later calls do nothing. Must run before the first compile. */
export function applyEngineFlags(): void {
  if (applied) return;
  applied = true;
  for (const flag of FLAGS) setFlagsFromString(flag);
}
