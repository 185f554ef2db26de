// The on-disk format (docs/FS.md "Format"): 4 KiB blocks; block 0 the superblock, then the journal
// (whose last block holds a copy of the superblock), the block bitmap, the inode table, and data
// blocks (file data, directory blocks, indirect blocks, symbolic links' targets). Every number is
// little-endian. The superblock changes only when the disk is formatted, upgraded, or its
// first-boot install finishes (mount.ts); everything else changes through the journal (journal.ts),
// file data excepted, which is written in place before the transaction that refers to it commits.

export const BLOCK_BYTES: u32 = 4096;
export const BLOCK_SHIFT: u32 = 12;
export const SECTORS_PER_BLOCK: u32 = 8;

// ---- Superblock (block 0, and its backup in the journal's last block) --------------------------
export const SB_MAGIC: u64 = 0x3153464d474f44; // "DOGMFS1\0"
/**
 * Version 4: as version 3, and its journal's records may be JOURNAL_MAGIC_2 (they say the
 * transaction before them is on the disk). A version 3 server would take such a record for a torn
 * one and not replay it, losing a committed transaction, so the version keeps it out. What `format`
 * writes; a writable mount makes a version 3 disk version 4 before its first commit.
 */
export const SB_VERSION: u32 = 4;
/**
 * Version 3: as version 2, with a journal of two slots used in turn (journal.ts): a transaction
 * never overwrites the one before it (its record is whole while its checkpoint goes in place).
 */
export const SB_VERSION_3: u32 = 3;
/** Version 2: link counts, symbolic links, access and change times, a backup superblock; a journal of one slot. */
export const SB_VERSION_2: u32 = 2;
/** Version 1 disks are upgraded in place at mount (mount.ts). */
export const SB_VERSION_1: u32 = 1;
export const SB_MAGIC_AT: usize = 0;
export const SB_VERSION_AT: usize = 8;
export const SB_BLOCK_BYTES_AT: usize = 12;
export const SB_TOTAL_AT: usize = 16;
export const SB_JOURNAL_AT: usize = 20;
export const SB_JOURNAL_BLOCKS_AT: usize = 24;
export const SB_BITMAP_AT: usize = 28;
export const SB_BITMAP_BLOCKS_AT: usize = 32;
export const SB_INODES_AT: usize = 36;
export const SB_INODE_BLOCKS_AT: usize = 40;
export const SB_INODE_COUNT_AT: usize = 44;
export const SB_DATA_AT: usize = 48;
export const SB_ROOT_AT: usize = 52;
export const SB_FORMATTED_AT: usize = 56;
/** Version 1: a checksum of bytes [0, 64) here. */
export const SB_V1_CHECKSUM_AT: usize = 64;
/** Version 2: SB_FLAG_* bits. */
export const SB_FLAGS_AT: usize = 64;
/** Version 2: the block that holds the backup superblock (the journal's last). */
export const SB_BACKUP_AT: usize = 68;
/** Version 2: the format request (`dogma boot --format`) this file system was made for; 0: none. */
export const SB_FORMAT_REQUEST_AT: usize = 72;
/** Version 2: bumped at every superblock write. */
export const SB_SEQUENCE_AT: usize = 80;
/** Version 2: a checksum of bytes [0, 120). */
export const SB_CHECKSUM_AT: usize = 120;
/** The boot modules have not all been installed yet (install.ts): the next start with them finishes it. */
export const SB_FLAG_INSTALL_PENDING: u32 = 1;

// ---- Journal header (the first block of each of the journal's slots) -----------------------------
/**
 * A record that does not say the one before it is on the disk: written by a server that did not
 * flush before it (version 3's first servers, versions 1 and 2), or after a checkpoint that failed.
 */
export const JOURNAL_MAGIC: u64 = 0x314c4e4a4d474f44; // "DOGMJNL1"
/**
 * A record written after a flush made the last checkpoint durable (journal.ts), its header checked
 * on its own (JH_HEADER_CHECKSUM_AT): where it stands, even torn or damaged, the transaction before
 * it is on the disk, and is never replayed over what this one wrote in place.
 */
