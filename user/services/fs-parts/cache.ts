// The metadata cache: 1024 slots of one block each for everything but file data (the bitmap, the
// inode table, directory and indirect blocks). A change marks its slot dirty; dirty slots stay
// until the journal commits them (journal.ts), so the cache is also the running transaction.
// A slot used by the operation in progress is never evicted, so the addresses an operation holds
// stay good until it ends (the server commits between operations before the cache could fill).
// Nothing allocates after the start.
//
// The server is pinned (the pager pages through it), so a slot's page, once touched, would stay
// its frame for good: under memory pressure `shrink` gives clean slots' pages back to the kernel
// (PROCESS_DISCARD), in the order the clock would take them, down to what it is asked to keep.
import { Process } from "../../lib";
import { BLOCK_BYTES, BLOCK_SHIFT } from "./format";
import { Disk } from "./disk";

export const CACHE_SLOTS: i32 = 1024;
const NONE: u32 = 0xffffffff;
const BUCKETS: u32 = 2048;

const data: usize = memory.data(CACHE_SLOTS * <i32>BLOCK_BYTES, <i32>BLOCK_BYTES);
const slotBlock = new StaticArray<u32>(CACHE_SLOTS);
const slotNext = new StaticArray<i32>(CACHE_SLOTS);
const slotDirty = new StaticArray<bool>(CACHE_SLOTS);
const slotStamp = new StaticArray<u32>(CACHE_SLOTS);
const bucket = new StaticArray<i32>(<i32>BUCKETS);
/** Whether the slot's page has a frame (it was used since it was last given back). */
const slotResident = new StaticArray<bool>(CACHE_SLOTS);
const self = Process.self();

export class Cache {
  dirtyCount: i32 = 0;
  private stamp: u32 = 1;
  private hand: i32 = 0;
  /** Lookups that found their block, and those that read it: for looking at the cache's use. */
  hits: u64 = 0;
  misses: u64 = 0;
  /** Slots whose page has a frame, and pages given back under pressure so far. */
  resident: i32 = 0;
  givenBack: u64 = 0;

  constructor(readonly disk: Disk) {
    for (let i = 0; i < CACHE_SLOTS; i++) {
      unchecked((slotBlock[i] = NONE));
      unchecked((slotNext[i] = -1));
    }
    for (let i = 0; i < <i32>BUCKETS; i++) unchecked((bucket[i] = -1));
  }

  /** Slots the operation in progress has touched (some may be dirty too: `evictable` errs low). */
  private touched: i32 = 0;

  /** Starts an operation: slots it touches from now on are kept until the next one starts. */
  beginOperation(): void {
    this.stamp++;
    this.touched = 0;
  }

  /** At least this many slots could take a new block now (neither dirty nor used by this operation). */
  get evictable(): i32 {
    return CACHE_SLOTS - this.dirtyCount - this.touched;
  }

  /** The cached contents of `block`, read from the disk if need be; 0 when the disk fails or no slot is free. */
  get(block: u32): usize {
    let slot = this.find(block);
    if (slot >= 0) {
      this.hits++;
      this.use(slot);
      return slotAddress(slot);
    }
    this.misses++;
    slot = this.claim(block);
    if (slot < 0) return 0;
    if (this.disk.read(<u64>block, 1, slotAddress(slot)) < 0) {
      this.release(slot);
      return 0;
    }
    return slotAddress(slot);
  }

  /** A slot for a block just allocated: zeroed, not read, and dirty. 0 when no slot is free. */
  getZeroed(block: u32): usize {
    let slot = this.find(block);
    if (slot < 0) slot = this.claim(block);
    if (slot < 0) return 0;
    this.use(slot);
    memory.fill(slotAddress(slot), 0, BLOCK_BYTES);
    this.markSlot(slot);
    return slotAddress(slot);
  }

