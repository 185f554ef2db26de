// The page cache: file data, a 4 KiB page per disk block, in chunks of CHUNK_PAGES pages held in
// Regions of up to REGION_CHUNKS chunks that the server's Memory pays for (docs/FS.md "The page
// cache"). Metadata has its own cache (cache.ts),
// which is also the running transaction; this one holds file data only and is written back, never
// journaled.
//
// A page is found by its disk block. The cache grows a Region at a time (up to REGION_CHUNKS chunks,
// fewer when the room left or the Memory allows no more) while the Memory has room and the kernel
// is not short of frames (CachePressure), and gives whole Regions back when it is: a freed
// Region's frames go back to the machine at once (the server's own private pages never would). Eviction is a clock over the pages; a dirty page the hand meets first sends every dirty
// page to the disk, sorted by block, in runs of up to RUN_BLOCKS a call.
//
// Write-back sends the driver a view of the Region a run's pages lie in, with their offset in it
// (Disk.writeView): the driver lends it to the device, which writes the pages to the disk from
// there, with no copy into a block buffer first (a copy of 0.1-0.15 ms a MiB). The driver keeps
// the views it is sent (lib/kept-views.ts), so a Region is mapped there once, not at every call;
// Regions are made ZERO_ON_FREE, so one the cache gives back returns its frames though the driver
// still holds a view (which then reads zeros). A run scattered over many small pieces is copied
// into a block buffer and goes in one call, as before.
//
// Write-behind: after a WRITE of WRITE_BEHIND_CALL bytes or more, once a run's worth of pages is
// dirty (WRITE_BEHIND_PAGES), they go to the disk at once, not at the next SYNC or eviction, as a
// kernel's flusher starts on dirty pages past its background threshold. The disk image then starts
// syncing in the background while the writer goes on, so a SYNC finds little left to write and
// less to flush. Small writes are left for the SYNC (a page written in small pieces is often
// written again, and would go each time; and a file written start to end in small calls, written
// behind too, took longer: each host write then met the background fdatasync the last started).
//
// Ordering (ext3's ordered mode, kept): a dirty page may be written back at any time, and every
// dirty page is written back before a transaction commits (Journal.commit calls writeBackAll), so
// no committed block map ever names a block whose data has not reached the disk. A block freed by
// the running transaction is forgotten here (Bitmap.release), dirty or not: the committed state
// keeps what it held on the disk, and nothing stale is read back when the block is reused.
//
// A page whose write-back fails is dropped, so the cache never fills with what cannot be written;
// if its block is new since the last commit, the file gets a hole there instead (the block is
// freed), so the failure never shows another file's old bytes. The failure is kept for its inode,
// and the next SYNC on that file answers it (as Linux's fsync does).
//
// Nothing allocates after the start: arrays are sized for MAX_PAGES, and Regions come and go.
import { E_QUOTA, OP_REGION_INFO, OP_REGION_VIEW, REGION_ZERO_ON_FREE, msgBegin, msgCap, msgInvoke, msgWord, capDrop, Memory } from "../../lib";
import { FS_E_IO } from "../../lib/fs-protocol";
import { BLOCK_SHIFT } from "./format";
import { CachePressure } from "./cache-pressure";
import { Disk, RUN_BLOCKS } from "./disk";

/** Dirty pages that start a write-back after a large write (write-behind): a run's worth. */
export const WRITE_BEHIND_PAGES: i32 = <i32>RUN_BLOCKS;
/** Bytes a WRITE moves at least for its dirty pages to be written behind. */
export const WRITE_BEHIND_CALL: u32 = 64 << 10;
/** Free pages past which a free list out of order is put in order before a page is taken (1 MiB). */
const REORDER_FREE: i32 = 256;
/** Pages in a chunk: the unit of the cache's limit and of what file maps take from it. */
export const CHUNK_PAGES: i32 = 16;
/**
 * Chunks one Region holds at most: RUN_BLOCKS pages, so that a run of write-back, whose pages were
 * mostly taken in order, lies in one Region and goes to the driver as a view of it.
 */
