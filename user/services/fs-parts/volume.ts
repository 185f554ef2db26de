// A mounted volume: the disk, the metadata cache (the running transaction), the page cache of file
// data, the journal, the block allocator, and the inodes with their block maps and data (through
// FileData, file-data.ts). Every method runs inside one operation of the server
// (Cache.beginOperation), so the cache addresses it holds stay good.
// Failures are statuses: FS_E_IO (the disk failed, or a block number the format does not allow),
// FS_E_NO_SPACE, FS_E_TOO_BIG. Nothing allocates.
import { wallClock } from "../../lib";
import { FS_E_IO, FS_E_NO_SPACE, FS_E_TOO_BIG } from "../../lib/fs-protocol";
import { Bitmap } from "./bitmap";
import { Cache } from "./cache";
import { Disk } from "./disk";
import { FileData } from "./file-data";
import { FillSink } from "./fill-sink";
import { FileMaps, MapSource } from "./file-maps";
import { Journal } from "./journal";
import { HolePuncher, PageCache } from "./page-cache";
import {
  BLOCK_BYTES, BLOCK_SHIFT, DIRECT_BLOCKS, I_ACCESSED_AT, I_BLOCKS_AT, I_CHANGED_AT, I_CREATED_AT, I_DIRECT_AT,
  I_DOUBLE_AT, I_GENERATION_AT, I_KIND_AT, I_LINKS_AT, I_MODIFIED_AT, I_PARENT_AT, I_SINGLE_AT, I_SIZE_AT,
  INODE_BYTES, INODES_PER_BLOCK, KIND_DIR, KIND_FREE, Layout, MAX_FILE_BYTES, POINTERS_PER_BLOCK, SYMLINK_MAX,
} from "./format";

/** map()'s answer when it failed (the status is in Volume.status). */
export const NO_BLOCK: u32 = 0xffffffff;
/** An access time older than this is brought up to date by a read (Linux's relatime: a day). */
const ACCESS_STALE_NS: i64 = 86_400_000_000_000;
/** Reads whose access time stays as it is may judge "a day" by a clock read up to this many reads ago. */
const ACCESS_CLOCK_READS: u32 = 64;
export class Volume implements HolePuncher, MapSource {
  readonly layout: Layout;
  readonly cache: Cache;
  readonly pages: PageCache;
  /** Files mapped read-only into their readers (FS_MAP): kept equal to what the file holds at every change here. */
  readonly maps: FileMaps;
  /** Set in the constructor, once `this` can be handed over. */
  data!: FileData;
  readonly journal: Journal;
  readonly bitmap: Bitmap;
  freeInodes: u32 = 0;
  /** Mounted from a write-protected disk: nothing is ever written (fs.ts serves read-only roots). */
  readOnly: bool = false;
  /** Why the last call that failed failed. */
  status: i32 = 0;
  /** Whether the last map() allocated a data block (its old contents must not be read). */
  fresh: bool = false;
  private inodeHint: u32 = 2;
  /** The wall clock as last read for `accessed`, and the reads that used it since. */
  private accessClock: i64 = 0;
  private accessClockUses: u32 = ACCESS_CLOCK_READS;

  constructor(readonly disk: Disk) {
    const layout = new Layout();
    const cache = new Cache(disk);
    const pages = new PageCache(disk);
    this.layout = layout;
    this.cache = cache;
    this.pages = pages;
    this.maps = new FileMaps(pages);
    this.journal = new Journal(disk, cache, pages, layout);
    this.bitmap = new Bitmap(cache, pages, layout);
    this.data = new FileData(this, pages, disk);
    pages.puncher = this;
  }

  // ---- Inodes ----------------------------------------------------------------------------------

  /** The cached bytes of inode `ino`, or 0 (status FS_E_IO) when it is out of range or unreadable. */
  inode(ino: u32): usize {
    if (ino == 0 || ino >= this.layout.inodeCount) return this.fail(FS_E_IO);
    const at = this.cache.get(this.layout.inodes + ino / INODES_PER_BLOCK);
    if (at == 0) return this.fail(FS_E_IO);
    return at + <usize>((ino % INODES_PER_BLOCK) * INODE_BYTES);
  }

  /** Marks an inode (or any cached metadata) changed. */
  @inline touch(at: usize): void {
    this.cache.markDirty(at);
  }

