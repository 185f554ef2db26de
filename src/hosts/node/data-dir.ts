import { homedir } from "node:os";
import { join } from "node:path";

/**
 * Where `dogma boot` keeps its default disk image: `$DOGMA_DATA_DIR`, else
 * `$XDG_DATA_HOME/dogma`, else `~/.local/share/dogma`.
 */
export function dataDir(): string {
  if (process.env.DOGMA_DATA_DIR) return process.env.DOGMA_DATA_DIR;
  return join(process.env.XDG_DATA_HOME ?? join(homedir(), ".local", "share"), "dogma");
}

export function defaultDisk(): string {
  return join(dataDir(), "disk.img");
}