export const JOURNAL_MAGIC_2: u64 = 0x324c4e4a4d474f44; // "DOGMJNL2"
export const JH_MAGIC_AT: usize = 0;
export const JH_SEQUENCE_AT: usize = 8;
export const JH_COUNT_AT: usize = 16;
/** JOURNAL_MAGIC_2: a checksum (low 32 bits) of the header block with this field and JH_CHECKSUM_AT as 0. */
export const JH_HEADER_CHECKSUM_AT: usize = 20;
/** A checksum of the header (this field as 0) and the `count` block images after it. */
export const JH_CHECKSUM_AT: usize = 24;
/** `count` u32 block numbers: where each image goes. */
export const JH_TARGETS_AT: usize = 32;
/** Sequences of records are below this (2^62 commits are never made): a record at or past it is damaged. */
export const JOURNAL_SEQUENCE_LIMIT: u64 = 1 << 62;
/** Most blocks one transaction holds (the header's room for targets bounds it too). */
export const JOURNAL_MAX_BLOCKS: u32 = 768;

// ---- Inodes (128 bytes, 32 a block; inode 0 is never used, 1 is the root) ----------------------
export const INODE_BYTES: u32 = 128;
export const INODES_PER_BLOCK: u32 = BLOCK_BYTES / INODE_BYTES;
export const ROOT_INODE: u32 = 1;
export const KIND_FREE: u32 = 0;
export const KIND_FILE: u32 = 1;
export const KIND_DIR: u32 = 2;
/** A symbolic link: its target (1 to SYMLINK_MAX bytes) is its one block, as metadata (journaled). */
export const KIND_SYMLINK: u32 = 3;
export const I_KIND_AT: usize = 0;
/** A directory's parent (the root: itself); 0 for other kinds (they may have many names). */
export const I_PARENT_AT: usize = 4;
export const I_SIZE_AT: usize = 8;
export const I_CREATED_AT: usize = 16;
export const I_MODIFIED_AT: usize = 24;
export const DIRECT_BLOCKS: u32 = 12;
export const I_DIRECT_AT: usize = 32;
export const I_SINGLE_AT: usize = 80;
export const I_DOUBLE_AT: usize = 84;
/** Blocks it owns: data and indirect blocks (a sparse file owns fewer than its size says). */
export const I_BLOCKS_AT: usize = 88;
/** Bumped each time the inode is freed, so that a handle to what was there goes stale. */
export const I_GENERATION_AT: usize = 92;
/** Version 2: last read (updated as Linux's relatime does), and last change of the inode itself. */
export const I_ACCESSED_AT: usize = 96;
export const I_CHANGED_AT: usize = 104;
/**
 * Version 2: the directory entries that name it. A directory has 1 (it has one name; the root too).
 * A file or link at 0 is an orphan: unlinked while a handle held it open, freed at the last close,
 * or at the next mount after a crash.
 */
export const I_LINKS_AT: usize = 112;
/** A file's link count stops here (FS_E_LINKS). */
export const LINKS_MAX: u32 = 65000;
/** The longest symbolic link target (one block, less one byte so a length always fits it). */
export const SYMLINK_MAX: u32 = BLOCK_BYTES - 1;

/** Block numbers an indirect block holds. */
export const POINTERS_PER_BLOCK: u32 = BLOCK_BYTES / 4;
/** The block map's reach: 12 direct, 1024 through the single, 1024² through the double indirect block. */
export const MAX_FILE_BLOCKS: u64 = <u64>DIRECT_BLOCKS + <u64>POINTERS_PER_BLOCK + <u64>POINTERS_PER_BLOCK * <u64>POINTERS_PER_BLOCK;
export const MAX_FILE_BYTES: u64 = MAX_FILE_BLOCKS << BLOCK_SHIFT;

// ---- Directory blocks: 15 entries of 272 bytes --------------------------------------------------
export const DIRENT_BYTES: u32 = 272;
export const DIRENTS_PER_BLOCK: u32 = 15;
/** 0: a free entry. */
export const D_INODE_AT: usize = 0;
export const D_NAME_LENGTH_AT: usize = 4;
export const D_KIND_AT: usize = 6;
export const D_NAME_AT: usize = 8;
export const NAME_MAX: u32 = 255;

/** Where each area lies on a disk of `total` blocks, and what the superblock says besides. */
export class Layout {
  total: u32 = 0;
  journal: u32 = 1;
  journalBlocks: u32 = 0;
  bitmap: u32 = 0;
  bitmapBlocks: u32 = 0;
  inodes: u32 = 0;
  inodeBlocks: u32 = 0;
  inodeCount: u32 = 0;
  data: u32 = 0;
  /** The backup superblock's block (0 on a version 1 disk: it has none). */
  backup: u32 = 0;
  version: u32 = SB_VERSION;
  formattedAt: i64 = 0;
  flags: u32 = 0;
  formatRequest: u64 = 0;
  sequence: u64 = 0;
}

