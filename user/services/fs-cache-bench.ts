// Measures the file system's page cache (docs/FS.md "The page cache") through the whole stack:
// random 4 KiB reads of a file the cache holds (through an attached handle, and through a mapped
// one: FsClient.map, no call), and of one it does not (a FS_OPEN_DIRECT handle: every read goes to
// the disk); a file read in 4 KiB calls from start to end that the cache does
// not hold, with read-ahead, and the same through a direct handle (no read-ahead). Prints
// "fs-cache-bench: NAME BYTES in CALL calls: NS ns" per test, then "fs-cache-bench: done"
// (bench/fs-throughput.ts reads them). With `cached-only` after READS (bench/fs-profile.ts) it stops
// after the cached reads and instead runs, five times over, the cached file warm: start to end,
// at random through `read`, `readView` and a mapped handle, STATs, 1 MiB reads both ways, random 4 KiB writes and a
// SYNC. Config:
//   service bench fs-cache-bench use=fs memory=512 [-- READS [cached-only]]
import { args, exit, now, sleep, lineBegin, lineAdd, lineAddI64, lineAddU32, linePrint, msgWord, STDERR } from "../lib";
import {
  FsClient, fsRoot, fsErrorName, FS_RIGHT_READ, FS_RIGHT_WRITE, FS_OPEN_CREATE, FS_OPEN_TRUNCATE, FS_OPEN_DIRECT,
} from "../lib/fs-client";

const SHARED: i32 = 3;
const MEMORY: i32 = 4;
const FILE: u32 = 4 << 20;
const CALL: u32 = 4096;
const argv = args();
const READS: u32 = argv.length > 1 ? u32.parse(argv[1]) : 4096;
/** `cached-only`: stop after the cached reads (for a profile of the cached path alone). */
const CACHED_ONLY = argv.length > 2 && argv[2] == "cached-only";
/**
 * `cpu`: phases of READS cached 4 KiB reads (`read` through the server, `readView`, `read` of a
 * plain handle that FsClient.read mapped by itself: "read-auto") and STATs, each between a line
 * "phase NAME" and "phase-end" with a pause on both sides, for the host to read its own CPU
 * time around each (bench/fs-read-cpu.ts): CPU time, unlike the clock, does not count the
 * moments another process on a shared machine takes.
 */
const CPU_PHASES = argv.length > 2 && (argv[2] == "cpu" || argv[2] == "cpu-read");
/** `cpu-read`: every phase reads through `read` (for a profile of that path alone). */
const CPU_READS_ONLY = argv.length > 2 && argv[2] == "cpu-read";
const fs = new FsClient(MEMORY, 256);
// Every figure here is of the call path, or of a map asked for, unless it says otherwise:
// FsClient.read does not map the handles it reads by itself (see `auto` below).
fs.autoMapAfter = 0;
/** What FsClient.read does by default: the file mapped by itself at the handle's 4th read through the server. */
const AUTO_MAP_READS: i32 = 4;

function check(what: string, status: i32): i32 {
  if (status >= 0) return status;
  lineBegin("fs-cache-bench: ");
  lineAdd(what);
  lineAdd(": ");
  lineAdd(fsErrorName(status));
  linePrint(STDERR);
  exit(1);
  return status;
}

function report(name: string, bytes: u64, ns: i64): void {
  lineBegin("fs-cache-bench: ");
  lineAdd(name);
  lineAdd(" ");
  lineAddI64(<i64>bytes);
  lineAdd(" in ");
  lineAddU32(CALL);
  lineAdd(" calls: ");
  lineAddI64(ns);
  lineAdd(" ns");
  linePrint();
}

/** Writes FILE bytes to `name` (through a direct handle: nothing of it stays cached) and syncs. */
function make(name: string, direct: bool): void {
  const flags = FS_RIGHT_READ | FS_RIGHT_WRITE | FS_OPEN_CREATE | FS_OPEN_TRUNCATE | (direct ? FS_OPEN_DIRECT : 0);
  const file = check(name, fs.open(root, name, flags));
  for (let at: u32 = 0; at < FILE; at += fs.bufferBytes) check(name, fs.write(file, <u64>at, fs.bufferBytes));
  check(name, fs.sync(file));
  fs.close(file);
}

let seed: u32 = 12345;
function nextBlock(): u32 {
  seed = seed * 1103515245 + 12345;
  return (seed >>> 8) % (FILE / CALL);
}

/** `READS` reads of 4 KiB at random block offsets; checks one byte of each. */
function random(name: string, file: i32): void {
  const what = "read " + name; // (made once: the stub runtime never frees)
  const start = now();
  for (let i: u32 = 0; i < READS; i++) {
    const block = nextBlock();
    check(what, fs.read(file, <u64>block * CALL, CALL));
    if (load<u8>(fs.address) != <u8>(block * CALL * 7)) check(what + ": wrong bytes", -1);
  }
  report(name, <u64>READS * CALL, now() - start);
}

/** The whole file in 4 KiB calls, start to end. */
function sequential(name: string, file: i32): void {
  const what = "read " + name;
  const start = now();
  for (let at: u32 = 0; at < FILE; at += CALL) check(what, fs.read(file, <u64>at, CALL));
  report(name, <u64>FILE, now() - start);
}

check("buffer", fs.prepare());
for (let i: u32 = 0; i < fs.bufferBytes; i++) store<u8>(fs.address + i, <u8>(i * 7));
const root = check("root", fsRoot(SHARED, 0));

