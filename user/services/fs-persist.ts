// Files that outlive a reboot (test/fs): on a disk without /persist it makes a small tree, syncs
// and prints "fs-persist: created"; on one with it, it checks every file and prints
// "fs-persist: found". Either way it prints the creation time of /persist/notes.txt, which must
// not change across boots. Config: `service persist fs-persist use=fs memory=512`.
import { exit, print, eprint, lineBegin, lineAdd, lineAddI64, linePrint } from "../lib";
import {
  FsClient, fsRoot, fsErrorName, FS_RIGHT_READ, FS_RIGHT_WRITE, FS_RIGHTS_ALL, FS_OPEN_CREATE, FS_OPEN_DIRECTORY,
  FS_E_NOT_FOUND, FS_KIND_DIR,
} from "../lib/fs-client";

const SHARED: i32 = 3;
const MEMORY: i32 = 4;
const BIG: u32 = 300 * 1024 + 17;
const fs = new FsClient(MEMORY, 128);
const scratch: usize = memory.data(256);

function ok(what: string, got: i32): i32 {
  if (got < 0) {
    eprint("fs-persist: FAIL: " + what + ": " + fsErrorName(got));
    exit(1);
  }
  return got;
}

function failIf(bad: bool, what: string): void {
  if (bad) {
    eprint("fs-persist: FAIL: " + what);
    exit(1);
  }
}

function byte(i: u32): u8 {
  return <u8>(i * 31 + (i >> 9));
}

ok("buffer", fs.prepare());
const root = ok("root", fsRoot(SHARED, 0));
const found = fs.open(root, "persist", FS_RIGHTS_ALL | FS_OPEN_DIRECTORY);
if (found == FS_E_NOT_FOUND) {
  ok("mkdir persist", fs.mkdir(root, "persist"));
  const dir = ok("open persist", fs.open(root, "persist", FS_RIGHTS_ALL | FS_OPEN_DIRECTORY));
  ok("mkdir a/b/c", fs.mkdir(dir, "a"));
  ok("mkdir a/b", fs.mkdir(dir, "a/b"));
  ok("mkdir a/b/c", fs.mkdir(dir, "a/b/c"));
  const notes = ok("create notes", fs.open(dir, "notes.txt", FS_RIGHT_READ | FS_RIGHT_WRITE | FS_OPEN_CREATE));
  const text = "remember the milk";
  const n = String.UTF8.encodeUnsafe(changetype<usize>(text), text.length, scratch);
  ok("write notes", fs.writeInline(notes, 0, scratch, <u32>n));
  const big = ok("create big", fs.open(dir, "a/b/c/big.bin", FS_RIGHT_WRITE | FS_OPEN_CREATE));
  for (let i: u32 = 0; i < BIG; i++) store<u8>(fs.address + i, byte(i));
  ok("write big", fs.write(big, 0, BIG));
  ok("create gone", fs.open(dir, "gone.txt", FS_RIGHT_WRITE | FS_OPEN_CREATE));
  ok("unlink gone", fs.unlink(dir, "gone.txt"));
  ok("create old", fs.open(dir, "old-name", FS_RIGHT_WRITE | FS_OPEN_CREATE));
  ok("rename old", fs.rename(dir, "old-name", "a/new-name"));
  ok("sync", fs.sync(dir));
  ok("stat notes", fs.stat(notes));
  print("fs-persist: created");
} else {
  const dir = ok("open persist", found);
  failIf(fs.kind != FS_KIND_DIR, "persist is not a directory");
  const notes = ok("open notes", fs.open(dir, "notes.txt", FS_RIGHT_READ));
  const n = ok("read notes", fs.readInline(notes, 0, scratch, 200));
  failIf(String.UTF8.decodeUnsafe(scratch, <usize>n) != "remember the milk", "notes.txt holds something else");
  const big = ok("open big", fs.open(dir, "a/b/c/big.bin", FS_RIGHT_READ));
  failIf(fs.size != <u64>BIG, "big.bin has another size");
  ok("read big", fs.read(big, 0, BIG));
  for (let i: u32 = 0; i < BIG; i++) if (load<u8>(fs.address + i) != byte(i)) failIf(true, "big.bin differs at byte " + i.toString());
  failIf(fs.open(dir, "gone.txt", FS_RIGHT_READ) != FS_E_NOT_FOUND, "an unlinked file came back");
  failIf(fs.open(dir, "old-name", FS_RIGHT_READ) != FS_E_NOT_FOUND, "a renamed file kept its old name");
  ok("the new name", fs.open(dir, "a/new-name", FS_RIGHT_READ));
  ok("stat notes", fs.stat(notes));
  print("fs-persist: found");
}
lineBegin("fs-persist: notes.txt created at ");
lineAddI64(fs.created);
lineAdd(" ns");
linePrint();
exit(0);
