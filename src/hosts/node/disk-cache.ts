import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import type { ModuleCache } from "../../loader/cache.ts";

/** `$XDG_CACHE_HOME/dogma/modules`, else `~/.cache/dogma/modules`; DOGMA_CACHE_DIR overrides both. */
export function defaultCacheDir(): string {
  if (process.env.DOGMA_CACHE_DIR) return process.env.DOGMA_CACHE_DIR;
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "dogma", "modules");
}

/** Rewritten modules as files named by key. Writes go to a temporary name first, so a reader never sees half a record. */
export class DiskModuleCache implements ModuleCache {
  private readonly dir: string;
  constructor(dir: string = defaultCacheDir()) {
    this.dir = dir;
  }

  async get(key: string): Promise<Uint8Array | null> {
    try {
      return new Uint8Array(await readFile(join(this.dir, `${key}.dgm`)));
    } catch {
      return null;
    }
  }

  async put(key: string, record: Uint8Array): Promise<void> {
    try {
      await mkdir(this.dir, { recursive: true });
      const temporary = join(this.dir, `${key}.${process.pid}.tmp`);
      await writeFile(temporary, record);
      await rename(temporary, join(this.dir, `${key}.dgm`));
    } catch {
      // A cache that cannot be written only costs the next start a rewrite.
    }
  }
}
