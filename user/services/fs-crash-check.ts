// After a crash (test/fs/crash.test.ts): every /crash/rN.dat must hold exactly round N's bytes
// (a file is renamed to .dat only once all of it is written, so no state the journal can commit
// has a partial one). Prints "fs-crash-check: rounds N N ..." and "fs-crash-check: all intact",
// or "fs-crash-check: FAIL: ...". Config: `service c fs-crash-check use=fs memory=512`.
import { exit, print, eprint, lineBegin, lineAdd, lineAddBytes, lineAddU32, linePrint } from "../lib";
import {
  FsClient, fsRoot, fsErrorName, FS_RIGHT_READ, FS_OPEN_DIRECTORY, direntName, direntNameLength, direntNext,
} from "../lib/fs-client";
import { crashFileSize, crashByte, roundOf, isDat } from "./fs-crash-parts/pattern";

const SHARED: i32 = 3;
const MEMORY: i32 = 4;
const fs = new FsClient(MEMORY, 256);
const rounds = new StaticArray<i32>(4096);

function ok(what: string, got: i32): i32 {
  if (got < 0) {
    eprint("fs-crash-check: FAIL: " + what + ": " + fsErrorName(got));
    exit(1);
  }
  return got;
}

ok("buffer", fs.prepare());
const root = ok("root", fsRoot(SHARED, 1));
const dir = ok("open crash", fs.open(root, "crash", FS_RIGHT_READ | FS_OPEN_DIRECTORY));
let count = 0;
let cookie: u32 = 0;
lineBegin("fs-crash-check: names");
for (;;) {
  const n = ok("readdir", fs.readdir(dir, cookie));
  if (n == 0) break;
  let at = fs.address;
  for (let i = 0; i < n; i++) {
    const round = roundOf(direntName(at), direntNameLength(at));
    if (round >= 0 && isDat(direntName(at), direntNameLength(at)) && count < 4096) unchecked((rounds[count++] = round));
    lineAdd(" ");
    lineAddBytes(direntName(at), direntNameLength(at));
    at = direntNext(at);
  }
  cookie = fs.cookie;
}
linePrint();
lineBegin("fs-crash-check: rounds");
for (let i = 0; i < count; i++) {
  lineAdd(" ");
  lineAddU32(<u32>unchecked(rounds[i]));
}
linePrint();
for (let k = 0; k < count; k++) {
  const round = <u32>unchecked(rounds[k]);
  const name = "r" + round.toString() + ".dat";
  const file = ok("open " + name, fs.open(dir, name, FS_RIGHT_READ));
  const size = crashFileSize(round);
  if (fs.size != <u64>size) {
    eprint("fs-crash-check: FAIL: " + name + " has " + fs.size.toString() + " bytes, not " + size.toString());
    exit(1);
  }
  for (let done: u32 = 0; done < size; ) {
    const piece = min(size - done, fs.bufferBytes);
    ok("read " + name, fs.read(file, <u64>done, piece));
    for (let i: u32 = 0; i < piece; i++) {
      if (load<u8>(fs.address + i) != crashByte(round, done + i)) {
        eprint("fs-crash-check: FAIL: " + name + " differs at byte " + (done + i).toString());
        exit(1);
      }
    }
    done += piece;
  }
  ok("close", fs.close(file));
}
print("fs-crash-check: all intact");
exit(0);
