// What `fsck --repair` would do about each problem a scan finds (repair.ts does it). A fix names
// where the problem is — an inode, a pointer, a directory entry — and what to set there.

/** Clear a block pointer: in inode `ino` (`table` 0: slot 0-11 direct, 12 single, 13 double) or slot `slot` of indirect block `table`. */
export const FIX_CLEAR_POINTER: i32 = 1;
/** Set inode `ino`'s block count to `value`. */
export const FIX_SET_BLOCKS: i32 = 2;
/** Free inode `ino`'s blocks past its size. */
export const FIX_TRIM: i32 = 3;
/** Set inode `ino`'s size to `value` (a directory: whole blocks, up to its first hole). */
export const FIX_SET_SIZE: i32 = 4;
/** Clear inode `ino` (free it, keeping its generation): an unknown kind, a malformed link, a free one not cleared. */
export const FIX_CLEAR_INODE: i32 = 5;
/** Clear entry `slot` of directory block `table`. */
export const FIX_CLEAR_ENTRY: i32 = 6;
/** Set the kind of entry `slot` of directory block `table` to `value`. */
export const FIX_ENTRY_KIND: i32 = 7;
/** Set directory `ino`'s parent to `value`. */
export const FIX_SET_PARENT: i32 = 8;
/** Set inode `ino`'s link count to `value` (the names it has). */
export const FIX_SET_LINKS: i32 = 9;
/** Give inode `ino`, which no directory names, a name in /lost+found. */
export const FIX_LOST: i32 = 10;
/** Free inode `ino`, an orphan (unlinked while open: the next mount would free it too). */
export const FIX_ORPHAN: i32 = 11;

export class Fix {
  constructor(readonly kind: i32, readonly ino: u32, readonly table: u32, readonly slot: u32, readonly value: u64) {}
}

export class Fixes {
  readonly list: Fix[] = [];
  /** The bitmap must be written again from what the inodes map. */
  bitmap: bool = false;
  /** Problems no fix mends (the root is no directory, ...). */
  unfixable: i32 = 0;

  add(kind: i32, ino: u32, table: u32 = 0, slot: u32 = 0, value: u64 = 0): void {
    this.list.push(new Fix(kind, ino, table, slot, value));
  }

  clear(): void {
    this.list.length = 0;
    this.bitmap = false;
    this.unfixable = 0;
  }
}
