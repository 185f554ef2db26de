// One pass of fsck over the whole file system (docs/FS.md "Invariants"): the inodes and their
// block maps, the directory tree from the root, the link counts, the bitmap. Each problem is a
// line (the first 50; `quiet` prints none) and a fix (fixes.ts) that --repair would make. A
// one-shot program: it may allocate.
import { lineBegin, lineAdd, lineAddU32, linePrint } from "../../lib";
import {
  BLOCK_BYTES, BLOCK_SHIFT, D_INODE_AT, D_KIND_AT, D_NAME_AT, D_NAME_LENGTH_AT, DIRECT_BLOCKS, DIRENT_BYTES,
  DIRENTS_PER_BLOCK, I_BLOCKS_AT, I_DIRECT_AT, I_DOUBLE_AT, I_GENERATION_AT, I_KIND_AT, I_LINKS_AT, I_PARENT_AT,
  I_SINGLE_AT, I_SIZE_AT, INODE_BYTES, INODES_PER_BLOCK, KIND_DIR, KIND_FILE, KIND_FREE, KIND_SYMLINK,
  MAX_FILE_BYTES, POINTERS_PER_BLOCK, ROOT_INODE, SB_VERSION_1, SYMLINK_MAX,
} from "../fs-parts/format";
import { validName } from "../fs-parts/paths";
import {
  FIX_CLEAR_ENTRY, FIX_CLEAR_INODE, FIX_CLEAR_POINTER, FIX_ENTRY_KIND, FIX_LOST, FIX_ORPHAN, FIX_SET_BLOCKS,
  FIX_SET_LINKS, FIX_SET_PARENT, FIX_SET_SIZE, FIX_TRIM, Fixes,
} from "./fixes";
import { layout, readBlock } from "./view";

export const MAX_BLOCKS: u32 = 1 << 20;
const MAX_INODES: u32 = MAX_BLOCKS / 4;
const MAX_REPORTED: i32 = 50;

const block: usize = memory.data(<i32>BLOCK_BYTES, <i32>BLOCK_BYTES);
const inodeBlock: usize = memory.data(<i32>BLOCK_BYTES, <i32>BLOCK_BYTES);
const inode: usize = memory.data(<i32>INODE_BYTES, 8);
const level1: usize = memory.data(<i32>BLOCK_BYTES, <i32>BLOCK_BYTES);
const level2: usize = memory.data(<i32>BLOCK_BYTES, <i32>BLOCK_BYTES);
const dirBlock: usize = memory.data(<i32>BLOCK_BYTES, <i32>BLOCK_BYTES);
const bitmap: usize = memory.data(<i32>(MAX_BLOCKS / 8));
const used: usize = memory.data(<i32>(MAX_BLOCKS / 8));
const kinds: usize = memory.data(<i32>MAX_INODES);
// Per inode, sized for the largest disk but touched (so paid for) only as far as this one's inodes go.
const names: usize = memory.data(<i32>(MAX_INODES * 4), 8);
const parents: usize = memory.data(<i32>(MAX_INODES * 4), 8);
const links: usize = memory.data(<i32>(MAX_INODES * 4), 8);
const queue: usize = memory.data(<i32>(MAX_INODES * 4), 8);

@inline function get(table: usize, i: u32): u32 {
  return load<u32>(table + (<usize>i << 2));
}

@inline function set(table: usize, i: u32, value: u32): void {
  store<u32>(table + (<usize>i << 2), value);
}

export class Scan {
  readonly fixes: Fixes = new Fixes();
  problems: i32 = 0;
  quiet: bool = false;
  files: u32 = 0;
  directories: u32 = 0;
  symlinks: u32 = 0;
  orphans: u32 = 0;
  blocksInUse: u32 = 0;
  private counted: u32 = 0;
  private highestIndex: u64 = 0;

  /** The whole pass: the number of problems (fixes in `fixes`). */
  run(): i32 {
    this.problems = 0;
    this.fixes.clear();
    this.files = 0;
    this.directories = 0;
    this.symlinks = 0;
    this.orphans = 0;
    memory.fill(used, 0, MAX_BLOCKS / 8);
    memory.fill(kinds, 0, MAX_INODES);
    memory.fill(names, 0, <usize>layout.inodeCount << 2);
    this.checkInodes();
    this.checkTree();
    this.blocksInUse = this.checkBitmap();
    return this.problems;
  }