/** The layout a disk of `total` blocks is formatted with: false if it is too small. */
export function planLayout(layout: Layout, total: u32): bool {
  if (total < 256) return false;
  layout.total = total;
  layout.journal = 1;
  // The journal: a header, up to JOURNAL_MAX_BLOCKS images, and the backup superblock.
  layout.journalBlocks = min(JOURNAL_MAX_BLOCKS + 1, total / 8);
  layout.backup = layout.journal + layout.journalBlocks - 1;
  layout.bitmap = layout.journal + layout.journalBlocks;
  layout.bitmapBlocks = (total + BLOCK_BYTES * 8 - 1) / (BLOCK_BYTES * 8);
  layout.inodes = layout.bitmap + layout.bitmapBlocks;
  // One inode per 4 blocks (16 KiB), in whole blocks of them.
  layout.inodeBlocks = max<u32>(1, total / 4 / INODES_PER_BLOCK);
  layout.inodeCount = layout.inodeBlocks * INODES_PER_BLOCK;
  layout.data = layout.inodes + layout.inodeBlocks;
  return layout.data + 16 < total;
}

/** The least room for images a slot of a two-slot journal has: a smaller journal keeps one slot. */
const MIN_SLOT_CAPACITY: u32 = 192;

// The journal's blocks less the backup superblock (version 2 on): what its slots share.
function journalArea(layout: Layout): u32 {
  return layout.journalBlocks - (layout.backup != 0 ? 1 : 0);
}

/**
 * Transactions the journal holds: two, in two halves used in turn, on a version 3 or 4 disk whose
 * journal has room for two of MIN_SLOT_CAPACITY blocks or more; else one (versions 1 and 2).
 */
export function journalSlots(layout: Layout): u32 {
  return layout.version >= SB_VERSION_3 && journalArea(layout) / 2 - 1 >= MIN_SLOT_CAPACITY ? 2 : 1;
}

/** The block that holds slot `slot`'s header (its images follow it). */
export function journalSlotAt(layout: Layout, slot: u32): u32 {
  return layout.journal + slot * (journalArea(layout) / journalSlots(layout));
}

/** Most block images one transaction may hold: its slot less the header. */
export function journalCapacity(layout: Layout): u32 {
  const room = journalArea(layout) / journalSlots(layout) - 1;
  return min(JOURNAL_MAX_BLOCKS, min(room, (BLOCK_BYTES - <u32>JH_TARGETS_AT) / 4));
}

/** The block where the backup superblock of a disk of `total` blocks lies (0: too small for a file system). */
export function backupBlock(total: u32): u32 {
  const layout = new Layout();
  return planLayout(layout, total) ? layout.backup : 0;
}

/** Writes `layout` into the superblock at `sb` (a zeroed block), as its version (2 to 4), with its checksum. */
export function writeSuperblock(sb: usize, layout: Layout): void {
  memory.fill(sb, 0, BLOCK_BYTES);
  store<u64>(sb + SB_MAGIC_AT, SB_MAGIC);
  store<u32>(sb + SB_VERSION_AT, max(layout.version, SB_VERSION_2)); // (a version 1 layout is written only once upgraded)
  store<u32>(sb + SB_BLOCK_BYTES_AT, BLOCK_BYTES);
  store<u32>(sb + SB_TOTAL_AT, layout.total);
  store<u32>(sb + SB_JOURNAL_AT, layout.journal);
  store<u32>(sb + SB_JOURNAL_BLOCKS_AT, layout.journalBlocks);
  store<u32>(sb + SB_BITMAP_AT, layout.bitmap);
  store<u32>(sb + SB_BITMAP_BLOCKS_AT, layout.bitmapBlocks);
  store<u32>(sb + SB_INODES_AT, layout.inodes);
  store<u32>(sb + SB_INODE_BLOCKS_AT, layout.inodeBlocks);
  store<u32>(sb + SB_INODE_COUNT_AT, layout.inodeCount);
  store<u32>(sb + SB_DATA_AT, layout.data);
  store<u32>(sb + SB_ROOT_AT, ROOT_INODE);
  store<i64>(sb + SB_FORMATTED_AT, layout.formattedAt);
  store<u32>(sb + SB_FLAGS_AT, layout.flags);
  store<u32>(sb + SB_BACKUP_AT, layout.backup);
  store<u64>(sb + SB_FORMAT_REQUEST_AT, layout.formatRequest);
  store<u64>(sb + SB_SEQUENCE_AT, layout.sequence);
  store<u64>(sb + SB_CHECKSUM_AT, checksum(sb, SB_CHECKSUM_AT, 0));
}

