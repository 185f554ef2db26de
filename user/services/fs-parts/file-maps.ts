// File maps (docs/FS.md "Mapped reads"): a read-only mapping of a file's bytes into the clients
// that asked for it (FS_MAP), so that a read of what the map holds never calls the server.
//
// A map is a Region of the server's Memory for one inode, made at the first FS_MAP on it and
// shared by every handle that mapped it (a view each), freed when the last of them closes. It is
// a header page (the words FS_MAP_*_AT of fs-protocol.ts: magic, sequence, size, valid bits) and
// then the file's first `pages` pages, each either valid — exactly the file's bytes, zeros past
// its end — or not. The server keeps that true at every change of the file's bytes or size
// (Volume.write, truncate, a page whose write-back failed), writing into valid pages what it
// writes into the page cache, and makes pages valid as reads through it bring them in. Each
// change happens between an odd and the next even sequence, so a client that read the sequence
// before its copy and finds it changed after knows the copy may be torn and asks the server
// (user/lib/fs-client.ts). The client never waits on an odd sequence: it asks the server, whose
// operation ends before it answers.
//
// What it keeps sealed: a map only ever holds one inode's bytes (a new Region, zeroed, per map;
// never reused for another file), goes only to a handle with READ, and is freed with
// REGION_ZERO_ON_FREE, so a view kept after the map is gone reads zeros (magic 0), never what the
// frames hold next. A view outlives its handle, as an mmap outlives close: who could read the
// file keeps seeing it while the map lives (another handle holds it).
//
// What it costs: the map's pages are the server's Memory's, taken from the page cache's room (its
// limit comes down by as many chunks while the map lives). A page is held once: when the map takes
// a page the cache holds clean, the cache lets it go, and the server's own reads of the file come
// from the map (`read`) while it holds them; a page written is in both until the cache's copy is
// written back and evicted. Under memory pressure every map is freed (dropAll). Nothing allocates
// after the start.
import {
  E_QUOTA, OP_REGION_INFO, REGION_ZERO_ON_FREE, Memory, Region, capDrop, msgBegin, msgInvoke, msgWord,
} from "../../lib";
import {
  FS_MAP_MAGIC, FS_MAP_MAGIC_AT, FS_MAP_SEQUENCE_AT, FS_MAP_SIZE_AT, FS_MAP_INODE_AT, FS_MAP_PAGES_AT,
  FS_MAP_VALID_AT, FS_MAP_PAGES_MAX,
} from "../../lib/fs-protocol";
import { BLOCK_BYTES, BLOCK_SHIFT, I_SIZE_AT } from "./format";
import { HandleWatcher, MAX_HANDLES } from "./handles";
import { ViewedRegions } from "./viewed-regions";
import { CHUNK_PAGES, PageCache } from "./page-cache";

/** Maps alive at once (a 17th file's FS_MAP answers FS_E_TABLE_FULL until one is freed). */
export const MAX_MAPS: i32 = 16;
/** A map's data pages at least (a small or empty file may grow into them). */
const MIN_MAP_PAGES: u32 = 16;

const mapInode = new StaticArray<u32>(MAX_MAPS);
const mapRegion = new StaticArray<i32>(MAX_MAPS);
const mapAddress = new StaticArray<usize>(MAX_MAPS);
const mapPages = new StaticArray<u32>(MAX_MAPS);
const mapHolders = new StaticArray<i32>(MAX_MAPS);
/** The chunks of page cache room each map took. */
const mapChunks = new StaticArray<i32>(MAX_MAPS);
/** The disk blocks of one run of pages fillCached copies at once. */
const runBlocks = new StaticArray<u32>(<i32>FS_MAP_PAGES_MAX);
/** The map each handle entry holds (-1: none). */
const handleMap = new StaticArray<i8>(MAX_HANDLES);

