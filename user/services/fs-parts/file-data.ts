// File data: reads and writes of a file's bytes through the page cache (page-cache.ts), and the
// two changes a truncate makes to a block's bytes. Every method runs inside one operation of the
// server, with the inode's cached bytes at `at` (Volume.inode).
//
// A read copies what the cache holds; a block it lacks is read with its neighbours on the disk —
// the rest of the request and, for a handle reading sequentially, `ahead` blocks more (read-ahead)
// — in one driver call, into pages of the cache. A write changes pages of the cache and marks them
// dirty (a block it covers whole is not read first); they reach the disk before the next commit.
// A `direct` handle (FS_OPEN_DIRECT: the pager's swap file) goes to the disk instead and leaves
// nothing new in the cache; a page the cache already holds is read from there, and written
// through. When the cache has no page to give, the disk is used directly, as a direct handle does.
import { FS_E_IO, FS_E_TOO_BIG } from "../../lib/fs-protocol";
import { BLOCK_BYTES, BLOCK_SHIFT, I_SIZE_AT, MAX_FILE_BYTES } from "./format";
import { Disk, RUN_BLOCKS } from "./disk";
import { PageCache } from "./page-cache";
import { Volume, NO_BLOCK } from "./volume";
import { FillSink } from "./fill-sink";

const scratch: usize = memory.data(<i32>BLOCK_BYTES, <i32>BLOCK_BYTES);
/** The pages of a run being read, in file order. */
const runSlots = new StaticArray<i32>(<i32>RUN_BLOCKS);
const runPages = new StaticArray<usize>(<i32>RUN_BLOCKS);
// The blocks a WRITE has given its file (new, their bytes whatever the disk held) and not yet
// filled: at most a run ahead of where it is, and the one it is at.
const FRESH_MAX: i32 = 2 * <i32>RUN_BLOCKS + 2;
const freshIndex = new StaticArray<u64>(FRESH_MAX);
const freshBlock = new StaticArray<u32>(FRESH_MAX);

export class FileData {
  constructor(readonly volume: Volume, readonly pages: PageCache, readonly disk: Disk) {}

  /**
   * Reads up to `length` bytes at `offset` of the inode at `at` into `to` (zeros for holes): the
   * bytes read, or a status. On a miss, up to `ahead` blocks past the request are read with it.
   * With a `sink`, the bytes go on to the client's buffer (fill-sink.ts): cached pages straight,
   * the rest through `to`; a fill the kernel refuses answers its status (nothing else went wrong).
   */
  read(at: usize, offset: u64, length: u32, to: usize, ahead: u32, direct: bool, sink: FillSink | null = null): i32 {
    const v = this.volume;
    const size = load<u64>(at + I_SIZE_AT);
    if (offset >= size) return 0;
    const n = <u32>min(<u64>length, size - offset);
    const end = offset + n;
    // The last block a miss may read: the request's, and `ahead` more, never past the end.
    const last = min(((end - 1) >> BLOCK_SHIFT) + <u64>ahead, (size - 1) >> BLOCK_SHIFT);
    let pos = offset;
    while (pos < end) {
      const index = pos >> BLOCK_SHIFT;
      const within = <u32>(pos & (BLOCK_BYTES - 1));
      const chunk = <u32>min(<u64>(BLOCK_BYTES - within), end - pos);
      const block = v.map(at, index, false, false);
      if (block == NO_BLOCK) return v.status;
      if (block == 0) {
        memory.fill(to, 0, chunk);
        if (sink != null) {
          const filled = sink.put(to, to, chunk);
          if (filled < 0) return filled;
        }
        pos += chunk;
        to += chunk;
        continue;
      }
      let slot = this.pages.find(block);
      if (slot >= 0) this.pages.hits++;
      else if (!direct) {
        // A miss may take a page the sink listed for another block: what is listed goes first.
        if (sink != null) {
          const flushed = sink.flush();
          if (flushed < 0) return flushed;
        }
        slot = this.fill(at, index, block, last);
        if (slot < -1) return slot; // the disk failed
      }
      if (slot >= 0) {
        // Pages of neighbouring blocks often lie side by side in a chunk (taken in order): one
        // copy for all of them (each copy is a kernel call).
        const page = this.pages.address(slot);
        let span = chunk;
        // The map entries of the next blocks follow this one's in its table: read them there
        // rather than walk the map again for each (nothing here takes a metadata block).
        let entry: usize = 0;
        while (within == 0 && chunk == BLOCK_BYTES && pos + <u64>span + BLOCK_BYTES <= end) {
          const nextIndex = index + <u64>(span >> BLOCK_SHIFT);
          if (entry == 0 || v.startsTable(nextIndex)) entry = v.pointerOf(at, nextIndex);
          else entry += 4;
          if (entry == 0) break; // (the next turn maps it and says what is wrong, if anything)
          const nextBlock = load<u32>(entry);
          if (!v.isData(nextBlock)) break; // a hole, or a number the next turn refuses
          const next = this.pages.pageOf(nextBlock);
          if (next != page + span) break;
          this.pages.hits++;
          span += BLOCK_BYTES;
        }
        if (sink != null) {
          const filled = sink.put(to, page + within, span);
          if (filled < 0) return filled;
        } else memory.copy(to, page + within, span);
        pos += span;
        to += span;
        continue;
      }
      // Not cached (a direct handle, or no page to be had): from the disk, whole blocks straight.
      if (within == 0 && chunk == BLOCK_BYTES) {
        let run: u32 = 1;
        while (run < RUN_BLOCKS && pos + (<u64>(run + 1) << BLOCK_SHIFT) <= end && v.map(at, index + run, false, false) == block + run && !this.pages.holds(block + run)) run++;
        if (this.disk.read(<u64>block, run, to) < 0) return FS_E_IO;
        if (sink != null) {
          const filled = sink.put(to, to, run << BLOCK_SHIFT);
          if (filled < 0) return filled;
        }
        pos += <u64>run << BLOCK_SHIFT;
        to += <usize>run << BLOCK_SHIFT;
        continue;
      }
      if (this.disk.read(<u64>block, 1, scratch) < 0) return FS_E_IO;
      memory.copy(to, scratch + within, chunk);
      if (sink != null) {
        // From where it now lies: the scratch block is read into again for the next one.
        const filled = sink.put(to, to, chunk);
        if (filled < 0) return filled;
      }
      pos += chunk;
      to += chunk;
    }
    return <i32>n;
  }