  /** The number of the inode whose cached bytes are at `at`. */
  inodeNumber(at: usize): u32 {
    const block = this.cache.blockAt(at);
    return (block - this.layout.inodes) * INODES_PER_BLOCK + <u32>((at & (BLOCK_BYTES - 1)) / INODE_BYTES);
  }

  /**
   * Block `index` of inode `ino` is `block`, new since the last commit, whose data could not be
   * written (PageCache): it becomes a hole again and the block is freed, so the transaction never
   * commits a map naming a block whose bytes are not the file's.
   */
  punch(ino: u32, index: u32, block: u32): void {
    const at = this.inode(ino);
    if (at == 0) return;
    const pointer = this.pointer(at, <u64>index);
    if (pointer == 0 || load<u32>(pointer) != block) return;
    this.freePointer(at, pointer);
  }

  /** Block `index` of inode `ino` lost what was written to it (its write-back failed; PageCache). */
  lost(ino: u32, index: u32): void {
    if (this.maps.count == 0) return;
    const at = this.inode(ino);
    if (at != 0) this.maps.lost(ino, <u64>index, load<u64>(at + I_SIZE_AT));
  }

  /** Whether `block` is in use in the committed state. */
  committed(block: u32): bool {
    return this.bitmap.committedInUse(block);
  }

  /**
   * A new inode of `kind` (a directory's parent is `parent`), with one link — the name its caller
   * is about to give it — and every time set to now: its number, or 0 (FS_E_NO_SPACE).
   */
  allocateInode(kind: u32, parent: u32): u32 {
    const count = this.layout.inodeCount;
    for (let n: u32 = 0; n < count; n++) {
      let ino = this.inodeHint + n;
      if (ino >= count) ino = ino - count + 2;
      if (ino < 2 || ino >= count) continue;
      const at = this.inode(ino);
      if (at == 0) return 0;
      if (load<u32>(at + I_KIND_AT) != KIND_FREE) continue;
      const generation = load<u32>(at + I_GENERATION_AT);
      memory.fill(at, 0, INODE_BYTES);
      const t = wallClock();
      store<u32>(at + I_KIND_AT, kind);
      store<u32>(at + I_PARENT_AT, kind == KIND_DIR ? parent : 0);
      store<u32>(at + I_LINKS_AT, 1);
      store<i64>(at + I_CREATED_AT, t);
      store<i64>(at + I_MODIFIED_AT, t);
      store<i64>(at + I_ACCESSED_AT, t);
      store<i64>(at + I_CHANGED_AT, t);
      store<u32>(at + I_GENERATION_AT, generation);
      this.touch(at);
      this.inodeHint = ino + 1;
      this.freeInodes--;
      return ino;
    }
    this.fail(FS_E_NO_SPACE);
    return 0;
  }

  /** Frees inode `ino` and its blocks; handles to it go stale (its generation changes). */
  freeInode(ino: u32): i32 {
    const at = this.inode(ino);
    if (at == 0) return this.status;
    const status = this.truncate(at, 0);
    if (status < 0) return status;
    const generation = load<u32>(at + I_GENERATION_AT) + 1;
    memory.fill(at, 0, INODE_BYTES);
    store<u32>(at + I_GENERATION_AT, generation);
    this.touch(at);
    this.freeInodes++;
    return 0;
  }

  // ---- The block map ---------------------------------------------------------------------------

  /**
   * The disk block holding block `index` of the inode at `at`: 0 for a hole, NO_BLOCK on failure.
   * With `allocate`, a hole is filled: a metadata leaf (`meta`: a directory's block) is zeroed in
   * the cache; a data leaf is not touched (the caller writes all of it or zeroes it: `fresh`).
   */
  map(at: usize, index: u64, allocate: bool, meta: bool): u32 {
    this.fresh = false;
    if (index < <u64>DIRECT_BLOCKS) return this.entry(at, at + I_DIRECT_AT + (<usize>index << 2), allocate, meta);
    index -= DIRECT_BLOCKS;
    if (index < <u64>POINTERS_PER_BLOCK) {
      const single = this.pointers(at, at + I_SINGLE_AT, allocate);
      if (single == 0 || single == NO_BLOCK) return single;
      return this.leaf(at, single, <u32>index, allocate, meta);
    }
    index -= POINTERS_PER_BLOCK;
    if (index >= <u64>POINTERS_PER_BLOCK * <u64>POINTERS_PER_BLOCK) {
      this.fail(FS_E_TOO_BIG);
      return NO_BLOCK;
    }
    const double = this.pointers(at, at + I_DOUBLE_AT, allocate);
    if (double == 0 || double == NO_BLOCK) return double;
    const table = this.cache.get(double);
    if (table == 0) return this.failBlock(FS_E_IO);
    const single = this.pointers(at, table + (<usize>(index / POINTERS_PER_BLOCK) << 2), allocate);
    if (single == 0 || single == NO_BLOCK) return single;
    return this.leaf(at, single, <u32>(index % POINTERS_PER_BLOCK), allocate, meta);
  }

