// Makes /unsynced and ends at once, without syncing (test/boot/halt): as a `session` line, its
// exit 0 halts the machine within milliseconds of the change, well inside the half second the file
// system lets a change wait; only init asking the server to finish before it stops it keeps it.
// On a disk that has /unsynced it says "fs-no-sync: found" instead of "fs-no-sync: made".
// Config: `service w fs-no-sync use=fs memory=256 session`.
import { exit, print, eprint } from "../lib";
import { FsClient, fsRoot, fsErrorName, FS_RIGHT_READ, FS_OPEN_DIRECTORY } from "../lib/fs-client";

const SHARED: i32 = 3;
const MEMORY: i32 = 4;
const fs = new FsClient(MEMORY, 1);
const root = fsRoot(SHARED, 0);
if (root < 0) {
  eprint("fs-no-sync: FAIL: root: " + fsErrorName(root));
  exit(1);
}
if (fs.open(root, "unsynced", FS_RIGHT_READ | FS_OPEN_DIRECTORY) > 0) {
  print("fs-no-sync: found");
  exit(0);
}
const made = fs.mkdir(root, "unsynced");
if (made < 0) {
  eprint("fs-no-sync: FAIL: mkdir: " + fsErrorName(made));
  exit(1);
}
print("fs-no-sync: made");
exit(0);
