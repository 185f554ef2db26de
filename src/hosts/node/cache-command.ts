import { DiskModuleCache } from "./disk-cache.ts";

export const CACHE_USAGE = `usage: dogma cache [clear]

Shows the module cache (rewritten binaries kept between runs: where, how many, how big, its bound),
or empties it. The bound is 1 GiB unless DOGMA_CACHE_MAX says otherwise (e.g. 256M); the records used
longest ago go first. DOGMA_CACHE_DIR moves the cache.
`;

function size(bytes: number): string {
  if (bytes >= 1 << 30) return `${(bytes / (1 << 30)).toFixed(2)} GiB`;
  if (bytes >= 1 << 20) return `${(bytes / (1 << 20)).toFixed(1)} MiB`;
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

/** `dogma cache` and `dogma cache clear`; returns the exit code. */
export async function cacheCommand(args: readonly string[], out: (text: string) => void, cache = new DiskModuleCache()): Promise<number> {
  if (args[0] === "clear" && args.length === 1) {
    const removed = await cache.clear();
    out(`removed ${removed} record${removed === 1 ? "" : "s"} from ${cache.dir}\n`);
    return 0;
  }
  if (args.length > 0) {
    out(CACHE_USAGE);
    return args[0] === "--help" ? 0 : 2;
  }
  const entries = await cache.entries();
  const total = entries.reduce((n, e) => n + e.bytes, 0);
  out(`${cache.dir}: ${entries.length} record${entries.length === 1 ? "" : "s"}, ${size(total)} of at most ${size(cache.limit)}\n`);
  return 0;
}
