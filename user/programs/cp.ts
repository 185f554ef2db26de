// cp [-rv] FROM TO | cp [-rv] FROM... DIRECTORY: copies file FROM to TO (made, or emptied first),
// or each FROM into DIRECTORY under its own name; -r copies directories and all they hold.
// 64 KiB a call, and synced. FROM and TO the same file is refused (it would be emptied).
import { args, eprint, exit } from "../lib";
import { Options } from "../lib/options";
import {
  FS_RIGHT_READ, FS_RIGHT_WRITE, FS_OPEN_CREATE, FS_OPEN_TRUNCATE, FS_KIND_DIR, FS_E_IS_DIR, FS_E_EXISTS,
} from "../lib/fs-client";
import { base, within, client, complain, workingDirectory, BUFFER_PAGES } from "./tool-parts/files";
import { visible } from "./tool-parts/visible";
import { entries, join, lastStatus } from "./tool-parts/walk";
import { outLine, flush } from "./tool-parts/output";

const o = new Options("cp", "[-rv] FROM TO | [-rv] FROM... DIRECTORY", "Copies FROM to TO, or each FROM into DIRECTORY.")
  .flag("r", "recursive", "copy directories and everything in them")
  .flag("R", "", "as -r")
  .flag("v", "verbose", "say what is copied")
  .parse(args());
if (o.operands.length < 2) o.usageError(o.operands.length == 0 ? "missing file operand" : "missing destination file operand after '" + o.operands[0] + "'");
workingDirectory("cp");
const recursive = o.given("r") || o.given("R");
const fs = client();
let failed = false;

/** The kind of what `path` names (following links), or a negative status. */
function kindOf(path: string): i32 {
  const h = fs.open(base(path), within(path), FS_RIGHT_READ);
  if (h < 0) return h;
  const kind = <i32>fs.kind;
  fs.close(h);
  return kind;
}

function copyFile(from: string, to: string): void {
  const source = fs.open(base(from), within(from), FS_RIGHT_READ);
  if (source < 0) {
    complain("cp", visible(from), source);
    failed = true;
    return;
  }
  // Copying a file onto itself would empty it first (TO is truncated): refuse, as cp(1) does.
  // (Hard links of one file are the same file too: the same inode.)
  const fromInode = fs.inode;
  const existing = fs.open(base(to), within(to), FS_RIGHT_READ);
  if (existing >= 0) {
    const same = fs.inode == fromInode;
    fs.close(existing);
    if (same) {
      eprint("cp: " + visible(from) + " and " + visible(to) + " are the same file");
      fs.close(source);
      failed = true;
      return;
    }
  }
  const target = fs.open(base(to), within(to), FS_RIGHT_WRITE | FS_OPEN_CREATE | FS_OPEN_TRUNCATE);
  if (target < 0) {
    complain("cp", visible(to), target);
    fs.close(source);
    failed = true;
    return;
  }
  const chunk = BUFFER_PAGES << 12;
  let offset: u64 = 0;
  for (;;) {
    const n = fs.read(source, offset, chunk);
    if (n < 0) {
      complain("cp", "reading " + visible(from), n);
      failed = true;
      break;
    }
    if (n == 0) break;
    const w = fs.write(target, offset, <u32>n);
    if (w < 0) {
      complain("cp", "writing " + visible(to), w);
      failed = true;
      break;
    }
    offset += <u64>n;
  }
  const synced = fs.sync(target);
  if (synced < 0) {
    complain("cp", "syncing " + visible(to), synced);
    failed = true;
  }
  fs.close(source);
  fs.close(target);
  if (o.given("v")) outLine("'" + visible(from) + "' -> '" + visible(to) + "'");
}

function copy(from: string, to: string): void {
  const kind = kindOf(from);
  if (kind < 0) {
    complain("cp", visible(from), kind);
    failed = true;
    return;
  }
  if (kind != <i32>FS_KIND_DIR) {
    copyFile(from, to);
    return;
  }
  if (!recursive) {
    eprint("cp: " + visible(from) + ": " + "is a directory (cp -r copies it)");
    failed = true;
    return;
  }
  const made = fs.mkdir(base(to), within(to));
  if (made < 0 && !(made == FS_E_EXISTS && kindOf(to) == <i32>FS_KIND_DIR)) {
    complain("cp", visible(to), made);
    failed = true;
    return;
  }
  const list = entries(fs, from);
  if (list == null) {
    complain("cp", visible(from), lastStatus);
    failed = true;
    return;
  }
  for (let i = 0; i < list!.length; i++) copy(join(from, list![i].name), join(to, list![i].name));
}

/** The last name of `path` (trailing slashes off). */
function lastName(path: string): string {
  let end = path.length;
  while (end > 1 && path.charAt(end - 1) == "/") end--;
  const s = path.slice(0, end);
  return s.slice(s.lastIndexOf("/") + 1);
}

const destination = o.operands[o.operands.length - 1];
const sources = o.operands.slice(0, o.operands.length - 1);
const intoDirectory = kindOf(destination) == <i32>FS_KIND_DIR;
if (sources.length > 1 && !intoDirectory) {
  eprint("cp: target " + visible(destination) + " is not a directory");
  exit(1);
}
for (let i = 0; i < sources.length; i++) copy(sources[i], intoDirectory ? join(destination, lastName(sources[i])) : destination);
flush();
exit(failed ? 1 : 0);
