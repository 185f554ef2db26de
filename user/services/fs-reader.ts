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
// With `-- swap` it was given what the pager is (redteam11): init's `swap=fs` (a manifest's `needs
// fs FileSystem shared swap`), the Cappage narrowed to its slot 2, the swap door. Everything but
// opening /swap must be refused (other names, directories, listing, sessions, a /swap that is a
// symbolic link); /swap itself opens read-write, direct, and reads back what was written:
// "fs-reader: the swap door opens /swap alone". `-- plant` (with `use=fs`) makes /swap a symbolic
// link to /etc/init.conf first: "fs-reader: planted"; then `-- swap linked` must be refused it.
import { args, exit, eprint, print, sleep, Cappage, E_INVALID_ARGUMENT, E_MISSING_RIGHT } from "../lib";
import {
  FsClient, fsRoot, fsErrorName, FS_RIGHT_READ, FS_RIGHT_WRITE, FS_RIGHT_APPEND, FS_OPEN_CREATE, FS_OPEN_DIRECT, FS_OPEN_DIRECTORY, FS_E_TABLE_FULL,
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

const argv = args();
const mode = argv.length > 1 ? argv[1] : "";
if (mode == "plant") {
  const all = fsRoot(SHARED, 0);
  if (all < 0) fail("the root", all);
  fs.unlink(all, "swap"); // the file an earlier boot's door made
  const made = fs.symlink(all, "etc/init.conf", "swap");
  if (made < 0) fail("plant the link", made);
  check0(fs.sync(all));
  print("fs-reader: planted");
  exit(0);
}
if (mode == "swap") {
  swapDoor(argv.length > 2 && argv[2] == "linked");
  exit(0);
}

function check0(status: i32): void {
  if (status < 0) fail("sync", status);
}

function swapDoor(linked: bool): void {
  const door = fsRoot(SHARED, 0);
  if (door < 0) fail("the swap door", door);
  const page = new Cappage(SHARED);
  refused("the Cappage's slot 1 (only the door is in its window)", page.get(1), E_INVALID_ARGUMENT);
  refused("a window past its own", page.narrow(0, 2), E_INVALID_ARGUMENT);
  refused("opening another file", fs.open(door, "etc/init.conf", FS_RIGHT_READ), E_MISSING_RIGHT);
  refused("opening /swap by another path", fs.open(door, "/swap", FS_RIGHT_READ), E_MISSING_RIGHT);
  refused("opening . (a session)", fs.session(door, FS_RIGHT_READ | FS_RIGHT_WRITE), E_MISSING_RIGHT);
  refused("making swap a directory", fs.open(door, "swap", FS_RIGHT_READ | FS_RIGHT_WRITE | FS_OPEN_CREATE | FS_OPEN_DIRECTORY), E_MISSING_RIGHT);
  refused("making a directory", fs.mkdir(door, "planted"), E_MISSING_RIGHT);
  refused("unlinking a file", fs.unlink(door, "etc/init.conf"), E_MISSING_RIGHT);
  refused("a symbolic link", fs.symlink(door, "etc", "x"), E_MISSING_RIGHT);
  refused("listing the root", fs.readdir(door, 0), E_MISSING_RIGHT);
  refused("a token", fs.token(door), E_MISSING_RIGHT);
  const flags = FS_RIGHT_READ | FS_RIGHT_WRITE | FS_OPEN_CREATE | FS_OPEN_DIRECT;
  if (linked) {
    refused("/swap, a symbolic link to /etc/init.conf", fs.open(door, "swap", flags), E_MISSING_RIGHT);
    print("fs-reader: the swap door refuses a linked /swap");
    return;
  }
  const swap = fs.open(door, "swap", flags);
  if (swap < 0) fail("open /swap", swap);
  if (fs.prepare() < 0) fail("the buffer", -1);
  store<u32>(fs.address, 0x5a5a5a5a);
  if (fs.write(swap, 8192, 4) != 4) fail("write /swap", -1);
  store<u32>(fs.address, 0);
  if (fs.read(swap, 8192, 4) != 4 || load<u32>(fs.address) != 0x5a5a5a5a) fail("read /swap back", -1);
  print("fs-reader: the swap door opens /swap alone");
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
