import { realpath } from "node:fs/promises";
import { basename, dirname, join, relative, resolve, isAbsolute } from "node:path";
import type { FolderSpec } from "./run-folders.ts";

/**
 * The first folder of `dirs` that the program may write and that holds the module cache `cacheDir`
 * (or would, once it is made), or null. Such a share lets the sealed program write records and
 * digests (disk-cache.ts, file-digests.ts): a record is run in place of a program, unchecked, past
 * the software MMU, by the next `dogma run` of that program (its own binary, run again, among
 * them), and the owner checks pass for files the user's own process made. (redteam11)
 */
export async function shareHoldingCache(dirs: readonly FolderSpec[], cacheDir: string): Promise<FolderSpec | null> {
  const cache = await physical(cacheDir);
  for (const dir of dirs) {
    if (dir.readOnly) continue;
    const share = await physical(dir.host);
    const path = relative(share, cache);
    if (path === "" || (!path.startsWith("..") && !isAbsolute(path))) return dir;
  }
  return null;
}

/** `path` with every link resolved: of its longest part that exists, the rest (not made yet) appended as it is. */
async function physical(path: string): Promise<string> {
  let head = resolve(path);
  const rest: string[] = [];
  for (;;) {
    try {
      return join(await realpath(head), ...rest);
    } catch {
      const up = dirname(head);
      if (up === head) return resolve(path);
      rest.unshift(basename(head));
      head = up;
    }
  }
}