  /** Whether block `b` is one an inode maps (or lies before the data area): what the bitmap should say. */
  shouldBeUsed(b: u32): bool {
    return b < layout.data || isUsed(b);
  }

  // ---- Reporting -----------------------------------------------------------------------------

  private begin(): void {
    this.problems++;
  }

  private end(): void {
    if (!this.quiet && this.problems <= MAX_REPORTED) linePrint();
  }

  private inodeProblem(ino: u32, what: string): void {
    this.begin();
    lineBegin("fsck: inode ");
    lineAddU32(ino);
    lineAdd(": ");
    lineAdd(what);
    this.end();
  }

  private entryProblem(dir: u32, index: u32, what: string): void {
    this.begin();
    lineBegin("fsck: directory inode ");
    lineAddU32(dir);
    lineAdd(", entry ");
    lineAddU32(index);
    lineAdd(": ");
    lineAdd(what);
    this.end();
  }

  // ---- Inodes and their block maps -----------------------------------------------------------

  // Claims block `b` for inode `ino`: in range, and nobody else's. False (and a fix to clear the
  // pointer at `table`/`slot`) when it may not be.
  private claim(ino: u32, b: u32, what: string, table: u32, slot: u32): bool {
    if (b < layout.data || b >= layout.total) {
      this.inodeProblem(ino, what + " points to block " + b.toString() + ", outside the data area");
      this.fixes.add(FIX_CLEAR_POINTER, ino, table, slot);
      return false;
    }
    if (isUsed(b)) {
      this.begin();
      lineBegin("fsck: inode ");
      lineAddU32(ino);
      lineAdd(": block ");
      lineAddU32(b);
      lineAdd(" (");
      lineAdd(what);
      lineAdd(") is already used by another inode");
      this.end();
      this.fixes.add(FIX_CLEAR_POINTER, ino, table, slot);
      return false;
    }
    markUsed(b);
    this.counted++;
    return true;
  }

  private dataBlock(ino: u32, index: u64, b: u32, table: u32, slot: u32): void {
    if (!this.claim(ino, b, "a data block", table, slot)) return;
    if (index + 1 > this.highestIndex) this.highestIndex = index + 1;
  }

  private walkSingle(ino: u32, b: u32, base: u64, table: usize, parentTable: u32, parentSlot: u32): void {
    if (!this.claim(ino, b, "an indirect block", parentTable, parentSlot)) return;
    readBlock(b, table);
    for (let i: u32 = 0; i < POINTERS_PER_BLOCK; i++) {
      const p = load<u32>(table + (<usize>i << 2));
      if (p != 0) this.dataBlock(ino, base + i, p, b, i);
    }
  }

  private checkMap(ino: u32): void {
    this.counted = 0;
    this.highestIndex = 0;
    for (let i: u32 = 0; i < DIRECT_BLOCKS; i++) {
      const p = load<u32>(inode + I_DIRECT_AT + (<usize>i << 2));
      if (p != 0) this.dataBlock(ino, i, p, 0, i);
    }
    const single = load<u32>(inode + I_SINGLE_AT);
    if (single != 0) this.walkSingle(ino, single, DIRECT_BLOCKS, level1, 0, DIRECT_BLOCKS);
    const double = load<u32>(inode + I_DOUBLE_AT);
    if (double != 0 && this.claim(ino, double, "the double indirect block", 0, DIRECT_BLOCKS + 1)) {
      readBlock(double, level2);
      for (let i: u32 = 0; i < POINTERS_PER_BLOCK; i++) {
        const p = load<u32>(level2 + (<usize>i << 2));
        if (p != 0) this.walkSingle(ino, p, <u64>DIRECT_BLOCKS + POINTERS_PER_BLOCK + <u64>i * POINTERS_PER_BLOCK, level1, double, i);
      }
    }
  }

