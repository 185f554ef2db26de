// Mounting: finding the superblock (superblock.ts), formatting only a blank disk or one the boot
// asked to format (mkfs.ts), refusing any other disk it cannot read — untouched —, replaying the
// journal, upgrading a version 1 or 2 disk (upgrade.ts), freeing orphans (files unlinked while open
// when the machine stopped), counting what is free; or, on a write-protected disk, all of that
// that only reads. docs/FS.md "Mounting" says which disk gets what.
import { FS_E_IO } from "../../lib/fs-protocol";
import {
  I_KIND_AT, I_LINKS_AT, INODE_BYTES, INODES_PER_BLOCK, KIND_DIR, KIND_FREE, SB_FLAG_INSTALL_PENDING, SB_REFUSED,
  SB_VALID, SB_VERSION_1, SB_VERSION_2, SB_VERSION_3,
} from "./format";
import { MAX_BITMAP_BLOCKS } from "./bitmap";
import { BLOCK_BYTES } from "./format";
import { format, isBlank } from "./mkfs";
import { Found, find, write as writeSuperblocks } from "./superblock";
import { upgradeToTwoSlots, upgradeToVersion2, upgradeToVersion4 } from "./upgrade";
import { Volume } from "./volume";

/** Blocks a volume may have: the committed bitmap's room (4 GiB). */
const MAX_BLOCKS: u64 = <u64>MAX_BITMAP_BLOCKS * BLOCK_BYTES * 8;
/** Orphans a mount frees at most (more wait for the next). */
const MAX_ORPHANS: i32 = 1024;
const orphans = new StaticArray<u32>(MAX_ORPHANS);

export class MountOptions {
  /** The format request of this boot (`param format ID`), 0: none. */
  formatRequest: u64 = 0;
  /** The server holds the boot modules: a disk it formats gets them installed (SB_FLAG_INSTALL_PENDING). */
  willInstall: bool = false;
}

export class MountReport {
  formatted: bool = false;
  /** Why the disk was formatted. */
  why: string = "";
  /** Why it was not mounted ("" when it was): nothing was written to it. */
  refused: string = "";
  /** The primary superblock was damaged (this says how) and the backup stood in; both are whole again. */
  fromBackup: string = "";
  /** The backup superblock was out of date and was written again. */
  backupRewritten: bool = false;
  /** A version 1 disk was upgraded: its inodes in use. */
  upgraded: i32 = -1;
  /** A version 2 disk (or a version 1 disk just upgraded) became version 4: its journal has two slots now. */
  twoSlots: bool = false;
  /** A version 3 disk became version 4 (its journal's records may now say the one before them is on the disk). */
  fromVersion3: bool = false;
  replayed: u32 = 0;
  orphansFreed: i32 = 0;
  /** The first-boot install has not finished (SB_FLAG_INSTALL_PENDING). */
  installPending: bool = false;
  /** The disk is write-protected: mounted without a write, to be served read-only. */
  readOnly: bool = false;
  /** The step that failed, "" when mounted or refused. */
  failed: string = "";
  status: i32 = 0;
}

/** Mounts the volume's disk: the report says how it went. */
export function mount(volume: Volume, options: MountOptions, report: MountReport): void {
  const disk = volume.disk;
  const blocks = min(disk.blocks, MAX_BLOCKS);
  const found = new Found();
  find(disk, blocks, volume.layout, found);
  if (found.status < 0) return fail(report, "read the superblock", found.status);
  const asked = options.formatRequest != 0 && !(found.kind == SB_VALID && volume.layout.formatRequest == options.formatRequest);
  if (disk.readOnly) return mountReadOnly(volume, found, asked, report);
  if (asked || found.kind != SB_VALID) {
    if (!asked) {
      if (found.kind == SB_REFUSED) {
        report.refused = found.why;
        return;
      }
      const blank = isBlank(disk, blocks);
      if (blank < 0) return fail(report, "read the disk", blank);
      if (blank == 0) {
        report.refused = found.why;
        return;
      }
    }
    report.formatted = true;
    report.why = asked ? "asked to: dogma boot --format" : "a blank disk";
    const flags = options.willInstall ? SB_FLAG_INSTALL_PENDING : 0;
    const status = format(volume, <u32>blocks, options.formatRequest, flags);
    if (status < 0) return fail(report, "format the disk", status);
  }
  let status = volume.journal.replay();
  if (status < 0) return fail(report, "replay the journal", status);
  report.replayed = volume.journal.replayed;
  if (volume.layout.version == SB_VERSION_1) {
    report.upgraded = upgradeToVersion2(volume, disk);
    if (report.upgraded < 0) return fail(report, "upgrade the disk to version 2", report.upgraded);
  } else if (found.fromBackup || found.backupStale) {
    status = writeSuperblocks(disk, volume.layout);
    if (status < 0) return fail(report, "write the superblock again", status);
    if (found.fromBackup) report.fromBackup = found.primaryProblem;
    else report.backupRewritten = true;
  }
  if (volume.layout.version == SB_VERSION_2) {
    status = upgradeToTwoSlots(volume, disk);
    if (status < 0) return fail(report, "upgrade the disk to version 4", status);
    report.twoSlots = status > 0;
  } else if (volume.layout.version == SB_VERSION_3) {
    status = upgradeToVersion4(volume, disk);
    if (status < 0) return fail(report, "upgrade the disk to version 4", status);
    report.fromVersion3 = true;
  }
  report.installPending = (volume.layout.flags & SB_FLAG_INSTALL_PENDING) != 0;
  if (volume.bitmap.snapshot(true) < 0) return fail(report, "read the bitmap", FS_E_IO);
  const count = countInodes(volume);
  if (count < 0) return fail(report, "read the inode table", count);
  status = freeOrphans(volume, count);
  if (status < 0) return fail(report, "free the orphans", status);
  report.orphansFreed = count;
}

