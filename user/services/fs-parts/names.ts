// The operations on names (docs/FS.md "Protocol"): OPEN (and creating), MKDIR, UNLINK and
// REMOVE, RENAME, LINK, SYMLINK. Each runs inside one operation, so its changes commit together:
// a RENAME that replaces a name, or a LINK, is one journaled transaction, and after a crash each
// name is as it was or as it became.
import { E_INVALID_ARGUMENT, E_MISSING_RIGHT, RIGHT_RECEIVER_CALL } from "../../lib";
import {
  FS_RIGHTS_ALL, FS_OPEN_CREATE, FS_OPEN_EXCLUSIVE, FS_OPEN_TRUNCATE,
  FS_OPEN_DIRECTORY, FS_OPEN_NOFOLLOW, FS_OPEN_DIRECT, FS_OPEN_SESSION, FS_LINK_FOLLOW, FS_REMOVE_DIR, FS_REMOVE_FILE, FS_E_EXISTS, FS_E_IS_DIR,
  FS_E_LINKS, FS_E_LOOP, FS_E_NAME, FS_E_NOT_DIR, FS_E_NOT_EMPTY, FS_E_NOT_FOUND, FS_E_TABLE_FULL, FS_E_IO,
  FS_SYMLINK_MAX, FS_PATH_MAX,
} from "../../lib/fs-protocol";
import {
  D_INODE_AT, D_KIND_AT, I_GENERATION_AT, I_KIND_AT, I_LINKS_AT, I_PARENT_AT, I_SIZE_AT, KIND_DIR, KIND_FILE,
  KIND_SYMLINK, LINKS_MAX, ROOT_INODE,
} from "./format";
import { Context, paths } from "./context";
import { validName } from "./paths";

/** "swap", little-endian: the one name the swap door opens. */
const SWAP_NAME: u32 = 0x70617773;

export class Names {
  constructor(readonly c: Context) {}

  open(): i32 {
    const c = this.c;
    let flags = c.request.word(0);
    const length = c.readPaths(1, 1);
    if (length < 0) return length;
    const door = c.index == c.handles.swapDoor;
    if (door) {
      // The swap door (the pager's) opens the file /swap itself and nothing else: no other name, no
      // directory, never through a symbolic link (a link planted as /swap would lead anywhere).
      if (length != 4 || load<u32>(paths) != SWAP_NAME || (flags & FS_OPEN_DIRECTORY) != 0) return E_MISSING_RIGHT;
      flags |= FS_OPEN_NOFOLLOW;
    }
    const w = c.walk;
    const exclusive = (flags & FS_OPEN_CREATE) != 0 && (flags & FS_OPEN_EXCLUSIVE) != 0;
    // O_EXCL: a symbolic link there is a name that exists, whatever it points to.
    const follow = (flags & FS_OPEN_NOFOLLOW) == 0 && !exclusive;
    let status = w.walk(c.ino, paths, <u32>length, follow);
    if (status < 0) return status;
    const wantDir = (flags & FS_OPEN_DIRECTORY) != 0;
    let target = w.target;
    if (target == 0) {
      if ((flags & FS_OPEN_CREATE) == 0) return FS_E_NOT_FOUND;
      if (w.trailingSlash && !wantDir) return FS_E_IS_DIR; // "name/" names a directory
      status = this.create(wantDir ? KIND_DIR : KIND_FILE);
      if (status < 0) return status;
      target = <u32>status;
    } else {
      if (exclusive) return FS_E_EXISTS;
      if (wantDir && w.targetKind != KIND_DIR) return FS_E_NOT_DIR;
    }
    const at = c.volume.inode(target);
    if (at == 0) return c.volume.status;
    const kind = load<u32>(at + I_KIND_AT);
    if (door && kind != KIND_FILE) return E_MISSING_RIGHT;
    if (kind == KIND_SYMLINK && (flags & FS_OPEN_TRUNCATE) != 0) return FS_E_LOOP; // (its writes are FS_E_LOOP too)
    if ((flags & FS_OPEN_TRUNCATE) != 0) {
      if (kind == KIND_DIR) return FS_E_IS_DIR;
      status = c.volume.truncate(at, 0);
      if (status < 0) return status;
    }
    // Only a handle of session 0 (the published roots') starts a session: through a session's handle,
    // SESSION opens a handle in that session. A program holds its shell's session (docs/FS.md
    // "Sessions"): were its SESSIONs sessions beside the others, 500 of one entry each, kept
    // fresh, would leave a new session no share at all (redteam7).
    const parent = c.handles.session(c.index);
    const starts = (flags & FS_OPEN_SESSION) != 0 && parent == 0;
    const session = starts ? c.handles.newSession() : parent;
    const index = c.handles.open(target, load<u32>(at + I_GENERATION_AT), kind, flags & FS_RIGHTS_ALL, (flags & FS_OPEN_DIRECT) != 0, session);
    const back = c.handles.released;
    if (back != 0) c.release(back, index); // a handle taken back from a full table may have held an orphan
    if (index < 0) return FS_E_TABLE_FULL;
    if (starts) c.handles.markSessionStart(index);
    const cap = c.receiver.mint(c.handles.badge(index), RIGHT_RECEIVER_CALL);
    if (cap < 0) {
      c.handles.close(index);
      return cap;
    }
    c.opened = index;
    const now = c.volume.inode(target); // release() may have read other inode blocks
    c.reply.addCap(cap);
    c.reply.add(kind);
    c.reply.add64(load<u64>(now + I_SIZE_AT));
    c.reply.add(target);
    return 0;
  }

