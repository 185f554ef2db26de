// The journal's data ordering under a power cut (test/fs/power-cut.test.ts): a commit that makes a
// committed file name new blocks, or grow over bytes of a block it had, must have those bytes on
// the disk before its record. `prepare`: /grow holds 100 bytes of 0x47 and /old 64 KiB of 0x4f,
// and /sparse is 64 KiB of hole, synced; /old is then removed and that synced (its blocks are
// free, and may be given again). Prints "fs-order: ready". Then one of: `new`: /new gets 64 KiB of
// 0x4e (new blocks, the file grows); `grow`: /grow 100 more bytes of 0x47 (in the block it has);
// `fill`: /sparse 64 KiB of 0x53 (new blocks, the same size); `overwrite`: /grow's 100 bytes again
// (in place: nothing to order); then a SYNC: "fs-order: synced". `create`: /made, 4 KiB of 0x4d,
// synced, whatever the SYNC answers: "fs-order: sync done" or "fs-order: sync STATUS"; then /later,
// 100 bytes, not synced.
// `check` (after a power cut): /new is absent, empty or all 0x4e, /grow 100 bytes or 200, all 0x47,
// /sparse zeros or 0x53, /made absent, empty or 4 KiB of 0x4d — never a block's old bytes (/old's, or zeros past a file's old end)
// inside a file: "fs-order: intact", or "FAIL: ..." on stderr.
// `direct` (the test fails the device's write of its bytes): /direct, opened DIRECT, 16 KiB of
// 0x44 that fail, then cut to 16 KiB: all zeros, never /old's bytes: "fs-order: direct intact".
// `cut` (the test fails the device's read of /grow's block): /grow cut to 50 bytes, a TRUNCATE
// whose copy of the block's head fails: "fs-order: cut FS_E_IO", and fsck finds no block leaked.
// `lost-cut` (on a page cache of one chunk; the test fails the device's write of /lost's page):
// /lost's block lost to a failed write-back while a TRUNCATE copies its head: "fs-order: lost-cut
// intact", /lost never holding /old's bytes. `lost-run` (the same): a WRITE over /lost's dirty page
// while an eviction's write-back of it fails: "fs-order: lost-run intact", the WRITE's bytes there.
// Config: `service w fs-order-writer use=fs memory=512 -- prepare|new|grow|fill|overwrite|create|direct|cut|lost-cut|lost-run|check`
import { args, exit, print, eprint } from "../lib";
import { FsClient, fsRoot, fsErrorName, FS_RIGHT_READ, FS_RIGHT_WRITE, FS_OPEN_CREATE } from "../lib/fs-client";
import { FS_E_NOT_FOUND, FS_OPEN_DIRECT } from "../lib/fs-protocol";

const SHARED: i32 = 3;
const MEMORY: i32 = 4;
const NEW_BYTES: u32 = 64 << 10;
const DIRECT_BYTES: u32 = 16 << 10;
const fs = new FsClient(MEMORY, 16);

function check(what: string, status: i32): i32 {
  if (status >= 0) return status;
  eprint("fs-order: FAIL: " + what + ": " + fsErrorName(status));
  exit(1);
  return status;
}

function fill(byte: u8, bytes: u32): void {
  memory.fill(fs.address, byte, bytes);
}

function writeFile(root: i32, name: string, offset: u64, byte: u8, bytes: u32): i32 {
  const file = check("open " + name, fs.open(root, name, FS_RIGHT_READ | FS_RIGHT_WRITE | FS_OPEN_CREATE));
  fill(byte, bytes);
  check("write " + name, fs.write(file, offset, bytes));
  return file;
}

// Whether `name` is absent, or empty, or `first` or `second` bytes long, every byte `byte` or
// `hole` (what a hole reads); says what is wrong.
function intact(root: i32, name: string, byte: u8, hole: u8, first: u64, second: u64): bool {
  const file = fs.open(root, name, FS_RIGHT_READ);
  if (file == FS_E_NOT_FOUND) return true;
  check("open " + name, file);
  check("stat " + name, fs.stat(file));
  const size = fs.size;
  if (size != 0 && size != first && size != second) {
    eprint("fs-order: FAIL: " + name + " holds " + size.toString() + " bytes");
    return false;
  }
  for (let at: u64 = 0; at < size; ) {
    const got = check("read " + name, fs.read(file, at, <u32>min(<u64>fs.bufferBytes, size - at)));
    if (got == 0) break;
    for (let i: u32 = 0; i < <u32>got; i++) {
      const found = load<u8>(fs.address + i);
      if (found != byte && found != hole) {
        eprint("fs-order: FAIL: " + name + " byte " + (at + i).toString() + " is " + found.toString() + ", not " + byte.toString() + " (a block's old bytes)");
        return false;
      }
    }
    at += <u64>got;
  }
  fs.close(file);
  return true;
}