const REGION_CHUNKS: i32 = <i32>RUN_BLOCKS / CHUNK_PAGES;
/** Pieces a run's pages may lie in, each this long at least, for the run to go as views (else it is copied). */
const VIEW_MIN_PAGES: i32 = 4;
/** The most pages the cache can hold: 64 MiB. */
export const MAX_PAGES: i32 = 16384;
const MAX_CHUNKS: i32 = MAX_PAGES / CHUNK_PAGES;
const NONE: u32 = 0xffffffff;
const BUCKET_BITS: u32 = 13;
const BUCKETS: i32 = 1 << BUCKET_BITS;
/** Inodes whose write-back failed, kept until a SYNC on them answers it. */
const FAILURES: i32 = 32;

// Page flags.
const REFERENCED: u8 = 1;
const DIRTY: u8 = 2;
/** Taken for a run being read: the clock passes it by until the run is in. */
const PINNED: u8 = 4;
/** On `dirtyList` (a dirty page always is, unless the list overflowed). */
const LISTED: u8 = 8;

const slotBlock = new StaticArray<u32>(MAX_PAGES);
const slotNext = new StaticArray<i32>(MAX_PAGES);
const slotFlags = new StaticArray<u8>(MAX_PAGES);
/** The inode and file block a dirty page belongs to: where a failed write-back leaves a hole. */
const slotInode = new StaticArray<u32>(MAX_PAGES);
const slotIndex = new StaticArray<u32>(MAX_PAGES);
const bucket = new StaticArray<i32>(BUCKETS);
const freeSlots = new StaticArray<i32>(MAX_PAGES);
/** A chunk's Region: its owner capability, kept at the Region's first chunk (0 at the others). */
const chunkRegion = new StaticArray<i32>(MAX_CHUNKS);
/** The first chunk of the Region a chunk lies in. */
const chunkFirst = new StaticArray<i32>(MAX_CHUNKS);
const chunkAddress = new StaticArray<usize>(MAX_CHUNKS);
/** A view of the Region, at its first chunk, made at its first write-back (0: none yet). */
const chunkView = new StaticArray<i32>(MAX_CHUNKS);
/** Write-back's work list: block << 32 | slot, sorted. */
const dirtyKeys = new StaticArray<u64>(MAX_PAGES);
/**
 * The pages made dirty since the last write-back, in that order (a page released and dirtied
 * again may be on it twice; one no longer LISTED is passed by): write-back looks at these, not at
 * every page of the cache (16,384 of them, at every write-behind).
 */
const dirtyList = new StaticArray<i32>(MAX_PAGES);
/** Dirty pages an eviction's write-back left for the next (pinned by the operation in progress). */
const DEFERRED_MAX: i32 = 2 * <i32>RUN_BLOCKS;
const deferred = new StaticArray<i32>(DEFERRED_MAX);
/** The pages of one run, for Disk.readPages / writePages. */
const runPages = new StaticArray<usize>(<i32>RUN_BLOCKS);
const failedInode = new StaticArray<u32>(FAILURES);
const failedStatus = new StaticArray<i32>(FAILURES);

/** What a failed write-back calls to leave a hole where a new block's data was lost. */
export interface HolePuncher {
  /** Block `index` of inode `ino` is `block`, new since the last commit, whose data is lost: make it a hole. */
  punch(ino: u32, index: u32, block: u32): void;
  /** Block `index` of inode `ino` lost what was written to it (told before `punch`, whether its block is new or not). */
  lost(ino: u32, index: u32): void;
  /** Whether `block` holds something in the committed state (its old bytes are the file's own). */
  committed(block: u32): bool;
}

export class PageCache {
  /** Chunks held now, and the most the Memory allows (0 until `configure`: every read and write goes to the disk). */
  chunks: i32 = 0;
  limit: i32 = 0;
  /** Chunks of the limit lent to file maps (file-maps.ts): the cache grows only to `limit - reserved`. */
  reserved: i32 = 0;
  /** Pages holding a block, and those of them changed since they were last written. */
  resident: i32 = 0;
  dirtyCount: i32 = 0;
  // For the figures (FS_INFO): pages found, blocks read for a miss, blocks read ahead of one,
  // blocks written back, chunks given back.
  hits: u64 = 0;
  misses: u64 = 0;
  readAhead: u64 = 0;
  writtenBack: u64 = 0;
  /** Of those, blocks written from the cache's own pages (views of its Regions: no copy). */
  writtenFromViews: u64 = 0;
  chunksFreed: u64 = 0;
  /** Pages whose write-back failed (dropped; their files told at SYNC). */
  lost: u64 = 0;
  /** Whether a chunk may be added now (the kernel's view of memory); null: whenever the Memory has room. */
  pressure: CachePressure | null = null;
  puncher: HolePuncher | null = null;
  private memory: Memory | null = null;
  private freeCount: i32 = 0;
  /** A page was released since the free list was last in slot order (rebuildFreeList). */
  private freeUnordered: bool = false;
  private hand: i32 = 0;
  /** Entries on dirtyList, and whether a page could not be put on it (write-back then looks at every page). */
  private listed: i32 = 0;
  private listOverflow: bool = false;
  private failureCount: i32 = 0;
  /** A failure that found the table full: told to every SYNC until one answers it. */
  private overflow: i32 = 0;

