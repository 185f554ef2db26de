// Making a file system, and telling a blank disk from one that holds something. The server
// formats only a blank disk (every block zero: nothing on it to lose) or one it was asked to
// format (`dogma boot --format`); mount.ts decides, docs/FS.md "Which disks are formatted" says why.
//
// Format zeroes both superblocks first (so a format cut short leaves none, and no old backup can
// stand in for it), then the journal header, bitmap and inode table; commits the bitmap's marks and
// the root directory through the journal; and writes the superblock last, primary then backup.
import { wallClock, E_INVALID_ARGUMENT } from "../../lib";
import { Disk, RUN_BLOCKS } from "./disk";
import {
  BLOCK_BYTES, BLOCK_SHIFT, I_ACCESSED_AT, I_CHANGED_AT, I_CREATED_AT, I_KIND_AT, I_LINKS_AT, I_MODIFIED_AT,
  I_PARENT_AT, INODE_BYTES, KIND_DIR, ROOT_INODE, SB_VERSION, isZero, journalSlotAt, journalSlots, planLayout,
} from "./format";
import { write as writeSuperblocks } from "./superblock";
import { Volume } from "./volume";

const run: usize = memory.data(<i32>(RUN_BLOCKS * BLOCK_BYTES), <i32>BLOCK_BYTES);

/**
 * Whether the first `blocks` blocks of the disk are all zero: 1 blank, 0 not (it stops at the first
 * block that is not), or a status. Reads only.
 */
export function isBlank(disk: Disk, blocks: u64): i32 {
  for (let at: u64 = 0; at < blocks; ) {
    const count = <u32>min(<u64>RUN_BLOCKS, blocks - at);
    const status = disk.read(at, count, run);
    if (status < 0) return status;
    if (!isZero(run, <usize>count << BLOCK_SHIFT)) return 0;
    at += count;
  }
  return 1;
}

/**
 * Formats the volume's disk as `blocks` blocks. `request` is the format request it answers (0:
 * none), kept in the superblock so that a server restarted in the same boot does not format again;
 * `flags` the superblock's first flags (SB_FLAG_INSTALL_PENDING when the boot modules are to be
 * installed). 0 or a status.
 */
export function format(volume: Volume, blocks: u32, request: u64, flags: u32): i32 {
  const layout = volume.layout;
  if (!planLayout(layout, blocks)) return E_INVALID_ARGUMENT; // too small
  layout.version = SB_VERSION; // (before the commit below: it says how many slots the journal has)
  const disk = volume.disk;
  let status = disk.zero(0, 1);
  if (status >= 0) status = disk.zero(<u64>layout.backup, 1);
  if (status >= 0) status = disk.flush();
  // Every slot's header: a transaction of a file system formatted here before must never replay.
  for (let slot: u32 = 0; status >= 0 && slot < journalSlots(layout); slot++) status = disk.zero(<u64>journalSlotAt(layout, slot), 1);
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
  store<u32>(root + I_LINKS_AT, 1);
  store<i64>(root + I_CREATED_AT, t);
  store<i64>(root + I_MODIFIED_AT, t);
  store<i64>(root + I_ACCESSED_AT, t);
  store<i64>(root + I_CHANGED_AT, t);
  volume.touch(root);
  status = volume.journal.commit();
  if (status < 0) return status;
  layout.version = SB_VERSION;
  layout.formattedAt = t;
  layout.flags = flags;
  layout.formatRequest = request;
  layout.sequence = 0;
  return writeSuperblocks(disk, layout);
}
