// A client beside fs-hog, which holds the whole handle table and keeps every entry fresh: it waits
// until the table is full, then starts a session of its own (FS_OPEN_SESSION) and opens files
// through it until refused. The table is shared evenly between sessions (docs/FS.md "Sessions"):
// it must get half of what fs-hog held, each entry taken back from fs-hog, and then be refused
// (FS_E_TABLE_FULL: fs-hog's share may not go below its own); a third session then gets a third.
// Before sessions every OPEN of every other client answered FS_E_TABLE_FULL for as long as fs-hog
// ran. Prints "fs-fair: ok".
// Config: `service fair fs-fair use=fs memory=256` (beside `fs-hog -- sessions`: `-- beside-a-session`).
import { exit, eprint, print, sleep, arg, msgWord, registryLookup } from "../lib";
import {
  FsClient, fsRoot, fsErrorName, FS_SERVICE, FS_RIGHT_READ, FS_RIGHT_WRITE, FS_OPEN_CREATE, FS_E_TABLE_FULL,
} from "../lib/fs-client";

const SHARED: i32 = 3;
const MEMORY: i32 = 4;
const fs = new FsClient(MEMORY, 1);

function fail(what: string, detail: string): void {
  eprint("fs-fair: FAIL: " + what + ": " + detail);
  exit(1);
}

function expect(what: string, got: i32, want: i32): void {
  if (got != want) fail(what, "got " + got.toString() + " (" + fsErrorName(got) + "), wanted " + want.toString() + " (" + fsErrorName(want) + ")");
}

const root = fsRoot(SHARED, 0);
const service = registryLookup(FS_SERVICE);
if (root < 0 || service < 0) fail("capabilities", fsErrorName(min(root, service)));
// Waits (a state, not a time) until fs-hog holds every entry.
let used: u32 = 0;
let tries = 0;
for (; tries < 3000; tries++) {
  expect("FS_INFO", fs.info(service), 0);
  used = msgWord(5); // FS_INFO: entries in use, then the most (docs/FS.md)
  if (used == msgWord(6)) break;
  sleep(10_000_000);
}
if (tries == 3000) fail("waiting for a full table", used.toString() + " entries in use");
const hogHeld = used - 3; // all but the three published: the roots and the swap door
const takenBefore = <i32>msgWord(7);
// (`-- beside-a-session`: fs-hog holds a session of its own, so session 0 may take from it.)
if (arg(1) != "beside-a-session") {
  expect("an OPEN of the root's own session, the table full", fs.open(root, "mine", FS_RIGHT_READ | FS_RIGHT_WRITE | FS_OPEN_CREATE), FS_E_TABLE_FULL);
}
const session = fs.session(root, FS_RIGHT_READ | FS_RIGHT_WRITE);
if (session < 0) fail("a session of its own, the table full", fsErrorName(session));
let mine = 1;
let status = fs.open(session, "mine", FS_RIGHT_READ | FS_RIGHT_WRITE | FS_OPEN_CREATE);
for (; status >= 0 && mine < 600; mine++) status = fs.open(session, "mine", FS_RIGHT_READ);
expect("an OPEN past an even share", status, FS_E_TABLE_FULL);
expect("its share", mine, <i32>hogHeld / 2);
expect("FS_INFO", fs.info(service), 0);
expect("entries taken back from fs-hog", <i32>msgWord(7) - takenBefore, mine);
// A third session: each of the three ends with a third, taken from whichever held the most.
const third = fs.session(root, FS_RIGHT_READ);
if (third < 0) fail("a third session", fsErrorName(third));
let thirds = 1;
status = fs.open(third, "mine", FS_RIGHT_READ);
for (; status >= 0 && thirds < 600; thirds++) status = fs.open(third, "mine", FS_RIGHT_READ);
expect("the third session past its share", status, FS_E_TABLE_FULL);
expect("the third session's share", thirds, <i32>hogHeld / 3);
print("fs-fair: ok");
exit(0);
