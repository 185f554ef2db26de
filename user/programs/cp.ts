// cp FROM TO: copies file FROM to TO (made, or emptied first), 64 KiB a call, and syncs it; FROM
// and TO the same file is refused (it would be emptied).
import { args, eprint, exit } from "../lib";
import { FS_RIGHT_READ, FS_RIGHT_WRITE, FS_OPEN_CREATE, FS_OPEN_TRUNCATE, FS_KIND_DIR, FS_E_IS_DIR } from "../lib/fs-client";
import { base, within, client, fail, workingDirectory, BUFFER_PAGES } from "./tool-parts/files";
import { visible } from "./tool-parts/visible";

const argv = args();
if (argv.length != 3) {
  eprint("usage: cp FROM TO");
  exit(2);
}
workingDirectory("cp");
const fs = client();
const from = fs.open(base(argv[1]), within(argv[1]), FS_RIGHT_READ);
if (from < 0) fail("cp", visible(argv[1]), from);
if (fs.kind == FS_KIND_DIR) fail("cp", visible(argv[1]), FS_E_IS_DIR);
// Copying a file onto itself would empty it first (TO is truncated): refuse, as cp(1) does.
// (Hard links of one file are the same file too: the same inode.)
const fromInode = fs.inode;
const existing = fs.open(base(argv[2]), within(argv[2]), FS_RIGHT_READ);
if (existing >= 0) {
  const same = fs.inode == fromInode;
  fs.close(existing);
  if (same) {
    eprint("cp: " + visible(argv[1]) + " and " + visible(argv[2]) + " are the same file");
    exit(1);
  }
}
const to = fs.open(base(argv[2]), within(argv[2]), FS_RIGHT_WRITE | FS_OPEN_CREATE | FS_OPEN_TRUNCATE);
if (to < 0) fail("cp", visible(argv[2]), to);
const chunk = BUFFER_PAGES << 12;
let offset: u64 = 0;
for (;;) {
  const n = fs.read(from, offset, chunk);
  if (n < 0) fail("cp", "reading " + visible(argv[1]), n);
  if (n == 0) break;
  const w = fs.write(to, offset, <u32>n);
  if (w < 0) fail("cp", "writing " + visible(argv[2]), w);
  offset += <u64>n;
}
const synced = fs.sync(to);
if (synced < 0) fail("cp", "syncing " + visible(argv[2]), synced);
fs.close(from);
fs.close(to);