const argv = args();
const mode = argv.length > 1 ? argv[1] : "";
check("buffer", fs.prepare());
const root = check("root", fsRoot(SHARED, 0));
if (mode == "prepare") {
  const grow = writeFile(root, "grow", 0, 0x47, 100);
  const old = writeFile(root, "old", 0, 0x4f, NEW_BYTES);
  const sparse = check("open sparse", fs.open(root, "sparse", FS_RIGHT_READ | FS_RIGHT_WRITE | FS_OPEN_CREATE));
  check("truncate sparse", fs.truncate(sparse, NEW_BYTES)); // all hole: no block
  check("sync", fs.sync(grow));
  fs.close(grow);
  fs.close(sparse);
  fs.close(old);
  check("unlink old", fs.unlink(root, "old"));
  check("sync", fs.sync(root));
  print("fs-order: ready");
} else if (mode == "new" || mode == "grow" || mode == "fill" || mode == "overwrite") {
  const file = mode == "new" ? writeFile(root, "new", 0, 0x4e, NEW_BYTES)
    : mode == "grow" ? writeFile(root, "grow", 100, 0x47, 100)
    : mode == "fill" ? writeFile(root, "sparse", 0, 0x53, NEW_BYTES)
    : writeFile(root, "grow", 0, 0x47, 100);
  check("sync", fs.sync(file));
  print("fs-order: synced");
  fs.close(file);
} else if (mode == "create") {
  const file = writeFile(root, "made", 0, 0x4d, 4096);
  const synced = fs.sync(file); // (the test fails one of its writes: an error is what it expects)
  print("fs-order: sync " + (synced < 0 ? fsErrorName(synced) : "done"));
  fs.close(file);
  // More in the next transaction than in this one (left to the server's idle commit).
  fs.close(writeFile(root, "later", 0, 0x4c, 100));
} else if (mode == "direct") {
  // A write that fails (the test fails the device's write of these 0x44 bytes) must leave no
  // block of the file holding what the disk held there: /old's 0x4f, freed and maybe given again.
  const file = check("open direct", fs.open(root, "direct", FS_RIGHT_READ | FS_RIGHT_WRITE | FS_OPEN_CREATE | FS_OPEN_DIRECT));
  fill(0x44, DIRECT_BYTES);
  const wrote = fs.write(file, 0, DIRECT_BYTES);
  if (wrote >= 0) {
    eprint("fs-order: FAIL: the direct write did not fail (" + wrote.toString() + ")");
    exit(1);
  }
  check("truncate direct", fs.truncate(file, DIRECT_BYTES));
  fs.close(file);
  if (!intact(root, "direct", 0, 0, DIRECT_BYTES, DIRECT_BYTES)) exit(1);
  print("fs-order: direct intact");
} else if (mode == "cut") {
  // A TRUNCATE into /grow's block whose copy of the block's head fails (the test fails the
  // device's read of it): the block it took for the copy goes back (fsck finds no leak).
  const file = check("open grow", fs.open(root, "grow", FS_RIGHT_READ | FS_RIGHT_WRITE));
  const cut = fs.truncate(file, 50);
  check("sync", fs.sync(root));
  fs.close(file);
  print("fs-order: cut " + (cut < 0 ? fsErrorName(cut) : "done"));
} else if (mode == "lost-cut") {
  // On a page cache of one chunk (the fs's cache-pages=16): /fill's 15 pages and /lost's one fill
  // it, all dirty. Cutting /lost to 100 bytes takes a page for the copy of its block's head, whose
  // eviction writes every dirty page back, and the test fails the device's write of /lost's page
  // (0x4c): its block, new since the last commit, becomes a hole. The cut must then copy nothing of
  // that block: the disk's bytes there are another file's (/old's 0x4f, freed and given again).
  const filler = writeFile(root, "fill", 0, 0x46, 15 * 4096);
  const file = writeFile(root, "lost", 0, 0x4c, 4096);
  const cut = fs.truncate(file, 100);
  fs.sync(file); // (answers the lost write-back)
  fs.close(filler);
  fs.close(file);
  if (!intact(root, "lost", 0x4c, 0, 100, 100)) exit(1);
  print("fs-order: lost-cut intact (" + (cut < 0 ? fsErrorName(cut) : "cut") + ")");
} else if (mode == "lost-run") {
  // On a page cache of one chunk: /fill's 15 pages and /lost's one fill it, all dirty. A WRITE of
  // /lost's first two blocks takes the first page as it is (dirty, held for the copy) and a page for
  // the second, whose eviction writes the dirty pages back; the test fails the device's write of
  // /lost's old bytes (0x4c). What the WRITE answered written must be the file's: 8 KiB of 0x4d.
  const filler = writeFile(root, "fill", 0, 0x46, 15 * 4096);
  const file = writeFile(root, "lost", 0, 0x4c, 4096);
  fill(0x4d, 8192);
  check("write lost again", fs.write(file, 0, 8192));
  fs.sync(file);
  fs.close(filler);
  fs.close(file);
  if (!intact(root, "lost", 0x4d, 0x4d, 8192, 8192)) exit(1);
  print("fs-order: lost-run intact");
} else if (mode == "check") {
  const whole = intact(root, "new", 0x4e, 0, NEW_BYTES, NEW_BYTES) && intact(root, "grow", 0x47, 0x47, 100, 200) &&
    intact(root, "sparse", 0x53, 0, NEW_BYTES, NEW_BYTES) && intact(root, "made", 0x4d, 0x4d, 4096, 4096);
  if (!whole) exit(1);
  print("fs-order: intact");
} else {
  eprint("fs-order: FAIL: say prepare, new, grow, fill, overwrite, create, direct, cut, lost-cut, lost-run or check");
  exit(1);
}
exit(0);
