// The host share server's open-handle table, over a BadgeTable (user/lib/badge-table.ts) as the
// file system server's is (fs-parts/handles.ts):
// each capability it mints carries a badge naming one entry and the entry's generation:
// badge = generation << 11 | (index + 1); CLOSE frees the entry and bumps its generation, so its
// capabilities answer FS_E_STALE. An entry holds what it names as a path from the share's root
// (names separated by '/', no "." or "..", "" for the root), its kind, its rights (READ at
// most) and its stream position. When the table is full, the entry used longest ago is taken
// back once it has been idle for RECLAIM_IDLE_NS (a client that died cannot say so).
import { BadgeTable } from "../../lib/badge-table";
import { RECLAIM_IDLE_NS } from "../fs-parts/handles";
import { PATH_MAX } from "./share";

export const MAX_HANDLES: i32 = 256;

const kindOf = new StaticArray<u32>(MAX_HANDLES);
const rightsOf = new StaticArray<u32>(MAX_HANDLES);
const positionOf = new StaticArray<u64>(MAX_HANDLES);
const pathLengthOf = new StaticArray<u32>(MAX_HANDLES);
/** Each entry's path: PATH_MAX bytes of its own. */
const pathBytes: usize = heap.alloc(<usize>PATH_MAX * <usize>MAX_HANDLES);

export class HostHandles {
  private readonly table: BadgeTable = new BadgeTable(MAX_HANDLES, RECLAIM_IDLE_NS);

  get used(): i32 {
    return this.table.used;
  }
  get reclaimed(): u32 {
    return this.table.reclaimed;
  }

  /** A new entry for the `length` bytes of path at `path`: its index, or -1 when the table is full. */
  open(path: usize, length: u32, kind: u32, rights: u32): i32 {
    if (length > PATH_MAX) return -1;
    const i = this.table.take();
    if (i < 0) return -1;
    unchecked((kindOf[i] = kind));
    unchecked((rightsOf[i] = rights));
    unchecked((positionOf[i] = 0));
    unchecked((pathLengthOf[i] = length));
    memory.copy(this.path(i), path, length);
    return i;
  }

  badge(index: i32): u32 {
    return this.table.badge(index);
  }
  lookup(badge: u32): i32 {
    return this.table.lookup(badge);
  }
  /** Frees entry `index`: false if it is pinned (a published root stays open). */
  close(index: i32): bool {
    return this.table.close(index);
  }
  pin(index: i32): void {
    this.table.pin(index);
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
