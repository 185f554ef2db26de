// The open-handle table. Each capability the server mints carries a badge naming one entry and
// the entry's generation: badge = generation << 11 | (index + 1). CLOSE frees the entry and bumps
// its generation, so the closed handle's capabilities (any copies included) answer FS_E_STALE
// and a new handle in the same entry gets a badge they do not have. An entry also remembers the
// inode's generation, so a handle to a file that was removed goes stale too. Badge 0 is the
// service capability (no entry). The table is bounded (FS_E_TABLE_FULL); the server cannot see
// when a client drops a capability or dies, so when the table is full, the entry used longest ago
// is taken back if it has been idle for RECLAIM_IDLE_NS: a dead client's handles do not hold the
// table for ever, and a live one's answer FS_E_STALE after such a wait (docs/FS.md).
import { now } from "../../lib";

/** Half a process's capability table: a client can fill it without running out of slots itself. */
export const MAX_HANDLES: i32 = 512;
/** A full table takes back the entry used longest ago once it has been idle this long: 10 s. */
export const RECLAIM_IDLE_NS: i64 = 10_000_000_000;
const INDEX_BITS: u32 = 11;
const INDEX_MASK: u32 = (1 << INDEX_BITS) - 1;
const GENERATION_MASK: u32 = (1 << (32 - INDEX_BITS)) - 1;

const inUse = new StaticArray<bool>(MAX_HANDLES);
const pinned = new StaticArray<bool>(MAX_HANDLES);
const generation = new StaticArray<u32>(MAX_HANDLES);
const inodeOf = new StaticArray<u32>(MAX_HANDLES);
const inodeGeneration = new StaticArray<u32>(MAX_HANDLES);
const rightsOf = new StaticArray<u32>(MAX_HANDLES);
const kindOf = new StaticArray<u32>(MAX_HANDLES);
/** Where the stream protocol (user/lib/streams.ts) reads and writes next through this handle. */
const positionOf = new StaticArray<u64>(MAX_HANDLES);
const lastUsed = new StaticArray<i64>(MAX_HANDLES);

export class Handles {
  used: i32 = 0;
  /** Entries taken back from a full table. */
  reclaimed: u32 = 0;
  private hint: i32 = 0;

  constructor() {
    for (let i = 0; i < MAX_HANDLES; i++) unchecked((generation[i] = 1));
  }

  /** A new entry: its index, or -1 when the table is full (and no entry has been idle long enough to take back). */
  open(ino: u32, inodeGen: u32, kind: u32, rights: u32): i32 {
    if (this.used == MAX_HANDLES) this.reclaim();
    for (let n = 0; n < MAX_HANDLES; n++) {
      const i = (this.hint + n) % MAX_HANDLES;
      if (unchecked(inUse[i])) continue;
      unchecked((lastUsed[i] = now()));
      unchecked((inUse[i] = true));
      unchecked((pinned[i] = false));
      unchecked((inodeOf[i] = ino));
      unchecked((inodeGeneration[i] = inodeGen));
      unchecked((kindOf[i] = kind));
      unchecked((rightsOf[i] = rights));
      unchecked((positionOf[i] = 0));
      this.hint = i + 1;
      this.used++;
      return i;
    }
    return -1;
  }

  /** The badge of entry `index`'s capabilities. */
  badge(index: i32): u32 {
    return (unchecked(generation[index]) << INDEX_BITS) | <u32>(index + 1);
  }

  /** The entry a badge names: its index, or -1 (no such entry, closed, or an old generation). */
  lookup(badge: u32): i32 {
    const index = <i32>(badge & INDEX_MASK) - 1;
    if (index < 0 || index >= MAX_HANDLES) return -1;
    if (!unchecked(inUse[index]) || unchecked(generation[index]) != badge >>> INDEX_BITS) return -1;
    unchecked((lastUsed[index] = now()));
    return index;
  }

  // Closes the unpinned entry used longest ago, if it has been idle for RECLAIM_IDLE_NS.
  private reclaim(): void {
    let oldest = -1;
    for (let i = 0; i < MAX_HANDLES; i++) {
      if (unchecked(pinned[i])) continue;
      if (oldest < 0 || unchecked(lastUsed[i]) < unchecked(lastUsed[oldest])) oldest = i;
    }
    if (oldest < 0 || now() - unchecked(lastUsed[oldest]) < RECLAIM_IDLE_NS) return;
    this.close(oldest);
    this.reclaimed++;
  }

  /** Frees entry `index`: false if it is pinned (a root the server published stays open). */
  close(index: i32): bool {
    if (unchecked(pinned[index])) return false;
    unchecked((inUse[index] = false));
    let next = (unchecked(generation[index]) + 1) & GENERATION_MASK;
    if (next == 0) next = 1;
    unchecked((generation[index] = next));
    this.used--;
    return true;
  }

  pin(index: i32): void {
    unchecked((pinned[index] = true));
  }

  inode(index: i32): u32 {
    return unchecked(inodeOf[index]);
  }
  inodeGeneration(index: i32): u32 {
    return unchecked(inodeGeneration[index]);
  }
  kind(index: i32): u32 {
    return unchecked(kindOf[index]);
  }
  rights(index: i32): u32 {
    return unchecked(rightsOf[index]);
  }
  position(index: i32): u64 {
    return unchecked(positionOf[index]);
  }
  setPosition(index: i32, position: u64): void {
    unchecked((positionOf[index] = position));
  }
}