/** What a map reads its pages through: the server's own read of a file's bytes (Volume.read). */
export interface MapSource {
  /** Reads up to `length` bytes at `offset` of the inode at `at` into `to`, from the page cache or the disk: the bytes, or a status. */
  readPage(at: usize, offset: u64, to: usize): i32;
  /** File block `index` of the inode at `at` is in its map now: the page cache lets go of its page if it is clean. */
  dropCached(at: usize, index: u64): void;
  /** The disk block of file block `index` of the inode at `at`: 0 for a hole, 0xffffffff when it cannot be read. */
  blockOf(at: usize, index: u64): u32;
  /** Where the page cache holds disk block `block` (0: it does not). */
  cachedPage(block: u32): usize;
  /** Disk block `block` is in a map now: the page cache lets go of its page if it is clean. */
  letGo(block: u32): void;
}

export class FileMaps implements HandleWatcher {
  /** Maps alive: every hook returns at once while it is 0. */
  count: i32 = 0;
  /** Maps made and freed, for the figures. */
  made: u32 = 0;
  private memory: Memory | null = null;
  /** Where what a freed map's kept views leave charged is counted per session. */
  private leaks: ViewedRegions | null = null;
  /** The address of the last map found by `find`, and its data pages. */
  private header: usize = 0;
  private pages: u32 = 0;

  constructor(readonly cache: PageCache) {
    for (let i = 0; i < MAX_MAPS; i++) unchecked((mapInode[i] = 0));
    for (let i = 0; i < MAX_HANDLES; i++) unchecked((handleMap[i] = -1));
  }

  /** Maps are made in `memory` (a Memory capability); without it FS_MAP answers E_QUOTA. */
  configure(memory: i32, leaks: ViewedRegions): void {
    this.memory = new Memory(memory);
    this.leaks = leaks;
  }

  /**
   * Handle entry `index` maps inode `ino` (the inode at `at`): a view of its map (made now if it
   * has none), or a status. `words` gets the data pages and the Region's address.
   */
  map(index: i32, ino: u32, at: usize, source: MapSource): i32 {
    let m = this.slotOf(ino);
    if (m < 0) {
      m = this.make(ino, at, source);
      if (m < 0) return m;
    }
    const view = new Region(unchecked(mapRegion[m])).view();
    if (view < 0) {
      if (unchecked(mapHolders[m]) == 0) this.free(m); // made for nobody
      return view;
    }
    const held = <i32>unchecked(handleMap[index]);
    if (held != m) {
      if (held >= 0) this.release(held);
      unchecked((handleMap[index] = <i8>m));
      unchecked((mapHolders[m] += 1));
    }
    this.header = unchecked(mapAddress[m]);
    this.pages = unchecked(mapPages[m]);
    return view;
  }

  /** The Region's address and data pages of the map `map` just answered. */
  get lastAddress(): usize {
    return this.header;
  }
  get lastPages(): u32 {
    return this.pages;
  }

  /** Handle entry `index` closed (or was taken back): the map it held loses a holder, and goes with its last. */
  closed(index: i32): void {
    const m = <i32>unchecked(handleMap[index]);
    if (m < 0) return;
    unchecked((handleMap[index] = -1));
    this.release(m);
  }

  /** Frees every map (memory is short): their views read zeros, and their readers ask the server. */
  dropAll(): void {
    if (this.count == 0) return;
    for (let i = 0; i < MAX_HANDLES; i++) unchecked((handleMap[i] = -1));
    for (let m = 0; m < MAX_MAPS; m++) if (unchecked(mapInode[m]) != 0) this.free(m);
  }

  /**
   * A read through the server of inode `ino`'s `length` bytes at `offset` (the file `size` bytes
   * long), answered from its map when every page it covers is valid there: the bytes copied to
   * `to`, or -1 (not mapped, or not all of it: the page cache answers, and readThrough fills the map).
   */
  read(ino: u32, offset: u64, length: u32, size: u64, to: usize): i32 {
    const n = this.holds(ino, offset, length, size);
    if (n > 0) memory.copy(to, this.at(offset), n);
    return n;
  }

