// mv FROM TO | mv FROM... DIRECTORY: renames (or moves) FROM to TO, or each FROM into DIRECTORY,
// across directories too: one rename of the file system's, in one transaction (a crash leaves it
// under one name, never both nor neither); a file TO is replaced, so is an empty directory TO by
// a directory. The host share is read-only (its server refuses), and a move between it and the
// disk is a copy and a removal: cp, then rm.
import { args, eprint, exit } from "../lib";
import { Options } from "../lib/options";
import { FS_RIGHT_READ, FS_KIND_DIR, FS_OPEN_NOFOLLOW } from "../lib/fs-client";
import { base, within, isHostPath, client, complain, workingDirectory } from "./tool-parts/files";
import { visible } from "./tool-parts/visible";
import { join } from "./tool-parts/walk";

const o = new Options("mv", "FROM TO | FROM... DIRECTORY", "Renames FROM to TO, or moves each FROM into DIRECTORY.").parse(args());
if (o.operands.length < 2) o.usageError(o.operands.length == 0 ? "missing file operand" : "missing destination file operand after '" + o.operands[0] + "'");
workingDirectory("mv");
const fs = client();
const destination = o.operands[o.operands.length - 1];
const sources = o.operands.slice(0, o.operands.length - 1);
let intoDirectory = false;
const h = fs.open(base(destination), within(destination), FS_RIGHT_READ);
if (h >= 0) {
  intoDirectory = fs.kind == FS_KIND_DIR;
  fs.close(h);
}
if (sources.length > 1 && !intoDirectory) {
  eprint("mv: target " + visible(destination) + " is not a directory");
  exit(1);
}
let failed = false;
for (let i = 0; i < sources.length; i++) {
  const from = sources[i];
  let end = from.length;
  while (end > 1 && from.charAt(end - 1) == "/") end--;
  const name = from.slice(0, end).slice(from.slice(0, end).lastIndexOf("/") + 1);
  const to = intoDirectory ? join(destination, name) : destination;
  const what = visible(from) + " to " + visible(to);
  // What is to be moved must be there (said so before any question of rights).
  const source = fs.open(base(from), within(from), FS_RIGHT_READ | FS_OPEN_NOFOLLOW);
  if (source < 0) {
    complain("mv", visible(from), source);
    failed = true;
    continue;
  }
  fs.close(source);
  if (isHostPath(from) != isHostPath(to)) {
    eprint("mv: " + what + ": not on one file system (cp, then rm)");
    failed = true;
    continue;
  }
  // Each path from its own directory (the root, the working directory, the host share's root): the
  // rename names the destination's directory by a token of its handle (docs/FS.md "Tokens").
  const status = fs.renameTo(base(from), within(from), base(to), within(to));
  if (status < 0) {
    complain("mv", what, status);
    failed = true;
  }
}
exit(failed ? 1 : 0);
