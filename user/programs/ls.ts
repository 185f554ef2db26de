// ls [-1aAdFlpRrSt] [PATH...]: the names in each directory (. when none), one per line, in byte
// order as LC_ALL=C ls does, names starting with "." only with -a or -A; a file named is listed
// itself; several operands: the files first, then each directory under a "NAME:" header. -l adds
// the kind (d, -, or l for a symbolic link, shown with its target), the size and when it was
// modified (UTC) — Dogma has no owners nor permission bits. A name with control characters is
// shown quoted ($'\e...'), never raw (tool-parts/visible.ts).
import { args } from "../lib";
import { Options } from "../lib/options";
import {
  FS_RIGHT_READ, FS_KIND_DIR, FS_KIND_SYMLINK, FS_OPEN_NOFOLLOW, direntName, direntNameLength, direntNext,
  direntKind,
} from "../lib/fs-client";
import { base, within, client, complain, workingDirectory } from "./tool-parts/files";
import { visible, visibleBytes } from "./tool-parts/visible";
import { civil, two } from "./tool-parts/calendar";
import { join } from "./tool-parts/walk";
import { outLine, finish } from "./tool-parts/output";

const o = new Options("ls", "[-1aAdFlpRrSt] [PATH...]", "Lists the names in each directory (. when none), or the files named.")
  .flag("1", "", "one name per line (always so here)")
  .flag("a", "all", "names starting with . too, and . and ..")
  .flag("A", "almost-all", "names starting with . too, but not . and ..")
  .flag("d", "directory", "list directories themselves, not what they hold")
  .flag("F", "classify", "a / after directories, @ after symbolic links")
  .flag("p", "", "a / after directories")
  .flag("l", "", "long: kind, size, time modified (and a link's target)")
  .flag("R", "recursive", "list the directories under each too")
  .flag("r", "reverse", "in reverse order")
  .flag("S", "", "the largest first")
  .flag("t", "", "the newest first")
  .parse(args());
workingDirectory("ls");
const all = o.given("a");
const almost = o.given("A") || all;
const long = o.given("l");
const classify = o.given("F");
const slashes = o.given("p") || classify;
const recursive = o.given("R");
const reverse = o.given("r");
const bySize = o.given("S");
const byTime = o.given("t");
const fs = client();
let failed = false;

/** `ns` since 1970 as YYYY-MM-DD HH:MM (UTC). */
function when(ns: i64): string {
  const t = civil(ns / 1_000_000_000);
  return t.year.toString() + "-" + two(t.month) + "-" + two(t.day) + " " + two(t.hour) + ":" + two(t.minute);
}

class Item {
  kind: u32 = 0;
  size: u64 = 0;
  modified: i64 = 0;
  target: string = "";
  constructor(
    /** As given, or the name in its directory. */
    readonly name: string,
    /** The path to open it by. */
    readonly path: string,
  ) {}
}

/** Looks `item` up (the entry itself: a symbolic link is described, not followed): false when it cannot be. */
function describe(item: Item, complainAs: string): bool {
  const handle = fs.open(base(item.path), within(item.path), FS_RIGHT_READ | FS_OPEN_NOFOLLOW);
  if (handle < 0) {
    if (complainAs.length > 0) complain("ls", complainAs, handle);
    return false;
  }
  fs.stat(handle);
  item.kind = fs.kind;
  item.size = fs.size;
  item.modified = fs.modified;
  if (item.kind == FS_KIND_SYMLINK && long) {
    const n = fs.read(handle, 0, fs.bufferBytes);
    if (n >= 0) item.target = visibleBytes(fs.address, <u32>n);
  }
  fs.close(handle);
  return true;
}

function line(item: Item): string {
  let mark = "";
  if (slashes && item.kind == FS_KIND_DIR) mark = "/";
  else if (classify && item.kind == FS_KIND_SYMLINK) mark = "@";
  const shown = visible(item.name) + mark;
  if (!long) return shown;
  const kind = item.kind == FS_KIND_DIR ? "d" : item.kind == FS_KIND_SYMLINK ? "l" : "-";
  return kind + " " + item.size.toString().padStart(10) + "  " + when(item.modified) + "  " + shown + (item.target.length > 0 ? " -> " + item.target : "");
}

