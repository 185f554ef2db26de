// Mounting: the superblock, formatting a disk that has none, replaying the journal, counting
// what is free. Formatting writes the areas directly (zeroed journal header, bitmap and inode
// table), then the bitmap's marks and the root directory through the journal, and the superblock
// last: a format cut short leaves no superblock, and the next boot formats again.
import { wallClock, E_INVALID_ARGUMENT } from "../../lib";
import { FS_E_IO } from "../../lib/fs-protocol";
import {
  BLOCK_BYTES, I_CREATED_AT, I_KIND_AT, I_MODIFIED_AT, I_PARENT_AT, INODE_BYTES, INODES_PER_BLOCK, KIND_DIR, KIND_FREE,
  ROOT_INODE, planLayout, readSuperblock, writeSuperblock,
} from "./format";
import { MAX_BITMAP_BLOCKS } from "./bitmap";
import { Volume } from "./volume";

const block: usize = memory.data(<i32>BLOCK_BYTES, <i32>BLOCK_BYTES);
/** Blocks a volume may have: the committed bitmap's room (4 GiB). */
const MAX_BLOCKS: u64 = <u64>MAX_BITMAP_BLOCKS * BLOCK_BYTES * 8;

export class MountReport {
  formatted: bool = false;
  /** Why the disk was formatted (what was wrong with its superblock). */
  why: string = "";
  replayed: u32 = 0;
  /** The step that failed, "" when mounted. */
  failed: string = "";
  status: i32 = 0;
}

/** Mounts the volume's disk (formatting it if it holds no file system): the report says how it went. */
export function mount(volume: Volume, report: MountReport): void {
  const disk = volume.disk;
  const blocks = min(disk.blocks, MAX_BLOCKS);
  let status = disk.read(0, 1, block);
  if (status < 0) return fail(report, "read the superblock", status);
  const why = readSuperblock(block, volume.layout, blocks);
  if (why.length > 0) {
    report.formatted = true;
    report.why = why;
    status = format(volume, <u32>blocks);
    if (status < 0) return fail(report, "format the disk", status);
  }
  status = volume.journal.replay();
  if (status < 0) return fail(report, "replay the journal", status);
  report.replayed = volume.journal.replayed;
  if (volume.bitmap.snapshot(true) < 0) return fail(report, "read the bitmap", FS_E_IO);
  status = countFreeInodes(volume);
  if (status < 0) return fail(report, "read the inode table", status);
}

function fail(report: MountReport, step: string, status: i32): void {
  report.failed = step;
  report.status = status;
}

function format(volume: Volume, blocks: u32): i32 {
  const layout = volume.layout;
  if (!planLayout(layout, blocks)) return E_INVALID_ARGUMENT; // too small
  const disk = volume.disk;
  let status = disk.zero(0, 1); // no superblock until the end
  if (status >= 0) status = disk.zero(<u64>layout.journal, 1);
  if (status >= 0) status = disk.zero(<u64>layout.bitmap, layout.bitmapBlocks);
  if (status >= 0) status = disk.zero(<u64>layout.inodes, layout.inodeBlocks);
  if (status >= 0) status = disk.flush();
  if (status < 0) return status;
  volume.cache.beginOperation();
  for (let b: u32 = 0; b < layout.data; b++) volume.bitmap.mark(b);
  const root = volume.inode(ROOT_INODE);
  if (root == 0) return volume.status;
  memory.fill(root, 0, INODE_BYTES);
  const t = wallClock();
  store<u32>(root + I_KIND_AT, KIND_DIR);
  store<u32>(root + I_PARENT_AT, ROOT_INODE);
  store<i64>(root + I_CREATED_AT, t);
  store<i64>(root + I_MODIFIED_AT, t);
  volume.touch(root);
  status = volume.journal.commit();
  if (status < 0) return status;
  memory.fill(block, 0, BLOCK_BYTES);
  writeSuperblock(block, layout, t);
  status = disk.write(0, 1, block);
  if (status < 0) return status;
  return disk.flush();
}

function countFreeInodes(volume: Volume): i32 {
  const layout = volume.layout;
  let free: u32 = 0;
  for (let b: u32 = 0; b < layout.inodeBlocks; b++) {
    volume.cache.beginOperation();
    const at = volume.cache.get(layout.inodes + b);
    if (at == 0) return FS_E_IO;
    for (let i: u32 = 0; i < INODES_PER_BLOCK; i++) {
      const ino = b * INODES_PER_BLOCK + i;
      if (ino == 0) continue;
      if (load<u32>(at + <usize>(i * INODE_BYTES) + I_KIND_AT) == KIND_FREE) free++;
    }
  }
  volume.freeInodes = free;
  return 0;
}