  constructor(readonly disk: Disk) {
    for (let i = 0; i < MAX_PAGES; i++) {
      unchecked((slotBlock[i] = NONE));
      unchecked((slotNext[i] = -1));
    }
    for (let i = 0; i < BUCKETS; i++) unchecked((bucket[i] = -1));
  }

  /** Lets the cache grow in `memory` (a Memory capability) up to `pages` pages. */
  configure(memory: i32, pages: i32): void {
    this.memory = new Memory(memory);
    this.limit = max(0, min(MAX_CHUNKS, pages / CHUNK_PAGES));
  }

  /** The chunks the cache may grow to, less what file maps took. */
  room(): i32 {
    return max(0, this.limit - this.reserved);
  }

  /** File maps take `chunks` of the cache's room (negative: give them back); the cache shrinks to what is left. */
  reserve(chunks: i32): void {
    this.reserved += chunks;
    const keep = this.room();
    if (this.chunks > keep) this.shrink(keep);
  }

  /** Pages the chunks held now have room for. */
  get capacity(): i32 {
    return this.chunks * CHUNK_PAGES;
  }

  @inline address(slot: i32): usize {
    return unchecked(chunkAddress[slot / CHUNK_PAGES]) + (<usize>(slot % CHUNK_PAGES) << BLOCK_SHIFT);
  }

  /** The page holding `block`, or -1; a page found is marked used. */
  find(block: u32): i32 {
    let slot = unchecked(bucket[hash(block)]);
    while (slot >= 0 && unchecked(slotBlock[slot]) != block) slot = unchecked(slotNext[slot]);
    if (slot >= 0) unchecked((slotFlags[slot] |= REFERENCED));
    return slot;
  }

  /** The address of `block`'s page (marked used), or 0 when it is not cached (or `block` is 0 or NO_BLOCK). */
  pageOf(block: u32): usize {
    if (block == 0 || block == NONE) return 0;
    const slot = this.find(block);
    return slot < 0 ? 0 : this.address(slot);
  }

  /** Whether `block` is cached (nothing is marked). */
  holds(block: u32): bool {
    let slot = unchecked(bucket[hash(block)]);
    while (slot >= 0 && unchecked(slotBlock[slot]) != block) slot = unchecked(slotNext[slot]);
    return slot >= 0;
  }

  /**
   * A page for `block` (which must not be cached), block `index` of inode `ino`, its bytes not yet
   * filled: the caller fills all of them. Pinned until `unpin` when `pin`. -1 when the cache has no
   * page to give (none yet, or every one pinned): the caller goes to the disk directly.
   */
  take(block: u32, ino: u32, index: u32, pin: bool = false): i32 {
    let slot = this.freeSlot();
    if (slot < 0 && this.grow()) slot = this.freeSlot();
    if (slot < 0 && this.evict()) slot = this.freeSlot();
    if (slot < 0) return -1;
    unchecked((slotBlock[slot] = block));
    unchecked((slotInode[slot] = ino));
    unchecked((slotIndex[slot] = index));
    unchecked((slotFlags[slot] = REFERENCED | (pin ? PINNED : 0)));
    const h = hash(block);
    unchecked((slotNext[slot] = bucket[h]));
    unchecked((bucket[h] = slot));
    this.resident++;
    return slot;
  }

  /** Keeps the page from eviction until `unpin` (while an operation fills it). */
  pin(slot: i32): void {
    unchecked((slotFlags[slot] |= PINNED));
  }

  unpin(slot: i32): void {
    unchecked((slotFlags[slot] &= ~PINNED));
  }

