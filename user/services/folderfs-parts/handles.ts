// The host folder server's open-handle table, over a BadgeTable (user/lib/badge-table.ts) as the
// host share's is (hostfs-parts/handles.ts): badge = generation << 11 | (index + 1), CLOSE bumps
// the generation. An entry holds what it names as a path from the folder's root (names separated
// by '/', "" for the root), its kind, its rights, its stream position, and for a file the id of
// the host file the device holds open for it (0: none). An entry the table takes back when it is
// full still holds its file id: `opened` hands it over so the server closes that file first.
import { BadgeTable } from "../../lib/badge-table";
import { RECLAIM_IDLE_NS } from "../fs-parts/handles";
import { PATH_MAX } from "../hostfs-parts/share";

export const MAX_HANDLES: i32 = 512;

const kindOf = new StaticArray<u32>(MAX_HANDLES);
const rightsOf = new StaticArray<u32>(MAX_HANDLES);
const positionOf = new StaticArray<u64>(MAX_HANDLES);
const fileOf = new StaticArray<u32>(MAX_HANDLES);
const pathLengthOf = new StaticArray<u32>(MAX_HANDLES);
/** Each entry's path: PATH_MAX bytes of its own. */
const pathBytes: usize = heap.alloc(<usize>PATH_MAX * <usize>MAX_HANDLES);

export class FolderHandles {
  private readonly table: BadgeTable = new BadgeTable(MAX_HANDLES, RECLAIM_IDLE_NS);
  /** The file id an entry taken back from a full table still held (0: none), for the server to close. */
  orphanedFile: u32 = 0;

  get used(): i32 {
    return this.table.used;
  }
  get reclaimed(): u32 {
    return this.table.reclaimed;
  }

  /** A new entry: its index, or -1 when the table is full. */
  open(path: usize, length: u32, kind: u32, rights: u32, file: u32): i32 {
    this.orphanedFile = 0;
    if (length > PATH_MAX) return -1;
    const i = this.table.take();
    if (i < 0) return -1;
    this.orphanedFile = unchecked(fileOf[i]);
    unchecked((kindOf[i] = kind));
    unchecked((rightsOf[i] = rights));
    unchecked((positionOf[i] = 0));
    unchecked((fileOf[i] = file));
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
  /** Frees entry `index`: false if it is pinned. The file id it held is the caller's to close. */
  close(index: i32): bool {
    if (!this.table.close(index)) return false;
    unchecked((fileOf[index] = 0));
    return true;
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
  file(index: i32): u32 {
    return unchecked(fileOf[index]);
  }
  position(index: i32): u64 {
    return unchecked(positionOf[index]);
  }
  setPosition(index: i32, position: u64): void {
    unchecked((positionOf[index] = position));
  }
}
