// A hostile service that was given only what a reader is (redteam9): init's `read=fs` grant (a
// manifest's `needs fs FileSystem shared read`), the file system's Cappage narrowed to its slot 1.
// It tries what the all-rights root allowed every `use=fs` service before: take that root from the
// Cappage, widen its window, create, write, unlink, make a directory; each must be refused. Then
// it splits the handle table into one-entry sessions (FS_OPEN_SESSION through its root for every
// handle, each kept fresh), which left a new session no share at all when every reader's SESSION
// started a session: a reader's sessions are all the readers' one (docs/FS.md "Sessions"), so
// test/fs/fs.test.ts runs fs-fair beside it, which must still get its even share.
// Says "fs-reader: holding N" when the table is full.
// Config: `service reader fs-reader read=fs memory=256`.
import { exit, eprint, print, sleep, Cappage, E_INVALID_ARGUMENT, E_MISSING_RIGHT } from "../lib";
import {
  FsClient, fsRoot, fsErrorName, FS_RIGHT_READ, FS_RIGHT_WRITE, FS_RIGHT_APPEND, FS_OPEN_CREATE, FS_E_TABLE_FULL,
} from "../lib/fs-client";

const SHARED: i32 = 3;
const MEMORY: i32 = 4;
const fs = new FsClient(MEMORY, 1);
const held = new StaticArray<i32>(600);

function fail(what: string, status: i32): void {
  eprint("fs-reader: FAIL: " + what + ": " + fsErrorName(status));
  exit(1);
}

function refused(what: string, status: i32, want: i32): void {
  if (status != want) fail(what + " (wanted " + fsErrorName(want) + ")", status);
}

const root = fsRoot(SHARED, 0);
if (root < 0) fail("the readers' root", root);
const page = new Cappage(SHARED);
refused("the Cappage's slot 1 (the root with every right is not in its window)", page.get(1), E_INVALID_ARGUMENT);
refused("a window past its own", page.narrow(0, 2), E_INVALID_ARGUMENT);
refused("putting a capability in the Cappage", page.put(0, <u32>root), E_MISSING_RIGHT);
refused("creating a file", fs.open(root, "planted", FS_RIGHT_READ | FS_RIGHT_WRITE | FS_OPEN_CREATE), E_MISSING_RIGHT);
refused("appending to a file", fs.open(root, "etc/init.conf", FS_RIGHT_READ | FS_RIGHT_APPEND), E_MISSING_RIGHT);
refused("unlinking a file", fs.unlink(root, "etc/init.conf"), E_MISSING_RIGHT);
refused("making a directory", fs.mkdir(root, "planted"), E_MISSING_RIGHT);
const session = fs.session(root, FS_RIGHT_READ | FS_RIGHT_WRITE);
refused("a session with the write right", session, E_MISSING_RIGHT);
print("fs-reader: refused every write");

let count = 0;
let status = fs.session(root, FS_RIGHT_READ);
for (; status >= 0 && count < 600; count++) {
  unchecked((held[count] = status));
  status = fs.session(root, FS_RIGHT_READ);
}
if (status != FS_E_TABLE_FULL) fail("filling the table", status);
print("fs-reader: holding " + count.toString());
for (;;) {
  for (let i = 0; i < count; i++) fs.stat(unchecked(held[i]));
  sleep(1_000_000_000);
}