  /**
   * Writes `length` bytes from `from` at `offset` of the inode at `at`, allocating blocks: the
   * bytes written (fewer than `length` when it failed part of the way: the volume's `status` says
   * why), or a status.
   */
  write(at: usize, offset: u64, length: u32, from: usize, direct: bool): i32 {
    const v = this.volume;
    if (offset > MAX_FILE_BYTES || <u64>length > MAX_FILE_BYTES - offset) return FS_E_TOO_BIG; // (no wrap past 2^64)
    const size = load<u64>(at + I_SIZE_AT);
    if (offset > size && length > 0) {
      const zeroed = this.zeroPastEnd(at, size);
      if (zeroed < 0) return zeroed;
    }
    const ino = v.inodeNumber(at);
    let pos = offset;
    const end = offset + length;
    let status: i32 = 0;
    this.freshCount = 0;
    while (pos < end) {
      const index = pos >> BLOCK_SHIFT;
      const within = <u32>(pos & (BLOCK_BYTES - 1));
      const chunk = <u32>min(<u64>(BLOCK_BYTES - within), end - pos);
      this.filledBelow(index);
      const block = v.map(at, index, true, false);
      if (block == NO_BLOCK) {
        status = v.status;
        break;
      }
      if (v.fresh) this.given(index, block);
      // What else is in the block stays: a new block, or one wholly past the end, is zeros.
      const zeros = v.fresh || (pos & ~<u64>(BLOCK_BYTES - 1)) >= size;
      let slot = this.pages.find(block);
      if (slot < 0 && !direct) {
        slot = this.pages.take(block, ino, <u32>index);
        if (slot >= 0 && chunk < BLOCK_BYTES) {
          const page = this.pages.address(slot);
          if (zeros) memory.fill(page, 0, BLOCK_BYTES);
          else if (this.disk.read(<u64>block, 1, page) < 0) {
            this.pages.forget(block);
            status = FS_E_IO;
            break;
          }
        }
      }
      if (slot >= 0 && !direct && within == 0 && chunk == BLOCK_BYTES) {
        // Whole blocks whose pages lie side by side (taken in order): one copy for the run. Its
        // pages are pinned until they are filled (at most a quarter of the cache), so that taking
        // the next never evicts one, and marked dirty only once they hold their bytes.
        const page = this.pages.address(slot);
        const most = <u32>max(1, min(<i32>RUN_BLOCKS, this.pages.capacity / 4));
        this.pages.pin(slot);
        unchecked((runSlots[0] = slot));
        let count: u32 = 1;
        while (count < most && pos + (<u64>(count + 1) << BLOCK_SHIFT) <= end) {
          const nextIndex = index + <u64>count;
          const next = v.map(at, nextIndex, true, false);
          if (next == NO_BLOCK) break; // (the next turn meets it again and says why)
          if (v.fresh) this.given(nextIndex, next);
          let nextSlot = this.pages.find(next);
          if (nextSlot >= 0) this.pages.pin(nextSlot);
          else nextSlot = this.pages.take(next, ino, <u32>nextIndex, true);
          if (nextSlot < 0) break;
          if (this.pages.address(nextSlot) != page + (<usize>count << BLOCK_SHIFT)) {
            this.pages.unpin(nextSlot); // cached elsewhere: the next turn fills it (a whole block)
            break;
          }
          unchecked((runSlots[count++] = nextSlot));
        }
        memory.copy(page, from, <usize>count << BLOCK_SHIFT);
        for (let i: u32 = 0; i < count; i++) {
          this.pages.unpin(unchecked(runSlots[i]));
          this.pages.markDirty(unchecked(runSlots[i]), ino, <u32>(index + <u64>i));
        }
        pos += <u64>count << BLOCK_SHIFT;
        from += <usize>count << BLOCK_SHIFT;
        continue;
      }
      if (slot >= 0) {
        const page = this.pages.address(slot);
        memory.copy(page + within, from, chunk);
        if (!direct) this.pages.markDirty(slot, ino, <u32>index);
        else {
          // Written through: the disk and the page agree, and the page is clean.
          if (this.disk.write(<u64>block, 1, page) < 0) {
            status = FS_E_IO;
            break;
          }
          this.pages.markClean(slot);
        }
        pos += chunk;
        from += chunk;
        continue;
      }
      // To the disk directly (a direct handle, or no page to be had).
      if (within == 0 && chunk == BLOCK_BYTES) {
        let run: u32 = 1;
        while (run < RUN_BLOCKS && pos + (<u64>(run + 1) << BLOCK_SHIFT) <= end) {
          const next = v.map(at, index + run, true, false);
          if (next != NO_BLOCK && v.fresh) this.given(index + run, next);
          if (next != block + run || this.pages.holds(next)) break; // the next turn takes it
          run++;
        }
        if (this.disk.write(<u64>block, run, from) < 0) {
          status = FS_E_IO;
          break;
        }
        pos += <u64>run << BLOCK_SHIFT;
        from += <usize>run << BLOCK_SHIFT;
        continue;
      }
      if (zeros) memory.fill(scratch, 0, BLOCK_BYTES);
      else if (this.disk.read(<u64>block, 1, scratch) < 0) {
        status = FS_E_IO;
        break;
      }
      memory.copy(scratch + within, from, chunk);
      if (this.disk.write(<u64>block, 1, scratch) < 0) {
        status = FS_E_IO;
        break;
      }
      pos += chunk;
      from += chunk;
    }
    // Failed part of the way: the blocks it gave the file and did not fill become holes again, else
    // the disk's old bytes there (a removed file's) would be the file's once its size covers them
    // (a TRUNCATE or a write further on: redteam10).
    if (status < 0) this.unfilled(ino, pos >> BLOCK_SHIFT);
    const written = <u32>(pos - offset);
    if (written > 0 && pos > size) {
      store<u64>(at + I_SIZE_AT, pos);
      v.journal.dataFirst = true; // the bytes the new size covers reach the disk before it commits
    }
    if (written > 0) v.modified(at);
    v.status = status; // a short count's reason
    return written > 0 || status == 0 ? <i32>written : status;
  }