  /** The page's bytes changed: it goes to the disk before the next commit. Its owner is now `ino`'s block `index`. */
  markDirty(slot: i32, ino: u32, index: u32): void {
    unchecked((slotInode[slot] = ino));
    unchecked((slotIndex[slot] = index));
    const flags = unchecked(slotFlags[slot]);
    if ((flags & DIRTY) == 0) {
      let listed = flags & LISTED;
      if (listed == 0 && this.listed < MAX_PAGES) {
        unchecked((dirtyList[this.listed++] = slot));
        listed = LISTED;
      } else if (listed == 0) this.listOverflow = true;
      unchecked((slotFlags[slot] = flags | DIRTY | REFERENCED | listed));
      this.dirtyCount++;
    }
  }

  /** The page now holds what the disk holds (written through by a direct write). */
  markClean(slot: i32): void {
    const flags = unchecked(slotFlags[slot]);
    if ((flags & DIRTY) != 0) {
      unchecked((slotFlags[slot] = flags & ~DIRTY));
      this.dirtyCount--;
    }
  }

  /** Forgets `block`: it was freed, or a page taken for it could not be filled. A dirty page is dropped, not written. */
  forget(block: u32): void {
    let slot = unchecked(bucket[hash(block)]);
    while (slot >= 0 && unchecked(slotBlock[slot]) != block) slot = unchecked(slotNext[slot]);
    if (slot >= 0) this.release(slot);
  }

  /** Forgets `block` if its page is clean and not pinned (a file map holds the same bytes now). */
  dropClean(block: u32): void {
    let slot = unchecked(bucket[hash(block)]);
    while (slot >= 0 && unchecked(slotBlock[slot]) != block) slot = unchecked(slotNext[slot]);
    if (slot >= 0 && (unchecked(slotFlags[slot]) & (DIRTY | PINNED)) == 0) this.release(slot);
  }

  /** The failure a write-back of inode `ino`'s data met since the last time this was asked (0: none). */
  takeFailure(ino: u32): i32 {
    for (let i = 0; i < this.failureCount; i++) {
      if (unchecked(failedInode[i]) != ino) continue;
      const status = unchecked(failedStatus[i]);
      this.failureCount--;
      unchecked((failedInode[i] = failedInode[this.failureCount]));
      unchecked((failedStatus[i] = failedStatus[this.failureCount]));
      return status;
    }
    const status = this.overflow;
    this.overflow = 0;
    return status;
  }

  /**
   * Writes every dirty page to the disk, in block order, neighbours in one call. A run the disk
   * refuses is tried page by page; a page that still fails is dropped (a hole if its block is new)
   * and its inode remembered for SYNC. 0, or a status when the driver could not be reached at all.
   */
  writeBackAll(skipPinned: bool = false): i32 {
    if (this.dirtyCount == 0) {
      // (pages dirtied and cleaned or dropped since: the list starts again)
      for (let k = 0; k < this.listed; k++) unchecked((slotFlags[dirtyList[k]] &= ~LISTED));
      this.listed = 0;
      return 0;
    }
    let count = 0;
    let deferredCount = 0;
    let deferOverflow = false;
    let sorted = true;
    let last: u64 = 0;
    const scanAll = this.listOverflow;
    const pages = scanAll ? this.capacity : this.listed;
    for (let k = 0; k < pages; k++) {
      const slot = scanAll ? k : unchecked(dirtyList[k]);
      const flags = unchecked(slotFlags[slot]);
      if ((flags & LISTED) == 0 && !scanAll) continue; // (on the list twice, or released since)
      unchecked((slotFlags[slot] = flags & ~LISTED));
      if ((flags & DIRTY) == 0) continue;
      if (skipPinned && (flags & PINNED) != 0) {
        // An operation is filling it (a WRITE's run took it dirty): written next time, never
        // dropped under that operation by a failed write-back (redteam15).
        if (deferredCount < DEFERRED_MAX) unchecked((deferred[deferredCount++] = slot));
        else deferOverflow = true;
        continue;
      }
      const key = (<u64>unchecked(slotBlock[slot]) << 32) | <u64>slot;
      if (key < last) sorted = false;
      last = key;
      unchecked((dirtyKeys[count++] = key));
    }
    this.listed = 0;
    this.listOverflow = deferOverflow; // (then the next write-back looks at every page)
    for (let k = 0; k < deferredCount; k++) {
      unchecked((dirtyList[this.listed++] = deferred[k]));
      unchecked((slotFlags[deferred[k]] |= LISTED));
    }
    // A file written start to end took its pages and its blocks in the same order: no sort
    // (a heap sort of 4096 keys cost 0.3-0.4 ms of a 16 MiB SYNC).
    if (!sorted) sortKeys(count);
    let i = 0;
    while (i < count) {
      const first = <u32>(unchecked(dirtyKeys[i]) >>> 32);
      let run = 0;
      while (i + run < count && run < <i32>RUN_BLOCKS && <u32>(unchecked(dirtyKeys[i + run]) >>> 32) == first + <u32>run) {
        unchecked((runPages[run] = this.address(<i32>(unchecked(dirtyKeys[i + run]) & 0xffffffff))));
        run++;
      }
      // From views of the cache's own Regions; else (or when the driver refused them) copied.
      let status = this.viewed(i, run) ? this.writeViews(i, run) : -1;
      if (status < 0) status = this.disk.writePages(<u64>first, <u32>run, runPages);
      if (status >= 0) {
        for (let k = 0; k < run; k++) this.markClean(<i32>(unchecked(dirtyKeys[i + k]) & 0xffffffff));
        this.writtenBack += <u64>run;
      } else {
        for (let k = 0; k < run; k++) this.writeOne(<i32>(unchecked(dirtyKeys[i + k]) & 0xffffffff));
      }
      i += run;
    }
    return 0;
  }

