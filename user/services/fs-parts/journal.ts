// The journal (docs/FS.md "Crash consistency"): a transaction is every metadata block changed
// since the last commit (the cache's dirty slots), written whole to a slot of the journal with a
// header that lists where each goes and a checksum over header and images; once that is durable
// the transaction is committed, and the blocks are written in place (the checkpoint). File data the
// page cache holds dirty goes to the disk before any of it (ordered mode).
//
// A version 3 or 4 disk's journal has two slots, used in turn: a transaction never overwrites the one
// before it. Every commit flushes before its record: the last checkpoint, and the data its maps
// name for the first time (dataFirst), are durable before its record is written. With one slot
// (versions 1 and 2) that flush is also what lets the record overwrite the last one's journal
// copy; with two, it is what tells a torn record from a damaged one at mount. Mounting replays
// every whole transaction in the slots, oldest first (replaying twice writes the same bytes), and
// ignores a torn one (a commit that was torn never happened). When the newer record is not whole
// but began after the flush (JOURNAL_MAGIC_2, its header checked on its own), the older one's
// checkpoint is on the disk and is not replayed: the newer one may have committed and been damaged
// since, its blocks in place, and the older one's images would roll them back (format.ts
// mayNeedReplay). Until 2026-12 a two-slot commit flushed once (its data, images and the last
// checkpoint together); a record of such a server (JOURNAL_MAGIC) is read as before; a disk holds
// JOURNAL_MAGIC_2 records only once it is version 4, which such servers refuse.
import { FS_E_IO } from "../../lib/fs-protocol";
import { Cache, CACHE_SLOTS } from "./cache";
import { Disk, RUN_BLOCKS } from "./disk";
import { PageCache } from "./page-cache";
import {
  BLOCK_BYTES, BLOCK_SHIFT, JOURNAL_MAGIC, JOURNAL_MAGIC_2, journalCapacity, journalHeaderChecksum, journalSlotAt, journalSlots,
  JH_MAGIC_AT, JH_SEQUENCE_AT, JH_COUNT_AT, JH_CHECKSUM_AT, JH_HEADER_CHECKSUM_AT, JH_TARGETS_AT, Layout, RECORD_DAMAGED, RECORD_FLUSHED, RECORD_OLD,
  SB_VERSION, checksum, journalRecord, mayNeedReplay,
} from "./format";

const staging: usize = memory.data(<i32>(RUN_BLOCKS * BLOCK_BYTES), <i32>BLOCK_BYTES);
const header: usize = memory.data(<i32>BLOCK_BYTES, <i32>BLOCK_BYTES);
/** The headers of the slots at mount (at most two). */
const found: usize = memory.data(<i32>(2 * BLOCK_BYTES), <i32>BLOCK_BYTES);
const slots = new StaticArray<i32>(CACHE_SLOTS);

export class Journal {
  /**
   * The last checkpoint failed (an I/O error), so its blocks are in place only in part: the next
   * record must not say the one before it is on the disk (it is written JOURNAL_MAGIC, and a mount
   * that finds it torn replays that one).
   */
  private checkpointFailed: bool = false;
  /** The sequence number the next transaction gets. */
  sequence: u64 = 1;
  commits: u64 = 0;
  /** Blocks written by the last replay (0: nothing to replay). */
  replayed: u32 = 0;
  /**
   * At the last mount, the sequence of the whole transaction not replayed because the record
   * after it, not whole, began once it was on the disk (0: none); `setAsideDamaged`: that record's
   * header was damaged too.
   */
  setAside: u64 = 0;
  setAsideDamaged: bool = false;
  /**
   * The running transaction allocated a data block (a committed map would name it, whatever the
   * disk holds there) or grew a file (the bytes its new size covers, zeroed or written in place):
   * that data must be durable before its record. Set by the volume, cleared by a commit. Without
   * it the transaction's data overwrites blocks the committed state maps within its files' sizes,
   * and a commit flushes before writing it back (below). Freeing needs nothing first: a freed
   * block is given again only once the freeing commit is durable.
   */
  dataFirst: bool = false;
  /** The slot the next transaction goes to (always 0 with one slot). */
  private slot: u32 = 0;
  /** The slots of the whole transactions findWhole found and replay, older and newer (-1: none). */
  private older: i32 = -1;
  private newer: i32 = -1;

  constructor(readonly disk: Disk, readonly cache: Cache, readonly pages: PageCache, readonly layout: Layout) {}

  /** Most dirty blocks one transaction may hold. */
  get capacity(): i32 {
    return <i32>journalCapacity(this.layout);
  }

