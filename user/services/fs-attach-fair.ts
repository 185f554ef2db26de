// The attached handles (FS_ATTACH_MAX of them at once) shared between sessions: one session
// attaches all of them, and uses each; another session's ATTACH must still be given one, taken
// from the first (whose handle used longest ago answers FS_E_STALE), and a third one after it too.
// Before, every other ATTACH answered FS_E_TABLE_FULL until one of them had been idle 10 s.
// Prints "fs-attach-fair: ok". Config: `service a fs-attach-fair use=fs memory=512`.
import { exit, eprint, print, msgBegin, msgAddWord, msgInvoke, msgLabel, msgCap, msgCapCount } from "../lib";
import { FsClient, fsRoot, fsErrorName, FS_RIGHT_READ, FS_RIGHT_WRITE, FS_OPEN_CREATE, FS_ATTACH, FS_ATTACH_MAX, FS_E_STALE, FS_E_TABLE_FULL } from "../lib/fs-client";

const SHARED: i32 = 3;
const MEMORY: i32 = 4;
const fs = new FsClient(MEMORY, 1);
const attached = new StaticArray<i32>(64);

function fail(what: string, status: i32): void {
  eprint("fs-attach-fair: FAIL: " + what + ": " + fsErrorName(status));
  exit(1);
}

// An attached handle on `file` with a one-page read buffer, or a status.
function attach(file: i32): i32 {
  msgBegin(FS_ATTACH);
  msgAddWord(1);
  const status = msgInvoke(file);
  if (status < 0) return status;
  if (msgLabel() != 0) return -<i32>msgLabel();
  return msgCapCount() >= 2 ? msgCap(0) : -1;
}

const root = fsRoot(SHARED, 0);
if (root < 0) fail("the root", root);
const first = fs.session(root, FS_RIGHT_READ | FS_RIGHT_WRITE);
if (first < 0) fail("a first session", first);
const file = fs.open(first, "a", FS_RIGHT_READ | FS_RIGHT_WRITE | FS_OPEN_CREATE);
if (file < 0) fail("open a", file);
let count = 0;
for (; count < FS_ATTACH_MAX; count++) {
  const handle = attach(file);
  if (handle < 0) fail("attach " + count.toString() + " in the first session", handle);
  unchecked((attached[count] = handle));
}
const over = attach(file);
if (over != FS_E_TABLE_FULL) fail("an attach past FS_ATTACH_MAX in the session holding them all (FS_E_TABLE_FULL)", over);
for (let i = 1; i < count; i++) fs.stat(unchecked(attached[i])); // all used since, but the first
const second = fs.session(root, FS_RIGHT_READ);
if (second < 0) fail("a second session", second);
const other = fs.open(second, "a", FS_RIGHT_READ);
if (other < 0) fail("open a in the second session", other);
const given = attach(other);
if (given < 0) fail("an attach in the second session, every attached handle the first's and used", given);
if (fs.stat(unchecked(attached[0])) != FS_E_STALE) fail("the first session's attached handle used longest ago (stale)", fs.stat(unchecked(attached[0])));
if (fs.stat(unchecked(attached[1])) != 0) fail("its next one still works", fs.stat(unchecked(attached[1])));
const again = attach(other);
if (again < 0) fail("a second attach in the second session (the first holds 31)", again);
print("fs-attach-fair: ok");
exit(0);
