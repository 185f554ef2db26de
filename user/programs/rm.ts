// rm [-rfdv] PATH...: removes each file or symbolic link; -d empty directories too; -r directories
// and all they hold. A program of the system (a file in /bin, the directory the first boot
// installed the boot modules in) is removed only when the person says yes to a question, or with
// -f; -f also says nothing of names that do not exist.
import { args, eprint, exit, read, statusText } from "../lib";
import { Options } from "../lib/options";
import { FS_RIGHT_READ, FS_OPEN_NOFOLLOW, FS_OPEN_DIRECTORY, FS_KIND_DIR, FS_REMOVE_DIR, FS_REMOVE_FILE, FS_E_NOT_FOUND, FS_E_IS_DIR } from "../lib/fs-client";
import { base, within, client, complain, workingDirectory, SLOT_ROOT } from "./tool-parts/files";
import { visible } from "./tool-parts/visible";
import { entries, join, lastStatus } from "./tool-parts/walk";
import { outLine, flush } from "./tool-parts/output";

const o = new Options("rm", "[-rfdv] PATH...", "Removes each file (and with -r, each directory and all it holds).")
  .flag("r", "recursive", "remove directories and everything in them")
  .flag("R", "", "as -r")
  .flag("d", "dir", "remove empty directories")
  .flag("f", "force", "never ask, and say nothing of names that do not exist")
  .flag("v", "verbose", "say what is removed")
  .parse(args());
const force = o.given("f");
if (o.operands.length == 0) {
  if (force) exit(0);
  o.usageError("missing operand");
}
workingDirectory("rm");
const recursive = o.given("r") || o.given("R");
const fs = client();
let failed = false;

/** The inode of /bin (the system's programs), or 0 when there is none. */
function binInode(): u32 {
  const h = fs.open(SLOT_ROOT, "/bin", FS_RIGHT_READ | FS_OPEN_DIRECTORY);
  if (h < 0) return 0;
  const inode = fs.inode;
  fs.close(h);
  return inode;
}
const systemDirectory = binInode();

/** Whether `path` lies in /bin: its directory is /bin, however the path reaches it. */
function isSystem(path: string): bool {
  if (systemDirectory == 0) return false;
  let end = path.length;
  while (end > 1 && path.charAt(end - 1) == "/") end--;
  const slash = path.lastIndexOf("/", end - 1);
  const dir = slash < 0 ? "." : slash == 0 ? "/" : path.slice(0, slash);
  const h = fs.open(base(dir), within(dir), FS_RIGHT_READ | FS_OPEN_DIRECTORY);
  if (h < 0) return false;
  const inode = fs.inode;
  fs.close(h);
  return inode == systemDirectory;
}

/** Asks on the errors stream; a line starting with y from standard input is yes. */
function yes(question: string): bool {
  flush();
  eprint(question);
  const buffer = memory.data(256);
  const n = read(buffer, 252);
  return n > 0 && (load<u8>(buffer) == 0x79 || load<u8>(buffer) == 0x59);
}

function removeOne(path: string, kind: u32): void {
  if (isSystem(path) && !force && !yes("rm: remove the system program " + visible(path) + "? (y/n; rm -f removes without asking)")) {
    eprint("rm: " + visible(path) + ": not removed");
    failed = true;
    return;
  }
  const status = fs.remove(base(path), within(path), kind == FS_KIND_DIR ? FS_REMOVE_DIR : FS_REMOVE_FILE);
  if (status < 0) {
    if (!(force && status == FS_E_NOT_FOUND)) {
      complain("rm", visible(path), status);
      failed = true;
    }
    return;
  }
  if (o.given("v")) outLine("removed " + visible(path));
}

function remove(path: string): void {
  const h = fs.open(base(path), within(path), FS_RIGHT_READ | FS_OPEN_NOFOLLOW);
  if (h < 0) {
    if (!(force && h == FS_E_NOT_FOUND)) {
      complain("rm", visible(path), h);
      failed = true;
    }
    return;
  }
  const kind = fs.kind;
  fs.close(h);
  if (kind == FS_KIND_DIR) {
    if (!recursive && !o.given("d")) {
      complain("rm", visible(path), FS_E_IS_DIR);
      eprint("rm: (rm -r removes a directory and what it holds; rm -d an empty one)");
      failed = true;
      return;
    }
    if (recursive) {
      const list = entries(fs, path);
      if (list == null) {
        complain("rm", visible(path), lastStatus);
        failed = true;
        return;
      }
      for (let i = 0; i < list!.length; i++) remove(join(path, list![i].name));
    }
  }
  removeOne(path, kind);
}

for (let i = 0; i < o.operands.length; i++) {
  const path = o.operands[i];
  const last = path.slice(path.lastIndexOf("/", path.length - 2) + 1);
  if (last == "." || last == ".." || last == "./" || last == "../") {
    eprint("rm: refusing to remove '.' or '..' directory: skipping " + visible(path));
    failed = true;
    continue;
  }
  remove(path);
}
flush();
exit(failed ? 1 : 0);
