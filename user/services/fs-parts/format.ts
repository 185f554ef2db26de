// The on-disk format (docs/FS.md "Format"): 4 KiB blocks; block 0 the superblock, then the journal,
// the block bitmap, the inode table, and data blocks (file data, directory blocks, indirect
// blocks). Every number is little-endian. The superblock is written once, when the disk is
// formatted; everything else changes through the journal (journal.ts), file data excepted, which
// is written in place before the transaction that refers to it commits.

export const BLOCK_BYTES: u32 = 4096;
export const BLOCK_SHIFT: u32 = 12;
export const SECTORS_PER_BLOCK: u32 = 8;

// ---- Superblock (block 0) ----------------------------------------------------------------------
export const SB_MAGIC: u64 = 0x3153464d474f44; // "DOGMFS1\0"
export const SB_VERSION: u32 = 1;
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
/** A checksum of bytes [0, SB_CHECKSUM_AT). */
export const SB_CHECKSUM_AT: usize = 64;

// ---- Journal header (the journal's first block) -------------------------------------------------
export const JOURNAL_MAGIC: u64 = 0x314c4e4a4d474f44; // "DOGMJNL1"
export const JH_MAGIC_AT: usize = 0;
export const JH_SEQUENCE_AT: usize = 8;
export const JH_COUNT_AT: usize = 16;
/** A checksum of the header (this field as 0) and the `count` block images after it. */
export const JH_CHECKSUM_AT: usize = 24;
/** `count` u32 block numbers: where each image goes. */
export const JH_TARGETS_AT: usize = 32;
/** Most blocks one transaction holds (the header's room for targets bounds it too). */
export const JOURNAL_MAX_BLOCKS: u32 = 768;

// ---- Inodes (128 bytes, 32 a block; inode 0 is never used, 1 is the root) ----------------------
export const INODE_BYTES: u32 = 128;
export const INODES_PER_BLOCK: u32 = BLOCK_BYTES / INODE_BYTES;
export const ROOT_INODE: u32 = 1;
export const KIND_FREE: u32 = 0;
export const KIND_FILE: u32 = 1;
export const KIND_DIR: u32 = 2;
export const I_KIND_AT: usize = 0;
/** The directory that holds it (the root: itself). */
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

/** Where each area lies on a disk of `total` blocks. */
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
}

/** The layout a disk of `total` blocks is formatted with: false if it is too small. */
export function planLayout(layout: Layout, total: u32): bool {
  if (total < 256) return false;
  layout.total = total;
  layout.journal = 1;
  layout.journalBlocks = min(JOURNAL_MAX_BLOCKS + 1, total / 8);
  layout.bitmap = layout.journal + layout.journalBlocks;
  layout.bitmapBlocks = (total + BLOCK_BYTES * 8 - 1) / (BLOCK_BYTES * 8);
  layout.inodes = layout.bitmap + layout.bitmapBlocks;
  // One inode per 4 blocks (16 KiB), in whole blocks of them.
  layout.inodeBlocks = max<u32>(1, total / 4 / INODES_PER_BLOCK);
  layout.inodeCount = layout.inodeBlocks * INODES_PER_BLOCK;
  layout.data = layout.inodes + layout.inodeBlocks;
  return layout.data + 16 < total;
}

/** Writes `layout` into the superblock at `sb` (a zeroed block), with its checksum. */
export function writeSuperblock(sb: usize, layout: Layout, formattedAt: i64): void {
  store<u64>(sb + SB_MAGIC_AT, SB_MAGIC);
  store<u32>(sb + SB_VERSION_AT, SB_VERSION);
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
  store<i64>(sb + SB_FORMATTED_AT, formattedAt);
  store<u64>(sb + SB_CHECKSUM_AT, checksum(sb, SB_CHECKSUM_AT, 0));
}

/**
 * Reads the superblock at `sb` into `layout`: "" when it is valid, else what is wrong. A valid
 * one also agrees with the layout planLayout would make for its size (nothing else is written).
 */
export function readSuperblock(sb: usize, layout: Layout, diskBlocks: u64): string {
  if (load<u64>(sb + SB_MAGIC_AT) != SB_MAGIC) return "no superblock (bad magic)";
  if (load<u64>(sb + SB_CHECKSUM_AT) != checksum(sb, SB_CHECKSUM_AT, 0)) return "superblock checksum mismatch";
  if (load<u32>(sb + SB_VERSION_AT) != SB_VERSION) return "unknown format version";
  if (load<u32>(sb + SB_BLOCK_BYTES_AT) != BLOCK_BYTES) return "block size is not 4096";
  const total = load<u32>(sb + SB_TOTAL_AT);
  if (<u64>total > diskBlocks) return "superblock says the disk is bigger than it is";
  if (!planLayout(layout, total)) return "superblock names a disk too small to format";
  if (load<u32>(sb + SB_JOURNAL_AT) != layout.journal || load<u32>(sb + SB_JOURNAL_BLOCKS_AT) != layout.journalBlocks ||
      load<u32>(sb + SB_BITMAP_AT) != layout.bitmap || load<u32>(sb + SB_BITMAP_BLOCKS_AT) != layout.bitmapBlocks ||
      load<u32>(sb + SB_INODES_AT) != layout.inodes || load<u32>(sb + SB_INODE_BLOCKS_AT) != layout.inodeBlocks ||
      load<u32>(sb + SB_INODE_COUNT_AT) != layout.inodeCount || load<u32>(sb + SB_DATA_AT) != layout.data ||
      load<u32>(sb + SB_ROOT_AT) != ROOT_INODE) return "superblock areas disagree with the layout";
  return "";
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
