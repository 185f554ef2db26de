// mv FROM TO: renames (or moves) FROM to TO, across directories too: one rename of the file
// system's, in one transaction (a crash leaves it under one name, never both nor neither); a file
// TO is replaced, so is an empty directory TO by a directory. The host share is read-only (its
// server refuses), and a move between it and the disk is a copy and a removal: cp, then rm.
import { args, eprint, exit } from "../lib";
import { base, within, isHostPath, client, fail, workingDirectory } from "./tool-parts/files";
import { visible } from "./tool-parts/visible";

const argv = args();
if (argv.length != 3) {
  eprint("usage: mv FROM TO");
  exit(2);
}
workingDirectory("mv");
const what = visible(argv[1]) + " to " + visible(argv[2]);
if (isHostPath(argv[1]) != isHostPath(argv[2])) {
  eprint("mv: " + what + ": not on one file system (cp, then rm)");
  exit(1);
}
// Each path from its own directory (the root, the working directory, the host share's root): the
// rename names the destination's directory by a token of its handle (docs/FS.md "Tokens").
const status = client().renameTo(base(argv[1]), within(argv[1]), base(argv[2]), within(argv[2]));
if (status < 0) fail("mv", what, status);
