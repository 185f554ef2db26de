// The journal (docs/FS.md "Crash consistency"): a transaction is every metadata block changed
// since the last commit (the cache's dirty slots), written whole to the journal area with a header
// that lists where each goes and a checksum over header and images; once that is durable the
// transaction is committed, and the blocks are written in place (the checkpoint). File data the
// page cache holds dirty goes to the disk before any of it (ordered mode). The journal holds
// one transaction at a time: the next commit starts with a flush, which makes the previous
// checkpoint durable before its journal copy is overwritten. Mounting replays the transaction in
// the journal if its checksum holds (replaying twice writes the same bytes), and ignores it if
// not (a commit that was torn never happened).
import { FS_E_IO } from "../../lib/fs-protocol";
import { Cache, CACHE_SLOTS } from "./cache";
import { Disk, RUN_BLOCKS } from "./disk";
import { PageCache } from "./page-cache";
import {
  BLOCK_BYTES, BLOCK_SHIFT, JOURNAL_MAGIC, journalCapacity, JH_MAGIC_AT, JH_SEQUENCE_AT, JH_COUNT_AT,
  JH_CHECKSUM_AT, JH_TARGETS_AT, Layout, checksum,
} from "./format";

const staging: usize = memory.data(<i32>(RUN_BLOCKS * BLOCK_BYTES), <i32>BLOCK_BYTES);
const header: usize = memory.data(<i32>BLOCK_BYTES, <i32>BLOCK_BYTES);
const slots = new StaticArray<i32>(CACHE_SLOTS);

export class Journal {
  /** The sequence number the next transaction gets. */
  sequence: u64 = 1;
  commits: u64 = 0;
  /** Blocks written by the last replay (0: nothing to replay). */
  replayed: u32 = 0;

  constructor(readonly disk: Disk, readonly cache: Cache, readonly pages: PageCache, readonly layout: Layout) {}

  /** Most dirty blocks one transaction may hold. */
  get capacity(): i32 {
    return <i32>journalCapacity(this.layout);
  }

  /**
   * Commits the running transaction and checkpoints it: 0 or a status. Durable when it returns.
   * File data the page cache holds goes to the disk first (ordered mode: the flush of step 1
   * makes it durable before any block map that names it commits).
   */
  commit(): i32 {
    const written = this.pages.writeBackAll(); // (may punch holes: more dirty metadata)
    if (written < 0) return written;
    let count = 0;
    for (let i = 0; i < CACHE_SLOTS; i++) if (this.cache.dirtySlot(i) >= 0) unchecked((slots[count++] = i));
    if (count == 0) return this.disk.flush();
    if (count > this.capacity) return FS_E_IO; // the server commits long before this
    sortByBlock(this.cache, count);
    // 1. What the last checkpoint wrote (and file data written since) is durable before the
    //    journal's copy of the last transaction is overwritten.
    let status = this.disk.flush();
    if (status < 0) return status;
    // 2. The header and the images, then a flush: the transaction is committed.
    memory.fill(header, 0, BLOCK_BYTES);
    store<u64>(header + JH_MAGIC_AT, JOURNAL_MAGIC);
    store<u64>(header + JH_SEQUENCE_AT, this.sequence);
    store<u32>(header + JH_COUNT_AT, <u32>count);
    for (let i = 0; i < count; i++) store<u32>(header + JH_TARGETS_AT + (<usize>i << 2), this.cache.blockOf(unchecked(slots[i])));
    let sum = checksum(header, BLOCK_BYTES, 0);
    for (let i = 0; i < count; i++) sum = checksum(this.cache.addressOf(unchecked(slots[i])), BLOCK_BYTES, sum);
    store<u64>(header + JH_CHECKSUM_AT, sum);
    status = this.writeJournal(count);
    if (status < 0) return status;
    status = this.disk.flush();
    if (status < 0) return status;
    // 3. The checkpoint: each block in place, runs of neighbours in one call.
    status = this.checkpoint(count);
    if (status < 0) return status;
    this.cache.cleanAll();
    this.sequence++;
    this.commits++;
    return 0;
  }

  /**
   * At a read-only mount: reads the journal's transaction, if it is whole, in place of the blocks it
   * replaces (Disk.overlay) instead of writing it there. 0 or a status; `replayed` counts them.
   */
  overlay(): i32 {
    const count = this.whole();
    if (count <= 0) return count;
    for (let i: u32 = 0; i < <u32>count; i++) {
      const target = load<u32>(header + JH_TARGETS_AT + (<usize>i << 2));
      if (!this.disk.overlay(target, this.layout.journal + 1 + i)) return FS_E_IO;
    }
    this.replayed = <u32>count;
    return 0;
  }