/** What readSuperblock found. */
export const SB_VALID: i32 = 0;
/** Not a superblock of ours, or one that was damaged (bad magic, a checksum that fails): a backup may stand in. */
export const SB_DAMAGED: i32 = 1;
/** A whole superblock this server does not use: a version it does not know, a disk smaller than it says. */
export const SB_REFUSED: i32 = 2;

/** Why the last readSuperblock that failed failed. */
export let superblockProblem: string = "";

/**
 * Reads the superblock at `sb` into `layout`: SB_VALID, or SB_DAMAGED / SB_REFUSED with the reason
 * in `superblockProblem`. A valid one also agrees with the layout planLayout would make for its
 * size (nothing else is written), and fits a disk of `diskBlocks`.
 */
export function readSuperblock(sb: usize, layout: Layout, diskBlocks: u64): i32 {
  if (load<u64>(sb + SB_MAGIC_AT) != SB_MAGIC) return problem(SB_DAMAGED, isZero(sb, BLOCK_BYTES) ? "no superblock (all zeros)" : "no superblock (bad magic)");
  const version = load<u32>(sb + SB_VERSION_AT);
  const end = version == SB_VERSION_1 ? SB_V1_CHECKSUM_AT : SB_CHECKSUM_AT;
  if (load<u64>(sb + end) != checksum(sb, end, 0)) return problem(SB_DAMAGED, "superblock checksum mismatch");
  if (version < SB_VERSION_1 || version > SB_VERSION) {
    return problem(SB_REFUSED, "format version " + version.toString() + ", which this server does not read (it reads 1 to " + SB_VERSION.toString() + ")");
  }
  if (load<u32>(sb + SB_BLOCK_BYTES_AT) != BLOCK_BYTES) return problem(SB_DAMAGED, "block size is not 4096");
  const total = load<u32>(sb + SB_TOTAL_AT);
  if (!planLayout(layout, total)) return problem(SB_DAMAGED, "superblock names a disk too small to format");
  if (load<u32>(sb + SB_JOURNAL_AT) != layout.journal || load<u32>(sb + SB_JOURNAL_BLOCKS_AT) != layout.journalBlocks ||
      load<u32>(sb + SB_BITMAP_AT) != layout.bitmap || load<u32>(sb + SB_BITMAP_BLOCKS_AT) != layout.bitmapBlocks ||
      load<u32>(sb + SB_INODES_AT) != layout.inodes || load<u32>(sb + SB_INODE_BLOCKS_AT) != layout.inodeBlocks ||
      load<u32>(sb + SB_INODE_COUNT_AT) != layout.inodeCount || load<u32>(sb + SB_DATA_AT) != layout.data ||
      load<u32>(sb + SB_ROOT_AT) != ROOT_INODE) return problem(SB_DAMAGED, "superblock areas disagree with the layout");
  layout.version = version;
  layout.formattedAt = load<i64>(sb + SB_FORMATTED_AT);
  if (version == SB_VERSION_1) {
    layout.backup = 0;
    layout.flags = 0;
    layout.formatRequest = 0;
    layout.sequence = 0;
  } else {
    if (load<u32>(sb + SB_BACKUP_AT) != layout.backup) return problem(SB_DAMAGED, "superblock names another backup block");
    layout.flags = load<u32>(sb + SB_FLAGS_AT);
    layout.formatRequest = load<u64>(sb + SB_FORMAT_REQUEST_AT);
    layout.sequence = load<u64>(sb + SB_SEQUENCE_AT);
  }
  if (<u64>total > diskBlocks) {
    return problem(SB_REFUSED, "the file system has " + total.toString() + " blocks but the disk only " + diskBlocks.toString() +
      " (the image was cut short, or is not this disk)");
  }
  return SB_VALID;
}

function problem(kind: i32, why: string): i32 {
  superblockProblem = why;
  return kind;
}

