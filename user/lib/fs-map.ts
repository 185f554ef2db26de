// The client's side of mapped reads (FS_MAP, docs/FS.md "Mapped reads"): the files this client
// mapped, and reads answered from their maps with no call to the server.
//
// A map is a view of a Region the server keeps for the inode: a header page, then the file's
// first pages, each valid (exactly the file's bytes, zeros past the end) or not. The server changes
// a map only between an odd and the next even sequence word, so a read here is a seqlock reader:
// the sequence (odd: ask the server), the magic (0: the map is gone), the size and the valid bits,
// the copy, then the sequence again (changed: the copy may be torn, ask the server). A miss costs
// the few loads; the server's READ that follows makes the pages valid for the next read.
//
// At most MAPPED_MAX maps are held at once (each is a view in this process's space, up to 16 MiB
// of it): mapping one more lets go of the least recently read (`victim`). Which files get mapped
// without being asked (FsClient.read's own choice) is counted here too (`ReadCounts`).
// Nothing allocates but the tables, made with the client.
import { capDrop } from "./caps/capability";
import {
  FS_MAP_MAGIC, FS_MAP_MAGIC_AT, FS_MAP_SEQUENCE_AT, FS_MAP_SIZE_AT, FS_MAP_VALID_AT,
} from "./fs-protocol";

/** Files one client holds mapped at once: one more lets go of the least recently read. */
export const MAPPED_MAX: i32 = 8;
/** readMapped's answer when the map cannot answer: ask the server. */
export const MAP_MISS: i32 = -1;

export class MappedFiles {
  private readonly handle: StaticArray<i32> = new StaticArray<i32>(MAPPED_MAX);
  private readonly view: StaticArray<i32> = new StaticArray<i32>(MAPPED_MAX);
  private readonly address: StaticArray<usize> = new StaticArray<usize>(MAPPED_MAX);
  private readonly pages: StaticArray<u32> = new StaticArray<u32>(MAPPED_MAX);
  /** When each entry last answered a read (`clock`): the least recent goes first. */
  private readonly lastUse: StaticArray<u64> = new StaticArray<u64>(MAPPED_MAX);
  private clock: u64 = 0;
  /** Reads answered from a map, and those that had to ask the server. */
  hits: u64 = 0;
  misses: u64 = 0;
  /** Maps let go of to make room for another (`victim`). */
  evicted: u64 = 0;
  /** Entries in use: a client that maps nothing looks through none on every read. */
  private used: i32 = 0;
  /** The entry `find` found last (a reader keeps to one file). */
  private last: i32 = 0;

  /** A free entry, or -1. */
  free(): i32 {
    for (let i = 0; i < MAPPED_MAX; i++) if (unchecked(this.handle[i]) == 0) return i;
    return -1;
  }

  /** The handle whose map was read least recently (every entry is in use): the one to let go of. */
  victim(): i32 {
    let oldest = 0;
    for (let i = 1; i < MAPPED_MAX; i++) if (unchecked(this.lastUse[i]) < unchecked(this.lastUse[oldest])) oldest = i;
    return unchecked(this.handle[oldest]);
  }

  /** Entry `i` is `handle`'s map: the view's slot, the Region's address, its data pages. */
  set(i: i32, handle: i32, view: i32, address: usize, pages: u32): void {
    if (unchecked(this.handle[i]) == 0 && handle != 0) this.used++;
    unchecked((this.handle[i] = handle));
    unchecked((this.view[i] = view));
    unchecked((this.address[i] = address));
    unchecked((this.pages[i] = pages));
    unchecked((this.lastUse[i] = ++this.clock));
  }

  /** The entry of `handle`, or -1. */
  find(handle: i32): i32 {
    if (handle == 0 || this.used == 0) return -1;
    const last = this.last;
    if (unchecked(this.handle[last]) == handle) return last;
    for (let i = 0; i < MAPPED_MAX; i++) {
      if (unchecked(this.handle[i]) == handle) {
        this.last = i;
        return i;
      }
    }
    return -1;
  }

  /** Forgets `handle`'s map and drops its view (the handle closed, or the map is gone, or let go of). */
  forget(handle: i32): void {
    const i = this.find(handle);
    if (i < 0) return;
    capDrop(unchecked(this.view[i]));
    this.used--;
    unchecked((this.handle[i] = 0));
    unchecked((this.view[i] = 0));
  }

  /** Maps held now. */
  get count(): i32 {
    return this.used;
  }

