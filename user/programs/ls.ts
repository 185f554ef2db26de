// ls [-l] [PATH...]: the names in each directory (a directory shows with a trailing /), or the
// file itself; -l adds the kind (d, -, or l for a symbolic link, shown with its target), the size
// and when it was modified (UTC). A name with control characters is shown quoted ($'\e...'), never
// raw (tool-parts/visible.ts).
import { args, print, exit } from "../lib";
import {
  FsClient, FS_RIGHT_READ, FS_KIND_DIR, FS_KIND_SYMLINK, FS_OPEN_NOFOLLOW, direntName, direntNameLength, direntNext,
  direntKind,
} from "../lib/fs-client";
import { base, within, client, complain, workingDirectory } from "./tool-parts/files";
import { visible, visibleBytes } from "./tool-parts/visible";

const argv = args();
let long = false;
const paths = new Array<string>();
for (let i = 1; i < argv.length; i++) {
  if (argv[i] == "-l") long = true;
  else paths.push(argv[i]);
}
if (paths.length == 0) paths.push(".");
workingDirectory("ls");
const fs = client();
let failed = false;

function two(n: i64): string {
  return n < 10 ? "0" + n.toString() : n.toString();
}

/** `ns` since 1970 as YYYY-MM-DD HH:MM (UTC), by the civil-from-days algorithm. */
function when(ns: i64): string {
  const seconds = ns / 1_000_000_000;
  const days = seconds / 86400;
  const rest = seconds % 86400;
  const z = days + 719468;
  const era = z / 146097;
  const doe = z - era * 146097;
  const yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const mp = (5 * doy + 2) / 153;
  const d = doy - (153 * mp + 2) / 5 + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  return y.toString() + "-" + two(m) + "-" + two(d) + " " + two(rest / 3600) + ":" + two((rest % 3600) / 60);
}

function describe(name: string, handle: i32, fs: FsClient): string {
  const shown = visible(name);
  if (!long) return shown;
  if (fs.stat(handle) < 0) return "?  " + shown;
  const kind = fs.kind == FS_KIND_DIR ? "d" : fs.kind == FS_KIND_SYMLINK ? "l" : "-";
  const size = fs.size;
  const modified = fs.modified;
  let line = kind + " " + size.toString().padStart(10) + "  " + when(modified) + "  " + shown + (fs.kind == FS_KIND_DIR && name != "." && !name.endsWith("/") && listing ? "/" : "");
  if (fs.kind == FS_KIND_SYMLINK) {
    const n = fs.read(handle, 0, fs.bufferBytes);
    if (n >= 0) line += " -> " + visibleBytes(fs.address, <u32>n);
  }
  return line;
}

/** Whether describe() is naming entries of a listing (a directory then shows with a trailing /). */
let listing = false;

function list(dir: i32, path: string): void {
  const names = new Array<string>();
  const dirs = new Set<string>();
  let cookie: u32 = 0;
  for (;;) {
    const n = fs.readdir(dir, cookie);
    if (n < 0) {
      complain("ls", visible(path), n);
      failed = true;
      return;
    }
    if (n == 0) break;
    let at = fs.address;
    for (let i = 0; i < n; i++) {
      const name = String.UTF8.decodeUnsafe(direntName(at), direntNameLength(at));
      names.push(name);
      if (direntKind(at) == FS_KIND_DIR) dirs.add(name);
      at = direntNext(at);
    }
    cookie = fs.cookie;
  }
  names.sort();
  listing = true;
  for (let i = 0; i < names.length; i++) {
    const name = names[i];
    if (!long) {
      print(visible(name) + (dirs.has(name) ? "/" : ""));
      continue;
    }
    // The entry itself: a symbolic link is described, not followed.
    const handle = fs.open(dir, name, FS_RIGHT_READ | FS_OPEN_NOFOLLOW);
    print(handle < 0 ? "?  " + visible(name) : describe(name, handle, fs));
    if (handle > 0) fs.close(handle);
  }
  listing = false;
}

for (let i = 0; i < paths.length; i++) {
  const handle = fs.open(base(paths[i]), within(paths[i]), FS_RIGHT_READ);
  if (handle < 0) {
    complain("ls", visible(paths[i]), handle);
    failed = true;
    continue;
  }
  if (paths.length > 1) print(visible(paths[i]) + ":");
  if (fs.kind == FS_KIND_DIR) list(handle, paths[i]);
  else print(describe(paths[i], handle, fs));
  fs.close(handle);
}
exit(failed ? 1 : 0);
