// The host share server's open-handle table. As the file system server's (fs-parts/handles.ts),
// each capability it mints carries a badge naming one entry and the entry's generation:
// badge = generation << 11 | (index + 1); CLOSE frees the entry and bumps its generation, so its
// capabilities answer FS_E_STALE. An entry holds what it names as a path from the share's root
// (names separated by '/', no "." or "..", "" for the root), its kind, its rights (READ at
// most) and its stream position. When the table is full, the entry used longest ago is taken
// back once it has been idle for RECLAIM_IDLE_NS (a client that died cannot say so).
import { now } from "../../lib";
import { RECLAIM_IDLE_NS } from "../fs-parts/handles";
import { PATH_MAX } from "./share";

export const MAX_HANDLES: i32 = 256;
const INDEX_BITS: u32 = 11;
const INDEX_MASK: u32 = (1 << INDEX_BITS) - 1;
const GENERATION_MASK: u32 = (1 << (32 - INDEX_BITS)) - 1;

const inUse = new StaticArray<bool>(MAX_HANDLES);
const pinned = new StaticArray<bool>(MAX_HANDLES);
const generation = new StaticArray<u32>(MAX_HANDLES);
const kindOf = new StaticArray<u32>(MAX_HANDLES);
const rightsOf = new StaticArray<u32>(MAX_HANDLES);
const positionOf = new StaticArray<u64>(MAX_HANDLES);
const lastUsed = new StaticArray<i64>(MAX_HANDLES);
const pathLengthOf = new StaticArray<u32>(MAX_HANDLES);
/** Each entry's path: PATH_MAX bytes of its own. */
const pathBytes: usize = heap.alloc(<usize>PATH_MAX * <usize>MAX_HANDLES);

export class HostHandles {
  used: i32 = 0;
  reclaimed: u32 = 0;
  private hint: i32 = 0;

  constructor() {
    for (let i = 0; i < MAX_HANDLES; i++) unchecked((generation[i] = 1));
  }

  /** A new entry for the `length` bytes of path at `path`: its index, or -1 when the table is full. */
  open(path: usize, length: u32, kind: u32, rights: u32): i32 {
    if (length > PATH_MAX) return -1;
    if (this.used == MAX_HANDLES) this.reclaim();
    for (let n = 0; n < MAX_HANDLES; n++) {
      const i = (this.hint + n) % MAX_HANDLES;
      if (unchecked(inUse[i])) continue;
      unchecked((lastUsed[i] = now()));
      unchecked((inUse[i] = true));
      unchecked((pinned[i] = false));
      unchecked((kindOf[i] = kind));
      unchecked((rightsOf[i] = rights));
      unchecked((positionOf[i] = 0));
      unchecked((pathLengthOf[i] = length));
      memory.copy(this.path(i), path, length);
      this.hint = i + 1;
      this.used++;
      return i;
    }
    return -1;
  }

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

  /** Frees entry `index`: false if it is pinned (a published root stays open). */
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

  @inline path(index: i32): usize {
    return pathBytes + <usize>index * <usize>PATH_MAX;
  }
  pathLength(index: i32): u32 {
    return unchecked(pathLengthOf[index]);
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