  /**
   * Gives clean slots' pages back to the kernel until at most `keep` slots hold a frame (fewer
   * when some cannot go: dirty, or used by the operation in progress), taking them in the order
   * `claim` would. The number of pages given back.
   */
  shrink(keep: i32): i32 {
    let given = 0;
    let runStart = -1;
    let runLength = 0;
    for (let tries = 0; tries < CACHE_SLOTS && this.resident - given - runLength > keep; tries++) {
      const slot = this.hand;
      this.hand = (this.hand + 1) % CACHE_SLOTS;
      const goes = unchecked(slotResident[slot]) && !unchecked(slotDirty[slot]) && unchecked(slotStamp[slot]) != this.stamp;
      if (goes && runLength > 0 && slot == runStart + runLength) {
        runLength++;
      } else {
        if (runLength > 0) given += this.discard(runStart, runLength);
        runStart = goes ? slot : -1;
        runLength = goes ? 1 : 0;
      }
    }
    if (runLength > 0) given += this.discard(runStart, runLength);
    this.resident -= given;
    this.givenBack += <u64>given;
    return given;
  }

  // Empties `count` slots from `first` and gives their pages back; how many went (0 if the kernel refused).
  private discard(first: i32, count: i32): i32 {
    if (self.discard(<u32>slotAddress(first), <u32>count) < 0) return 0;
    for (let slot = first; slot < first + count; slot++) {
      this.release(slot);
      unchecked((slotResident[slot] = false));
    }
    return count;
  }

  /** Marks the block whose cached bytes contain `address` as changed. */
  markDirty(address: usize): void {
    this.markSlot(<i32>((address - data) >>> BLOCK_SHIFT));
  }

  /** Forgets `block` (it was freed): a dirty copy is dropped, not written. */
  forget(block: u32): void {
    const slot = this.find(block);
    if (slot >= 0) this.release(slot);
  }

  /** `index` when that slot is dirty, else -1: the journal collects the transaction this way. */
  dirtySlot(index: i32): i32 {
    return unchecked(slotDirty[index]) ? index : -1;
  }

  /** The block whose cached bytes contain `address`. */
  blockAt(address: usize): u32 {
    return unchecked(slotBlock[<i32>((address - data) >>> BLOCK_SHIFT)]);
  }

  blockOf(slot: i32): u32 {
    return unchecked(slotBlock[slot]);
  }

  addressOf(slot: i32): usize {
    return slotAddress(slot);
  }

  /** After a commit: every slot is clean. */
  cleanAll(): void {
    for (let i = 0; i < CACHE_SLOTS; i++) unchecked((slotDirty[i] = false));
    this.dirtyCount = 0;
  }

  // Stamps `slot` as the operation's own, counting it the first time.
  @inline private use(slot: i32): void {
    if (unchecked(slotStamp[slot]) != this.stamp) {
      unchecked((slotStamp[slot] = this.stamp));
      this.touched++;
    }
  }

  private markSlot(slot: i32): void {
    if (!unchecked(slotDirty[slot])) {
      unchecked((slotDirty[slot] = true));
      this.dirtyCount++;
    }
  }

  private find(block: u32): i32 {
    let slot = unchecked(bucket[hash(block)]);
    while (slot >= 0 && unchecked(slotBlock[slot]) != block) slot = unchecked(slotNext[slot]);
    return slot;
  }

  // Takes a slot for `block` (clock over the slots, skipping dirty ones and this operation's).
  private claim(block: u32): i32 {
    for (let tries = 0; tries < CACHE_SLOTS; tries++) {
      const slot = this.hand;
      this.hand = (this.hand + 1) % CACHE_SLOTS;
      if (unchecked(slotDirty[slot]) || unchecked(slotStamp[slot]) == this.stamp) continue;
      if (unchecked(slotBlock[slot]) != NONE) this.release(slot);
      unchecked((slotBlock[slot] = block));
      if (!unchecked(slotResident[slot])) {
        unchecked((slotResident[slot] = true));
        this.resident++;
      }
      const h = hash(block);
      unchecked((slotNext[slot] = bucket[h]));
      unchecked((bucket[h] = slot));
      this.use(slot);
      return slot;
    }
    return -1;
  }

  // Takes `slot` out of its hash chain and empties it.
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
    if (unchecked(slotDirty[slot])) {
      unchecked((slotDirty[slot] = false));
      this.dirtyCount--;
    }
    unchecked((slotBlock[slot] = NONE));
    unchecked((slotNext[slot] = -1));
    unchecked((slotStamp[slot] = 0));
  }
}

@inline function hash(block: u32): u32 {
  return (block * 0x9e3779b1) >>> 21; // 11 bits: BUCKETS
}

@inline function slotAddress(slot: i32): usize {
  return data + (<usize>slot << BLOCK_SHIFT);
}