  /** The slot of the view of `handle`'s map (0: none). */
  viewOf(handle: i32): i32 {
    const i = this.find(handle);
    return i < 0 ? 0 : unchecked(this.view[i]);
  }

  /** The data pages of `handle`'s map (0: none). */
  pagesOf(handle: i32): u32 {
    const i = this.find(handle);
    return i < 0 ? 0 : unchecked(this.pages[i]);
  }

  /** The Region's address of `handle`'s map (0: none): the header, then page k at 4096 × (k + 1). */
  addressOf(handle: i32): usize {
    const i = this.find(handle);
    return i < 0 ? 0 : unchecked(this.address[i]);
  }

  /**
   * Copies up to `length` bytes at `offset` of the file entry `i` maps into `to`: the bytes (0 at
   * the end), or MAP_MISS when the map does not hold them all, is being changed, or is gone.
   */
  read(i: i32, offset: u64, length: u32, to: usize): i32 {
    const header = unchecked(this.address[i]);
    const sequence = load<u32>(header + FS_MAP_SEQUENCE_AT);
    if ((sequence & 1) != 0) return this.miss();
    if (load<u32>(header + FS_MAP_MAGIC_AT) != FS_MAP_MAGIC) {
      this.forget(unchecked(this.handle[i])); // freed (its view reads zeros): the server answers from now on
      return this.miss();
    }
    const size = load<u64>(header + FS_MAP_SIZE_AT);
    let n: u32 = 0;
    if (offset < size) {
      n = <u32>min(<u64>length, size - offset);
      const first = offset >> 12;
      const last = (offset + <u64>n - 1) >> 12;
      if (last >= <u64>unchecked(this.pages[i])) return this.miss();
      for (let page = first; page <= last; page++) {
        if ((load<u8>(header + FS_MAP_VALID_AT + <usize>(page >> 3)) & (<u8>1 << <u8>(page & 7))) == 0) return this.miss();
      }
      memory.copy(to, header + 4096 + <usize>offset, n);
    }
    // The server changed the map meanwhile (this process was preempted in the copy): not to be trusted.
    if (load<u32>(header + FS_MAP_SEQUENCE_AT) != sequence) return this.miss();
    this.hits++;
    unchecked((this.lastUse[i] = ++this.clock));
    return <i32>n;
  }

  private miss(): i32 {
    this.misses++;
    return MAP_MISS;
  }
}

/** Handles whose reads through the server are counted (FsClient.read's choice to map): the most recent this many. */
const COUNTED_MAX: i32 = 16;

/**
 * Reads through the server per handle, for the handles read most recently: FsClient.read maps a
 * file once it has been read through the server often enough that the calls saved pay for the
 * map. A handle that leaves this table (COUNTED_MAX others read since) starts again from 0.
 */
export class ReadCounts {
  private readonly handle: StaticArray<i32> = new StaticArray<i32>(COUNTED_MAX);
  private readonly reads: StaticArray<i32> = new StaticArray<i32>(COUNTED_MAX);
  /** The entry a new handle takes (round robin: the one counted longest ago, near enough). */
  private next: i32 = 0;
  private last: i32 = 0;

  /** Counts one more read of `handle` through the server: how many now. */
  count(handle: i32): i32 {
    let i = this.last;
    if (unchecked(this.handle[i]) != handle) {
      i = -1;
      for (let j = 0; j < COUNTED_MAX && i < 0; j++) if (unchecked(this.handle[j]) == handle) i = j;
      if (i < 0) {
        i = this.next;
        this.next = (i + 1) % COUNTED_MAX;
        unchecked((this.handle[i] = handle));
        unchecked((this.reads[i] = 0));
      }
      this.last = i;
    }
    const n = unchecked(this.reads[i]) + 1;
    unchecked((this.reads[i] = n));
    return n;
  }

  /** `handle`'s count becomes `reads` (negative: that many more reads before it is tried again). */
  reset(handle: i32, reads: i32): void {
    for (let j = 0; j < COUNTED_MAX; j++) if (unchecked(this.handle[j]) == handle) unchecked((this.reads[j] = reads));
  }

  /** `handle` closed: its count goes (a new handle in its slot starts from 0). */
  forget(handle: i32): void {
    for (let j = 0; j < COUNTED_MAX; j++) {
      if (unchecked(this.handle[j]) == handle) {
        unchecked((this.handle[j] = 0));
        unchecked((this.reads[j] = 0));
      }
    }
  }
}