  /**
   * How many of `length` bytes at `offset` of inode `ino` (`size` bytes long) its map holds, all of
   * them valid there (0 at the end), or -1 (not mapped, or not all of it); then `at` says where.
   */
  holds(ino: u32, offset: u64, length: u32, size: u64): i32 {
    if (!this.find(ino)) return -1;
    if (offset >= size) return 0;
    const n = <u32>min(<u64>length, size - offset);
    const last = (offset + <u64>n - 1) >> BLOCK_SHIFT;
    if (last >= <u64>this.pages) return -1;
    for (let page = offset >> BLOCK_SHIFT; page <= last; page++) if (!this.valid(page)) return -1;
    return <i32>n;
  }

  /** Where byte `offset` of the file `holds` found lies in its map. */
  at(offset: u64): usize {
    return this.header + BLOCK_BYTES + <usize>offset;
  }

  // ---- What changes a file ----------------------------------------------------------------------

  /**
   * The server read `n` bytes at `offset` of inode `ino` (at `at`): its pages there that the map
   * lacks are made valid, read again from the page cache (where the read just put them).
   */
  readThrough(ino: u32, at: usize, offset: u64, n: u32, source: MapSource): void {
    if (!this.find(ino) || n == 0) return;
    const first = offset >> BLOCK_SHIFT;
    const last = min((offset + <u64>n - 1) >> BLOCK_SHIFT, <u64>this.pages - 1);
    if (first > last) return;
    this.begin();
    for (let page = first; page <= last; page++) if (!this.valid(page)) this.fill(page, at, source);
    this.end(load<u64>(at + I_SIZE_AT));
  }

  /** `n` bytes from `from` were written at `offset` of inode `ino`, whose size is now `size`: valid pages take them. */
  wrote(ino: u32, offset: u64, n: u32, from: usize, size: u64): void {
    if (!this.find(ino)) return;
    this.begin();
    const end = offset + <u64>n;
    let pos = offset;
    while (pos < end) {
      const page = pos >> BLOCK_SHIFT;
      if (page >= <u64>this.pages) break;
      const within = pos & (BLOCK_BYTES - 1);
      const chunk = min(<u64>BLOCK_BYTES - within, end - pos);
      if (this.valid(page)) memory.copy(this.data(page) + <usize>within, from + <usize>(pos - offset), <usize>chunk);
      pos += chunk;
    }
    this.end(size);
  }

  /** Inode `ino` was cut or grown from `old` to `size` bytes: what lies past the new end reads zeros, and pages wholly past it are no longer valid. */
  truncated(ino: u32, old: u64, size: u64): void {
    if (!this.find(ino)) return;
    this.begin();
    if (size < old) {
      const tail = size & (BLOCK_BYTES - 1);
      const cut = size >> BLOCK_SHIFT;
      if (tail != 0 && cut < <u64>this.pages && this.valid(cut)) memory.fill(this.data(cut) + <usize>tail, 0, <usize>(BLOCK_BYTES - tail));
      const from = (size + BLOCK_BYTES - 1) >> BLOCK_SHIFT;
      const to = min((old + BLOCK_BYTES - 1) >> BLOCK_SHIFT, <u64>this.pages);
      for (let page = from; page < to; page++) this.invalidate(page);
    }
    this.end(size);
  }

  /** Block `index` of inode `ino` lost what was written to it (its write-back failed): the map no longer vouches for it. */
  lost(ino: u32, index: u64, size: u64): void {
    if (!this.find(ino)) return;
    this.begin();
    if (index < <u64>this.pages) this.invalidate(index);
    this.end(size);
  }

  // ---- Internals ---------------------------------------------------------------------------------

  private slotOf(ino: u32): i32 {
    if (this.count == 0) return -1;
    for (let m = 0; m < MAX_MAPS; m++) if (unchecked(mapInode[m]) == ino) return m;
    return -1;
  }

  // Whether inode `ino` has a map; if so `header` and `pages` are its.
  private find(ino: u32): bool {
    const m = this.slotOf(ino);
    if (m < 0) return false;
    this.header = unchecked(mapAddress[m]);
    this.pages = unchecked(mapPages[m]);
    return true;
  }

