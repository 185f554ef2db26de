// The write half of fs-bench alone, for profiling the write and sync path (bench/fs-write-profile.ts):
// ROUNDS times, a file made anew, 16 MiB written in 1 MiB calls and synced, then 4 MiB of it
// overwritten in 4 KiB calls and synced, through an attached handle. Prints "fs-write-bench: OP
// BYTES in CALL calls: NS ns" per pass and "fs-write-bench: of which the sync NS ns", then
// "fs-write-bench: done". The first round warms up (its lines say "warm-up").
// With `small` after ROUNDS, the 16 MiB are written once and only the 4 KiB pass repeats.
// Config:
//   service bench fs-write-bench use=fs memory=512 [-- ROUNDS [small]]
import { args, exit, now, lineBegin, lineAdd, lineAddI64, lineAddU32, linePrint, STDERR } from "../lib";
import { FsClient, fsRoot, fsErrorName, FS_RIGHT_READ, FS_RIGHT_WRITE, FS_OPEN_CREATE, FS_OPEN_TRUNCATE } from "../lib/fs-client";

const SHARED: i32 = 3;
const MEMORY: i32 = 4;
const fs = new FsClient(MEMORY, 256);

function check(what: string, status: i32): i32 {
  if (status >= 0) return status;
  lineBegin("fs-write-bench: ");
  lineAdd(what);
  lineAdd(": ");
  lineAdd(fsErrorName(status));
  linePrint(STDERR);
  exit(1);
  return status;
}

const argv = args();
const ROUNDS: i32 = argv.length > 1 ? I32.parseInt(argv[1]) : 4;
/** `small` after ROUNDS: the file written once, then only the 4 KiB pass, ROUNDS times. */
const SMALL_ONLY = argv.length > 2 && argv[2] == "small";
let warmUp = true;

function pass(file: i32, call: u32, bytes: u32): void {
  const start = now();
  for (let at: u32 = 0; at < bytes; at += call) check("write", fs.write(file, <u64>at, call));
  const synced = now();
  check("sync", fs.sync(file));
  const end = now();
  lineBegin(warmUp ? "fs-write-bench: warm-up write " : "fs-write-bench: write ");
  lineAddU32(bytes);
  lineAdd(" in ");
  lineAddU32(call);
  lineAdd(" calls: ");
  lineAddI64(end - start);
  lineAdd(" ns");
  linePrint();
  lineBegin("fs-write-bench: of which the sync ");
  lineAddI64(end - synced);
  lineAdd(" ns");
  linePrint();
  // The clock readings themselves, for lining the pass up with what the host saw (bench/fs-write-profile.ts).
  lineBegin("fs-write-bench: clock ");
  lineAddI64(start);
  lineAdd(" ");
  lineAddI64(synced);
  lineAdd(" ");
  lineAddI64(end);
  linePrint();
}

check("buffer", fs.prepare());
for (let i: u32 = 0; i < fs.bufferBytes; i++) store<u8>(fs.address + i, <u8>(i * 7));
const root = check("root", fsRoot(SHARED, 0));
if (SMALL_ONLY) {
  // The file written once; then only its 4 KiB overwrites, ROUNDS times (a profile of that path).
  const opened = check("create", fs.open(root, "bench.dat", FS_RIGHT_READ | FS_RIGHT_WRITE | FS_OPEN_CREATE | FS_OPEN_TRUNCATE));
  const file = check("attach", fs.attach(opened));
  pass(file, 1 << 20, 16 << 20);
  for (let round = 1; round <= ROUNDS; round++) {
    warmUp = round == 1 && ROUNDS > 1;
    pass(file, 4096, 4 << 20);
  }
  fs.close(file);
  fs.close(opened);
}
for (let round = 1; round <= ROUNDS && !SMALL_ONLY; round++) {
  warmUp = round == 1 && ROUNDS > 1;
  const opened = check("create", fs.open(root, "bench.dat", FS_RIGHT_READ | FS_RIGHT_WRITE | FS_OPEN_CREATE | FS_OPEN_TRUNCATE));
  const file = check("attach", fs.attach(opened));
  check("sync", fs.sync(file)); // (the truncate's freed blocks committed before the timed writes)
  pass(file, 1 << 20, 16 << 20);
  pass(file, 4096, 4 << 20);
  fs.close(file);
  fs.close(opened);
}
lineBegin("fs-write-bench: done");
linePrint();
exit(0);