  private checkInodes(): void {
    const v1 = layout.version == SB_VERSION_1;
    for (let ino: u32 = 1; ino < layout.inodeCount; ino++) {
      if (ino == 1 || ino % INODES_PER_BLOCK == 0) readBlock(layout.inodes + ino / INODES_PER_BLOCK, inodeBlock);
      memory.copy(inode, inodeBlock + <usize>((ino % INODES_PER_BLOCK) * INODE_BYTES), INODE_BYTES);
      const kind = load<u32>(inode + I_KIND_AT);
      store<u8>(kinds + ino, <u8>kind);
      set(parents, ino, load<u32>(inode + I_PARENT_AT));
      set(links, ino, load<u32>(inode + I_LINKS_AT));
      if (kind == KIND_FREE) {
        let stray = false;
        for (let at: usize = 0; at < <usize>INODE_BYTES; at += 4) if (at != I_GENERATION_AT && load<u32>(inode + at) != 0) stray = true;
        if (stray) {
          this.inodeProblem(ino, "free, but not cleared");
          this.fixes.add(FIX_CLEAR_INODE, ino);
        }
        continue;
      }
      if (kind != KIND_FILE && kind != KIND_DIR && (kind != KIND_SYMLINK || v1)) {
        this.inodeProblem(ino, "unknown kind " + kind.toString());
        this.fixes.add(FIX_CLEAR_INODE, ino);
        store<u8>(kinds + ino, 0);
        continue;
      }
      const size = load<u64>(inode + I_SIZE_AT);
      this.checkMap(ino);
      const owned = load<u32>(inode + I_BLOCKS_AT);
      const sizeBlocks = (size + BLOCK_BYTES - 1) >> BLOCK_SHIFT;
      if (kind == KIND_SYMLINK) {
        if (size == 0 || size > <u64>SYMLINK_MAX || this.counted != 1 || this.highestIndex != 1) {
          this.inodeProblem(ino, "a symbolic link whose target is not one block of 1 to 4095 bytes (size " + size.toString() + ", " + this.counted.toString() + " blocks)");
          this.fixes.add(FIX_CLEAR_INODE, ino);
          store<u8>(kinds + ino, 0);
          continue;
        }
      }
      if (owned != this.counted) {
        this.inodeProblem(ino, "says it owns " + owned.toString() + " blocks, but maps " + this.counted.toString());
        this.fixes.add(FIX_SET_BLOCKS, ino, 0, 0, this.counted);
      }
      if (size > MAX_FILE_BYTES) {
        this.inodeProblem(ino, "size " + size.toString() + " is past the largest file");
        this.fixes.add(FIX_SET_SIZE, ino, 0, 0, this.highestIndex << BLOCK_SHIFT);
      } else if (this.highestIndex > sizeBlocks) {
        this.inodeProblem(ino, "maps block " + (this.highestIndex - 1).toString() + ", past its size " + size.toString());
        this.fixes.add(FIX_TRIM, ino);
      }
      if (kind == KIND_DIR && (size & (BLOCK_BYTES - 1)) != 0) {
        this.inodeProblem(ino, "a directory whose size " + size.toString() + " is not whole blocks");
        this.fixes.add(FIX_SET_SIZE, ino, 0, 0, size & ~<u64>(BLOCK_BYTES - 1));
      }
      if (kind == KIND_DIR && !v1 && get(links, ino) != 1) {
        this.inodeProblem(ino, "a directory whose link count is " + get(links, ino).toString() + ", not 1");
        this.fixes.add(FIX_SET_LINKS, ino, 0, 0, 1);
      }
    }
    if (load<u8>(kinds + ROOT_INODE) != <u8>KIND_DIR) {
      this.inodeProblem(ROOT_INODE, "the root is not a directory");
      this.fixes.unfixable++;
    } else if (get(parents, ROOT_INODE) != ROOT_INODE) {
      this.inodeProblem(ROOT_INODE, "the root's parent is not itself");
      this.fixes.add(FIX_SET_PARENT, ROOT_INODE, 0, 0, ROOT_INODE);
    }
  }

  // ---- Directories ---------------------------------------------------------------------------

