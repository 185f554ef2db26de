// Uncommitted truncates and extensions must not damage what was synced (test/fs/truncate): on a
// disk without /t it writes /t (10000 bytes) and /u (100 bytes), syncs, then — not synced — cuts
// /t to 5000 and writes /u's bytes 100 to 3000, prints "fs-truncate: ready" and keeps the server
// busy (so that nothing commits) until the machine stops. On a disk with /t it checks that /t is
// whole and /u is 100 bytes, that growing /u reads zeros past its old end, and prints
// "fs-truncate: ok". Config: `service t fs-truncate use=fs memory=512`.
import { exit, eprint, print, registryLookup, yield_ } from "../lib";
import {
  FsClient, fsRoot, fsErrorName, FS_SERVICE, FS_RIGHT_READ, FS_RIGHT_WRITE, FS_OPEN_CREATE, FS_E_NOT_FOUND,
} from "../lib/fs-client";

const SHARED: i32 = 3;
const MEMORY: i32 = 4;
const fs = new FsClient(MEMORY, 16);

function ok(what: string, got: i32): i32 {
  if (got < 0) {
    eprint("fs-truncate: FAIL: " + what + ": " + fsErrorName(got));
    exit(1);
  }
  return got;
}

function failIf(bad: bool, what: string): void {
  if (bad) {
    eprint("fs-truncate: FAIL: " + what);
    exit(1);
  }
}

function byte(i: u32): u8 {
  return <u8>(i * 13 + 1);
}

ok("buffer", fs.prepare());
const root = ok("root", fsRoot(SHARED, 0));
const found = fs.open(root, "t", FS_RIGHT_READ | FS_RIGHT_WRITE);
if (found == FS_E_NOT_FOUND) {
  const t = ok("create t", fs.open(root, "t", FS_RIGHT_READ | FS_RIGHT_WRITE | FS_OPEN_CREATE));
  for (let i: u32 = 0; i < 10000; i++) store<u8>(fs.address + i, byte(i));
  ok("write t", fs.write(t, 0, 10000));
  const u = ok("create u", fs.open(root, "u", FS_RIGHT_READ | FS_RIGHT_WRITE | FS_OPEN_CREATE));
  ok("write u", fs.write(u, 0, 100));
  ok("sync", fs.sync(root));
  ok("truncate t", fs.truncate(t, 5000));
  for (let i: u32 = 0; i < 3000; i++) store<u8>(fs.address + i, 0xee);
  ok("extend u", fs.write(u, 100, 2900, 100));
  print("fs-truncate: ready");
  const service = ok("look fs up", registryLookup(FS_SERVICE));
  for (;;) {
    ok("info", fs.info(service)); // never idle for long, so the server commits nothing more
    yield_();
  }
}
const t = ok("open t", found);
failIf(fs.size != 10000, "t has " + fs.size.toString() + " bytes, not the 10000 synced");
ok("read t", fs.read(t, 0, 10000));
for (let i: u32 = 0; i < 10000; i++) if (load<u8>(fs.address + i) != byte(i)) failIf(true, "t differs at byte " + i.toString());
const u = ok("open u", fs.open(root, "u", FS_RIGHT_READ | FS_RIGHT_WRITE));
failIf(fs.size != 100, "u has " + fs.size.toString() + " bytes, not the 100 synced");
ok("grow u", fs.truncate(u, 4096));
ok("read u", fs.read(u, 0, 4096));
for (let i: u32 = 100; i < 4096; i++) if (load<u8>(fs.address + i) != 0) failIf(true, "u reads " + load<u8>(fs.address + i).toString() + " at " + i.toString() + ", past its old end");
print("fs-truncate: ok");
exit(0);
