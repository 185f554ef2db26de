// fsck --repair: makes the fixes a scan found (fixes.ts) through the file system server's own
// volume — its cache and journal — so every repair is a journaled transaction and a crash in the
// middle leaves a disk that mounts (and that another --repair goes on mending). Fixes that change
// no allocation go first; then the bitmap is written again from what the scan found mapped (a
// superset of what is mapped after those fixes, so nothing in use is ever handed out); then what
// allocates: names in /lost+found for inodes no directory names. The caller scans again and
// repeats until nothing is left to mend.
import { FS_E_IO } from "../../lib/fs-protocol";
import { Directories } from "../fs-parts/directory";
import {
  BLOCK_BYTES, D_KIND_AT, DIRENT_BYTES, I_BLOCKS_AT, I_DIRECT_AT, I_DOUBLE_AT, I_GENERATION_AT, I_KIND_AT,
  I_LINKS_AT, I_PARENT_AT, I_SINGLE_AT, I_SIZE_AT, INODE_BYTES, KIND_DIR, ROOT_INODE, DIRECT_BLOCKS,
} from "../fs-parts/format";
import { Volume } from "../fs-parts/volume";
import {
  FIX_CLEAR_ENTRY, FIX_CLEAR_INODE, FIX_CLEAR_POINTER, FIX_ENTRY_KIND, FIX_LOST, FIX_ORPHAN, FIX_SET_BLOCKS,
  FIX_SET_LINKS, FIX_SET_PARENT, FIX_SET_SIZE, FIX_TRIM, Fix,
} from "./fixes";
import { Scan } from "./scan";

const LOST_AND_FOUND = "lost+found";

export class Repair {
  readonly dirs: Directories;
  /** Fixes made in all. */
  made: i32 = 0;
  private lostAndFound: u32 = 0;

  constructor(readonly volume: Volume) {
    this.dirs = new Directories(volume);
  }

  /** Makes the fixes of `scan`: 0, or a status (the disk failed). */
  run(scan: Scan): i32 {
    const list = scan.fixes.list;
    for (let i = 0; i < list.length; i++) {
      const fix = list[i];
      if (fix.kind == FIX_LOST) continue;
      const status = this.step();
      if (status < 0) return status;
      const made = this.apply(fix);
      if (made < 0) return made;
    }
    let status = this.commit();
    if (status < 0) return status;
    if (scan.fixes.bitmap) {
      status = this.rewriteBitmap(scan);
      if (status < 0) return status;
    }
    for (let i = 0; i < list.length; i++) {
      if (list[i].kind != FIX_LOST) continue;
      status = this.step();
      if (status >= 0) status = this.giveName(list[i].ino);
      if (status < 0) return status;
    }
    return this.commit();
  }

  // Starts one fix: a commit first when the journal is filling.
  private step(): i32 {
    this.volume.cache.beginOperation();
    if (this.volume.cache.dirtyCount + 96 + <i32>this.volume.layout.bitmapBlocks < this.volume.journal.capacity) return 0;
    return this.commit();
  }

  private commit(): i32 {
    const status = this.volume.journal.commit();
    if (status < 0) return status;
    return this.volume.bitmap.snapshot(false) < 0 ? FS_E_IO : 0;
  }