// Cached: written through the cache, read once whole, then at random.
make("cached.dat", false);
const opened = check("open", fs.open(root, "cached.dat", FS_RIGHT_READ));
// Attached (FS_ATTACH): reads move no Region, so a cached read is one round trip and two copies.
const cached = check("attach", fs.attach(opened));
sequential("warm-up", cached);
sequential("sequential-cached", cached);
// A call that moves no data: what a round trip costs, for what a read adds to it. Three passes of
// each (bench/fs-throughput.ts takes the fastest: the machine may be shared with other work).
for (let pass = 0; pass < 3; pass++) {
  const statStart = now();
  for (let i: u32 = 0; i < READS; i++) check("stat", fs.stat(cached));
  report("stat", <u64>READS * CALL, now() - statStart);
  random("random-cached", cached);
}
// A plain handle read by FsClient.read as any program would: mapped by itself at its 4th read.
const auto = check("open", fs.open(root, "cached.dat", FS_RIGHT_READ));
fs.autoMapAfter = AUTO_MAP_READS;
for (let pass = 0; pass < 3; pass++) random("random-auto", auto);
fs.autoMapAfter = 0;
if (fs.maps.addressOf(auto) == 0) check("read-auto: FsClient.read did not map the file", -1);
if (CPU_PHASES) {
  for (let pass = 0; pass < 5; pass++) {
    for (let phase = 0; phase < 4; phase++) {
      const kind = CPU_READS_ONLY ? 0 : phase;
      lineBegin("fs-cache-bench: phase ");
      lineAdd(kind == 0 ? "read" : kind == 1 ? "view" : kind == 2 ? "stat" : "read-auto");
      linePrint();
      sleep(40_000_000); // the host looks every 5 ms
      for (let i: u32 = 0; i < READS; i++) {
        const block = nextBlock();
        if (kind == 0) check("read", fs.read(cached, <u64>block * CALL, CALL));
        else if (kind == 1) check("read", fs.readView(cached, <u64>block * CALL, CALL));
        else if (kind == 2) check("stat", fs.stat(cached));
        else check("read", fs.read(auto, <u64>block * CALL, CALL));
      }
      lineBegin("fs-cache-bench: phase-end");
      linePrint();
      sleep(40_000_000);
    }
  }
  lineBegin("fs-cache-bench: done");
  linePrint();
  exit(0);
}
// Mapped (FS_MAP): the same random reads answered from the file's map, with no call (docs/FS.md "Mapped reads").
const mapped = check("attach", fs.attach(check("open", fs.open(root, "cached.dat", FS_RIGHT_READ))));
check("map", fs.map(mapped));
for (let pass = 0; pass < 3; pass++) random("random-mapped", mapped);
if (CACHED_ONLY) {
  // Writes too, into pages the cache holds (a handle that may write), synced at the end of each pass.
  const writable = check("attach", fs.attach(check("open", fs.open(root, "cached.dat", FS_RIGHT_READ | FS_RIGHT_WRITE))));
  // The same passes again, warm: what a long-running reader sees.
  for (let i = 0; i < 5; i++) {
    sequential("sequential-cached-again", cached);
    random("random-cached-again", cached);
    const viewed = now();
    for (let k: u32 = 0; k < READS; k++) {
      const block = nextBlock();
      check("read", fs.readView(cached, <u64>block * CALL, CALL));
      if (load<u8>(fs.viewAddress) != <u8>(block * CALL * 7)) check("read: wrong bytes", -1);
    }
    report("random-view", <u64>READS * CALL, now() - viewed);
    random("random-mapped-again", mapped);
    const again = now();
    for (let k: u32 = 0; k < READS; k++) check("stat", fs.stat(cached));
    report("stat-again", <u64>READS * CALL, now() - again);
    // 1 MiB calls: the file 16 times over.
    const big = now();
    for (let k = 0; k < 16; k++) {
      for (let at: u32 = 0; at < FILE; at += fs.bufferBytes) check("read 1 MiB", fs.read(cached, <u64>at, fs.bufferBytes));
    }
    report("big-cached", <u64>FILE * 16 / 256, now() - big); // (per 4 KiB of it, as the other lines)
    const bigView = now();
    for (let k = 0; k < 16; k++) {
      for (let at: u32 = 0; at < FILE; at += fs.bufferBytes) check("read 1 MiB", fs.readView(cached, <u64>at, fs.bufferBytes));
    }
    report("big-view", <u64>FILE * 16 / 256, now() - bigView);
    const writes = now();
    for (let k: u32 = 0; k < READS; k++) {
      const block = nextBlock();
      store<u8>(fs.address, <u8>(block * CALL * 7)); // (the bytes the file holds there already)
      check("write", fs.write(writable, <u64>block * CALL, CALL));
    }
    report("write-cached", <u64>READS * CALL, now() - writes);
    const synced = now();
    check("sync", fs.sync(writable));
    report("sync-after", <u64>CALL, now() - synced);
  }
  lineBegin("fs-cache-bench: done");
  linePrint();
  exit(0);
}
// Not cached: written and read through direct handles (attached too, so only the cache differs).
make("direct.dat", true);
const direct = check("attach", fs.attach(check("open", fs.open(root, "direct.dat", FS_RIGHT_READ | FS_OPEN_DIRECT))));
random("random-uncached", direct);
// From start to end, not cached: through the cache (read-ahead), and through a direct handle.
make("ahead.dat", true);
const ahead = check("attach", fs.attach(check("open", fs.open(root, "ahead.dat", FS_RIGHT_READ))));
sequential("sequential-read-ahead", ahead);
sequential("sequential-uncached", direct);
// What the server's page cache holds and did (FS_INFO's words 8 on).
check("info", fs.info(root));
lineBegin("fs-cache-bench: cache ");
for (let i = 8; i <= 16; i++) {
  lineAddU32(msgWord(i));
  lineAdd(" ");
}
linePrint();
lineBegin("fs-cache-bench: done");
linePrint();
exit(0);
