// The entries a server names by badge: each capability it mints carries one entry's index and
// generation, badge = generation << 11 | (index + 1). Closing an entry bumps its generation, so
// every copy of its capabilities goes stale at once and a new entry in the same place gets a badge
// they do not have. Badge 0 names no entry (the service capability itself). The table is bounded;
// a server cannot see when a client drops a capability or dies, so when it is full the unpinned
// entry used longest ago is taken back once it has been idle `reclaimIdleNs` (pinned entries —
// published roots — never are). What an entry holds is the server's own, in arrays of its own
// indexed the same way. The file system and host share servers use it; nothing allocates after
// construction.
import { now } from "./time";

const INDEX_BITS: u32 = 11;
const INDEX_MASK: u32 = (1 << INDEX_BITS) - 1;
const GENERATION_MASK: u32 = (1 << (32 - INDEX_BITS)) - 1;
/** The most entries a badge can name. */
export const BADGE_TABLE_MAX: i32 = <i32>INDEX_MASK;

export class BadgeTable {
  used: i32 = 0;
  /** Entries taken back from a full table. */
  reclaimed: u32 = 0;
  /** The entry the last `take` took back from a full table (-1: none): what it held is the server's to let go. */
  lastReclaimed: i32 = -1;
  private hint: i32 = 0;
  private readonly inUse: StaticArray<bool>;
  private readonly pinned: StaticArray<bool>;
  private readonly generation: StaticArray<u32>;
  private readonly lastUsed: StaticArray<i64>;

  /** `reclaimIdleNs` may be changed before use (a server's argument). */
  constructor(readonly capacity: i32, public reclaimIdleNs: i64) {
    this.inUse = new StaticArray<bool>(capacity);
    this.pinned = new StaticArray<bool>(capacity);
    this.generation = new StaticArray<u32>(capacity);
    this.lastUsed = new StaticArray<i64>(capacity);
    for (let i = 0; i < capacity; i++) unchecked((this.generation[i] = 1));
  }

  /**
   * A new entry (unpinned): its index, or -1 when the table is full and none is idle long enough to
   * take back (`reclaimIdle` false: none is taken back; the server chooses, with `takeBack`).
   */
  take(reclaimIdle: bool = true): i32 {
    this.lastReclaimed = -1;
    if (this.used == this.capacity && reclaimIdle) this.reclaim();
    for (let n = 0; n < this.capacity; n++) {
      const i = (this.hint + n) % this.capacity;
      if (unchecked(this.inUse[i])) continue;
      unchecked((this.lastUsed[i] = now()));
      unchecked((this.inUse[i] = true));
      unchecked((this.pinned[i] = false));
      this.hint = i + 1;
      this.used++;
      return i;
    }
    return -1;
  }

  /** The badge of entry `index`'s capabilities. */
  badge(index: i32): u32 {
    return (unchecked(this.generation[index]) << INDEX_BITS) | <u32>(index + 1);
  }

  /** The entry a badge names (and it counts as used now): its index, or -1 (none, closed, or an old generation). */
  lookup(badge: u32): i32 {
    const index = <i32>(badge & INDEX_MASK) - 1;
    if (index < 0 || index >= this.capacity) return -1;
    if (!unchecked(this.inUse[index]) || unchecked(this.generation[index]) != badge >>> INDEX_BITS) return -1;
    unchecked((this.lastUsed[index] = now()));
    return index;
  }

  /** Frees entry `index`: false if it is pinned (a published root stays open). */
  close(index: i32): bool {
    if (unchecked(this.pinned[index])) return false;
    unchecked((this.inUse[index] = false));
    let next = (unchecked(this.generation[index]) + 1) & GENERATION_MASK;
    if (next == 0) next = 1;
    unchecked((this.generation[index] = next));
    this.used--;
    return true;
  }

  /** Whether entry `index` is in use (not closed). */
  isOpen(index: i32): bool {
    return index >= 0 && index < this.capacity && unchecked(this.inUse[index]);
  }

  pin(index: i32): void {
    unchecked((this.pinned[index] = true));
  }

  /** How long entry `index` has gone unused, in ns. */
  idleNs(index: i32): i64 {
    return now() - unchecked(this.lastUsed[index]);
  }

  /**
   * Takes entry `index` back now, idle or not (a server's own policy chose it: the file system's
   * fair share, user/services/fs-parts/handles.ts): false if it is pinned or not open.
   */
  takeBack(index: i32): bool {
    if (!this.isOpen(index) || !this.close(index)) return false;
    this.reclaimed++;
    this.lastReclaimed = index;
    return true;
  }

  /** Whether entry `index` is pinned (a published root). */
  isPinned(index: i32): bool {
    return unchecked(this.pinned[index]);
  }

  /** When entry `index` was last used (ns, the monotonic clock). */
  lastUsedAt(index: i32): i64 {
    return unchecked(this.lastUsed[index]);
  }

  // Closes the unpinned entry used longest ago, if it has been idle long enough.
  private reclaim(): void {
    let oldest = -1;
    for (let i = 0; i < this.capacity; i++) {
      if (unchecked(this.pinned[i])) continue;
      if (oldest < 0 || unchecked(this.lastUsed[i]) < unchecked(this.lastUsed[oldest])) oldest = i;
    }
    if (oldest < 0 || now() - unchecked(this.lastUsed[oldest]) < this.reclaimIdleNs) return;
    this.close(oldest);
    this.reclaimed++;
    this.lastReclaimed = oldest;
  }
}
