// Fills the file system (for measuring fsck and mount on a full disk): 64 directories, and files
// of 1 to 64 KiB in them (with `-- big`, 64 KiB to 1 MiB), with a hard link or a symbolic link
// every tenth, until the disk or the inode table is full; then syncs and prints "fs-fill: N files,
// B bytes, L links". Config: `service fill fs-fill use=fs memory=512`.
import { args, exit, print, eprint } from "../lib";
import {
  FsClient, fsRoot, fsErrorName, FS_RIGHT_WRITE, FS_RIGHTS_ALL, FS_OPEN_CREATE, FS_OPEN_DIRECTORY, FS_E_NO_SPACE,
} from "../lib/fs-client";

const SHARED: i32 = 3;
const MEMORY: i32 = 4;
const big = args().length > 1 && args()[1] == "big";
const fs = new FsClient(MEMORY, 256);
const root = fsRoot(SHARED, 0);
if (root < 0) {
  eprint("fs-fill: FAIL: root: " + fsErrorName(root));
  exit(1);
}
if (fs.prepare() < 0) {
  eprint("fs-fill: FAIL: no buffer");
  exit(1);
}
for (let i: u32 = 0; i < fs.bufferBytes; i++) store<u8>(fs.address + i, <u8>(i * 7));
const dirs = new StaticArray<i32>(64);
for (let d = 0; d < 64; d++) {
  const name = "fill" + d.toString();
  fs.mkdir(root, name);
  unchecked((dirs[d] = fs.open(root, name, FS_RIGHTS_ALL | FS_OPEN_DIRECTORY)));
}
let files: u32 = 0;
let bytes: u64 = 0;
let links: u32 = 0;
let seed: u32 = 12345;
for (;;) {
  seed = seed * 1103515245 + 12345;
  const dir = unchecked(dirs[files % 64]);
  const name = "f" + files.toString();
  const file = fs.open(dir, name, FS_RIGHT_WRITE | FS_OPEN_CREATE);
  if (file < 0) break;
  const size: u32 = big ? (64 << 10) + (seed >> 8) % (960 << 10) : 1024 + (seed >> 8) % (63 << 10);
  const n = fs.write(file, 0, size);
  fs.close(file);
  if (n < 0 || <u32>n < size) break; // full
  files++;
  bytes += size;
  if (files % 10 == 0) {
    const linked = (files / 10) % 2 == 0 ? fs.link(dir, name, unchecked(dirs[(files + 1) % 64]), "h" + files.toString()) : fs.symlink(dir, name, "s" + files.toString());
    if (linked == FS_E_NO_SPACE) break;
    if (linked >= 0) links++;
  }
}
fs.sync(root);
print("fs-fill: " + files.toString() + " files, " + bytes.toString() + " bytes, " + links.toString() + " links");
exit(0);