  /**
   * Where the block map's entry for file block `index` of the inode at `at` lies (in the inode or a
   * cached indirect block), allocating nothing: 0 when a table on the way is a hole or cannot be
   * had (then `map` says what is wrong). The entries of neighbouring blocks follow it in the same
   * table up to `startsTable` — valid until the metadata cache next takes a block.
   */
  pointerOf(at: usize, index: u64): usize {
    if (index < <u64>DIRECT_BLOCKS) return at + I_DIRECT_AT + (<usize>index << 2);
    index -= DIRECT_BLOCKS;
    if (index < <u64>POINTERS_PER_BLOCK) {
      const table = this.tableOf(load<u32>(at + I_SINGLE_AT));
      return table == 0 ? 0 : table + (<usize>index << 2);
    }
    index -= POINTERS_PER_BLOCK;
    if (index >= <u64>POINTERS_PER_BLOCK * <u64>POINTERS_PER_BLOCK) return 0;
    const double = this.tableOf(load<u32>(at + I_DOUBLE_AT));
    if (double == 0) return 0;
    const table = this.tableOf(load<u32>(double + (<usize>(index / POINTERS_PER_BLOCK) << 2)));
    return table == 0 ? 0 : table + (<usize>(index % POINTERS_PER_BLOCK) << 2);
  }

  /** Whether file block `index`'s map entry is the first of its table (the one before it lies elsewhere). */
  startsTable(index: u64): bool {
    return index >= <u64>DIRECT_BLOCKS && (index - DIRECT_BLOCKS) % <u64>POINTERS_PER_BLOCK == 0;
  }

  /** Whether `block` may be named by a block map: a block of the data area. */
  isData(block: u32): bool {
    return block >= this.layout.data && block < this.layout.total;
  }

  // The cached bytes of indirect block `block`, or 0 (a hole, a number outside the data area, or a
  // block that cannot be had).
  private tableOf(block: u32): usize {
    return this.isData(block) ? this.cache.get(block) : 0;
  }

  private leaf(at: usize, indirect: u32, slot: u32, allocate: bool, meta: bool): u32 {
    const table = this.cache.get(indirect);
    if (table == 0) return this.failBlock(FS_E_IO);
    return this.entry(at, table + (<usize>slot << 2), allocate, meta);
  }

  // An indirect block's number from the pointer at `pointer`, allocated (zeroed) if need be.
  private pointers(at: usize, pointer: usize, allocate: bool): u32 {
    return this.entry(at, pointer, allocate, true);
  }

  // The block number at `pointer` (in the inode at `at` or an indirect block), allocated when a hole.
  private entry(at: usize, pointer: usize, allocate: bool, meta: bool): u32 {
    const block = load<u32>(pointer);
    if (block != 0) {
      if (block < this.layout.data || block >= this.layout.total) return this.failBlock(FS_E_IO);
      return block;
    }
    if (!allocate) return 0;
    const fresh = this.bitmap.allocate();
    if (fresh == 0) return this.failBlock(FS_E_NO_SPACE);
    // A data block: a committed map will name it, so what it holds reaches the disk first (a
    // metadata block's bytes are in the transaction itself).
    if (!meta) this.journal.dataFirst = true;
    if (meta && this.cache.getZeroed(fresh) == 0) return this.failBlock(FS_E_IO);
    store<u32>(pointer, fresh);
    this.touch(pointer);
    store<u32>(at + I_BLOCKS_AT, load<u32>(at + I_BLOCKS_AT) + 1);
    this.touch(at);
    this.fresh = !meta;
    return fresh;
  }

