// The workload of the crash tests (test/fs/crash.test.ts): rounds of file system changes, each
// ending with a sync and "fs-crash: synced N", until the host is killed. Round N writes
// /crash/rN.tmp (size and bytes from N, through the 1 MiB buffer), renames it to rN.dat, removes
// r(N-3).dat, and makes or removes a directory. It carries on after the highest round already on
// the disk. fs-crash-check verifies what a crash left. Config: `service w fs-crash-writer use=fs memory=512`.
import { exit, print, eprint, lineBegin, lineAdd, lineAddU32, linePrint } from "../lib";
import {
  FsClient, fsRoot, fsErrorName, FS_RIGHT_WRITE, FS_RIGHTS_ALL, FS_OPEN_CREATE, FS_OPEN_TRUNCATE, FS_OPEN_DIRECTORY,
  FS_E_NOT_FOUND, direntName, direntNameLength, direntNext,
} from "../lib/fs-client";
import { crashFileSize, crashByte, roundOf } from "./fs-crash-parts/pattern";

const SHARED: i32 = 3;
const MEMORY: i32 = 4;
const fs = new FsClient(MEMORY, 256);

function ok(what: string, got: i32): i32 {
  if (got < 0) {
    eprint("fs-crash: FAIL: " + what + ": " + fsErrorName(got));
    exit(1);
  }
  return got;
}

ok("buffer", fs.prepare());
const root = ok("root", fsRoot(SHARED, 0));
if (fs.open(root, "crash", FS_RIGHTS_ALL | FS_OPEN_DIRECTORY) == FS_E_NOT_FOUND) ok("mkdir crash", fs.mkdir(root, "crash"));
const dir = ok("open crash", fs.open(root, "crash", FS_RIGHTS_ALL | FS_OPEN_DIRECTORY));
let highest: i32 = -1;
let cookie: u32 = 0;
for (;;) {
  const n = ok("readdir", fs.readdir(dir, cookie));
  if (n == 0) break;
  let at = fs.address;
  for (let i = 0; i < n; i++) {
    const round = roundOf(direntName(at), direntNameLength(at));
    if (round > highest) highest = round;
    at = direntNext(at);
  }
  cookie = fs.cookie;
}
let round = <u32>(highest + 1);
lineBegin("fs-crash: starting at round ");
lineAddU32(round);
linePrint();
for (;;) {
  const tmp = "r" + round.toString() + ".tmp"; // allocates a little per round: a few bytes in a run of thousands
  const file = ok("create", fs.open(dir, tmp, FS_RIGHT_WRITE | FS_OPEN_CREATE | FS_OPEN_TRUNCATE));
  const size = crashFileSize(round);
  for (let done: u32 = 0; done < size; ) {
    const piece = min(size - done, fs.bufferBytes);
    for (let i: u32 = 0; i < piece; i++) store<u8>(fs.address + i, crashByte(round, done + i));
    ok("write", fs.write(file, <u64>done, piece));
    done += piece;
  }
  ok("close", fs.close(file));
  ok("rename", fs.rename(dir, tmp, "r" + round.toString() + ".dat"));
  if (round >= 3) {
    const status = fs.unlink(dir, "r" + (round - 3).toString() + ".dat");
    if (status != FS_E_NOT_FOUND) ok("unlink", status);
  }
  const sub = "d" + (round % 3).toString();
  if (fs.mkdir(dir, sub) < 0) ok("rmdir", fs.unlink(dir, sub));
  ok("sync", fs.sync(dir));
  lineBegin("fs-crash: synced ");
  lineAddU32(round);
  linePrint();
  round++;
}
