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

/** Above this many bytes, a hash is taken off the machine's thread. */
const HASH_ON_THREAD_BYTES = 1 << 20;

/**
 * SHA-256 with node:crypto, which reads the bytes in place, on this thread; a big binary's with
 * WebCrypto, which copies the bytes (a few ms for 25 MB) and hashes them on libuv's thread pool
 * (about 60 ms for 25 MB), so that the machine keeps running meanwhile.
 */
export async function nodeSha256(bytes: Uint8Array): Promise<string> {
  if (bytes.length <= HASH_ON_THREAD_BYTES) return createHash("sha256").update(bytes).digest("hex");
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return Buffer.from(digest).toString("hex");
}