  // ---- Size and data ---------------------------------------------------------------------------

  /** Cuts (or extends, sparsely) the inode at `at` to `size` bytes, freeing blocks past it. */
  truncate(at: usize, size: u64): i32 {
    if (size > MAX_FILE_BYTES) return FS_E_TOO_BIG;
    const old = load<u64>(at + I_SIZE_AT);
    if (size < old) {
      // The new last block keeps its head and reads zeros past the end, in a copy: the committed
      // state still names the old block, whose bytes must stay until this commits.
      const status = this.copyHead(at, size);
      if (status < 0) return status;
      this.freeFrom(at, (size + BLOCK_BYTES - 1) >> BLOCK_SHIFT);
    } else if (size > old) {
      const status = this.zeroPastEnd(at, old);
      if (status < 0) return status;
    }
    store<u64>(at + I_SIZE_AT, size);
    this.modified(at);
    if (this.maps.count > 0 && size != old) this.maps.truncated(this.inodeNumber(at), old, size);
    return 0;
  }

  /** The inode at `at` changed its contents: its modify and change times are now. */
  modified(at: usize): void {
    const t = wallClock();
    store<i64>(at + I_MODIFIED_AT, t);
    store<i64>(at + I_CHANGED_AT, t);
    this.touch(at);
  }

  /** The inode at `at` itself changed (links, name, times): its change time is now. */
  changed(at: usize): void {
    store<i64>(at + I_CHANGED_AT, wallClock());
    this.touch(at);
  }

  /**
   * The inode at `at` was read: its access time becomes now when it is older than its last
   * modification or change, or than a day (Linux's relatime), so reading does not dirty an inode
   * at every call.
   */
  accessed(at: usize): void {
    if (this.readOnly) return;
    const last = load<i64>(at + I_ACCESSED_AT);
    if (last > load<i64>(at + I_MODIFIED_AT) && last > load<i64>(at + I_CHANGED_AT)) {
      // Most reads end here: the day is judged by a clock read at most ACCESS_CLOCK_READS reads
      // ago (a clock read is a kernel call, a tenth of a cached read).
      if (this.accessClockUses++ >= ACCESS_CLOCK_READS) {
        this.accessClock = wallClock();
        this.accessClockUses = 0;
      }
      if (this.accessClock - last < ACCESS_STALE_NS) return;
    }
    const t = wallClock();
    store<i64>(at + I_ACCESSED_AT, t);
    this.touch(at);
  }

  // ---- Symbolic links --------------------------------------------------------------------------

  /** Copies the target of the symbolic link at `at` to `to` (room for SYMLINK_MAX): its length, or a status. */
  readLink(at: usize, to: usize): i32 {
    const length = load<u64>(at + I_SIZE_AT);
    if (length == 0 || length > <u64>SYMLINK_MAX) return FS_E_IO;
    const block = this.map(at, 0, false, true);
    if (block == NO_BLOCK) return this.status;
    if (block == 0) return FS_E_IO;
    const bytes = this.cache.get(block);
    if (bytes == 0) return FS_E_IO;
    memory.copy(to, bytes, <usize>length);
    return <i32>length;
  }

  /** Makes the new symbolic link at `at` hold `length` (1 to SYMLINK_MAX) bytes from `from`, journaled as metadata: 0 or a status. */
  writeLink(at: usize, from: usize, length: u32): i32 {
    const block = this.map(at, 0, true, true);
    if (block == NO_BLOCK) return this.status;
    const bytes = this.cache.get(block);
    if (bytes == 0) return FS_E_IO;
    memory.copy(bytes, from, length);
    this.touch(bytes);
    store<u64>(at + I_SIZE_AT, length);
    this.touch(at);
    return 0;
  }

