import type { ModuleCache } from "../../../loader/cache.ts";

const CACHE = "dogma-modules-v1";

/**
 * Rewritten modules in the browser's Cache Storage, by key, as ~/.cache/dogma/modules holds them on
 * Node (the same records). The browser may evict them at any time; a miss only costs a rewrite.
 */
export class CacheStorageModuleCache implements ModuleCache {
  private readonly opened: Promise<Cache> | null;

  constructor() {
    // Cache Storage exists only in secure contexts (https, or localhost).
    this.opened = typeof caches === "undefined" ? null : caches.open(CACHE);
  }

  get available(): boolean {
    return this.opened !== null;
  }

  async get(key: string): Promise<Uint8Array | null> {
    try {
      const found = await (await this.opened)?.match(urlOf(key));
      return found ? new Uint8Array(await found.arrayBuffer()) : null;
    } catch {
      return null;
    }
  }

  async put(key: string, record: Uint8Array): Promise<void> {
    try {
      await (await this.opened)?.put(urlOf(key), new Response(record as Uint8Array<ArrayBuffer>, { headers: { "Content-Type": "application/octet-stream" } }));
    } catch {
      // A cache that cannot be written (quota) only costs the next boot a rewrite.
    }
  }
}

function urlOf(key: string): string {
  return new URL(`/__dogma/modules/${key}.dgm`, self.location.href).href;
}
