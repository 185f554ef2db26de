// Version 1 disks become version 2 at mount, in place: the areas are where they were, so what
// changes is each inode in use (a link count of 1, its access and change times set to its
// modification time, no parent for a file) and the superblock (version 2, and a backup in the
// journal's last block, free once the journal is replayed). The inodes change through the journal
// in transactions of whole inode blocks; the superblock is written last, so a crash before it
// leaves a version 1 disk that upgrades again (setting the same fields again).
//
// Version 2 disks become version 4 next (a journal of two slots, journal.ts): the journal was just
// replayed and flushed, so nothing in it is needed; the second slot's header is zeroed and made
// durable, then the superblock says version 4. A crash before that leaves a version 2 disk.
//
// Version 3 disks become version 4 by their superblock alone, before the first commit: version 4
// differs only in the records its journal may hold (format.ts JOURNAL_MAGIC_2), which a version 3
// server would not replay.
import { Disk } from "./disk";
import {
  I_ACCESSED_AT, I_CHANGED_AT, I_KIND_AT, I_LINKS_AT, I_MODIFIED_AT, I_PARENT_AT, INODE_BYTES, INODES_PER_BLOCK,
  KIND_DIR, KIND_FREE, SB_VERSION, SB_VERSION_2, SB_VERSION_3, backupBlock, journalSlotAt, journalSlots,
} from "./format";
import { write as writeSuperblocks } from "./superblock";
import { Volume } from "./volume";
import { FS_E_IO } from "../../lib/fs-protocol";

/** Blocks a transaction of the upgrade dirties at most before it commits. */
const BATCH: i32 = 256;

/** Upgrades the mounted version 1 volume: the inodes it changed, or a status. */
export function upgradeToVersion2(volume: Volume, disk: Disk): i32 {
  const layout = volume.layout;
  layout.backup = backupBlock(layout.total); // the journal is replayed: its last block is free
  let changed: i32 = 0;
  for (let b: u32 = 0; b < layout.inodeBlocks; b++) {
    volume.cache.beginOperation();
    const at = volume.cache.get(layout.inodes + b);
    if (at == 0) return FS_E_IO;
    for (let i: u32 = 0; i < INODES_PER_BLOCK; i++) {
      if (b == 0 && i == 0) continue; // inode 0 is never used
      const inode = at + <usize>(i * INODE_BYTES);
      const kind = load<u32>(inode + I_KIND_AT);
      if (kind == KIND_FREE) continue;
      const modified = load<i64>(inode + I_MODIFIED_AT);
      store<u32>(inode + I_LINKS_AT, 1); // version 1 had no hard links: every inode had one name
      store<i64>(inode + I_ACCESSED_AT, modified);
      store<i64>(inode + I_CHANGED_AT, modified);
      if (kind != KIND_DIR) store<u32>(inode + I_PARENT_AT, 0);
      volume.touch(inode);
      changed++;
    }
    if (volume.cache.dirtyCount >= BATCH) {
      const status = volume.journal.commit();
      if (status < 0) return status;
    }
  }
  const status = volume.journal.commit();
  if (status < 0) return status;
  layout.version = SB_VERSION_2; // (mount.ts makes it version 4 next, when its journal has room for two slots)
  layout.flags = 0;
  layout.formatRequest = 0;
  const written = writeSuperblocks(disk, layout);
  return written < 0 ? written : changed;
}

/**
 * Upgrades the mounted version 2 volume, its journal replayed, to version 4: 1, or 0 when its
 * journal is too small for two slots (it stays version 2), or a status.
 */
export function upgradeToTwoSlots(volume: Volume, disk: Disk): i32 {
  const layout = volume.layout;
  layout.version = SB_VERSION;
  if (journalSlots(layout) < 2) {
    layout.version = SB_VERSION_2;
    return 0;
  }
  // An old image lies there (never a whole transaction: its checksum would have to hold), but the
  // superblock names two slots only once it is zeros on the disk.
  let status = disk.zero(<u64>journalSlotAt(layout, 1), 1);
  if (status >= 0) status = disk.flush();
  if (status >= 0) status = writeSuperblocks(disk, layout);
  if (status < 0) {
    layout.version = SB_VERSION_2;
    return status;
  }
  return 1;
}

/** Upgrades the mounted version 3 volume, its journal replayed, to version 4: 0 or a status (it stays version 3). */
export function upgradeToVersion4(volume: Volume, disk: Disk): i32 {
  const layout = volume.layout;
  layout.version = SB_VERSION;
  const status = writeSuperblocks(disk, layout);
  if (status < 0) layout.version = SB_VERSION_3;
  return status;
}