function compare(a: Item, b: Item): i32 {
  let c = 0;
  if (bySize) c = a.size > b.size ? -1 : a.size < b.size ? 1 : 0;
  else if (byTime) c = a.modified > b.modified ? -1 : a.modified < b.modified ? 1 : 0;
  if (c == 0) c = a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
  return reverse ? -c : c;
}

/** What directory `path` holds, described when the listing needs it; null when it cannot be read. */
function contents(path: string): Item[] | null {
  const dir = fs.open(base(path), within(path), FS_RIGHT_READ);
  if (dir < 0) {
    complain("ls", visible(path), dir);
    return null;
  }
  const items = new Array<Item>();
  if (all) {
    // . and .. first, whatever the server's listing holds (the host share's has neither).
    for (let k = 0; k < 2; k++) {
      const dots = new Item(k == 0 ? "." : "..", join(path, k == 0 ? "." : ".."));
      dots.kind = FS_KIND_DIR;
      items.push(dots);
    }
  }
  let cookie: u32 = 0;
  for (;;) {
    const n = fs.readdir(dir, cookie);
    if (n < 0) {
      complain("ls", visible(path), n);
      fs.close(dir);
      return null;
    }
    if (n == 0) break;
    let at = fs.address;
    for (let i = 0; i < n; i++) {
      const name = String.UTF8.decodeUnsafe(direntName(at), direntNameLength(at));
      const kind = direntKind(at);
      at = direntNext(at);
      if (name == "." || name == ".." || (name.startsWith(".") && !almost)) continue;
      const item = new Item(name, join(path, name));
      item.kind = kind;
      items.push(item);
    }
    cookie = fs.cookie;
  }
  fs.close(dir);
  const details = long || bySize || byTime || classify;
  for (let i = 0; i < items.length; i++) if (details && items[i].name != "." && items[i].name != "..") describe(items[i], "");
  items.sort(compare);
  return items;
}

/** Lists directory `path`; with -R, then each directory under it, each under its header. */
function listDirectory(path: string, header: bool, first: bool): void {
  const items = contents(path);
  if (header) outLine((first ? "" : "\n") + visible(path) + ":");
  if (items == null) {
    failed = true;
    return;
  }
  for (let i = 0; i < items!.length; i++) outLine(line(items![i]));
  if (!recursive) return;
  for (let i = 0; i < items!.length; i++) {
    const item = items![i];
    if (item.kind == FS_KIND_DIR && item.name != "." && item.name != "..") listDirectory(item.path, true, false);
  }
}

const operands = o.operands.length > 0 ? o.operands : ["."];
const files = new Array<Item>();
const directories = new Array<Item>();
for (let i = 0; i < operands.length; i++) {
  const item = new Item(operands[i], operands[i]);
  if (!describe(item, visible(operands[i]))) {
    failed = true;
    continue;
  }
  // A symbolic link named on the command line is followed to see whether it names a directory.
  if (item.kind == FS_KIND_SYMLINK && !long && !o.given("d")) {
    const h = fs.open(base(item.path), within(item.path), FS_RIGHT_READ);
    if (h >= 0) {
      if (fs.kind == FS_KIND_DIR) item.kind = FS_KIND_DIR;
      fs.close(h);
    }
  }
  if (item.kind == FS_KIND_DIR && !o.given("d")) directories.push(item);
  else files.push(item);
}
files.sort(compare);
directories.sort(compare);
for (let i = 0; i < files.length; i++) outLine(line(files[i]));
const headers = operands.length > 1 || recursive;
for (let i = 0; i < directories.length; i++) listDirectory(directories[i].path, headers, files.length == 0 && i == 0);
finish(failed ? 2 : 0);
