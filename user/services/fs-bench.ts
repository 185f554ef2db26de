// Measures the file system through the whole stack (client, server, block driver, device, disk
// image): a 16 MiB file written in 1 MiB calls and synced, read back in 1 MiB calls, then 4 KiB
// writes and reads of it. The whole sequence runs ROUNDS times (argument, default 4), the file made
// anew each time; the first round warms up (the code compiled to its fastest tier, the page cache
// grown) and prints "fs-bench: warm-up ...". The others print "fs-bench: OP BYTES in CALL-BYTES
// calls: NS ns" per test (OP: write, read, read-call, read-view, read-mapped); then "fs-bench: done" (bench/fs-throughput.ts reads them and takes the
// median of each figure: on a shared machine one pass of a few milliseconds is easily disturbed).
// With `reads` after ROUNDS (bench/fs-read-profile.ts) the file is written once and only the
// 1 MiB read passes repeat, ROUNDS times: a profile of the read path alone. With `reads-cached`
// the same without the map, so `read` and `readView` come from the page cache, as in the full
// bench (a mapped file's reads come from its map).
// Config:
//   service bench fs-bench use=fs memory=512 [-- ROUNDS [reads]]
import { args, exit, now, lineBegin, lineAdd, lineAddI64, lineAddU32, linePrint, msgWord, STDERR } from "../lib";
import { FsClient, fsRoot, fsErrorName, FS_RIGHT_READ, FS_RIGHT_WRITE, FS_OPEN_CREATE, FS_OPEN_TRUNCATE } from "../lib/fs-client";

const SHARED: i32 = 3;
const MEMORY: i32 = 4;
const TOTAL: u32 = 16 << 20;
const fs = new FsClient(MEMORY, 256);

function check(what: string, status: i32): i32 {
  if (status >= 0) return status;
  lineBegin("fs-bench: ");
  lineAdd(what);
  lineAdd(": ");
  lineAdd(fsErrorName(status));
  linePrint(STDERR);
  exit(1);
  return status;
}

const argv = args();
const ROUNDS: i32 = argv.length > 1 ? I32.parseInt(argv[1]) : 4;
const READS_ONLY = argv.length > 2 && (argv[2] == "reads" || argv[2] == "reads-cached");
const READS_MAPPED = READS_ONLY && argv[2] == "reads";
let warmUp = true;

function report(op: string, bytes: u32, call: u32, ns: i64): void {
  lineBegin(warmUp ? "fs-bench: warm-up " : "fs-bench: ");
  lineAdd(op);
  lineAdd(" ");
  lineAddU32(bytes);
  lineAdd(" in ");
  lineAddU32(call);
  lineAdd(" calls: ");
  lineAddI64(ns);
  lineAdd(" ns");
  linePrint();
}

check("buffer", fs.prepare());
for (let i: u32 = 0; i < fs.bufferBytes; i++) store<u8>(fs.address + i, <u8>(i * 7));
const root = check("root", fsRoot(SHARED, 0));
let file: i32 = 0;

const WRITE: i32 = 0;
const READ: i32 = 1;
/** Reads left in the attached handle's read buffer (FsClient.readView: the server's copy only). */
const VIEW: i32 = 2;
/** Reads of a mapped handle (FsClient.map): answered from the map, with no call, once it holds the file. */
const MAPPED: i32 = 3;
let mapped: i32 = 0;
/**
 * FsClient.read with autoMapAfter 0: every read a call to the server (at 4 KiB; `read` maps the
 * file by itself at its 4th read of at most 64 KiB, so its 1 MiB reads are calls too).
 */
const READ_CALL: i32 = 5;
/**
 * Reads as FsClient.read made them before fillers (`reads` modes only): readView, then the client's
 * copy out of the read buffer into its own — two copies, beside `read`'s one in the same run.
 */
const VIEW_COPIED: i32 = 4;

