// The workload of the rename crash test (test/fs/crash.test.ts): round after round, one file of
// /ren moves to the other directory under a new name (one RENAME across directories, through a
// token), a hard link of another is made or removed, and a scratch file is unlinked while it is
// open (an orphan the next mount frees); every fourth round syncs and says "fs-ren: synced N".
// Until the host is killed. fs-rename-check verifies what a crash left. It carries on from what
// is on the disk. Config: `service w fs-rename-writer use=fs memory=512`.
import { exit, print, eprint, lineBegin, lineAdd, lineAddU32, linePrint } from "../lib";
import {
  FsClient, fsRoot, fsErrorName, FS_RIGHT_WRITE, FS_RIGHTS_ALL, FS_OPEN_CREATE, FS_OPEN_TRUNCATE, FS_OPEN_DIRECTORY,
  FS_E_NOT_FOUND, FS_E_EXISTS, direntName, direntNameLength, direntNext,
} from "../lib/fs-client";
import { FILES, content, fileOf, generation, linkOf } from "./fs-crash-parts/renames";

const SHARED: i32 = 3;
const MEMORY: i32 = 4;
const fs = new FsClient(MEMORY, 4);
const scratch: usize = memory.data(64);
/** Where each file is: 0 /ren/a, 1 /ren/b; and its name there. */
const side = new StaticArray<i32>(<i32>FILES);
const names = new Array<string>(<i32>FILES);
const linked = new StaticArray<bool>(<i32>FILES);

function ok(what: string, got: i32): i32 {
  if (got < 0) {
    eprint("fs-ren: FAIL: " + what + ": " + fsErrorName(got));
    exit(1);
  }
  return got;
}

function openDir(dir: i32, path: string): i32 {
  const found = fs.open(dir, path, FS_RIGHTS_ALL | FS_OPEN_DIRECTORY);
  if (found != FS_E_NOT_FOUND) return ok("open " + path, found);
  ok("mkdir " + path, fs.mkdir(dir, path));
  return ok("open " + path, fs.open(dir, path, FS_RIGHTS_ALL | FS_OPEN_DIRECTORY));
}

ok("buffer", fs.prepare());
const root = ok("root", fsRoot(SHARED, 0));
const ren = openDir(root, "ren");
const dirs: i32[] = [openDir(ren, "a"), openDir(ren, "b")];
for (let k: u32 = 0; k < FILES; k++) unchecked((side[k] = -1));
let round: u32 = 1;
for (let d = 0; d < 2; d++) {
  let cookie: u32 = 0;
  for (;;) {
    const n = ok("readdir", fs.readdir(dirs[d], cookie));
    if (n == 0) break;
    let at = fs.address;
    for (let i = 0; i < n; i++) {
      const k = fileOf(direntName(at), direntNameLength(at));
      if (k >= 0) {
        unchecked((side[k] = d));
        names[k] = String.UTF8.decodeUnsafe(direntName(at), direntNameLength(at));
        if (generation >= round) round = generation + 1;
      }
      const h = linkOf(direntName(at), direntNameLength(at));
      if (h >= 0) unchecked((linked[h] = true));
      at = direntNext(at);
    }
    cookie = fs.cookie;
  }
}
for (let k: u32 = 0; k < FILES; k++) {
  if (unchecked(side[k]) >= 0) continue;
  const name = "f" + k.toString();
  const file = ok("create " + name, fs.open(dirs[0], name, FS_RIGHTS_ALL | FS_OPEN_CREATE | FS_OPEN_TRUNCATE));
  const text = content(k);
  const n = String.UTF8.encodeUnsafe(changetype<usize>(text), text.length, scratch);
  ok("write " + name, fs.writeInline(file, 0, scratch, <u32>n));
  ok("close", fs.close(file));
  unchecked((side[k] = 0));
  names[k] = name;
}
ok("sync", fs.sync(root));
lineBegin("fs-ren: starting at round ");
lineAddU32(round);
linePrint();
let held: i32 = 0;
for (;;) {
  const k = round % FILES;
  const from = unchecked(side[k]);
  const to = 1 - from;
  const name = "f" + k.toString() + ".g" + round.toString();
  ok("rename " + names[k] + " to " + name, fs.renameTo(dirs[from], names[k], dirs[to], name));
  unchecked((side[k] = to));
  names[k] = name;
  const h = (round * 7) % FILES;
  const link = "h" + h.toString();
  if (unchecked(linked[h])) {
    const status = fs.unlink(dirs[0], link);
    if (status != FS_E_NOT_FOUND) ok("unlink " + link, status);
    unchecked((linked[h] = false));
  } else {
    const status = fs.link(dirs[unchecked(side[h])], names[h], dirs[0], link);
    if (status != FS_E_EXISTS) ok("link " + link, status);
    unchecked((linked[h] = true));
  }
  // An orphan: a scratch file unlinked while a handle holds it, closed a round later.
  if (held > 0) ok("close the orphan", fs.close(held));
  held = ok("scratch", fs.open(ren, "scratch", FS_RIGHT_WRITE | FS_OPEN_CREATE | FS_OPEN_TRUNCATE));
  ok("fill it", fs.writeInline(held, 0, scratch, 40));
  ok("unlink it open", fs.unlink(ren, "scratch"));
  if (round % 4 == 0) {
    ok("sync", fs.sync(root));
    lineBegin("fs-ren: synced ");
    lineAddU32(round);
    linePrint();
  }
  round++;
}
print("unreachable");
