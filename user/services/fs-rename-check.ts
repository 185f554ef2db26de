// After a crash (test/fs/crash.test.ts, renames): every file of /ren has exactly one name "fK"
// or "fK.gN" in /ren/a or /ren/b — a rename left it where it was or where it went, never under
// both names nor none — holding "file K", and each hard link "hK" in /ren/a is the same file as
// fK. Prints "fs-rename-check: all intact", or "fs-rename-check: FAIL: ...".
// Config: `service c fs-rename-check use=fs memory=512`.
import { exit, print, eprint } from "../lib";
import {
  FsClient, fsRoot, fsErrorName, FS_RIGHT_READ, FS_OPEN_DIRECTORY, direntName, direntNameLength, direntNext,
} from "../lib/fs-client";
import { FILES, content, fileOf, linkOf } from "./fs-crash-parts/renames";

const SHARED: i32 = 3;
const MEMORY: i32 = 4;
const fs = new FsClient(MEMORY, 4);
const scratch: usize = memory.data(64);
const count = new StaticArray<i32>(<i32>FILES);
const inodes = new StaticArray<u32>(<i32>FILES);

function ok(what: string, got: i32): i32 {
  if (got < 0) failed(what + ": " + fsErrorName(got));
  return got;
}

function failed(why: string): void {
  eprint("fs-rename-check: FAIL: " + why);
  exit(1);
}

ok("buffer", fs.prepare());
const root = ok("root", fsRoot(SHARED, 1));
const dirs: i32[] = [ok("open a", fs.open(root, "ren/a", FS_RIGHT_READ | FS_OPEN_DIRECTORY)), ok("open b", fs.open(root, "ren/b", FS_RIGHT_READ | FS_OPEN_DIRECTORY))];
const links = new Array<string>();
for (let d = 0; d < 2; d++) {
  const found = new Array<string>();
  let cookie: u32 = 0;
  for (;;) {
    const n = ok("readdir", fs.readdir(dirs[d], cookie));
    if (n == 0) break;
    let at = fs.address;
    for (let i = 0; i < n; i++) {
      found.push(String.UTF8.decodeUnsafe(direntName(at), direntNameLength(at)));
      at = direntNext(at);
    }
    cookie = fs.cookie;
  }
  for (let i = 0; i < found.length; i++) {
    const bytes = String.UTF8.encode(found[i]);
    const k = fileOf(changetype<usize>(bytes), <u32>bytes.byteLength);
    if (k >= 0) {
      unchecked((count[k] = count[k] + 1));
      const file = ok("open " + found[i], fs.open(dirs[d], found[i], FS_RIGHT_READ));
      unchecked((inodes[k] = fs.inode));
      const n = ok("read " + found[i], fs.readInline(file, 0, scratch, 60));
      if (String.UTF8.decodeUnsafe(scratch, <usize>n) != content(<u32>k)) failed(found[i] + " does not hold \"" + content(<u32>k) + "\"");
      fs.close(file);
    } else if (d == 0 && linkOf(changetype<usize>(bytes), <u32>bytes.byteLength) >= 0) links.push(found[i]);
  }
}
for (let k: u32 = 0; k < FILES; k++) {
  if (unchecked(count[k]) != 1) failed("file " + k.toString() + " has " + unchecked(count[k]).toString() + " names");
}
for (let i = 0; i < links.length; i++) {
  const bytes = String.UTF8.encode(links[i]);
  const k = linkOf(changetype<usize>(bytes), <u32>bytes.byteLength);
  const file = ok("open " + links[i], fs.open(dirs[0], links[i], FS_RIGHT_READ));
  if (fs.inode != unchecked(inodes[k])) failed(links[i] + " is not the file f" + k.toString());
  fs.close(file);
}
print("fs-rename-check: all intact");
exit(0);
