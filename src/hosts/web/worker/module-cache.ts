import type { ModuleCache } from "../../../loader/cache.ts";
import { checked, withCheck } from "./record-check.ts";

// v2: records carry a check (./record-check.ts); v1's had none, and are left behind.
const CACHE = "dogma-modules-v2";

/**
 * Rewritten modules in the browser's Cache Storage, by key, as ~/.cache/dogma/modules holds them on
 * Node (the same records, each with a check after it). The browser may evict them at any time; a
 * miss only costs a rewrite, and a record whose check fails is a miss.
 */
export class CacheStorageModuleCache implements ModuleCache {
  private readonly opened: Promise<Cache> | null;

  constructor() {
    // Cache Storage exists only in secure contexts (https, or localhost).
    this.opened = typeof caches === "undefined" ? null : caches.open(CACHE);
    if (this.opened) void caches.delete("dogma-modules-v1").catch(() => false);
  }

  get available(): boolean {
    return this.opened !== null;
  }

  async get(key: string): Promise<Uint8Array | null> {
    try {
      const found = await (await this.opened)?.match(urlOf(key));
      return found ? await checked(key, new Uint8Array(await found.arrayBuffer())) : null;
    } catch {
      return null;
    }
  }

  async put(key: string, record: Uint8Array): Promise<void> {
    try {
      const cache = await this.opened;
      if (!cache) return;
      await cache.put(urlOf(key), new Response((await withCheck(key, record)) as Uint8Array<ArrayBuffer>, { headers: { "Content-Type": "application/octet-stream" } }));
    } catch {
      // A cache that cannot be written (quota) only costs the next boot a rewrite.
    }
  }
}

function urlOf(key: string): string {
  return new URL(`/__dogma/modules/${key}.dgm`, self.location.href).href;
}