function pass(op: i32, call: u32, bytes: u32): void {
  const write = op == WRITE;
  const start = now();
  for (let at: u32 = 0; at < bytes; at += call) {
    if (write) check("write", fs.write(file, <u64>at, call));
    else if (op == READ || op == READ_CALL) check("read", fs.read(file, <u64>at, call));
    else if (op == MAPPED) {
      if (<u32>check("read", fs.read(mapped, <u64>at, call)) != call || load<u8>(fs.address) != <u8>(at * 7)) check("read: not the bytes written", -1);
    }
    else if (op == VIEW_COPIED) {
      if (<u32>check("read", fs.readView(file, <u64>at, call)) != call) check("read: short", -1);
      memory.copy(fs.address, fs.viewAddress, call);
    }
    else if (<u32>check("read", fs.readView(file, <u64>at, call)) != call || load<u8>(fs.viewAddress) != <u8>(at * 7)) check("read: not the bytes written", -1);
  }
  const synced = now();
  if (write) check("sync", fs.sync(file));
  const end = now();
  report(write ? "write" : op == READ ? "read" : op == READ_CALL ? "read-call" : op == VIEW ? "read-view" : op == VIEW_COPIED ? "read-two-copies" : "read-mapped", bytes, call, end - start);
  if (write) {
    // Where a write pass's time went: the calls (into the page cache), and the SYNC that sends it to the disk.
    lineBegin(warmUp ? "fs-bench: warm-up of which the sync " : "fs-bench: of which the sync ");
    lineAddI64(end - synced);
    lineAdd(" ns");
    linePrint();
  }
}

/** Says what the server's page cache holds and did (FS_INFO's words 8 on, docs/FS.md). */
function cacheLine(): void {
  check("info", fs.info(root));
  lineBegin("fs-bench: cache ");
  lineAddU32(msgWord(8));
  lineAdd(" pages (most ");
  lineAddU32(msgWord(16));
  lineAdd("), ");
  lineAddU32(msgWord(9));
  lineAdd(" resident, ");
  lineAddU32(msgWord(10));
  lineAdd(" dirty; ");
  lineAddU32(msgWord(11));
  lineAdd(" hits, ");
  lineAddU32(msgWord(12));
  lineAdd(" misses, ");
  lineAddU32(msgWord(13));
  lineAdd(" blocks read ahead, ");
  lineAddU32(msgWord(14));
  lineAdd(" written back");
  linePrint();
}

if (READS_ONLY) {
  const opened = check("create", fs.open(root, "bench.dat", FS_RIGHT_READ | FS_RIGHT_WRITE | FS_OPEN_CREATE | FS_OPEN_TRUNCATE));
  file = check("attach", fs.attach(opened));
  pass(WRITE, 1 << 20, TOTAL);
  if (READS_MAPPED) {
    mapped = check("attach", fs.attach(opened));
    const mapStart = now();
    check("map", fs.map(mapped));
    report("map-call", fs.maps.pagesOf(mapped) << 12, 1, now() - mapStart);
  }
  for (let round = 1; round <= ROUNDS; round++) {
    warmUp = round == 1;
    pass(READ, 1 << 20, TOTAL);
    pass(VIEW, 1 << 20, TOTAL);
    pass(VIEW_COPIED, 1 << 20, TOTAL);
    if (READS_MAPPED) pass(MAPPED, 1 << 20, TOTAL);
  }
  cacheLine();
  lineBegin("fs-bench: done");
  linePrint();
  exit(0);
}

for (let round = 1; round <= ROUNDS; round++) {
  warmUp = round == 1 && ROUNDS > 1;
  const opened = check("create", fs.open(root, "bench.dat", FS_RIGHT_READ | FS_RIGHT_WRITE | FS_OPEN_CREATE | FS_OPEN_TRUNCATE));
  // Attached (FS_ATTACH): writes and reads of the buffer's size move no Region, only bytes.
  file = check("attach", fs.attach(opened));
  check("sync", fs.sync(file)); // (the truncate's freed blocks committed before the timed writes)
  pass(WRITE, 1 << 20, TOTAL);
  pass(READ, 1 << 20, TOTAL);
  pass(VIEW, 1 << 20, TOTAL);
  // A second attached handle, mapped: the map is made holding what the page cache holds.
  mapped = check("attach", fs.attach(opened));
  check("map", fs.map(mapped));
  pass(MAPPED, 1 << 20, TOTAL);
  pass(WRITE, 4096, 4 << 20);
  // Through the server first (FsClient.read not mapping by itself), then as FsClient.read reads
  // by default: its 4th read maps the file (the map alive already: `mapped` made it) and the rest
  // make no call.
  fs.autoMapAfter = 0;
  pass(READ_CALL, 4096, 4 << 20);
  fs.autoMapAfter = 4;
  pass(READ, 4096, 4 << 20);
  pass(VIEW, 4096, 4 << 20);
  pass(MAPPED, 4096, 4 << 20);
  fs.close(mapped);
  fs.close(file);
  fs.close(opened);
}
cacheLine();
lineBegin("fs-bench: done");
linePrint();
exit(0);
