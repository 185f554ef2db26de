// Walking a directory tree for find, du, rm -r and cp -r: the entries of a directory (names and
// kinds, as READDIR gives them, in its order), and joining paths.
import { FsClient, FS_RIGHT_READ, FS_OPEN_DIRECTORY, direntName, direntNameLength, direntNext, direntKind } from "../../lib/fs-client";
import { base, within } from "./files";

export class Entry {
  constructor(
    readonly name: string,
    readonly kind: u32,
  ) {}
}

/** The entries of the directory at `path` (without . and ..), or null with the status in `lastStatus`. */
export function entries(fs: FsClient, path: string): Entry[] | null {
  const h = fs.open(base(path), within(path), FS_RIGHT_READ | FS_OPEN_DIRECTORY);
  if (h < 0) {
    lastStatus = h;
    return null;
  }
  const out = new Array<Entry>();
  let cookie: u32 = 0;
  for (;;) {
    const n = fs.readdir(h, cookie);
    if (n < 0) {
      lastStatus = n;
      fs.close(h);
      return null;
    }
    if (n == 0) break;
    let at = fs.address;
    for (let i = 0; i < n; i++) {
      out.push(new Entry(String.UTF8.decodeUnsafe(direntName(at), direntNameLength(at)), direntKind(at)));
      at = direntNext(at);
    }
    cookie = fs.cookie;
  }
  fs.close(h);
  return out;
}

export let lastStatus: i32 = 0;

/** `dir` and `name` joined with one /. */
export function join(dir: string, name: string): string {
  return dir.endsWith("/") ? dir + name : dir + "/" + name;
}