  /**
   * Before cutting the inode at `at` to `size` mid-block: that block's first bytes go to a fresh
   * block (zeros after them), which takes its place in the map; the old one is freed. Nothing to do
   * when `size` is whole blocks or the block is a hole. 0 or a status (FS_E_NO_SPACE: no block for
   * the copy; nothing has changed then).
   */
  private copyHead(at: usize, size: u64): i32 {
    const tail = <u32>(size & (BLOCK_BYTES - 1));
    if (tail == 0) return 0;
    const index = size >> BLOCK_SHIFT;
    const pointer = this.pointer(at, index);
    if (pointer == 0) return this.status;
    const old = load<u32>(pointer);
    if (old == 0) return 0;
    const fresh = this.bitmap.allocate();
    if (fresh == 0) return FS_E_NO_SPACE;
    this.journal.dataFirst = true; // (the head's copy reaches the disk before the map naming it)
    const copied = this.data.copyHead(at, index, old, fresh, tail);
    // The copy's page may have evicted, and an eviction writes every dirty page back: when `old`'s
    // failed, `old` (new since the last commit) became a hole and was freed, and what the copy read
    // of it was the disk's old bytes there, another file's (redteam15). A hole needs no copy.
    if (copied < 0 || load<u32>(pointer) != old) {
      this.bitmap.release(fresh); // mapped nowhere: kept, it would leak (redteam11)
      return copied < 0 ? copied : 0;
    }
    store<u32>(pointer, fresh);
    this.touch(pointer);
    this.bitmap.release(old);
    return 0;
  }

  /** See FileData.zeroPastEnd. */
  zeroPastEnd(at: usize, size: u64): i32 {
    return this.data.zeroPastEnd(at, size);
  }

  /**
   * The address (in the cache or the inode) of the pointer to block `index` of the inode at `at`,
   * allocating nothing: 0 when an indirect block on the way is missing (status 0: the block is a
   * hole) or on failure (status set).
   */
  private pointer(at: usize, index: u64): usize {
    this.status = 0;
    if (index < <u64>DIRECT_BLOCKS) return at + I_DIRECT_AT + (<usize>index << 2);
    index -= DIRECT_BLOCKS;
    let table: u32;
    if (index < <u64>POINTERS_PER_BLOCK) {
      table = load<u32>(at + I_SINGLE_AT);
    } else {
      index -= POINTERS_PER_BLOCK;
      const double = load<u32>(at + I_DOUBLE_AT);
      if (double == 0) return 0;
      if (double < this.layout.data || double >= this.layout.total) return this.fail(FS_E_IO);
      const top = this.cache.get(double);
      if (top == 0) return this.fail(FS_E_IO);
      table = load<u32>(top + (<usize>(index / POINTERS_PER_BLOCK) << 2));
      index %= POINTERS_PER_BLOCK;
    }
    if (table == 0) return 0;
    if (table < this.layout.data || table >= this.layout.total) return this.fail(FS_E_IO);
    const leaves = this.cache.get(table);
    if (leaves == 0) return this.fail(FS_E_IO);
    return leaves + (<usize>index << 2);
  }

  /** Reads up to `length` bytes at `offset` into `to` (zeros for holes): the bytes read, or a status. See FileData.read. */
  read(at: usize, offset: u64, length: u32, to: usize, ahead: u32 = 0, direct: bool = false, sink: FillSink | null = null): i32 {
    if (this.maps.count > 0 && !direct) {
      // A mapped file's pages are in its map (the page cache let go of them: file-maps.ts).
      if (sink == null) {
        const mapped = this.maps.read(this.inodeNumber(at), offset, length, load<u64>(at + I_SIZE_AT), to);
        if (mapped >= 0) return mapped;
      } else {
        // Straight from the map into the client's buffer: one copy.
        const mapped = this.maps.holds(this.inodeNumber(at), offset, length, load<u64>(at + I_SIZE_AT));
        if (mapped >= 0) {
          let filled = sink.put(to, this.maps.at(offset), <u32>mapped);
          if (filled >= 0) filled = sink.flush();
          return filled < 0 ? filled : mapped;
        }
      }
    }
    let n = this.data.read(at, offset, length, to, ahead, direct, sink);
    // What the sink gathered goes before anything else may take a cache page (readThrough can).
    if (n >= 0 && sink != null) {
      const flushed = sink.flush();
      if (flushed < 0) n = flushed;
    }
    // A mapped file's pages the read brought in become valid in its map (file-maps.ts).
    if (n > 0 && this.maps.count > 0 && !direct) this.maps.readThrough(this.inodeNumber(at), at, offset, <u32>n, this);
    return n;
  }