  /**
   * What a path under this directory names, walked as OPEN with no rights and no flags but
   * `follow`'s would (`FS_OPEN_NOFOLLOW` when false): its inode number, or a status. STAT_AT and
   * READLINK_AT answer for it in one call where a lookup was an OPEN, a STAT (or a READ) and a CLOSE.
   */
  lookUp(pathWord: i32, follow: bool): i32 {
    const c = this.c;
    const length = c.readPaths(pathWord, 1);
    if (length < 0) return length;
    const w = c.walk;
    const status = w.walk(c.ino, paths, <u32>length, follow);
    if (status < 0) return status;
    return w.target == 0 ? FS_E_NOT_FOUND : <i32>w.target;
  }

  // Creates the walk's missing last name as a new inode of `kind`: its number, or a status.
  private create(kind: u32): i32 {
    const c = this.c;
    const w = c.walk;
    if (!validName(w.name, w.nameLength)) return FS_E_NAME;
    const parent = c.volume.inode(w.parent);
    if (parent == 0) return c.volume.status;
    const ino = c.volume.allocateInode(kind, w.parent);
    if (ino == 0) return c.volume.status;
    const status = c.dirs.add(c.volume.inode(w.parent), w.name, w.nameLength, ino, kind);
    if (status < 0) {
      c.volume.freeInode(ino);
      return status;
    }
    return <i32>ino;
  }

  mkdir(): i32 {
    const c = this.c;
    const length = c.readPaths(0, 1);
    if (length < 0) return length;
    const w = c.walk;
    const status = w.walk(c.ino, paths, <u32>length, false);
    if (status < 0) return status;
    if (w.target != 0 || w.lastWasLink || !w.hasName) return FS_E_EXISTS;
    const made = this.create(KIND_DIR);
    return made < 0 ? made : 0;
  }