  /**
   * Commits the running transaction and checkpoints it: 0 or a status. Durable when it returns.
   * File data the page cache holds goes to the disk before the record (ordered mode: when a map
   * names a block for the first time, the flush before the record makes its data durable first).
   */
  commit(): i32 {
    // 1. What must be durable before the record: the last checkpoint (with one slot this write
    //    overwrites its journal copy; with two, a record that stands says the one before it is in
    //    place: mayNeedReplay), and the data when a committed map may name a block it allocated or
    //    a size covers bytes it wrote (dataFirst). Without such data the flush comes before the
    //    write-back: the data (overwrites in place, which may reach the disk at any time) goes with
    //    the record's flush, and nothing is written between the last checkpoint and this flush, so
    //    the host may find it durable already (a disk image syncs on its own after a flush,
    //    background-sync.ts): an overwrite's SYNC then waits for one flush, not two.
    const early = !this.dataFirst && this.cache.dirtyCount > 0;
    let status: i32 = 0;
    if (early) {
      status = this.disk.flush();
      if (status < 0) return status;
    }
    const written = this.pages.writeBackAll(); // (may punch holes: more dirty metadata)
    if (written < 0) return written;
    let count = 0;
    for (let i = 0; i < CACHE_SLOTS; i++) if (this.cache.dirtySlot(i) >= 0) unchecked((slots[count++] = i));
    if (count == 0) {
      const flushed = this.disk.flush();
      if (flushed == 0) this.dataFirst = false;
      return flushed;
    }
    if (count > this.capacity) return FS_E_IO; // the server commits long before this
    sortByBlock(this.cache, count);
    const layout = this.layout;
    const slotCount = journalSlots(layout);
    const at = journalSlotAt(layout, this.slot % slotCount);
    if (!early) {
      status = this.disk.flush();
      if (status < 0) return status;
    }
    // 2. The header and the images, then a flush: the transaction is committed.
    memory.fill(header, 0, BLOCK_BYTES);
    // (A version 2 disk's one slot gains nothing from JOURNAL_MAGIC_2, and its servers read only JOURNAL_MAGIC.)
    store<u64>(header + JH_MAGIC_AT, this.checkpointFailed || layout.version < SB_VERSION ? JOURNAL_MAGIC : JOURNAL_MAGIC_2);
    store<u64>(header + JH_SEQUENCE_AT, this.sequence);
    store<u32>(header + JH_COUNT_AT, <u32>count);
    for (let i = 0; i < count; i++) store<u32>(header + JH_TARGETS_AT + (<usize>i << 2), this.cache.blockOf(unchecked(slots[i])));
    store<u32>(header + JH_HEADER_CHECKSUM_AT, journalHeaderChecksum(header));
    let sum = checksum(header, BLOCK_BYTES, 0);
    for (let i = 0; i < count; i++) sum = checksum(this.cache.addressOf(unchecked(slots[i])), BLOCK_BYTES, sum);
    store<u64>(header + JH_CHECKSUM_AT, sum);
    status = this.writeJournal(at, count);
    if (status < 0) return status;
    status = this.disk.flush();
    if (status < 0) return status;
    // Committed: the next transaction goes to the other slot even if the checkpoint fails, so that
    // this one stays whole for replay while its blocks are in place only in part (they stay dirty
    // here, and go again with the next).
    this.slot = (this.slot + 1) % slotCount;
    this.dataFirst = false;
    this.sequence++;
    this.commits++;
    // 3. The checkpoint: each block in place, runs of neighbours in one call. Durable with the
    //    next commit's flush; until then the journal holds it.
    status = this.checkpoint(count);
    this.checkpointFailed = status < 0;
    if (status < 0) return status;
    this.cache.cleanAll();
    return 0;
  }

  /**
   * At a read-only mount: reads the journal's whole transactions, oldest first, in place of the
   * blocks they replace (Disk.overlay) instead of writing them there. 0 or a status; `replayed`
   * counts the blocks.
   */
  overlay(): i32 {
    const read = this.findWhole();
    if (read < 0) return read;
    let replayed: u32 = 0;
    for (let k = 0; k < 2; k++) {
      const s = k == 0 ? this.older : this.newer;
      if (s < 0) continue;
      const from = <u32>s;
      const count = load<u32>(found + (<usize>from << BLOCK_SHIFT) + JH_COUNT_AT);
      const images = journalSlotAt(this.layout, from) + 1;
      for (let i: u32 = 0; i < count; i++) {
        const target = load<u32>(found + (<usize>from << BLOCK_SHIFT) + JH_TARGETS_AT + (<usize>i << 2));
        if (!this.disk.overlay(target, images + i)) return FS_E_IO;
      }
      replayed += count;
    }
    this.replayed = replayed;
    return 0;
  }

  /**
   * At mount: replays the journal's whole transactions in place, oldest first. 0 or a status;
   * `replayed` says how many blocks were written. The next transaction follows the newest found,
   * in the other slot.
   */
  replay(): i32 {
    const read = this.findWhole();
    if (read < 0) return read;
    let replayed: u32 = 0;
    for (let k = 0; k < 2; k++) {
      const s = k == 0 ? this.older : this.newer;
      if (s < 0) continue;
      const status = this.replayOne(<u32>s);
      if (status < 0) return status;
      replayed += load<u32>(found + (<usize>s << BLOCK_SHIFT) + JH_COUNT_AT);
    }
    this.replayed = replayed;
    return replayed > 0 ? this.disk.flush() : 0;
  }

