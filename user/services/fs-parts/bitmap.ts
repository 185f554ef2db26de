// The block allocator over the on-disk bitmap (one bit a block, 1: in use). The bitmap's blocks
// live in the cache and change with the running transaction; beside them a copy of the bitmap as
// of the last commit is kept here. A block is given out only when it is free in both: a block
// freed by the running transaction still holds what the committed state says it holds, and must
// not be overwritten (by file data, which bypasses the journal) until that transaction commits.
//
// Blocks are given in turn from a hint (the block after the last one given), and the hint goes
// back to the lowest block a transaction freed once it commits: freed space is given again before
// space never written. On a disk image that matters to the host: its file is sparse where nothing
// was ever written, and each block written there for the first time costs the host an allocation
// (measured, 16 MiB on this machine's ext4, loaded: the writes 8.5 against 3.1 ms, their fdatasync
// 20 against 16 ms). A file rewritten again and again (made anew, or truncated and written)
// then keeps to the same blocks instead of walking over the whole disk.
import { Cache } from "./cache";
import { BLOCK_BYTES, BLOCK_SHIFT, Layout } from "./format";
import { PageCache } from "./page-cache";

/** The committed bitmap's room: disks up to 4 GiB (2^20 blocks). */
export const MAX_BITMAP_BLOCKS: u32 = 32;
const committed: usize = memory.data(<i32>(MAX_BITMAP_BLOCKS * BLOCK_BYTES), 8);
const BITS_PER_BLOCK: u32 = BLOCK_BYTES * 8;

export class Bitmap {
  /** Blocks free in the running transaction (those freed by it are reusable after its commit). */
  free: u32 = 0;
  /** Of those, the blocks the running transaction freed that the committed state holds: not to be given until it commits. */
  awaitingCommit: u32 = 0;
  private hint: u32 = 0;
  /** The lowest block the running transaction freed: where the hint goes back to once it commits. */
  private lowestFreed: u32 = U32.MAX_VALUE;

  constructor(readonly cache: Cache, readonly pages: PageCache, readonly layout: Layout) {}

  /**
   * After mount or a commit: the committed copy becomes the bitmap as it is now (and at mount,
   * `count`, the free blocks are counted). 0, or -1 if a bitmap block cannot be read.
   */
  snapshot(count: bool): i32 {
    let free: u32 = 0;
    for (let b: u32 = 0; b < this.layout.bitmapBlocks; b++) {
      const at = this.cache.get(this.layout.bitmap + b);
      if (at == 0) return -1;
      memory.copy(committed + (<usize>b << BLOCK_SHIFT), at, BLOCK_BYTES);
    }
    this.awaitingCommit = 0;
    if (this.lowestFreed < this.hint) this.hint = this.lowestFreed;
    this.lowestFreed = U32.MAX_VALUE;
    if (!count) return 0;
    for (let block: u32 = 0; block < this.layout.total; block++) if (!this.committedBit(block)) free++;
    this.free = free;
    return 0;
  }

  /** Whether `block` is in use in the running transaction. */
  inUse(block: u32): bool {
    const at = this.cache.get(this.layout.bitmap + block / BITS_PER_BLOCK);
    if (at == 0) return true;
    const bit = block % BITS_PER_BLOCK;
    return (load<u8>(at + (bit >> 3)) & (1 << (bit & 7))) != 0;
  }

  /** A free block, now marked in use; 0 when the disk is full (block 0 is the superblock, never free). */
  allocate(): u32 {
    const total = this.layout.total;
    const start = max(this.hint, this.layout.data);
    for (let n: u32 = 0; n < total; n++) {
      let block = start + n;
      if (block >= total) block = this.layout.data + (block - total);
      if (block >= total) continue;
      const bit = block % BITS_PER_BLOCK;
      const at = this.cache.get(this.layout.bitmap + block / BITS_PER_BLOCK);
      if (at == 0) return 0;
      // Skip whole bytes in use quickly.
      const byte = at + (bit >> 3);
      const both = <u32>load<u8>(byte) | <u32>load<u8>(committed + (<usize>(block >> 3)));
      if (both == 0xff) {
        n += 7 - (bit & 7);
        continue;
      }
      if ((both & (<u32>1 << (bit & 7))) != 0) continue;
      store<u8>(byte, load<u8>(byte) | <u8>(<u32>1 << (bit & 7)));
      this.cache.markDirty(byte);
      this.hint = block + 1;
      this.free--;
      return block;
    }
    return 0;
  }

  /** Marks `block` free in the running transaction (reusable once it commits). */
  release(block: u32): void {
    const at = this.cache.get(this.layout.bitmap + block / BITS_PER_BLOCK);
    if (at == 0) return;
    const bit = block % BITS_PER_BLOCK;
    const byte = at + (bit >> 3);
    const mask = <u8>(<u32>1 << (bit & 7));
    if ((load<u8>(byte) & mask) == 0) return;
    store<u8>(byte, load<u8>(byte) & ~mask);
    this.cache.markDirty(byte);
    this.cache.forget(block);
    this.pages.forget(block); // a dirty page of it is dropped: nothing may write the block now
    this.free++; // usable once the running transaction commits
    if (block < this.lowestFreed) this.lowestFreed = block;
    if (this.committedInUse(block)) this.awaitingCommit++;
  }

  /** Marks `block` in use (formatting the areas before the data). */
  mark(block: u32): void {
    const at = this.cache.get(this.layout.bitmap + block / BITS_PER_BLOCK);
    if (at == 0) return;
    const bit = block % BITS_PER_BLOCK;
    const byte = at + (bit >> 3);
    store<u8>(byte, load<u8>(byte) | <u8>(<u32>1 << (bit & 7)));
    this.cache.markDirty(byte);
  }

  /** Whether `block` is in use in the committed state (its bytes are what the committed files hold). */
  committedInUse(block: u32): bool {
    return block < this.layout.total && this.committedBit(block);
  }

  private committedBit(block: u32): bool {
    return (load<u8>(committed + (<usize>(block >> 3))) & (1 << (block & 7))) != 0;
  }
}