  /** UNLINK (`flags` 0: a file, a link, or an empty directory) and REMOVE (FS_REMOVE_DIR, FS_REMOVE_FILE). */
  remove(flags: u32, first: i32): i32 {
    const c = this.c;
    const length = c.readPaths(first, 1);
    if (length < 0) return length;
    const w = c.walk;
    const status = w.walk(c.ino, paths, <u32>length, false);
    if (status < 0) return status;
    if (w.lastWasLink) return FS_E_NOT_DIR; // "link/": never what it leads to
    if (w.target == 0) return FS_E_NOT_FOUND;
    if (!w.hasName) return E_INVALID_ARGUMENT; // the directory this capability names, or one on the way to it
    const target = w.target;
    const isDir = w.targetKind == KIND_DIR;
    if ((flags & FS_REMOVE_DIR) != 0 && !isDir) return FS_E_NOT_DIR;
    if ((flags & FS_REMOVE_FILE) != 0 && isDir) return FS_E_IS_DIR;
    const entry = w.entry;
    if (isDir) {
      const at = c.volume.inode(target);
      if (at == 0) return c.volume.status;
      const empty = c.dirs.isEmpty(at);
      if (empty < 0) return empty;
      if (empty == 0) return FS_E_NOT_EMPTY;
    }
    const parent = c.volume.inode(w.parent);
    if (parent == 0) return c.volume.status;
    c.dirs.remove(parent, entry);
    return c.dropLink(target);
  }

  rename(): i32 {
    const c = this.c;
    const total = c.readPaths(0, 2);
    if (total < 0) return total;
    const fromLength = c.request.word(0);
    const toLength = c.request.word(1);
    const destination = c.destination();
    if (destination < 0) return destination;
    const w = c.walk;
    let status = w.walk(c.ino, paths, fromLength, false);
    if (status < 0) return status;
    if (w.lastWasLink) return FS_E_NOT_DIR;
    if (w.target == 0) return FS_E_NOT_FOUND;
    if (!w.hasName) return E_INVALID_ARGUMENT;
    const fromParent = w.parent;
    const fromEntry = w.entry;
    const moved = w.target;
    const movedKind = w.targetKind;
    status = w.walk(<u32>destination, paths + fromLength, toLength, false);
    if (status < 0) return status;
    if (w.lastWasLink) return FS_E_NOT_DIR;
    if (!w.hasName) return E_INVALID_ARGUMENT; // onto "." or "..", or the destination itself
    if (!validName(w.name, w.nameLength)) return FS_E_NAME;
    if (w.trailingSlash && movedKind != KIND_DIR) return FS_E_NOT_DIR;
    if (w.target == moved) return 0; // the same inode: nothing to do (POSIX), also for two links of one file
    const toParent = w.parent;
    if (movedKind == KIND_DIR) {
      // A directory cannot move into itself or below it.
      status = this.isBelow(toParent, moved);
      if (status < 0) return status;
      if (status == 1) return E_INVALID_ARGUMENT;
    }
    const replaced = w.target;
    if (replaced != 0) {
      if (w.targetKind == KIND_DIR) {
        if (movedKind != KIND_DIR) return FS_E_IS_DIR;
        const at = c.volume.inode(replaced);
        if (at == 0) return c.volume.status;
        const empty = c.dirs.isEmpty(at);
        if (empty < 0) return empty;
        if (empty == 0) return FS_E_NOT_EMPTY;
      } else if (movedKind == KIND_DIR) return FS_E_NOT_DIR;
    }
    const toDir = c.volume.inode(toParent);
    if (toDir == 0) return c.volume.status;
    if (replaced != 0) {
      // The name stays; it names the moved inode now.
      store<u32>(w.entry + D_INODE_AT, moved);
      store<u8>(w.entry + D_KIND_AT, <u8>movedKind);
      c.volume.touch(w.entry);
      c.volume.modified(toDir);
    } else {
      status = c.dirs.add(toDir, w.name, w.nameLength, moved, movedKind);
      if (status < 0) return status;
    }
    const fromDir = c.volume.inode(fromParent);
    if (fromDir == 0) return c.volume.status;
    c.dirs.remove(fromDir, fromEntry);
    const at = c.volume.inode(moved);
    if (at == 0) return c.volume.status;
    if (movedKind == KIND_DIR) store<u32>(at + I_PARENT_AT, toParent);
    c.volume.changed(at);
    return replaced != 0 ? c.dropLink(replaced) : 0;
  }

