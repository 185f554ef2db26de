// The client's side of mapped reads (FS_MAP, docs/FS.md "Mapped reads"): the files this client
// mapped, and reads answered from their maps with no call to the server.
//
// A map is a view of a Region the server keeps for the inode: a header page, then the file's
// first pages, each valid (exactly the file's bytes, zeros past the end) or not. The server changes
// a map only between an odd and the next even sequence word, so a read here is a seqlock reader:
// the sequence (odd: ask the server), the magic (0: the map is gone), the size and the valid bits,
// the copy, then the sequence again (changed: the copy may be torn, ask the server). A miss costs
// the few loads; the server's READ that follows makes the pages valid for the next read.
// Nothing allocates but the table, made with the client.
import { capDrop } from "./caps/capability";
import {
  FS_MAP_MAGIC, FS_MAP_MAGIC_AT, FS_MAP_SEQUENCE_AT, FS_MAP_SIZE_AT, FS_MAP_VALID_AT,
} from "./fs-protocol";

/** Files one client maps at once (FsClient.map answers E_QUEUE_FULL past that). */
export const MAPPED_MAX: i32 = 8;
/** readMapped's answer when the map cannot answer: ask the server. */
export const MAP_MISS: i32 = -1;

export class MappedFiles {
  private readonly handle: StaticArray<i32> = new StaticArray<i32>(MAPPED_MAX);
  private readonly view: StaticArray<i32> = new StaticArray<i32>(MAPPED_MAX);
  private readonly address: StaticArray<usize> = new StaticArray<usize>(MAPPED_MAX);
  private readonly pages: StaticArray<u32> = new StaticArray<u32>(MAPPED_MAX);
  /** Reads answered from a map, and those that had to ask the server. */
  hits: u64 = 0;
  misses: u64 = 0;
  /** Entries in use: a client that maps nothing looks through none on every read. */
  private used: i32 = 0;

  /** A free entry, or -1. */
  free(): i32 {
    for (let i = 0; i < MAPPED_MAX; i++) if (unchecked(this.handle[i]) == 0) return i;
    return -1;
  }

  /** Entry `i` is `handle`'s map: the view's slot, the Region's address, its data pages. */
  set(i: i32, handle: i32, view: i32, address: usize, pages: u32): void {
    if (unchecked(this.handle[i]) == 0 && handle != 0) this.used++;
    unchecked((this.handle[i] = handle));
    unchecked((this.view[i] = view));
    unchecked((this.address[i] = address));
    unchecked((this.pages[i] = pages));
  }

  /** The entry of `handle`, or -1. */
  find(handle: i32): i32 {
    if (handle == 0 || this.used == 0) return -1;
    for (let i = 0; i < MAPPED_MAX; i++) if (unchecked(this.handle[i]) == handle) return i;
    return -1;
  }

  /** Forgets `handle`'s map and drops its view (the handle closed, or the map is gone). */
  forget(handle: i32): void {
    const i = this.find(handle);
    if (i < 0) return;
    capDrop(unchecked(this.view[i]));
    this.used--;
    unchecked((this.handle[i] = 0));
    unchecked((this.view[i] = 0));
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
    return <i32>n;
  }

  private miss(): i32 {
    this.misses++;
    return MAP_MISS;
  }
}