  private freshCount: i32 = 0;

  /** WRITE mapped file block `index` to `block`, new: not filled yet. */
  private given(index: u64, block: u32): void {
    if (this.freshCount < FRESH_MAX) {
      unchecked((freshIndex[this.freshCount] = index));
      unchecked((freshBlock[this.freshCount] = block));
      this.freshCount++;
    }
  }

  /** WRITE filled every block below file block `index` (it goes block by block, upwards). */
  private filledBelow(index: u64): void {
    let keep = 0;
    for (let i = 0; i < this.freshCount; i++) {
      if (unchecked(freshIndex[i]) < index) continue;
      unchecked((freshIndex[keep] = freshIndex[i]));
      unchecked((freshBlock[keep] = freshBlock[i]));
      keep++;
    }
    this.freshCount = keep;
  }

  /** A WRITE that failed at file block `from`: the new blocks it gave from there are holes again. */
  private unfilled(ino: u32, from: u64): void {
    const v = this.volume;
    for (let i = 0; i < this.freshCount; i++) {
      const index = unchecked(freshIndex[i]);
      if (index < from) continue;
      v.lost(ino, <u32>index);
      v.punch(ino, <u32>index, unchecked(freshBlock[i]));
    }
    this.freshCount = 0;
  }

  /**
   * Copies the first `head` bytes of `old` (zeros after them) into the new block `fresh`, block
   * `index` of the inode at `at`: in the cache when it can, else on the disk. 0 or a status.
   */
  copyHead(at: usize, index: u64, old: u32, fresh: u32, head: u32): i32 {
    // The new page first: taking it may evict the old block's (written back first if dirty).
    const slot = this.pages.take(fresh, this.volume.inodeNumber(at), <u32>index);
    const from = this.pages.find(old);
    const to = slot >= 0 ? this.pages.address(slot) : scratch;
    if (from >= 0) memory.copy(to, this.pages.address(from), head);
    else if (this.disk.read(<u64>old, 1, to) < 0) {
      if (slot >= 0) this.pages.forget(fresh);
      return FS_E_IO;
    }
    memory.fill(to + head, 0, BLOCK_BYTES - head);
    if (slot >= 0) {
      this.pages.markDirty(slot, this.volume.inodeNumber(at), <u32>index);
      return 0;
    }
    return this.disk.write(<u64>fresh, 1, scratch) < 0 ? FS_E_IO : 0;
  }