  private checkTree(): void {
    const v1 = layout.version == SB_VERSION_1;
    set(names, ROOT_INODE, 1);
    this.directories = 1;
    set(queue, 0, ROOT_INODE);
    let head: u32 = 0;
    let tail: u32 = 1;
    if (load<u8>(kinds + ROOT_INODE) == <u8>KIND_DIR) {
      while (head < tail) tail = this.checkDirectory(get(queue, head++), tail);
    }
    for (let ino: u32 = 2; ino < layout.inodeCount; ino++) {
      const kind = <u32>load<u8>(kinds + ino);
      if (kind == KIND_FREE) continue;
      const named = get(names, ino);
      const count = get(links, ino);
      if (named == 0 && kind != KIND_DIR && count == 0 && !v1) {
        // Unlinked while a handle held it open, when the machine stopped: the next mount frees it.
        this.orphans++;
        this.fixes.add(FIX_ORPHAN, ino);
        continue;
      }
      if (named == 0) {
        this.inodeProblem(ino, "in use, but no directory names it");
        this.fixes.add(FIX_LOST, ino);
        continue;
      }
      if (kind != KIND_DIR && !v1 && named != count) {
        this.inodeProblem(ino, "has " + named.toString() + (named == 1 ? " name" : " names") + ", but a link count of " + count.toString());
        this.fixes.add(FIX_SET_LINKS, ino, 0, 0, named);
      }
    }
  }

  // The disk block of block `index` of the directory whose inode is in `inode`: 0 for a hole.
  private directoryBlock(index: u32): u32 {
    if (index < DIRECT_BLOCKS) return load<u32>(inode + I_DIRECT_AT + (<usize>index << 2));
    index -= DIRECT_BLOCKS;
    if (index < POINTERS_PER_BLOCK) {
      const single = load<u32>(inode + I_SINGLE_AT);
      if (single == 0 || single >= layout.total) return 0;
      readBlock(single, level1);
      return load<u32>(level1 + (<usize>index << 2));
    }
    index -= POINTERS_PER_BLOCK;
    const double = load<u32>(inode + I_DOUBLE_AT);
    if (double == 0 || double >= layout.total) return 0;
    readBlock(double, level2);
    const single = load<u32>(level2 + (<usize>(index / POINTERS_PER_BLOCK) << 2));
    if (single == 0 || single >= layout.total) return 0;
    readBlock(single, level1);
    return load<u32>(level1 + (<usize>(index % POINTERS_PER_BLOCK) << 2));
  }

