import type { ImportModuleSpec } from "../../kernel/personality.ts";
import { Loader } from "../../loader/loader.ts";
import { DiskModuleCache } from "./disk-cache.ts";
import { applyEngineFlags, compileValidating } from "./engine-flags.ts";
import { loaderIdentity } from "./loader-identity.ts";
import { NodeLoaderWorkers } from "./loader-workers.ts";
import { MAX_PROGRAM_BYTES } from "./program-limits.ts";
import { SMALL_HASH_BYTES, sha256Small } from "./small-hashes.js";

/**
 * The loader as `dogma run` and `dogma boot` use it: V8's flags for it set (engine-flags.ts), the
 * module cache on disk unless `cache` is false, worker threads for big binaries, node:crypto's
 * SHA-256, the fresh output validated by its compile off the machine's thread.
 */
export function nodeLoader(importModules: readonly ImportModuleSpec<unknown>[], options: { cache: boolean }): Loader {
  applyEngineFlags();
  return new Loader({
    importModules,
    maxBinaryBytes: MAX_PROGRAM_BYTES,
    cache: options.cache ? new DiskModuleCache() : null,
    codeIdentity: loaderIdentity(),
    workers: nodeLoaderWorkers(),
    sha256: nodeSha256,
    compileValidating: compileValidating(),
  });
}

/**
 * The least code a binary has for the Node host to rewrite it on worker threads. Below, the
 * machine's thread does the whole load in slices sooner and for less CPU: each load's workers
 * start afresh (Node and the loader in a new isolate, then V8 optimizing the rewriter in each), a
 * cost of about 0.4 s on the bench's idle machine (bench/RESULTS.md at cdaff18: the 2.1 MB module
 * 185 ms on this thread, 540 on workers; the 25 MB one 2.1 s against 1.8). Whole cold loads in
 * fresh processes, CPU then wall, medians on the shared 2-core machine at load 10-16, this thread
 * against workers: 2.0 MB 0.39 against 1.6 s CPU, 2.9 MB 0.6 against 2.2, 6 MB 1.6 against 2.7;
 * with the machine that busy workers lost even at 25 MB (CPU 4.6-5.8 against 6.2-7.1 s), since
 * the rewrite on two workers takes 1.5-2 times the CPU of one thread's.
 */
export const NODE_WORKERS_MIN_CODE = 8 << 20;

/** The Node host's loader workers (those `nodeLoader` gives its loader). */
export function nodeLoaderWorkers(): NodeLoaderWorkers {
  return new NodeLoaderWorkers(undefined, undefined, NODE_WORKERS_MIN_CODE);
}

/** Bytes hashed per turn of the event loop: a millisecond or two of the machine's thread. */
const HASH_SLICE_BYTES = 1 << 20;

/**
 * SHA-256: of at most SMALL_HASH_BYTES by small-hashes.ts, else with node:crypto, which reads the
 * bytes in place; a big binary's in slices with a turn of the event loop between them, so that the
 * machine keeps running meanwhile. (WebCrypto's, on
 * libuv's thread pool, first copies the bytes: 31 MB for yosys, a copy whose release made the C
 * allocator keep the next copies of up to that size in its arenas for good: 33 MB held after a
 * cold load of yosys, bench/cold-load-memory.ts.)
 */
export async function nodeSha256(bytes: Uint8Array): Promise<string> {
  // The module cache's key (6.4 KB) at every start: node:crypto is not loaded for it (small-hashes.ts).
  if (bytes.length <= SMALL_HASH_BYTES) return sha256Small(bytes);
  const hash = process.getBuiltinModule("node:crypto").createHash("sha256");
  for (let at = 0; ; at += HASH_SLICE_BYTES) {
    hash.update(bytes.subarray(at, at + HASH_SLICE_BYTES));
    if (at + HASH_SLICE_BYTES >= bytes.length) return hash.digest("hex");
    await new Promise((resolve) => setImmediate(resolve));
  }
}