  /** Write-behind (above): writes every dirty page back once WRITE_BEHIND_PAGES are; 0 or a status, as writeBackAll. */
  writeBehind(): i32 {
    return this.dirtyCount >= WRITE_BEHIND_PAGES ? this.writeBackAll() : 0;
  }

  /**
   * Gives back chunks until `keep` are left (the last ones first: the pages stay numbered from 0),
   * after writing back what is dirty. How many chunks it freed.
   */
  shrink(keep: i32): i32 {
    keep = max(keep, 0);
    if (keep >= this.chunks) return 0;
    this.writeBackAll();
    let freed = 0;
    // A Region at a time, the last first: down to `keep` chunks or fewer.
    while (this.chunks > keep) {
      const first = unchecked(chunkFirst[this.chunks - 1]);
      const end = this.chunks * CHUNK_PAGES;
      for (let slot = first * CHUNK_PAGES; slot < end; slot++) {
        if ((unchecked(slotFlags[slot]) & PINNED) != 0) return freed; // (never between operations)
      }
      for (let slot = first * CHUNK_PAGES; slot < end; slot++) this.release(slot);
      if (unchecked(chunkView[first]) != 0) capDrop(unchecked(chunkView[first]));
      unchecked((chunkView[first] = 0));
      capDrop(unchecked(chunkRegion[first])); // the owner's last capability: the Region and its frames go
      freed += this.chunks - first;
      this.chunksFreed += <u64>(this.chunks - first);
      this.chunks = first;
    }
    this.rebuildFreeList();
    if (this.hand >= this.capacity) this.hand = 0;
    return freed;
  }

  /**
   * Lowers the limit by a chunk and frees one if the cache holds as many (for a buffer the Memory
   * has no room for otherwise): false when the cache has nothing to give.
   */
  giveUpChunk(): bool {
    if (this.limit == 0) return false;
    this.limit--;
    if (this.chunks > this.limit) this.shrink(this.limit);
    return true;
  }

  // ---- Internals ---------------------------------------------------------------------------------

  private freeSlot(): i32 {
    // Pages released in block order (a file cut or rewritten: Bitmap.release forgets its blocks
    // first to last) lie on the free list last on top, so the next file would take them in reverse
    // and no two of its neighbouring blocks would have neighbouring pages: every read and write of
    // it a page at a time. Many released since the list was last in order: put it in order again
    // (lowest slot on top). (Evictions release one page and take it at once: they never get here.)
    if (this.freeCount >= REORDER_FREE && this.freeUnordered) this.rebuildFreeList();
    while (this.freeCount > 0) {
      const slot = unchecked(freeSlots[--this.freeCount]);
      if (slot < this.capacity && unchecked(slotBlock[slot]) == NONE) return slot;
    }
    return -1;
  }

