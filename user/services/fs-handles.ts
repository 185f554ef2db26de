// A full handle table takes back the entry used longest ago once it has been idle 10 s, or the
// server's `handle-idle-ms=N` (test/fs): fills the table (FS_E_TABLE_FULL while every entry is
// fresh; a close frees one), waits past the idle time, opens again: the oldest handle is now stale,
// the next oldest still works, FS_INFO counts one taken back. Prints "fs-handles: ok". Config:
// `service h fs-handles use=fs memory=256 [-- IDLE_MS]` (the server's idle time; 10000).
import { args, exit, eprint, print, sleep, msgWord, registryLookup } from "../lib";
import {
  FsClient, fsRoot, fsErrorName, FS_SERVICE, FS_RIGHT_READ, FS_RIGHT_WRITE, FS_OPEN_CREATE, FS_E_TABLE_FULL, FS_E_STALE,
} from "../lib/fs-client";

const SHARED: i32 = 3;
const MEMORY: i32 = 4;
const fs = new FsClient(MEMORY, 1);
const held = new StaticArray<i32>(600);

function expect(what: string, got: i32, want: i32): void {
  if (got != want) {
    eprint("fs-handles: FAIL: " + what + ": got " + fsErrorName(got) + ", wanted " + fsErrorName(want));
    exit(1);
  }
}

const root = fsRoot(SHARED, 0);
const service = registryLookup(FS_SERVICE);
if (root < 0 || service < 0) expect("capabilities", min(root, service), 0);
const made = fs.open(root, "h", FS_RIGHT_READ | FS_RIGHT_WRITE | FS_OPEN_CREATE);
if (made < 0) expect("create h", made, 0);
let count = 0;
let status = 0;
for (; count < 600; count++) {
  status = fs.open(root, "h", FS_RIGHT_READ);
  if (status < 0) break;
  unchecked((held[count] = status));
}
expect("a full table of fresh handles", status, FS_E_TABLE_FULL);
expect("close one", fs.close(unchecked(held[count - 1])), 0);
status = fs.open(root, "h", FS_RIGHT_READ);
if (status < 0) expect("open after a close", status, 0);
unchecked((held[count - 1] = status));
expect("full again", fs.open(root, "h", FS_RIGHT_READ), FS_E_TABLE_FULL);
const argv = args();
const idleMs: u64 = argv.length > 1 ? U64.parseInt(argv[1]) : 10_000;
sleep((idleMs + 500) * 1_000_000); // past the server's idle time (user/services/fs-parts/handles.ts)
const fresh = fs.open(root, "h", FS_RIGHT_READ);
if (fresh < 0) expect("open once the oldest is idle", fresh, 0);
expect("the oldest handle (the one that made h) was taken back", fs.stat(made), FS_E_STALE);
expect("the next one still works", fs.stat(unchecked(held[0])), 0);
expect("FS_INFO", fs.info(service), 0);
expect("handles taken back", <i32>msgWord(7), 1);
print("fs-handles: ok");
exit(0);