/**
 * A write-protected disk (`dogma boot --read-only`) is mounted without a write: a committed
 * transaction still in the journal is read in place of the blocks it replaces (Disk.overlay)
 * instead of being replayed, nothing is formatted, upgraded, freed or installed, and the server
 * serves it read-only (fs.ts publishes read-only roots; access times stay as they are).
 */
function mountReadOnly(volume: Volume, found: Found, asked: bool, report: MountReport): void {
  const why = asked ? "asked to format it, but it is read-only" : found.kind != SB_VALID ? found.why :
    volume.layout.version == SB_VERSION_1 ? "format version 1, which is upgraded when the disk is mounted writable" : "";
  if (why.length > 0) {
    report.refused = why;
    return;
  }
  volume.readOnly = true;
  report.readOnly = true;
  let status = volume.journal.overlay();
  if (status < 0) return fail(report, "read the journal", status);
  report.replayed = volume.journal.replayed;
  report.installPending = (volume.layout.flags & SB_FLAG_INSTALL_PENDING) != 0;
  if (volume.bitmap.snapshot(true) < 0) return fail(report, "read the bitmap", FS_E_IO);
  status = countInodes(volume);
  if (status < 0) return fail(report, "read the inode table", status);
}

function fail(report: MountReport, step: string, status: i32): void {
  report.failed = step;
  report.status = status;
}

/** Counts the free inodes into the volume and keeps the orphans (in use, no name): how many, or a status. */
function countInodes(volume: Volume): i32 {
  const layout = volume.layout;
  let free: u32 = 0;
  let found: i32 = 0;
  for (let b: u32 = 0; b < layout.inodeBlocks; b++) {
    volume.cache.beginOperation();
    const at = volume.cache.get(layout.inodes + b);
    if (at == 0) return FS_E_IO;
    for (let i: u32 = 0; i < INODES_PER_BLOCK; i++) {
      const ino = b * INODES_PER_BLOCK + i;
      if (ino == 0) continue;
      const inode = at + <usize>(i * INODE_BYTES);
      const kind = load<u32>(inode + I_KIND_AT);
      if (kind == KIND_FREE) free++;
      else if (kind != KIND_DIR && load<u32>(inode + I_LINKS_AT) == 0 && found < MAX_ORPHANS) unchecked((orphans[found++] = ino));
    }
  }
  volume.freeInodes = free;
  return found;
}

/** Frees the `count` orphans countInodes kept, committing as the journal fills, and commits. */
function freeOrphans(volume: Volume, count: i32): i32 {
  if (count == 0) return 0;
  for (let i = 0; i < count; i++) {
    volume.cache.beginOperation();
    if (volume.cache.dirtyCount + 64 > volume.journal.capacity) {
      const status = volume.journal.commit();
      if (status < 0) return status;
      if (volume.bitmap.snapshot(false) < 0) return FS_E_IO;
    }
    const status = volume.freeInode(unchecked(orphans[i]));
    if (status < 0) return status;
  }
  const status = volume.journal.commit();
  if (status < 0) return status;
  return volume.bitmap.snapshot(false) < 0 ? FS_E_IO : 0;
}
