// Walking a path from a handle's directory. Components are separated by '/'; empty ones and "."
// are skipped (a leading '/' means the handle's directory too: it is the root of everything its
// holder can name); ".." goes back one step of the way walked, and at the handle's own directory
// is FS_E_ESCAPE: a capability to a directory reaches nothing above it.
import {
  FS_E_ESCAPE, FS_E_NAME, FS_E_NOT_DIR, FS_E_NOT_FOUND, FS_NAME_MAX,
} from "../../lib/fs-protocol";
import { I_KIND_AT, KIND_DIR } from "./format";
import { Directories } from "./directory";
import { Volume } from "./volume";

const MAX_DEPTH: i32 = 256;
const SLASH: u8 = 0x2f;
const DOT: u8 = 0x2e;

export class Walk {
  /** The directory the last component is in (its inode number), and that component. */
  parent: u32 = 0;
  name: usize = 0;
  nameLength: u32 = 0;
  /** The inode the whole path names (0: the last component does not exist). */
  target: u32 = 0;
  targetKind: u32 = 0;
  /** Whether the path ends in a name (false: it names the start, or ends in "." or ".."). */
  hasName: bool = false;
  private readonly stack: StaticArray<u32> = new StaticArray<u32>(MAX_DEPTH);
  private depth: i32 = 0;

  constructor(readonly volume: Volume, readonly dirs: Directories) {}

  /**
   * Walks `length` bytes at `path` from directory `start`: 0 (the fields say what was found; a
   * missing last component is not an error, so create can use the walk), or a status.
   */
  walk(start: u32, path: usize, length: u32): i32 {
    unchecked((this.stack[0] = start));
    this.depth = 0;
    this.parent = start;
    this.target = start;
    this.targetKind = KIND_DIR;
    this.hasName = false;
    this.name = 0;
    this.nameLength = 0;
    let i: u32 = 0;
    while (i < length) {
      while (i < length && load<u8>(path + i) == SLASH) i++;
      if (i >= length) break;
      let end = i;
      while (end < length && load<u8>(path + end) != SLASH) end++;
      const name = path + i;
      const n = end - i;
      i = end;
      if (this.target == 0) return FS_E_NOT_FOUND; // a component after one that is missing
      if (this.targetKind != KIND_DIR) return FS_E_NOT_DIR;
      if (n == 1 && load<u8>(name) == DOT) {
        this.hasName = false;
        continue;
      }
      if (n == 2 && load<u8>(name) == DOT && load<u8>(name + 1) == DOT) {
        if (this.depth == 0) return FS_E_ESCAPE;
        this.depth--;
        this.target = unchecked(this.stack[this.depth]);
        this.targetKind = KIND_DIR;
        this.parent = this.depth > 0 ? unchecked(this.stack[this.depth - 1]) : this.target;
        this.hasName = false;
        continue;
      }
      if (n > <u32>FS_NAME_MAX || hasZero(name, n)) return FS_E_NAME;
      const dir = this.volume.inode(this.target);
      if (dir == 0) return this.volume.status;
      if (load<u32>(dir + I_KIND_AT) != KIND_DIR) return FS_E_NOT_DIR;
      const found = this.dirs.lookup(dir, name, n);
      if (found < 0) return found;
      this.parent = this.target;
      this.name = name;
      this.nameLength = n;
      this.hasName = true;
      if (found == 0) {
        this.target = 0;
        this.targetKind = 0;
        continue;
      }
      if (this.depth + 1 >= MAX_DEPTH) return FS_E_NAME;
      this.depth++;
      this.target = this.dirs.found.inode;
      this.targetKind = this.dirs.found.kind;
      unchecked((this.stack[this.depth] = this.target));
    }
    return 0;
  }
}

/** Whether a name is one the format allows: 1 to 255 bytes, no '/', no zero, not "." or "..". */
export function validName(name: usize, length: u32): bool {
  if (length == 0 || length > <u32>FS_NAME_MAX) return false;
  if (length == 1 && load<u8>(name) == DOT) return false;
  if (length == 2 && load<u8>(name) == DOT && load<u8>(name + 1) == DOT) return false;
  for (let i: u32 = 0; i < length; i++) {
    const c = load<u8>(name + i);
    if (c == 0 || c == SLASH) return false;
  }
  return true;
}

function hasZero(name: usize, length: u32): bool {
  for (let i: u32 = 0; i < length; i++) if (load<u8>(name + i) == 0) return true;
  return false;
}