  /**
   * Before the inode at `at` grows past its end `size`: the rest of its last block is zeroed (a
   * write that was never committed may have left bytes there). Safe in place: the bytes from
   * `size` on are past the end in the committed state too, or the block is new since then.
   */
  zeroPastEnd(at: usize, size: u64): i32 {
    this.volume.journal.dataFirst = true; // the file grows: the zeros reach the disk before its size commits
    const tail = <u32>(size & (BLOCK_BYTES - 1));
    if (tail == 0) return 0;
    const v = this.volume;
    const index = size >> BLOCK_SHIFT;
    const block = v.map(at, index, false, false);
    if (block == NO_BLOCK) return v.status;
    if (block == 0) return 0;
    const slot = this.pages.find(block);
    if (slot >= 0) {
      memory.fill(this.pages.address(slot) + tail, 0, BLOCK_BYTES - tail);
      this.pages.markDirty(slot, v.inodeNumber(at), <u32>index);
      return 0;
    }
    if (this.disk.read(<u64>block, 1, scratch) < 0) return FS_E_IO;
    memory.fill(scratch + tail, 0, BLOCK_BYTES - tail);
    return this.disk.write(<u64>block, 1, scratch) < 0 ? FS_E_IO : 0;
  }

  // A miss: reads block `index` (disk block `block`) of the inode at `at` into a page, and with it
  // the blocks after it up to file block `last` that follow it on the disk and are not cached yet,
  // in one driver call. The page of `block`; -1 when the cache has no page to give; or a status.
  private fill(at: usize, index: u64, block: u32, last: u64): i32 {
    const v = this.volume;
    const ino = v.inodeNumber(at);
    // At most a quarter of the cache in one run, so the run's own pages are never the ones evicted.
    const most = <u32>min(<i32>RUN_BLOCKS, max(1, this.pages.capacity / 4));
    let run: u32 = 0;
    while (run < most && index + <u64>run <= last) {
      if (run > 0) {
        const next = v.map(at, index + run, false, false);
        if (next != block + run || this.pages.holds(next)) break;
      }
      const slot = this.pages.take(block + run, ino, <u32>(index + run), true);
      if (slot < 0) break;
      unchecked((runSlots[run] = slot));
      unchecked((runPages[run] = this.pages.address(slot)));
      run++;
    }
    if (run == 0) return -1;
    const status = this.disk.readPages(<u64>block, run, runPages);
    for (let i: u32 = 0; i < run; i++) {
      if (status < 0) this.pages.forget(block + i);
      else this.pages.unpin(unchecked(runSlots[i]));
    }
    if (status < 0) return FS_E_IO;
    this.pages.misses++;
    this.pages.readAhead += <u64>(run - 1);
    return unchecked(runSlots[0]);
  }
}