  // Adds a chunk when the limit, the Memory and the kernel allow it.
  private grow(): bool {
    const memory = this.memory;
    if (memory == null || this.chunks >= this.limit - this.reserved) return false;
    const pressure = this.pressure;
    if (pressure != null && !pressure.mayGrow()) return false;
    // As many chunks as the room allows in one Region (halved while the Memory cannot pay).
    let count = min(REGION_CHUNKS, this.limit - this.reserved - this.chunks);
    let region = memory.createRegion(<u32>(count * CHUNK_PAGES), REGION_ZERO_ON_FREE);
    while (region == E_QUOTA && count > 1) {
      count >>= 1;
      region = memory.createRegion(<u32>(count * CHUNK_PAGES), REGION_ZERO_ON_FREE);
    }
    if (region < 0) {
      if (region == E_QUOTA) this.limit = this.chunks; // the Memory is full: this is the size
      return false;
    }
    msgBegin(OP_REGION_INFO);
    if (msgInvoke(region) < 0) {
      capDrop(region);
      return false;
    }
    const address = <usize>msgWord(0);
    const first = this.chunks;
    for (let k = 0; k < count; k++) {
      unchecked((chunkRegion[first + k] = k == 0 ? region : 0));
      unchecked((chunkFirst[first + k] = first));
      unchecked((chunkAddress[first + k] = address + (<usize>(k * CHUNK_PAGES) << BLOCK_SHIFT)));
    }
    unchecked((chunkView[first] = 0));
    this.chunks += count;
    for (let slot = this.chunks * CHUNK_PAGES - 1; slot >= first * CHUNK_PAGES; slot--) {
      unchecked((slotBlock[slot] = NONE));
      unchecked((slotFlags[slot] = 0));
      unchecked((freeSlots[this.freeCount++] = slot));
    }
    return true;
  }

  // The clock: frees a page not used since the hand last passed (written back first if dirty).
  // False when every page is pinned.
  private evict(): bool {
    const pages = this.capacity;
    for (let tries = 0; tries < 3 * pages; tries++) {
      const slot = this.hand;
      this.hand = this.hand + 1 >= pages ? 0 : this.hand + 1;
      const flags = unchecked(slotFlags[slot]);
      if ((flags & PINNED) != 0 || unchecked(slotBlock[slot]) == NONE) continue;
      if ((flags & REFERENCED) != 0) {
        unchecked((slotFlags[slot] = flags & ~REFERENCED));
        continue;
      }
      if ((flags & DIRTY) != 0) {
        this.writeBackAll(true); // the dirty pages go together, in block order (not those an operation holds)
        if (unchecked(slotBlock[slot]) == NONE) return true; // dropped: its write-back failed
        if ((unchecked(slotFlags[slot]) & DIRTY) != 0) continue;
      }
      this.release(slot);
      return true;
    }
    return false;
  }

  // Whether the run of `run` dirty keys from `i` (neighbouring blocks) lies in pieces of
  // VIEW_MIN_PAGES pages or more, each side by side in one Region: then it goes as views.
  private viewed(i: i32, run: i32): bool {
    let k = 0;
    while (k < run) {
      const span = this.pieceAt(i + k, run - k);
      if (span < VIEW_MIN_PAGES && !(k == 0 && span == run)) return false;
      k += span;
    }
    return true;
  }

  // How many of the `most` dirty keys from `i` have pages side by side in one Region.
  private pieceAt(i: i32, most: i32): i32 {
    const slot = <i32>(unchecked(dirtyKeys[i]) & 0xffffffff);
    const first = unchecked(chunkFirst[slot / CHUNK_PAGES]);
    const page = this.address(slot);
    let span = 1;
    while (span < most) {
      const next = <i32>(unchecked(dirtyKeys[i + span]) & 0xffffffff);
      if (unchecked(chunkFirst[next / CHUNK_PAGES]) != first || this.address(next) != page + (<usize>span << BLOCK_SHIFT)) break;
      span++;
    }
    return span;
  }

