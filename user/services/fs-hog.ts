// A client that holds the file system's whole handle table (redteam, Medium): it opens one file
// from the published root until the server answers FS_E_TABLE_FULL, says "fs-hog: holding N", and
// then uses every handle once a second for ever, so that none is ever idle long enough to be taken
// back; then it writes "full" into /hog. test/fs/fs.test.ts runs it beside fs-fair, which must
// still get its share, and test/programs/shell-fs-hog.test.ts beside the shell.
// Config: `service hog fs-hog use=fs memory=256` (`-- sessions`: below).
import { exit, eprint, print, sleep, arg } from "../lib";
import { FsClient, fsRoot, fsErrorName, FS_RIGHT_READ, FS_RIGHT_WRITE, FS_OPEN_CREATE, FS_E_TABLE_FULL } from "../lib/fs-client";

const SHARED: i32 = 3;
const MEMORY: i32 = 4;
const fs = new FsClient(MEMORY, 1);
const held = new StaticArray<i32>(600);

const root = fsRoot(SHARED, 0);
if (root < 0) {
  eprint("fs-hog: FAIL: the root: " + fsErrorName(root));
  exit(1);
}
// `-- sessions`: as a program the shell runs, it holds a session's root (its shell's), and asks
// for a session of its own (FS_OPEN_SESSION) through it for every handle, each a share of the
// table had they been sessions beside the others (redteam7).
const sessions = arg(1) == "sessions";
const shells = sessions ? fs.session(root, FS_RIGHT_READ | FS_RIGHT_WRITE) : root;
let count = 0;
let status = fs.open(shells, "hog", FS_RIGHT_READ | FS_RIGHT_WRITE | FS_OPEN_CREATE);
for (; status >= 0 && count < 600; count++) {
  unchecked((held[count] = status));
  status = sessions ? fs.session(shells, FS_RIGHT_READ) : fs.open(root, "hog", FS_RIGHT_READ);
}
if (status != FS_E_TABLE_FULL) {
  eprint("fs-hog: FAIL: filling the table ended with " + fsErrorName(status));
  exit(1);
}
print("fs-hog: holding " + count.toString());
// Says so in the file too, for a test whose console shows the shell alone (test/programs/shell-fs-hog).
if (fs.prepare() >= 0) {
  const said = String.UTF8.encode("full\n");
  memory.copy(fs.address, changetype<usize>(said), <usize>said.byteLength);
  fs.write(unchecked(held[0]), 0, <u32>said.byteLength);
}
for (;;) {
  for (let i = 0; i < count; i++) fs.stat(unchecked(held[i]));
  sleep(1_000_000_000);
}