  // The journal's transaction, read into `header`, if it is whole: its block count, 0 when there is
  // none (or it was torn), or a status. The next transaction's sequence follows the one found.
  private whole(): i32 {
    this.replayed = 0;
    const layout = this.layout;
    let status = this.disk.read(<u64>layout.journal, 1, header);
    if (status < 0) return status;
    if (load<u64>(header + JH_MAGIC_AT) != JOURNAL_MAGIC) return 0;
    const count = load<u32>(header + JH_COUNT_AT);
    if (count == 0 || count > <u32>this.capacity) return 0;
    for (let i: u32 = 0; i < count; i++) {
      const target = load<u32>(header + JH_TARGETS_AT + (<usize>i << 2));
      if (target < layout.bitmap || target >= layout.total) return 0; // never the superblock or the journal
    }
    const wanted = load<u64>(header + JH_CHECKSUM_AT);
    store<u64>(header + JH_CHECKSUM_AT, 0);
    let sum = checksum(header, BLOCK_BYTES, 0);
    store<u64>(header + JH_CHECKSUM_AT, wanted);
    for (let done: u32 = 0; done < count; ) {
      const run = min(count - done, RUN_BLOCKS);
      status = this.disk.read(<u64>(layout.journal + 1 + done), run, staging);
      if (status < 0) return status;
      // Block by block, as commit chains it (one call over a run would hash differently).
      for (let i: u32 = 0; i < run; i++) sum = checksum(staging + (<usize>i << BLOCK_SHIFT), BLOCK_BYTES, sum);
      done += run;
    }
    this.sequence = load<u64>(header + JH_SEQUENCE_AT) + 1;
    return sum == wanted ? <i32>count : 0; // torn: the transaction did not commit
  }

  /**
   * At mount: replays the journal's transaction if it is whole. 0 or a status; `replayed` says
   * how many blocks were written. The next transaction's sequence follows the one found.
   */
  replay(): i32 {
    const whole = this.whole();
    if (whole <= 0) return whole;
    const count = <u32>whole;
    const layout = this.layout;
    let status: i32 = 0;
    for (let done: u32 = 0; done < count; ) {
      const run = min(count - done, RUN_BLOCKS);
      status = this.disk.read(<u64>(layout.journal + 1 + done), run, staging);
      if (status < 0) return status;
      for (let i: u32 = 0; i < run; i++) {
        const target = load<u32>(header + JH_TARGETS_AT + (<usize>(done + i) << 2));
        status = this.disk.write(<u64>target, 1, staging + (<usize>i << BLOCK_SHIFT));
        if (status < 0) return status;
      }
      done += run;
    }
    this.replayed = count;
    return this.disk.flush();
  }

  // The header at the journal's first block, the images after it, a buffer's worth per call.
  private writeJournal(count: i32): i32 {
    const journal = this.layout.journal;
    let block = journal;
    memory.copy(staging, header, BLOCK_BYTES);
    let staged: u32 = 1;
    for (let i = 0; i < count; i++) {
      if (staged == RUN_BLOCKS) {
        const status = this.disk.write(<u64>block, staged, staging);
        if (status < 0) return status;
        block += staged;
        staged = 0;
      }
      memory.copy(staging + (<usize>staged << BLOCK_SHIFT), this.cache.addressOf(unchecked(slots[i])), BLOCK_BYTES);
      staged++;
    }
    return this.disk.write(<u64>block, staged, staging);
  }

  private checkpoint(count: i32): i32 {
    let i = 0;
    while (i < count) {
      const first = this.cache.blockOf(unchecked(slots[i]));
      let run: u32 = 0;
      while (i < count && run < RUN_BLOCKS && this.cache.blockOf(unchecked(slots[i])) == first + run) {
        memory.copy(staging + (<usize>run << BLOCK_SHIFT), this.cache.addressOf(unchecked(slots[i])), BLOCK_BYTES);
        run++;
        i++;
      }
      const status = this.disk.write(<u64>first, run, staging);
      if (status < 0) return status;
    }
    return 0;
  }
}

// Insertion sort of the first `count` slots by block number (at most a few hundred).
function sortByBlock(cache: Cache, count: i32): void {
  for (let i = 1; i < count; i++) {
    const slot = unchecked(slots[i]);
    const block = cache.blockOf(slot);
    let j = i - 1;
    while (j >= 0 && cache.blockOf(unchecked(slots[j])) > block) {
      unchecked((slots[j + 1] = slots[j]));
      j--;
    }
    unchecked((slots[j + 1] = slot));
  }
}
