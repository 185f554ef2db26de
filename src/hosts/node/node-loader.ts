import { createHash } from "node:crypto";
import type { ImportModuleSpec } from "../../kernel/personality.ts";
import { Loader } from "../../loader/loader.ts";
import { DiskModuleCache } from "./disk-cache.ts";
import { applyEngineFlags } from "./engine-flags.ts";
import { loaderIdentity } from "./loader-identity.ts";
import { NodeLoaderWorkers } from "./loader-workers.ts";
import { MAX_PROGRAM_BYTES } from "./program-limits.ts";

/**
 * The loader as `dogma run` and `dogma boot` use it: V8's flags for it set (engine-flags.ts), the
 * module cache on disk unless `cache` is false, worker threads for big binaries, node:crypto's
 * SHA-256.
 */
export function nodeLoader(importModules: readonly ImportModuleSpec<unknown>[], options: { cache: boolean }): Loader {
  applyEngineFlags();
  return new Loader({
    importModules,
    maxBinaryBytes: MAX_PROGRAM_BYTES,
    cache: options.cache ? new DiskModuleCache() : null,
    codeIdentity: loaderIdentity(),
    workers: new NodeLoaderWorkers(),
    sha256: nodeSha256,
  });
}

/** Bytes hashed per turn of the event loop: a millisecond or two of the machine's thread. */
const HASH_SLICE_BYTES = 1 << 20;

/**
 * SHA-256 with node:crypto, which reads the bytes in place; a big binary's in slices with a turn of
 * the event loop between them, so that the machine keeps running meanwhile. (WebCrypto's, on
 * libuv's thread pool, first copies the bytes: 31 MB for yosys, a copy whose release made the C
 * allocator keep the next copies of up to that size in its arenas for good: 33 MB held after a
 * cold load of yosys, bench/cold-load-memory.ts.)
 */
export async function nodeSha256(bytes: Uint8Array): Promise<string> {
  const hash = createHash("sha256");
  for (let at = 0; ; at += HASH_SLICE_BYTES) {
    hash.update(bytes.subarray(at, at + HASH_SLICE_BYTES));
    if (at + HASH_SLICE_BYTES >= bytes.length) return hash.digest("hex");
    await new Promise((resolve) => setImmediate(resolve));
  }
}
