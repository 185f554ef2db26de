// Directories: an inode whose blocks hold fixed entries of 272 bytes, 15 a block (format.ts).
// There are no "." and ".." entries on the disk: the path walk (paths.ts) keeps the way it came,
// and a directory's inode names its parent (READDIR makes them up when asked). A directory's size is its blocks × 4096; it never has holes
// and never shrinks (a free entry has inode 0). Names are compared as bytes.
import {
  BLOCK_BYTES, BLOCK_SHIFT, D_INODE_AT, D_KIND_AT, D_NAME_AT, D_NAME_LENGTH_AT, DIRENT_BYTES, DIRENTS_PER_BLOCK,
  I_SIZE_AT,
} from "./format";
import { Volume, NO_BLOCK } from "./volume";
import { FS_E_IO } from "../../lib/fs-protocol";

/** Where lookup() found an entry (or add() put one): its cached address. */
export class Found {
  entry: usize = 0;
  inode: u32 = 0;
  kind: u32 = 0;
}

export class Directories {
  readonly found: Found = new Found();

  constructor(readonly volume: Volume) {}

  /** Entries a directory of inode bytes `dir` has room for. */
  capacity(dir: usize): u32 {
    return <u32>(load<u64>(dir + I_SIZE_AT) >> BLOCK_SHIFT) * DIRENTS_PER_BLOCK;
  }

  /** The cached address of entry `index` of `dir`, or 0 (status in the volume). */
  entryAt(dir: usize, index: u32): usize {
    const block = this.volume.map(dir, <u64>(index / DIRENTS_PER_BLOCK), false, true);
    if (block == NO_BLOCK) return 0;
    if (block == 0) {
      this.volume.status = FS_E_IO; // directories have no holes
      return 0;
    }
    const at = this.volume.cache.get(block);
    if (at == 0) {
      this.volume.status = FS_E_IO;
      return 0;
    }
    return at + <usize>((index % DIRENTS_PER_BLOCK) * DIRENT_BYTES);
  }

  /** Looks `name` (`length` bytes) up in `dir`: 1 found (in `found`), 0 not there, or a status. */
  lookup(dir: usize, name: usize, length: u32): i32 {
    const count = this.capacity(dir);
    for (let i: u32 = 0; i < count; i++) {
      const entry = this.entryAt(dir, i);
      if (entry == 0) return this.volume.status;
      const ino = load<u32>(entry + D_INODE_AT);
      if (ino == 0 || <u32>load<u16>(entry + D_NAME_LENGTH_AT) != length) continue;
      if (memory.compare(entry + D_NAME_AT, name, length) != 0) continue;
      this.found.entry = entry;
      this.found.inode = ino;
      this.found.kind = <u32>load<u8>(entry + D_KIND_AT);
      return 1;
    }
    return 0;
  }

  /** Adds the entry `name` → `ino` (of `kind`) to `dir`, growing it by a block if it is full: 0 or a status. */
  add(dir: usize, name: usize, length: u32, ino: u32, kind: u32): i32 {
    const count = this.capacity(dir);
    let entry: usize = 0;
    for (let i: u32 = 0; i < count && entry == 0; i++) {
      const at = this.entryAt(dir, i);
      if (at == 0) return this.volume.status;
      if (load<u32>(at + D_INODE_AT) == 0) entry = at;
    }
    if (entry == 0) {
      const block = this.volume.map(dir, <u64>(count / DIRENTS_PER_BLOCK), true, true);
      if (block == NO_BLOCK) return this.volume.status;
      store<u64>(dir + I_SIZE_AT, load<u64>(dir + I_SIZE_AT) + BLOCK_BYTES);
      entry = this.entryAt(dir, count);
      if (entry == 0) return this.volume.status;
    }
    memory.fill(entry, 0, DIRENT_BYTES);
    store<u32>(entry + D_INODE_AT, ino);
    store<u16>(entry + D_NAME_LENGTH_AT, <u16>length);
    store<u8>(entry + D_KIND_AT, <u8>kind);
    memory.copy(entry + D_NAME_AT, name, length);
    this.volume.touch(entry);
    this.modified(dir);
    return 0;
  }

  /** Empties the entry at `entry` (from lookup) of `dir`. */
  remove(dir: usize, entry: usize): void {
    memory.fill(entry, 0, DIRENT_BYTES);
    this.volume.touch(entry);
    this.modified(dir);
  }

  /** 1 when `dir` has no entries, 0 when it has, or a status. */
  isEmpty(dir: usize): i32 {
    const count = this.capacity(dir);
    for (let i: u32 = 0; i < count; i++) {
      const at = this.entryAt(dir, i);
      if (at == 0) return this.volume.status;
      if (load<u32>(at + D_INODE_AT) != 0) return 0;
    }
    return 1;
  }

  private modified(dir: usize): void {
    this.volume.modified(dir);
  }
}