  // A new map for inode `ino`: as many data pages as the file has (at least MIN_MAP_PAGES, at most
  // FS_MAP_PAGES_MAX and the page cache's room it has not grown into), valid where the page cache
  // holds the page or the file has a hole. Its slot, or a status.
  private make(ino: u32, at: usize, source: MapSource): i32 {
    const memory = this.memory;
    if (memory == null) return E_QUOTA;
    let m = -1;
    for (let i = 0; i < MAX_MAPS && m < 0; i++) if (unchecked(mapInode[i]) == 0) m = i;
    if (m < 0) return E_QUOTA;
    const size = load<u64>(at + I_SIZE_AT);
    const filePages = (size + BLOCK_BYTES - 1) >> BLOCK_SHIFT;
    let pages = <u32>min(<u64>FS_MAP_PAGES_MAX, max(<u64>MIN_MAP_PAGES, filePages));
    // Room the page cache has not grown into first. Past it, maps may take up to half of the
    // cache's limit from the cache (it shrinks: its last chunks' pages go, written back first if
    // dirty), else a long-running server whose cache has filled once could map nothing, and
    // clients map only files they read in small calls (user/lib/fs-client.ts), where a call costs
    // most. Whatever the map takes from the cache clean, the cache lets go of (fill), so its freed
    // slots serve other files.
    const unused = <u32>max(0, (this.cache.room() - this.cache.chunks) * CHUNK_PAGES - 1);
    const fromCache = <u32>max(0, (this.cache.limit / 2 - this.cache.reserved) * CHUNK_PAGES - 1);
    const room = max(unused, fromCache);
    if (pages > room) pages = room & ~(MIN_MAP_PAGES - 1);
    if (pages < MIN_MAP_PAGES) return E_QUOTA;
    const chunks = <i32>((pages + 1 + <u32>CHUNK_PAGES - 1) / <u32>CHUNK_PAGES);
    // Made before the cache gives up its room when the Memory allows, so that the file's pages the
    // cache holds are copied in (fillCached) before a shrink could drop them.
    let reserved = false;
    let region = memory.createRegion(pages + 1, REGION_ZERO_ON_FREE);
    if (region < 0) {
      this.cache.reserve(chunks);
      reserved = true;
      region = memory.createRegion(pages + 1, REGION_ZERO_ON_FREE);
    }
    if (region < 0) {
      this.cache.reserve(-chunks);
      return region;
    }
    msgBegin(OP_REGION_INFO);
    if (msgInvoke(region) < 0) {
      capDrop(region);
      if (reserved) this.cache.reserve(-chunks);
      return E_QUOTA;
    }
    const address = <usize>msgWord(0);
    unchecked((mapInode[m] = ino));
    unchecked((mapRegion[m] = region));
    unchecked((mapAddress[m] = address));
    unchecked((mapPages[m] = pages));
    unchecked((mapHolders[m] = 0));
    unchecked((mapChunks[m] = chunks));
    this.count++;
    this.made++;
    store<u32>(address + FS_MAP_INODE_AT, ino);
    store<u32>(address + FS_MAP_PAGES_AT, pages);
    store<u32>(address + FS_MAP_SEQUENCE_AT, 1); // odd: being filled
    this.header = address;
    this.pages = pages;
    this.fillCached(at, min(filePages, <u64>pages), size, source);
    if (!reserved) this.cache.reserve(chunks);
    store<u64>(address + FS_MAP_SIZE_AT, size);
    store<u32>(address + FS_MAP_MAGIC_AT, FS_MAP_MAGIC);
    store<u32>(address + FS_MAP_SEQUENCE_AT, 2);
    return m;
  }

  // Reads file page `page` into the map, zeros past the file's end; valid unless the read failed.
  private fill(page: u64, at: usize, source: MapSource): void {
    const to = this.data(page);
    const n = source.readPage(at, page << BLOCK_SHIFT, to);
    if (n < 0) return;
    if (<u32>n < BLOCK_BYTES) memory.fill(to + <usize>n, 0, BLOCK_BYTES - <u32>n);
    this.setValid(page);
    source.dropCached(at, page); // one copy of the page is enough: reads of it come here
  }

