// Walking a path from a handle's directory (docs/FS.md "Paths"). Components are separated by '/';
// empty ones and "." are skipped (a leading '/' means the handle's directory too: it is the root
// of everything its holder can name); ".." goes back one step of the way walked — physically,
// through the directories a symbolic link led to — and at the handle's own directory is
// FS_E_ESCAPE: a capability to a directory reaches nothing above it.
//
// Symbolic links are followed in every component but the last, and in the last when asked (or when
// a '/' follows it: "link/" names what it points to). A relative target goes on from the link's
// directory; an absolute one from the file system's root, which only a walk that started there may
// reach (from any other directory it is FS_E_ESCAPE, as a ".." above it is). More than
// MAX_SYMLINKS links in one walk is FS_E_LOOP; a path that grows past FS_PATH_MAX is FS_E_NAME.
import {
  FS_E_ESCAPE, FS_E_LOOP, FS_E_NAME, FS_E_NOT_DIR, FS_E_NOT_FOUND, FS_NAME_MAX, FS_PATH_MAX,
} from "../../lib/fs-protocol";
import { I_KIND_AT, KIND_DIR, KIND_SYMLINK, ROOT_INODE, SYMLINK_MAX } from "./format";
import { Directories } from "./directory";
import { Volume } from "./volume";

const MAX_DEPTH: i32 = 256;
/** Links one walk follows at most (Linux's MAXSYMLINKS). */
export const MAX_SYMLINKS: i32 = 40;
const SLASH: u8 = 0x2f;
const DOT: u8 = 0x2e;
const ROOM: i32 = FS_PATH_MAX + <i32>SYMLINK_MAX + 8;
/** Two buffers: the path being walked, and the one a link's target and the rest are put together in. */
const buffers: usize = memory.data(2 * ROOM, 8);
const linkText: usize = memory.data(<i32>SYMLINK_MAX + 8, 8);

export class Walk {
  /** The directory the last component is in (its inode number), and that component. */
  parent: u32 = 0;
  name: usize = 0;
  nameLength: u32 = 0;
  /** The inode the whole path names (0: the last component does not exist). */
  target: u32 = 0;
  targetKind: u32 = 0;
  /** The cached directory entry of the last component, when it exists and hasName. */
  entry: usize = 0;
  /** Whether the path ends in a name (false: it names the start, or ends in "." or ".."). */
  hasName: bool = false;
  /** Whether a '/' follows the last name: it must be (or be made as) a directory. */
  trailingSlash: bool = false;
  /** Links followed. */
  links: i32 = 0;
  /**
   * Whether the last component was a symbolic link that was followed (asked to, or for a '/'
   * after it): an operation on the name itself (remove, rename, a new name) must not act on what
   * it led to.
   */
  lastWasLink: bool = false;
  private readonly stack: StaticArray<u32> = new StaticArray<u32>(MAX_DEPTH);
  private depth: i32 = 0;
  private current: i32 = 0;

  constructor(readonly volume: Volume, readonly dirs: Directories) {}

  /**
   * Walks `length` bytes at `path` from directory `start`, following a symbolic link in the last
   * component when `followLast`: 0 (the fields say what was found; a missing last component is
   * not an error, so create can use the walk), or a status.
   */
  walk(start: u32, path: usize, length: u32, followLast: bool): i32 {
    if (length > <u32>FS_PATH_MAX) return FS_E_NAME;
    this.current = 0;
    let text = buffers;
    memory.copy(text, path, length);
    unchecked((this.stack[0] = start));
    this.depth = 0;
    this.parent = start;
    this.target = start;
    this.targetKind = KIND_DIR;
    this.entry = 0;
    this.hasName = false;
    this.trailingSlash = false;
    this.name = 0;
    this.nameLength = 0;
    this.links = 0;
    this.lastWasLink = false;
    let i: u32 = 0;
    while (i < length) {
      while (i < length && load<u8>(text + i) == SLASH) i++;
      if (i >= length) break;
      let end = i;
      while (end < length && load<u8>(text + end) != SLASH) end++;
      const name = text + i;
      const n = end - i;
      let after = end;
      while (after < length && load<u8>(text + after) == SLASH) after++;
      const last = after == length;
      i = end;
      if (this.target == 0) return FS_E_NOT_FOUND; // a component after one that is missing
      if (this.targetKind != KIND_DIR) return FS_E_NOT_DIR;
      this.trailingSlash = last && end < length;
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
        this.entry = 0;
        continue;
      }
      const child = this.dirs.found.inode;
      const childKind = this.dirs.found.kind;
      if (childKind == KIND_SYMLINK && (!last || followLast || this.trailingSlash)) {
        // Go on with the link's target and what follows it, from the link's directory.
        if (last) this.lastWasLink = true;
        const status = this.follow(child, text + end, length - end);
        if (status < 0) return status;
        text = buffers + <usize>(this.current * ROOM);
        length = <u32>status;
        i = 0;
        this.hasName = false;
        this.targetKind = KIND_DIR; // this.target is still the link's directory (or the root)
        continue;
      }
      if (this.depth + 1 >= MAX_DEPTH) return FS_E_NAME;
      this.entry = this.dirs.found.entry;
      this.depth++;
      this.target = child;
      this.targetKind = childKind;
      unchecked((this.stack[this.depth] = child));
    }
    if (this.trailingSlash && this.target != 0 && this.targetKind != KIND_DIR) return FS_E_NOT_DIR;
    return 0;
  }

  /**
   * Puts link `link`'s target and the `restLength` bytes at `rest` together in the other buffer,
   * which becomes the current one: the new length, or a status. An absolute target starts again
   * from the root, when the walk started there.
   */
  private follow(link: u32, rest: usize, restLength: u32): i32 {
    if (++this.links > MAX_SYMLINKS) return FS_E_LOOP;
    const at = this.volume.inode(link);
    if (at == 0) return this.volume.status;
    const n = this.volume.readLink(at, linkText);
    if (n < 0) return n;
    if (<u32>n + restLength > <u32>FS_PATH_MAX) return FS_E_NAME;
    if (n > 0 && load<u8>(linkText) == SLASH) {
      if (unchecked(this.stack[0]) != ROOT_INODE) return FS_E_ESCAPE;
      this.depth = 0;
      this.target = ROOT_INODE;
    }
    this.current ^= 1;
    const into = buffers + <usize>(this.current * ROOM);
    memory.copy(into, linkText, <usize>n);
    memory.copy(into + <usize>n, rest, restLength);
    return n + <i32>restLength;
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