/** What a journal slot's header block says (journalRecord). */
export const RECORD_EMPTY: i32 = 0;
export const RECORD_OLD: i32 = 1;
export const RECORD_FLUSHED: i32 = 2;
export const RECORD_DAMAGED: i32 = -1;

/** The header checksum a JOURNAL_MAGIC_2 record carries (its header block at `header`). */
export function journalHeaderChecksum(header: usize): u32 {
  const kept = load<u32>(header + JH_HEADER_CHECKSUM_AT);
  const body = load<u64>(header + JH_CHECKSUM_AT);
  store<u32>(header + JH_HEADER_CHECKSUM_AT, 0);
  store<u64>(header + JH_CHECKSUM_AT, 0);
  const sum = <u32>checksum(header, BLOCK_BYTES, 0x6a6e6c32);
  store<u32>(header + JH_HEADER_CHECKSUM_AT, kept);
  store<u64>(header + JH_CHECKSUM_AT, body);
  return sum;
}

/**
 * The kind of record a slot's header block holds: RECORD_EMPTY (all zeros: never used),
 * RECORD_OLD (JOURNAL_MAGIC), RECORD_FLUSHED (JOURNAL_MAGIC_2 with a good header checksum), or
 * RECORD_DAMAGED (anything else: a header whose bits changed, or a sequence of JOURNAL_SEQUENCE_LIMIT
 * or more).
 */
export function journalRecord(header: usize): i32 {
  const magic = load<u64>(header + JH_MAGIC_AT);
  // A sequence no server reaches (one a commit from 1) is a hostile image's: the next would wrap to
  // 0 and count as older than this one, which a mount would then replay over it (redteam15).
  if ((magic == JOURNAL_MAGIC || magic == JOURNAL_MAGIC_2) && load<u64>(header + JH_SEQUENCE_AT) >= JOURNAL_SEQUENCE_LIMIT) return RECORD_DAMAGED;
  if (magic == JOURNAL_MAGIC) return RECORD_OLD;
  if (magic == JOURNAL_MAGIC_2) return journalHeaderChecksum(header) == load<u32>(header + JH_HEADER_CHECKSUM_AT) ? RECORD_FLUSHED : RECORD_DAMAGED;
  return isZero(header, BLOCK_BYTES) ? RECORD_EMPTY : RECORD_DAMAGED;
}

/**
 * With two slots, when only the transaction of sequence `newest` is whole: whether it may still
 * have to be replayed, given the header block `other` of the other slot's record, which is not
 * whole. Its checkpoint may be lost only to a crash before the next commit's first flush, and a
 * record begun after that flush says so (RECORD_FLUSHED, a later sequence): then it is on the disk,
 * and the other record is either torn (it never happened) or was committed and damaged since, its
 * blocks in place — where replaying the older one would roll them back (redteam14: one flipped
 * bit lost every file). A damaged header is taken the same way: the record it heads was written
 * after `newest`'s, or is an older one hit by the damage, and either way `newest` is on the disk
 * (only a crash and a damage at once could make it otherwise). An empty slot or an older record:
 * nothing began after it, replay. A later record of a server that did not flush first: replay, as
 * that server did.
 */
export function mayNeedReplay(other: usize, newest: u64): bool {
  const kind = journalRecord(other);
  if (kind == RECORD_EMPTY) return true;
  if (kind == RECORD_DAMAGED) return false;
  if (load<u64>(other + JH_SEQUENCE_AT) < newest) return true;
  return kind == RECORD_OLD;
}

/** Whether `bytes` bytes at `at` (a multiple of 8) are all zero. */
export function isZero(at: usize, bytes: usize): bool {
  for (let p = at; p < at + bytes; p += 8) if (load<u64>(p) != 0) return false;
  return true;
}

/**
 * A 64-bit checksum of `bytes` (a multiple of 8) at `at`, continuing from `seed`: a word-wise
 * multiply-rotate hash, fast in WebAssembly and good enough to tell a torn write from a whole one.
 */
export function checksum(at: usize, bytes: usize, seed: u64): u64 {
  let h: u64 = seed ^ 0x9e3779b97f4a7c15;
  const end = at + bytes;
  for (let p = at; p < end; p += 8) {
    h = rotl<u64>((h ^ load<u64>(p)) * 0xff51afd7ed558ccd, 29);
  }
  return h ^ (h >>> 32);
}
