import { readlink, realpath } from "node:fs/promises";
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

/** Links followed at most while resolving a path (as Linux's 40): more is left as it is. */
const MAX_HOPS = 40;

/**
 * `path` with every link resolved: of its longest part that exists, the rest (not made yet)
 * appended as it is. A link whose target does not exist yet (dangling) is followed too: its
 * target is where the rest will be made (a ~/.cache linked to a folder not made yet in a share
 * would otherwise be judged where it stands, and the program could make the folder and the cache in it).
 */
async function physical(path: string): Promise<string> {
  let head = resolve(path);
  let rest: string[] = [];
  for (let hops = 0; ; ) {
    try {
      return join(await realpath(head), ...rest);
    } catch {
      const target = hops < MAX_HOPS ? await linkTarget(head) : null;
      if (target !== null) {
        hops++;
        head = resolve(dirname(head), target);
        continue;
      }
      const up = dirname(head);
      if (up === head) return join(head, ...rest);
      rest = [basename(head), ...rest];
      head = up;
    }
  }
}

/** What the link `path` holds, or null when it is not a link. */
async function linkTarget(path: string): Promise<string | null> {
  try {
    return await readlink(path);
  } catch {
    return null;
  }
}