  // At the making of a map (its pages zeros): the first `last` file pages that the page cache holds
  // are copied in and made valid, and the cache lets go of them; holes are valid as they are.
  // Pages that lie side by side in the cache (a chunk's, in file order) go in one copy: a page at
  // a time was three walks of the block map and a copy (often the kernel's) per page.
  private fillCached(at: usize, last: u64, size: u64, source: MapSource): void {
    let page: u64 = 0;
    while (page < last) {
      const block = source.blockOf(at, page);
      if (block == 0) this.setValid(page); // a hole: the page is zeros already
      const from: usize = block == 0 || block == 0xffffffff ? 0 : source.cachedPage(block);
      if (from == 0) {
        page++;
        continue;
      }
      // The run's blocks are kept as they are found: the block map is walked once a page.
      unchecked((runBlocks[0] = block));
      let run: u64 = 1;
      while (page + run < last) {
        const next = source.blockOf(at, page + run);
        if (next == 0 || next == 0xffffffff || source.cachedPage(next) != from + (<usize>run << BLOCK_SHIFT)) break;
        unchecked((runBlocks[<i32>run] = next));
        run++;
      }
      memory.copy(this.data(page), from, <usize>run << BLOCK_SHIFT);
      for (let p: u64 = 0; p < run; p++) {
        this.setValid(page + p);
        source.letGo(unchecked(runBlocks[<i32>p]));
      }
      page += run;
    }
    // What the cache's last page holds past the end is not the file's: zeros, as a read answers.
    const tail = <u32>(size & (BLOCK_BYTES - 1));
    if (tail != 0 && last == (size + BLOCK_BYTES - 1) >> BLOCK_SHIFT && this.valid(last - 1)) {
      memory.fill(this.data(last - 1) + <usize>tail, 0, BLOCK_BYTES - tail);
    }
  }

  private release(m: i32): void {
    const holders = unchecked(mapHolders[m]) - 1;
    unchecked((mapHolders[m] = holders));
    if (holders <= 0) this.free(m);
  }

  // The Region goes (its frames back at once: ZERO_ON_FREE, so views read zeros), and its room with it.
  private free(m: i32): void {
    store<u32>(unchecked(mapAddress[m]) + FS_MAP_MAGIC_AT, 0);
    // Freed through the read buffers' count: a view kept by a client that cannot pay charges the
    // range to this Memory, and counts against the session whose close freed it (viewed-regions.ts).
    const leaks = this.leaks;
    const memory = this.memory;
    if (leaks != null && memory != null) leaks.releaseIn(memory.cap, unchecked(mapRegion[m]), unchecked(mapPages[m]) + 1, leaks.closing);
    else capDrop(unchecked(mapRegion[m]));
    this.cache.reserve(-unchecked(mapChunks[m]));
    unchecked((mapInode[m] = 0));
    unchecked((mapRegion[m] = 0));
    this.count--;
  }

  @inline private data(page: u64): usize {
    return this.header + ((<usize>page + 1) << BLOCK_SHIFT);
  }

  @inline private valid(page: u64): bool {
    return (load<u8>(this.header + FS_MAP_VALID_AT + <usize>(page >> 3)) & (<u8>1 << <u8>(page & 7))) != 0;
  }

  @inline private setValid(page: u64): void {
    const at = this.header + FS_MAP_VALID_AT + <usize>(page >> 3);
    store<u8>(at, load<u8>(at) | (<u8>1 << <u8>(page & 7)));
  }

  // Not valid, and zeros (what it held is no longer the file's, even past the end).
  private invalidate(page: u64): void {
    const at = this.header + FS_MAP_VALID_AT + <usize>(page >> 3);
    store<u8>(at, load<u8>(at) & ~(<u8>1 << <u8>(page & 7)));
    memory.fill(this.data(page), 0, BLOCK_BYTES);
  }

  // A change starts: the sequence is odd until `end`.
  @inline private begin(): void {
    const at = this.header + FS_MAP_SEQUENCE_AT;
    store<u32>(at, load<u32>(at) | 1);
  }

  @inline private end(size: u64): void {
    store<u64>(this.header + FS_MAP_SIZE_AT, size);
    const at = this.header + FS_MAP_SEQUENCE_AT;
    store<u32>(at, load<u32>(at) + 1);
  }
}
