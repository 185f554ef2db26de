// Finding the superblock at mount, and writing it. The primary is block 0; from version 2 a copy
// lies in the journal's last block (format.ts). A primary that is damaged (a flipped bit, a torn
// write: its checksum fails) is stood in for by a whole backup; one that is whole but refused (a
// version this server does not read, a disk smaller than it says) is not — the backup says the
// same. Nothing here writes unless asked (`write`): a disk whose superblock cannot be used is left
// exactly as it was found.
import { Disk } from "./disk";
import {
  BLOCK_BYTES, JOURNAL_MAX_BLOCKS, Layout, SB_DAMAGED, SB_REFUSED, SB_VALID, backupBlock, readSuperblock,
  superblockProblem, writeSuperblock,
} from "./format";

const primary: usize = memory.data(<i32>BLOCK_BYTES, <i32>BLOCK_BYTES);
const other: usize = memory.data(<i32>BLOCK_BYTES, <i32>BLOCK_BYTES);

/** What `find` found. */
export class Found {
  /** SB_VALID (the layout is read), SB_DAMAGED (neither copy is usable: `why`), SB_REFUSED (`why`). */
  kind: i32 = SB_DAMAGED;
  why: string = "";
  /** Whether the layout came from the backup, the primary being damaged (`primaryProblem` says how). */
  fromBackup: bool = false;
  primaryProblem: string = "";
  /** Whether the primary was all zeros (a disk never formatted, or a format cut short). */
  primaryBlank: bool = false;
  /** Whether the backup (version 2) does not hold what the primary does. */
  backupStale: bool = false;
  /** A status when the disk could not be read. */
  status: i32 = 0;
}

/**
 * Reads the superblock of the disk behind `disk` (of `blocks` blocks) into `layout`, from the
 * primary or, when that is damaged, from a backup at the block a disk of this size, or of any size
 * of 24 MiB or more, keeps it. Only reads.
 */
export function find(disk: Disk, blocks: u64, layout: Layout, found: Found): void {
  found.status = disk.read(0, 1, primary);
  if (found.status < 0) return;
  found.kind = readSuperblock(primary, layout, blocks);
  found.why = superblockProblem;
  found.primaryBlank = found.kind == SB_DAMAGED && found.why == "no superblock (all zeros)";
  if (found.kind == SB_VALID) {
    found.backupStale = layout.backup != 0 && !backupHolds(disk, layout.backup);
    return;
  }
  if (found.kind == SB_REFUSED) return;
  found.primaryProblem = found.why;
  // Where a backup may be: where a disk of this size keeps it, and where every disk of 24 MiB or
  // more does (a disk that was cut or grown keeps its backup where its first size put it).
  const sized = backupBlock(<u32>min(blocks, <u64>0xffffffff));
  const usual = JOURNAL_MAX_BLOCKS + 1;
  for (let i = 0; i < 2; i++) {
    const at = i == 0 ? sized : usual;
    if (at == 0 || <u64>at >= blocks || (i == 1 && at == sized)) continue;
    found.status = disk.read(<u64>at, 1, other);
    if (found.status < 0) return;
    const kind = readSuperblock(other, layout, blocks);
    if (kind == SB_DAMAGED || (kind == SB_VALID && layout.backup != at)) continue;
    found.kind = kind;
    found.why = superblockProblem;
    found.fromBackup = kind == SB_VALID;
    return;
  }
  found.why = found.primaryProblem + "; and no backup superblock" + (sized != 0 ? " at block " + sized.toString() : "");
}

/** Whether the backup block `at` holds the same bytes as the primary just read. */
function backupHolds(disk: Disk, at: u32): bool {
  if (disk.read(<u64>at, 1, other) < 0) return false;
  return memory.compare(primary, other, BLOCK_BYTES) == 0;
}

/**
 * Writes `layout` as the superblock (its sequence bumped), to the primary and then to the backup,
 * each made durable before the next: a crash between leaves one whole copy (the primary is read
 * first; a stale backup is rewritten at the next mount). 0 or a status.
 */
export function write(disk: Disk, layout: Layout): i32 {
  layout.sequence++;
  writeSuperblock(primary, layout);
  let status = disk.write(0, 1, primary);
  if (status >= 0) status = disk.flush();
  if (status >= 0 && layout.backup != 0) status = disk.write(<u64>layout.backup, 1, primary);
  if (status >= 0) status = disk.flush();
  return status;
}