  // Reads every slot's header into `found` and checks it: `older` and `newer` name the slots of
  // the whole ones (by sequence), and the next transaction's sequence and slot follow the newest.
  // 0 or a status.
  private findWhole(): i32 {
    this.replayed = 0;
    this.older = -1;
    this.newer = -1;
    const slotCount = journalSlots(this.layout);
    let newest: u64 = 0;
    for (let s: u32 = 0; s < slotCount; s++) {
      const count = this.whole(s, found + (<usize>s << BLOCK_SHIFT));
      if (count < 0) return count;
      if (count == 0) continue;
      const sequence = load<u64>(found + (<usize>s << BLOCK_SHIFT) + JH_SEQUENCE_AT);
      if (this.newer < 0 || sequence > newest) {
        this.older = this.newer;
        this.newer = <i32>s;
        newest = sequence;
      } else {
        this.older = <i32>s;
      }
    }
    if (this.newer >= 0) {
      this.sequence = newest + 1;
      this.slot = (<u32>this.newer + 1) % slotCount;
    }
    this.setAside = 0;
    this.setAsideDamaged = false;
    // A whole record written after a flush: the one before it is on the disk, and may be older than
    // the transaction just before this one (one set aside at a mount, below), whose blocks it would
    // roll back.
    if (this.older >= 0 && journalRecord(found + (<usize>this.newer << BLOCK_SHIFT)) == RECORD_FLUSHED) this.older = -1;
    else if (slotCount == 2 && this.newer >= 0 && this.older < 0) {
      // Only one whole: whether the other slot's record says it is on the disk already.
      const other = found + (<usize>(1 - this.newer) << BLOCK_SHIFT);
      if (!mayNeedReplay(other, newest)) {
        this.setAside = newest;
        this.setAsideDamaged = journalRecord(other) == RECORD_DAMAGED;
        if (!this.setAsideDamaged) this.sequence = max(this.sequence, load<u64>(other + JH_SEQUENCE_AT) + 1);
        this.newer = -1;
      }
    }
    return 0;
  }

  // Slot `slot`'s transaction, its header read into `into`, if it is whole: its block count, 0
  // when there is none (or it was torn), or a status.
  private whole(slot: u32, into: usize): i32 {
    const layout = this.layout;
    const at = journalSlotAt(layout, slot);
    let status = this.disk.read(<u64>at, 1, into);
    if (status < 0) return status;
    // A DOGMJNL2 header whose own checksum fails is damaged, whatever its whole checksum says (only
    // a hostile image has both): fsck ignores it, and a record fsck ignored must not be replayed
    // (redteam15: it carried a bitmap with every block free past a clean fsck).
    const kind = journalRecord(into);
    if (kind != RECORD_OLD && kind != RECORD_FLUSHED) return 0;
    const count = load<u32>(into + JH_COUNT_AT);
    if (count == 0 || count > <u32>this.capacity) return 0;
    for (let i: u32 = 0; i < count; i++) {
      const target = load<u32>(into + JH_TARGETS_AT + (<usize>i << 2));
      if (target < layout.bitmap || target >= layout.total) return 0; // never the superblock or the journal
    }
    const wanted = load<u64>(into + JH_CHECKSUM_AT);
    store<u64>(into + JH_CHECKSUM_AT, 0);
    let sum = checksum(into, BLOCK_BYTES, 0);
    store<u64>(into + JH_CHECKSUM_AT, wanted);
    for (let done: u32 = 0; done < count; ) {
      const run = min(count - done, RUN_BLOCKS);
      status = this.disk.read(<u64>(at + 1 + done), run, staging);
      if (status < 0) return status;
      // Block by block, as commit chains it (one call over a run would hash differently).
      for (let i: u32 = 0; i < run; i++) sum = checksum(staging + (<usize>i << BLOCK_SHIFT), BLOCK_BYTES, sum);
      done += run;
    }
    return sum == wanted ? <i32>count : 0; // torn: the transaction did not commit
  }

  // Writes slot `slot`'s whole transaction (its header in `found`) in place.
  private replayOne(slot: u32): i32 {
    const into = found + (<usize>slot << BLOCK_SHIFT);
    const count = load<u32>(into + JH_COUNT_AT);
    const images = journalSlotAt(this.layout, slot) + 1;
    for (let done: u32 = 0; done < count; ) {
      const run = min(count - done, RUN_BLOCKS);
      let status = this.disk.read(<u64>(images + done), run, staging);
      if (status < 0) return status;
      for (let i: u32 = 0; i < run; i++) {
        const target = load<u32>(into + JH_TARGETS_AT + (<usize>(done + i) << 2));
        status = this.disk.write(<u64>target, 1, staging + (<usize>i << BLOCK_SHIFT));
        if (status < 0) return status;
      }
      done += run;
    }
    return 0;
  }

  // The header at the slot's first block `at`, the images after it, a buffer's worth per call.
  private writeJournal(at: u32, count: i32): i32 {
    let block = at;
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