  /** Writes `length` bytes from `from` at `offset`, allocating blocks. See FileData.write. */
  write(at: usize, offset: u64, length: u32, from: usize, direct: bool = false): i32 {
    const n = this.data.write(at, offset, length, from, direct);
    // A mapped file's valid pages take the same bytes (file-maps.ts).
    if (n > 0 && this.maps.count > 0) this.maps.wrote(this.inodeNumber(at), offset, <u32>n, from, load<u64>(at + I_SIZE_AT));
    return n;
  }

  /** MapSource: one page of the inode at `at`, through the page cache (never read ahead). */
  readPage(at: usize, offset: u64, to: usize): i32 {
    return this.data.read(at, offset, BLOCK_BYTES, to, 0, false);
  }

  /** MapSource: the disk block of file block `index` of the inode at `at`: 0 for a hole, NO_BLOCK when it cannot be read. */
  blockOf(at: usize, index: u64): u32 {
    return this.map(at, index, false, false);
  }

  /** MapSource: where the page cache holds disk block `block` (0: it does not). */
  cachedPage(block: u32): usize {
    return this.pages.pageOf(block);
  }

  /** MapSource: the page cache lets go of disk block `block`'s page if it is clean (a map holds it). */
  letGo(block: u32): void {
    this.pages.dropClean(block);
  }

  /** MapSource: the page cache lets go of file block `index`'s page if it is clean (the map holds it). */
  dropCached(at: usize, index: u64): void {
    const block = this.map(at, index, false, false);
    if (block != NO_BLOCK && block != 0) this.pages.dropClean(block);
  }

  /** Frees the blocks the inode at `at` maps past its size (fsck --repair: a map longer than its size). */
  trimPastEnd(at: usize): void {
    this.freeFrom(at, (load<u64>(at + I_SIZE_AT) + BLOCK_BYTES - 1) >> BLOCK_SHIFT);
  }

  // Frees every block of the inode at `at` from file block `first` on, and the indirect blocks
  // left with nothing to point to.
  private freeFrom(at: usize, first: u64): void {
    for (let i = <u32>min(first, <u64>DIRECT_BLOCKS); i < DIRECT_BLOCKS; i++) this.freePointer(at, at + I_DIRECT_AT + (<usize>i << 2));
    const singleFirst = first > <u64>DIRECT_BLOCKS ? first - DIRECT_BLOCKS : 0;
    this.freeIndirect(at, at + I_SINGLE_AT, singleFirst, 1);
    const doubleBase = <u64>DIRECT_BLOCKS + POINTERS_PER_BLOCK;
    this.freeIndirect(at, at + I_DOUBLE_AT, first > doubleBase ? first - doubleBase : 0, 2);
  }

  // Frees, under the indirect block `pointer` points to, the blocks from `first` (relative to it);
  // `level` 1 points to data, 2 to level-1 blocks. The block itself goes when `first` is 0.
  private freeIndirect(at: usize, pointer: usize, first: u64, level: i32): void {
    const block = load<u32>(pointer);
    if (block == 0 || block < this.layout.data || block >= this.layout.total) return;
    const span: u64 = level == 1 ? 1 : <u64>POINTERS_PER_BLOCK;
    if (first >= span * POINTERS_PER_BLOCK) return;
    const table = this.cache.get(block);
    if (table == 0) return;
    for (let i = <u32>(first / span); i < POINTERS_PER_BLOCK; i++) {
      const slot = table + (<usize>i << 2);
      if (load<u32>(slot) == 0) continue;
      if (level == 1) this.freePointer(at, slot);
      else {
        const base = <u64>i * span;
        this.freeIndirect(at, slot, first > base ? first - base : 0, 1);
      }
    }
    if (first == 0) this.freePointer(at, pointer);
  }

  private freePointer(at: usize, pointer: usize): void {
    const block = load<u32>(pointer);
    if (block == 0) return;
    store<u32>(pointer, 0);
    this.touch(pointer);
    if (block >= this.layout.data && block < this.layout.total) this.bitmap.release(block);
    const owned = load<u32>(at + I_BLOCKS_AT);
    store<u32>(at + I_BLOCKS_AT, owned > 0 ? owned - 1 : 0);
    this.touch(at);
  }

  private fail(status: i32): usize {
    this.status = status;
    return 0;
  }

  private failBlock(status: i32): u32 {
    this.status = status;
    return NO_BLOCK;
  }
}
