// The workload of the overwrite crash test (test/fs/crash.test.ts): from round RESUME on, each
// round overwrites a range of /over.dat in place and appends to /log.dat (fs-crash-parts/
// overwrite.ts), through the page cache, syncs, and prints "fs-over: synced R log L" (L: the log's
// size then), until the host is killed. Round 0 first makes both files. A round after a crash is
// done again whole (the test resumes after the last round it saw synced): it writes the same bytes.
// Config: `service w fs-over-writer use=fs memory=512 -- RESUME`.
import { args, exit, eprint, lineBegin, lineAddU32, lineAdd, linePrint } from "../lib";
import { FsClient, fsRoot, fsErrorName, FS_RIGHT_READ, FS_RIGHT_WRITE, FS_OPEN_CREATE, FS_OPEN_TRUNCATE } from "../lib/fs-client";
import { OVER_BYTES, appendLength, baseByte, logByte, roundByte, roundLength, roundStart } from "./fs-crash-parts/overwrite";

const SHARED: i32 = 3;
const MEMORY: i32 = 4;
const fs = new FsClient(MEMORY, 64);
const argv = args();
let round: u32 = argv.length > 1 ? u32.parse(argv[1]) : 0;

function ok(what: string, got: i32): i32 {
  if (got < 0) {
    eprint("fs-over: FAIL: " + what + ": " + fsErrorName(got));
    exit(1);
  }
  return got;
}

ok("buffer", fs.prepare());
const root = ok("root", fsRoot(SHARED, 0));
const fresh = round == 0 ? FS_OPEN_CREATE | FS_OPEN_TRUNCATE : 0;
const over = ok("open /over.dat", fs.open(root, "over.dat", FS_RIGHT_READ | FS_RIGHT_WRITE | fresh));
const log = ok("open /log.dat", fs.open(root, "log.dat", FS_RIGHT_READ | FS_RIGHT_WRITE | fresh));
if (round == 0) {
  for (let at: u32 = 0; at < OVER_BYTES; at += fs.bufferBytes) {
    for (let i: u32 = 0; i < fs.bufferBytes; i++) store<u8>(fs.address + i, baseByte(at + i));
    ok("fill /over.dat", fs.write(over, at, fs.bufferBytes));
  }
  ok("sync", fs.sync(over));
}
for (;;) {
  const start = roundStart(round);
  const length = roundLength(round);
  for (let done: u32 = 0; done < length; ) {
    const piece = min(length - done, fs.bufferBytes);
    for (let i: u32 = 0; i < piece; i++) store<u8>(fs.address + i, roundByte(round, start + done + i));
    ok("overwrite", fs.write(over, start + done, piece));
    done += piece;
  }
  ok("stat /log.dat", fs.stat(log));
  const end = <u32>fs.size;
  const more = appendLength(round);
  for (let i: u32 = 0; i < more; i++) store<u8>(fs.address + i, logByte(end + i));
  ok("append", fs.write(log, end, more));
  ok("sync", fs.sync(over));
  lineBegin("fs-over: synced ");
  lineAddU32(round);
  lineAdd(" log ");
  lineAddU32(end + more);
  linePrint();
  round++;
}