  // Writes the run of `run` dirty keys from `i` (viewed said it may) from views of their Regions,
  // a driver call a piece. 0 or the first failure's status (the pieces before it were written).
  private writeViews(i: i32, run: i32): i32 {
    let k = 0;
    while (k < run) {
      const span = this.pieceAt(i + k, run - k);
      const slot = <i32>(unchecked(dirtyKeys[i + k]) & 0xffffffff);
      const first = unchecked(chunkFirst[slot / CHUNK_PAGES]);
      let view = unchecked(chunkView[first]);
      if (view == 0) {
        msgBegin(OP_REGION_VIEW); // (the server made the Region: it may share it)
        const made = msgInvoke(unchecked(chunkRegion[first]));
        if (made < 0) return made;
        view = msgCap(0);
      }
      const offset = <u32>(this.address(slot) - unchecked(chunkAddress[first]));
      const block = <u64>(unchecked(dirtyKeys[i + k]) >>> 32);
      const status = this.disk.writeView(block, <u32>span, view, offset);
      unchecked((chunkView[first] = this.disk.viewBack));
      if (status < 0) return status;
      this.writtenFromViews += <u64>span;
      k += span;
    }
    return 0;
  }

  // One page's write-back, after its run failed: a page the disk still refuses is dropped.
  private writeOne(slot: i32): void {
    const block = unchecked(slotBlock[slot]);
    unchecked((runPages[0] = this.address(slot)));
    const status = this.disk.writePages(<u64>block, 1, runPages);
    if (status >= 0) {
      this.markClean(slot);
      this.writtenBack++;
      return;
    }
    const ino = unchecked(slotInode[slot]);
    const index = unchecked(slotIndex[slot]);
    this.noteFailure(ino, status < 0 ? status : FS_E_IO);
    this.lost++;
    this.release(slot);
    const puncher = this.puncher;
    if (puncher != null) {
      puncher.lost(ino, index);
      if (!puncher.committed(block)) puncher.punch(ino, index, block);
    }
  }

  private noteFailure(ino: u32, status: i32): void {
    for (let i = 0; i < this.failureCount; i++) if (unchecked(failedInode[i]) == ino) return;
    if (this.failureCount == FAILURES) {
      if (this.overflow == 0) this.overflow = status;
      return;
    }
    unchecked((failedInode[this.failureCount] = ino));
    unchecked((failedStatus[this.failureCount] = status));
    this.failureCount++;
  }

  // Takes `slot` out of its hash chain and empties it (back on the free list).
  private release(slot: i32): void {
    const block = unchecked(slotBlock[slot]);
    if (block == NONE) return;
    const h = hash(block);
    let at = unchecked(bucket[h]);
    if (at == slot) unchecked((bucket[h] = slotNext[slot]));
    else {
      while (at >= 0 && unchecked(slotNext[at]) != slot) at = unchecked(slotNext[at]);
      if (at >= 0) unchecked((slotNext[at] = slotNext[slot]));
    }
    if ((unchecked(slotFlags[slot]) & DIRTY) != 0) this.dirtyCount--;
    unchecked((slotBlock[slot] = NONE));
    unchecked((slotNext[slot] = -1));
    unchecked((slotFlags[slot] = 0));
    this.resident--;
    unchecked((freeSlots[this.freeCount++] = slot));
    this.freeUnordered = true;
  }

  private rebuildFreeList(): void {
    this.freeUnordered = false;
    this.freeCount = 0;
    const pages = this.capacity;
    for (let slot = pages - 1; slot >= 0; slot--) if (unchecked(slotBlock[slot]) == NONE) unchecked((freeSlots[this.freeCount++] = slot));
  }
}

@inline function hash(block: u32): u32 {
  return (block * 0x9e3779b1) >>> (32 - BUCKET_BITS);
}

// Heap sort of the first `count` keys (write-back may hold thousands).
function sortKeys(count: i32): void {
  for (let start = (count >> 1) - 1; start >= 0; start--) siftDown(start, count);
  for (let end = count - 1; end > 0; end--) {
    const top = unchecked(dirtyKeys[0]);
    unchecked((dirtyKeys[0] = dirtyKeys[end]));
    unchecked((dirtyKeys[end] = top));
    siftDown(0, end);
  }
}

function siftDown(root: i32, count: i32): void {
  for (;;) {
    let child = 2 * root + 1;
    if (child >= count) return;
    if (child + 1 < count && unchecked(dirtyKeys[child + 1]) > unchecked(dirtyKeys[child])) child++;
    if (unchecked(dirtyKeys[root]) >= unchecked(dirtyKeys[child])) return;
    const t = unchecked(dirtyKeys[root]);
    unchecked((dirtyKeys[root] = dirtyKeys[child]));
    unchecked((dirtyKeys[child] = t));
    root = child;
  }
}