  link(): i32 {
    const c = this.c;
    const flags = c.request.word(0);
    const total = c.readPaths(1, 2);
    if (total < 0) return total;
    const fromLength = c.request.word(1);
    const toLength = c.request.word(2);
    const destination = c.destination();
    if (destination < 0) return destination;
    const w = c.walk;
    let status = w.walk(c.ino, paths, fromLength, (flags & FS_LINK_FOLLOW) != 0);
    if (status < 0) return status;
    if (w.target == 0) return FS_E_NOT_FOUND;
    if (w.targetKind == KIND_DIR) return FS_E_IS_DIR; // no hard links to directories
    const source = w.target;
    status = w.walk(<u32>destination, paths + fromLength, toLength, false);
    if (status < 0) return status;
    if (w.target != 0 || w.lastWasLink || !w.hasName) return FS_E_EXISTS;
    if (w.trailingSlash) return FS_E_NOT_FOUND; // "name/" would be a directory
    if (!validName(w.name, w.nameLength)) return FS_E_NAME;
    const at = c.volume.inode(source);
    if (at == 0) return c.volume.status;
    const links = load<u32>(at + I_LINKS_AT);
    if (links >= LINKS_MAX) return FS_E_LINKS;
    const kind = load<u32>(at + I_KIND_AT);
    const toDir = c.volume.inode(w.parent);
    if (toDir == 0) return c.volume.status;
    status = c.dirs.add(toDir, w.name, w.nameLength, source, kind);
    if (status < 0) return status;
    const again = c.volume.inode(source);
    if (again == 0) return c.volume.status;
    store<u32>(again + I_LINKS_AT, links + 1);
    c.volume.changed(again);
    return 0;
  }

  symlink(): i32 {
    const c = this.c;
    const pathLength = c.request.word(1);
    if (pathLength > <u32>FS_PATH_MAX) return E_INVALID_ARGUMENT;
    const total = c.readPaths(0, 2, <u32>FS_PATH_MAX + FS_SYMLINK_MAX + 1);
    if (total < 0) return total;
    const targetLength = c.request.word(0);
    if (targetLength == 0) return FS_E_NOT_FOUND;
    if (targetLength > FS_SYMLINK_MAX) return FS_E_NAME;
    for (let i: u32 = 0; i < targetLength; i++) if (load<u8>(paths + i) == 0) return FS_E_NAME;
    const w = c.walk;
    let status = w.walk(c.ino, paths + targetLength, pathLength, false);
    if (status < 0) return status;
    if (w.target != 0 || w.lastWasLink || !w.hasName) return FS_E_EXISTS;
    if (w.trailingSlash) return FS_E_NOT_FOUND;
    if (!validName(w.name, w.nameLength)) return FS_E_NAME;
    const ino = c.volume.allocateInode(KIND_SYMLINK, 0);
    if (ino == 0) return c.volume.status;
    const at = c.volume.inode(ino);
    status = at == 0 ? c.volume.status : c.volume.writeLink(at, paths, targetLength);
    if (status >= 0) {
      const parent = c.volume.inode(w.parent);
      status = parent == 0 ? c.volume.status : c.dirs.add(parent, w.name, w.nameLength, ino, KIND_SYMLINK);
    }
    if (status < 0) c.volume.freeInode(ino);
    return status;
  }

  // 1 when directory `dir` is `ancestor` or lies below it, 0 if not, or a status.
  private isBelow(dir: u32, ancestor: u32): i32 {
    for (let steps = 0; steps < 1 << 16; steps++) {
      if (dir == ancestor) return 1;
      if (dir == ROOT_INODE) return 0;
      const at = this.c.volume.inode(dir);
      if (at == 0) return this.c.volume.status;
      dir = load<u32>(at + I_PARENT_AT);
    }
    return FS_E_IO; // a loop of parents: the disk is damaged
  }
}