  private checkDirectory(dir: u32, tail: u32): u32 {
    // Names seen in this directory so far, and the entry that has each.
    const seenNames = new Map<string, u32>();
    readInode(dir);
    const blocks = <u32>(load<u64>(inode + I_SIZE_AT) >> BLOCK_SHIFT);
    for (let b: u32 = 0; b < blocks; b++) {
      readInode(dir);
      const disk = this.directoryBlock(b);
      if (disk == 0 || disk < layout.data || disk >= layout.total) {
        this.entryProblem(dir, b * DIRENTS_PER_BLOCK, "its block " + b.toString() + " is a hole or out of range");
        this.fixes.add(FIX_SET_SIZE, dir, 0, 0, <u64>b << BLOCK_SHIFT); // what follows is lost (and found again)
        break;
      }
      readBlock(disk, dirBlock);
      for (let e: u32 = 0; e < DIRENTS_PER_BLOCK; e++) {
        const entry = dirBlock + <usize>(e * DIRENT_BYTES);
        const index = b * DIRENTS_PER_BLOCK + e;
        const ino = load<u32>(entry + D_INODE_AT);
        if (ino == 0) continue;
        const length = <u32>load<u16>(entry + D_NAME_LENGTH_AT);
        if (!validName(entry + D_NAME_AT, length)) {
          this.entryProblem(dir, index, "a name the format does not allow (" + length.toString() + " bytes)");
          this.fixes.add(FIX_CLEAR_ENTRY, dir, disk, e);
          continue;
        }
        const name = String.UTF8.decodeUnsafe(entry + D_NAME_AT, length);
        if (seenNames.has(name)) {
          this.entryProblem(dir, index, "the same name as entry " + seenNames.get(name).toString());
          this.fixes.add(FIX_CLEAR_ENTRY, dir, disk, e);
          if (ino < layout.inodeCount && load<u8>(kinds + ino) == <u8>KIND_DIR && get(names, ino) != 0) {
            this.entryProblem(dir, index, "inode " + ino.toString() + " has a name elsewhere already");
          }
          continue;
        }
        seenNames.set(name, index);
        if (ino >= layout.inodeCount || ino == ROOT_INODE) {
          this.entryProblem(dir, index, "names inode " + ino.toString() + ", which no entry may name");
          this.fixes.add(FIX_CLEAR_ENTRY, dir, disk, e);
          continue;
        }
        const kind = <u32>load<u8>(kinds + ino);
        if (kind == KIND_FREE) {
          this.entryProblem(dir, index, "names inode " + ino.toString() + ", which is free");
          this.fixes.add(FIX_CLEAR_ENTRY, dir, disk, e);
          continue;
        }
        if (<u32>load<u8>(entry + D_KIND_AT) != kind) {
          this.entryProblem(dir, index, "its kind differs from inode " + ino.toString() + "'s");
          this.fixes.add(FIX_ENTRY_KIND, dir, disk, e, kind);
        }
        if (kind == KIND_DIR) {
          if (get(names, ino) != 0) {
            this.entryProblem(dir, index, "inode " + ino.toString() + " has a name elsewhere already");
            this.fixes.add(FIX_CLEAR_ENTRY, dir, disk, e);
            continue;
          }
          if (get(parents, ino) != dir) {
            this.entryProblem(dir, index, "inode " + ino.toString() + " names another parent (" + get(parents, ino).toString() + ")");
            this.fixes.add(FIX_SET_PARENT, ino, 0, 0, dir);
          }
          this.directories++;
          set(queue, tail++, ino);
        } else if (get(names, ino) == 0) {
          if (kind == KIND_SYMLINK) this.symlinks++;
          else this.files++;
        }
        set(names, ino, get(names, ino) + 1);
      }
    }
    return tail;
  }

  // ---- The bitmap ----------------------------------------------------------------------------

  private checkBitmap(): u32 {
    for (let b: u32 = 0; b < layout.bitmapBlocks; b++) readBlock(layout.bitmap + b, bitmap + (<usize>b << BLOCK_SHIFT));
    let inUse: u32 = 0;
    for (let b: u32 = 0; b < layout.total; b++) {
      const should = this.shouldBeUsed(b);
      const says = bitmapSays(b);
      if (says) inUse++;
      if (should == says) continue;
      this.begin();
      lineBegin("fsck: block ");
      lineAddU32(b);
      lineAdd(should ? ": in use, but free in the bitmap" : ": marked in use, but nothing refers to it");
      this.end();
      this.fixes.bitmap = true;
    }
    // Bits past the end of the disk must be clear.
    const bits = layout.bitmapBlocks * BLOCK_BYTES * 8;
    for (let b = layout.total; b < bits; b++) {
      if (bitmapSays(b)) {
        this.begin();
        lineBegin("fsck: the bitmap marks block ");
        lineAddU32(b);
        lineAdd(", past the end of the disk");
        this.end();
        this.fixes.bitmap = true;
        break;
      }
    }
    return inUse;
  }
}

function readInode(ino: u32): void {
  readBlock(layout.inodes + ino / INODES_PER_BLOCK, inodeBlock);
  memory.copy(inode, inodeBlock + <usize>((ino % INODES_PER_BLOCK) * INODE_BYTES), INODE_BYTES);
}

function isUsed(b: u32): bool {
  return (load<u8>(used + (b >> 3)) & (<u32>1 << (b & 7))) != 0;
}

function markUsed(b: u32): void {
  store<u8>(used + (b >> 3), load<u8>(used + (b >> 3)) | <u8>(<u32>1 << (b & 7)));
}

function bitmapSays(b: u32): bool {
  return (load<u8>(bitmap + (b >> 3)) & (<u32>1 << (b & 7))) != 0;
}