  private apply(fix: Fix): i32 {
    const v = this.volume;
    if (fix.kind == FIX_CLEAR_ENTRY || fix.kind == FIX_ENTRY_KIND) {
      const block = v.cache.get(fix.table);
      if (block == 0) return FS_E_IO;
      const entry = block + <usize>(fix.slot * DIRENT_BYTES);
      if (fix.kind == FIX_CLEAR_ENTRY) memory.fill(entry, 0, DIRENT_BYTES);
      else store<u8>(entry + D_KIND_AT, <u8>fix.value);
      v.touch(entry);
      this.made++;
      return 0;
    }
    if (fix.kind == FIX_ORPHAN) {
      this.made++;
      return v.freeInode(fix.ino);
    }
    const at = v.inode(fix.ino);
    if (at == 0) return v.status;
    if (fix.kind == FIX_CLEAR_POINTER) {
      let pointer: usize;
      if (fix.table != 0) {
        const table = v.cache.get(fix.table);
        if (table == 0) return FS_E_IO;
        pointer = table + (<usize>fix.slot << 2);
      } else if (fix.slot < DIRECT_BLOCKS) pointer = at + I_DIRECT_AT + (<usize>fix.slot << 2);
      else pointer = at + (fix.slot == DIRECT_BLOCKS ? I_SINGLE_AT : I_DOUBLE_AT);
      store<u32>(pointer, 0); // the block is another's, or none: it is not freed
      v.touch(pointer);
    } else if (fix.kind == FIX_SET_BLOCKS) store<u32>(at + I_BLOCKS_AT, <u32>fix.value);
    else if (fix.kind == FIX_TRIM) v.trimPastEnd(at);
    else if (fix.kind == FIX_SET_SIZE) store<u64>(at + I_SIZE_AT, fix.value);
    else if (fix.kind == FIX_SET_PARENT) store<u32>(at + I_PARENT_AT, <u32>fix.value);
    else if (fix.kind == FIX_SET_LINKS) store<u32>(at + I_LINKS_AT, <u32>fix.value);
    else if (fix.kind == FIX_CLEAR_INODE) {
      // Its blocks are not freed here: the bitmap is written again from what is mapped.
      const generation = load<u32>(at + I_GENERATION_AT) + 1;
      memory.fill(at, 0, INODE_BYTES);
      store<u32>(at + I_GENERATION_AT, generation);
    }
    v.touch(at);
    this.made++;
    return 0;
  }

  // The bitmap as the scan found the blocks: those before the data area and those an inode maps.
  private rewriteBitmap(scan: Scan): i32 {
    const layout = this.volume.layout;
    const bits = BLOCK_BYTES * 8;
    for (let b: u32 = 0; b < layout.bitmapBlocks; b++) {
      this.volume.cache.beginOperation();
      const at = this.volume.cache.get(layout.bitmap + b);
      if (at == 0) return FS_E_IO;
      memory.fill(at, 0, BLOCK_BYTES);
      for (let i: u32 = 0; i < bits; i++) {
        const block = b * bits + i;
        if (block < layout.total && scan.shouldBeUsed(block)) store<u8>(at + (i >> 3), load<u8>(at + (i >> 3)) | <u8>(<u32>1 << (i & 7)));
      }
      this.volume.touch(at);
    }
    this.made++;
    const status = this.commit();
    if (status < 0) return status;
    return this.volume.bitmap.snapshot(true) < 0 ? FS_E_IO : 0;
  }

  // Names inode `ino` "#INO" in /lost+found (made if need be), as e2fsck does.
  private giveName(ino: u32): i32 {
    const v = this.volume;
    const lost = this.findLostAndFound();
    if (lost < 0) return lost;
    const at = v.inode(ino);
    if (at == 0) return v.status;
    const kind = load<u32>(at + I_KIND_AT);
    const name = String.UTF8.encode("#" + ino.toString());
    const dir = v.inode(<u32>lost);
    if (dir == 0) return v.status;
    const status = this.dirs.add(dir, changetype<usize>(name), <u32>name.byteLength, ino, kind);
    if (status < 0) return status;
    const again = v.inode(ino);
    if (again == 0) return v.status;
    if (kind == KIND_DIR) store<u32>(again + I_PARENT_AT, <u32>lost);
    store<u32>(again + I_LINKS_AT, 1);
    v.changed(again);
    this.made++;
    return 0;
  }

  private findLostAndFound(): i32 {
    if (this.lostAndFound != 0) return <i32>this.lostAndFound;
    const v = this.volume;
    const root = v.inode(ROOT_INODE);
    if (root == 0) return v.status;
    const name = String.UTF8.encode(LOST_AND_FOUND);
    const found = this.dirs.lookup(root, changetype<usize>(name), <u32>name.byteLength);
    if (found < 0) return found;
    if (found == 1 && this.dirs.found.kind == KIND_DIR) {
      this.lostAndFound = this.dirs.found.inode;
      return <i32>this.lostAndFound;
    }
    if (found == 1) return FS_E_IO; // a lost+found that is no directory: leave it to the user
    const ino = v.allocateInode(KIND_DIR, ROOT_INODE);
    if (ino == 0) return v.status;
    const status = this.dirs.add(v.inode(ROOT_INODE), changetype<usize>(name), <u32>name.byteLength, ino, KIND_DIR);
    if (status < 0) return status;
    this.lostAndFound = ino;
    return <i32>ino;
  }
}
