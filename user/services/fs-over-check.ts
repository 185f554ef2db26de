// After a crash in the overwrite test (test/fs/crash.test.ts): round SYNCED was the last seen
// synced, with /log.dat LOG bytes long then. Every byte of /over.dat must be what the rounds up to
// SYNCED left there, or (where a later round wrote, which may or may not have reached the disk)
// that later round's byte; /log.dat must be at least LOG bytes, each its logByte. Anything else —
// a zero, an old or another file's byte — is a failure. Prints "fs-over-check: all intact" or
// "fs-over-check: FAIL: ...". Config: `service c fs-over-check use=fs memory=512 -- SYNCED LOG`.
import { args, exit, eprint, lineBegin, lineAddU32, lineAdd, linePrint } from "../lib";
import { FsClient, fsRoot, fsErrorName, FS_RIGHT_READ } from "../lib/fs-client";
import { OVER_BYTES, baseByte, logByte, roundByte, roundLength, roundStart } from "./fs-crash-parts/overwrite";

const SHARED: i32 = 3;
const MEMORY: i32 = 4;
/** Rounds a writer may have done after the last it was seen to sync, before the kill. */
const LATER: u32 = 256;
const fs = new FsClient(MEMORY, 64);
const argv = args();
const synced = u32.parse(argv[1]);
const logSize = u32.parse(argv[2]);
const expected = memory.data(<i32>OVER_BYTES);

function ok(what: string, got: i32): i32 {
  if (got < 0) {
    eprint("fs-over-check: FAIL: " + what + ": " + fsErrorName(got));
    exit(1);
  }
  return got;
}

function failAt(file: string, at: u32, got: u8, want: u8): void {
  eprint("fs-over-check: FAIL: " + file + " byte " + at.toString() + " is " + got.toString() + ", not " + want.toString() + " (nor a later round's)");
  exit(1);
}

/** Whether a round after `synced` wrote `value` at `at` (it may have reached the disk). */
function laterRound(at: u32, value: u8): bool {
  for (let r = synced + 1; r <= synced + LATER; r++) {
    const start = roundStart(r);
    if (at >= start && at < start + roundLength(r) && roundByte(r, at) == value) return true;
  }
  return false;
}

for (let i: u32 = 0; i < OVER_BYTES; i++) store<u8>(expected + i, baseByte(i));
for (let r: u32 = 0; r <= synced; r++) {
  const start = roundStart(r);
  const length = roundLength(r);
  for (let i: u32 = 0; i < length; i++) store<u8>(expected + start + i, roundByte(r, start + i));
}
ok("buffer", fs.prepare());
const root = ok("root", fsRoot(SHARED, 1));
const over = ok("open /over.dat", fs.open(root, "over.dat", FS_RIGHT_READ));
if (fs.size != <u64>OVER_BYTES) {
  eprint("fs-over-check: FAIL: /over.dat has " + fs.size.toString() + " bytes");
  exit(1);
}
let later: u32 = 0;
for (let at: u32 = 0; at < OVER_BYTES; at += fs.bufferBytes) {
  const n = ok("read /over.dat", fs.read(over, at, fs.bufferBytes));
  for (let i: u32 = 0; i < <u32>n; i++) {
    const got = load<u8>(fs.address + i);
    const want = load<u8>(expected + at + i);
    if (got == want) continue;
    if (!laterRound(at + i, got)) failAt("/over.dat", at + i, got, want);
    later++;
  }
}
const log = ok("open /log.dat", fs.open(root, "log.dat", FS_RIGHT_READ));
if (fs.size < <u64>logSize) {
  eprint("fs-over-check: FAIL: /log.dat has " + fs.size.toString() + " bytes, fewer than the " + logSize.toString() + " synced");
  exit(1);
}
const size = <u32>fs.size;
for (let at: u32 = 0; at < size; at += fs.bufferBytes) {
  const n = ok("read /log.dat", fs.read(log, at, fs.bufferBytes));
  for (let i: u32 = 0; i < <u32>n; i++) if (load<u8>(fs.address + i) != logByte(at + i)) failAt("/log.dat", at + i, load<u8>(fs.address + i), logByte(at + i));
}
lineBegin("fs-over-check: rounds to ");
lineAddU32(synced);
lineAdd(" whole, ");
lineAddU32(later);
lineAdd(" bytes from later rounds, log ");
lineAddU32(size);
lineAdd(" bytes");
linePrint();
lineBegin("fs-over-check: all intact");
linePrint();
exit(0);
