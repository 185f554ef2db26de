// The operations of the protocol (docs/FS.md "Protocol"). `handle` is the one entry: it copies
// the request, finds the handle its badge names, checks the rights in one place (`fsRightsNeeded`, the protocol's table),
// runs the operation and builds the reply. Operations never commit halfway: the server commits
// between operations (and between the 1 MiB pieces of a big write), so every transaction holds
// whole operations.
import { STREAM_READ, STREAM_WRITE, STREAM_CHUNK } from "../../lib/streams";
import {
  E_BAD_MESSAGE, E_INVALID_ARGUMENT, E_MISSING_RIGHT, RIGHT_RECEIVER_CALL, Receiver,
} from "../../lib";
import {
  FS_INFO, FS_OPEN, FS_MKDIR, FS_UNLINK, FS_RENAME, FS_READ, FS_WRITE, FS_APPEND, FS_TRUNCATE, FS_STAT, FS_READDIR,
  FS_CLOSE, FS_SYNC, FS_RIGHT_WRITE, FS_RIGHTS_ALL, FS_OPEN_CREATE, FS_OPEN_EXCLUSIVE,
  FS_OPEN_TRUNCATE, FS_OPEN_DIRECTORY, FS_E_EXISTS, FS_E_IS_DIR, FS_E_NAME, FS_E_NOT_DIR, FS_E_NOT_EMPTY,
  FS_E_IO, FS_E_NOT_FOUND, FS_E_STALE, FS_E_TABLE_FULL, FS_INLINE_BYTES, FS_PATH_MAX, FS_DIRENT_HEADER, fsLabel,
  fsRightsNeeded, fsRightsAllow,
} from "../../lib/fs-protocol";
import {
  BLOCK_BYTES, D_INODE_AT, D_KIND_AT, D_NAME_AT, D_NAME_LENGTH_AT, I_BLOCKS_AT, I_CREATED_AT, I_GENERATION_AT,
  I_KIND_AT, I_MODIFIED_AT, I_PARENT_AT, I_SIZE_AT, KIND_DIR, KIND_FILE, ROOT_INODE,
} from "./format";
import { Directories } from "./directory";
import { Handles, MAX_HANDLES } from "./handles";
import { Walk, validName } from "./paths";
import { Request, RegionArg, Reply } from "./request";
import { Volume } from "./volume";

/** A write is done in pieces of this much, with a commit between them when the journal is getting full. */
const WRITE_PIECE: u32 = 1 << 20;
/** Commit before an operation when fewer dirty blocks than this are left before the journal is full. */
const JOURNAL_RESERVE: i32 = 96;
/** ... or when fewer cache slots than this could take a new block. */
const CACHE_RESERVE: i32 = 400;

const paths: usize = memory.data(FS_PATH_MAX + 8);
const inline: usize = memory.data(<i32>FS_INLINE_BYTES + 8);
const streamBytes: usize = memory.data(<i32>STREAM_CHUNK + 8);

export class Operations {
  readonly request: Request = new Request();
  readonly reply: Reply = new Reply();
  readonly region: RegionArg = new RegionArg();
  readonly dirs: Directories;
  readonly walk: Walk;
  readonly handles: Handles = new Handles();
  /** The entry opened by the operation just handled (-1: none), closed again if its reply fails. */
  opened: i32 = -1;
  operations: u64 = 0;
  private index: i32 = -1;
  private ino: u32 = 0;
  private at: usize = 0;

  constructor(readonly volume: Volume, readonly receiver: Receiver) {
    const dirs = new Directories(volume);
    this.dirs = dirs;
    this.walk = new Walk(volume, dirs);
  }

  /** Handles the request in the message buffer and leaves the reply there: its label. */
  handle(): u32 {
    this.request.capture();
    this.reply.reset();
    this.opened = -1;
    this.operations++;
    for (let i = 0; i < this.request.capCount; i++) this.reply.addCap(unchecked(this.request.caps[i]));
    this.volume.cache.beginOperation();
    let status = this.maybeCommit();
    if (status >= 0) status = this.dispatch();
    // The cache must never hold more than a transaction can: commit now if it is close.
    const after = this.maybeCommit();
    if (status >= 0 && after < 0) status = after;
    this.reply.build(status >= 0);
    return fsLabel(status);
  }

  /** Commits when the journal or the cache is nearly full: 0 or a status. */
  maybeCommit(): i32 {
    const cache = this.volume.cache;
    if (cache.dirtyCount == 0) return 0;
    const reserve = JOURNAL_RESERVE + <i32>this.volume.layout.bitmapBlocks;
    if (cache.dirtyCount + reserve < this.volume.journal.capacity && cache.evictable > CACHE_RESERVE) return 0;
    return this.commit();
  }

  commit(): i32 {
    const status = this.volume.journal.commit();
    if (status < 0) return status;
    return this.volume.bitmap.snapshot(false) < 0 ? FS_E_IO : 0;
  }

  /** A handle for the root directory, pinned (CLOSE leaves it open): its badge, or -1 if the table is full. */
  openRoot(rights: u32): i32 {
    const root = this.volume.inode(ROOT_INODE);
    if (root == 0) return -1;
    const index = this.handles.open(ROOT_INODE, load<u32>(root + I_GENERATION_AT), KIND_DIR, rights);
    if (index < 0) return -1;
    this.handles.pin(index);
    return <i32>this.handles.badge(index);
  }

  private dispatch(): i32 {
    const r = this.request;
    if (r.capCount > 1) return E_BAD_MESSAGE; // no operation takes more than one; the reply could not carry them and a new handle
    if (r.label == FS_INFO) return this.info();
    if (r.badge == 0) return E_MISSING_RIGHT; // the service capability names no file or directory
    const index = this.handles.lookup(r.badge);
    if (index < 0) return FS_E_STALE;
    const ino = this.handles.inode(index);
    const at = this.volume.inode(ino);
    if (at == 0) return this.volume.status;
    if (load<u32>(at + I_GENERATION_AT) != this.handles.inodeGeneration(index) || load<u32>(at + I_KIND_AT) != this.handles.kind(index)) {
      return FS_E_STALE; // removed since it was opened
    }
    const need = fsRightsNeeded(r.label, this.handles.kind(index) == KIND_DIR, r.word(0));
    if (need < 0) return need;
    if (!fsRightsAllow(this.handles.rights(index), <u32>need)) return E_MISSING_RIGHT;
    this.index = index;
    this.ino = ino;
    this.at = at;
    switch (r.label) {
      case FS_OPEN: return this.open();
      case FS_MKDIR: return this.mkdir();
      case FS_UNLINK: return this.unlink();
      case FS_RENAME: return this.rename();
      case FS_READ: return this.read();
      case FS_WRITE: return this.write(false);
      case FS_APPEND: return this.write(true);
      case FS_TRUNCATE: return this.volume.truncate(at, r.word64(0));
      case FS_STAT: return this.stat();
      case FS_READDIR: return this.readdir();
      case FS_CLOSE: return this.handles.close(index) ? 0 : E_INVALID_ARGUMENT; // a published root stays open
      case FS_SYNC: return this.commit();
      case STREAM_READ: return this.streamRead();
      case STREAM_WRITE: return this.streamWrite();
    }
    return E_INVALID_ARGUMENT;
  }


  private info(): i32 {
    const v = this.volume;
    const rep = this.reply;
    rep.add(BLOCK_BYTES);
    rep.add(v.layout.total);
    rep.add(v.bitmap.free);
    rep.add(v.layout.inodeCount);
    rep.add(v.freeInodes);
    rep.add(<u32>this.handles.used);
    rep.add(<u32>MAX_HANDLES);
    rep.add(this.handles.reclaimed);
    return 0;
  }

  // ---- Paths ---------------------------------------------------------------------------------

  /**
   * Copies the request's `count` paths into `paths`: their lengths are words `first` ...; the
   * bytes follow in words, or lie at the start of the Region a request brought. Total bytes, or a status.
   */
  private readPaths(first: i32, count: i32): i32 {
    const r = this.request;
    let total: u32 = 0;
    for (let i = 0; i < count; i++) total += r.word(first + i);
    if (r.wordCount < first + count || total > <u32>FS_PATH_MAX) return E_INVALID_ARGUMENT;
    if (r.capCount > 0) {
      const status = this.region.inspect(unchecked(r.caps[0]));
      if (status < 0) return status;
      if (!this.region.holds(0, total)) return E_INVALID_ARGUMENT;
      memory.copy(paths, this.region.address, total);
    } else {
      const words = first + count;
      if (<u32>(r.wordCount - words) * 4 < total) return E_BAD_MESSAGE;
      memory.copy(paths, r.wordsAddress(words), total);
    }
    return <i32>total;
  }

  // ---- Directory operations ------------------------------------------------------------------

  private open(): i32 {
    const flags = this.request.word(0);
    const length = this.readPaths(1, 1);
    if (length < 0) return length;
    const w = this.walk;
    let status = w.walk(this.ino, paths, <u32>length);
    if (status < 0) return status;
    const wantDir = (flags & FS_OPEN_DIRECTORY) != 0;
    let target = w.target;
    if (target == 0) {
      if ((flags & FS_OPEN_CREATE) == 0) return FS_E_NOT_FOUND;
      status = this.create(wantDir ? KIND_DIR : KIND_FILE);
      if (status < 0) return status;
      target = <u32>status;
    } else {
      if ((flags & FS_OPEN_CREATE) != 0 && (flags & FS_OPEN_EXCLUSIVE) != 0) return FS_E_EXISTS;
      if (wantDir && w.targetKind != KIND_DIR) return FS_E_NOT_DIR;
    }
    const at = this.volume.inode(target);
    if (at == 0) return this.volume.status;
    const kind = load<u32>(at + I_KIND_AT);
    if ((flags & FS_OPEN_TRUNCATE) != 0) {
      if (kind == KIND_DIR) return FS_E_IS_DIR;
      status = this.volume.truncate(at, 0);
      if (status < 0) return status;
    }
    const index = this.handles.open(target, load<u32>(at + I_GENERATION_AT), kind, flags & FS_RIGHTS_ALL);
    if (index < 0) return FS_E_TABLE_FULL;
    const cap = this.receiver.mint(this.handles.badge(index), RIGHT_RECEIVER_CALL);
    if (cap < 0) {
      this.handles.close(index);
      return cap;
    }
    this.opened = index;
    this.reply.addCap(cap);
    this.reply.add(kind);
    this.reply.add64(load<u64>(at + I_SIZE_AT));
    this.reply.add(target);
    return 0;
  }

  // Creates the walk's missing last name as a new inode of `kind`: its number, or a status.
  private create(kind: u32): i32 {
    const w = this.walk;
    if (!validName(w.name, w.nameLength)) return FS_E_NAME;
    const parent = this.volume.inode(w.parent);
    if (parent == 0) return this.volume.status;
    const ino = this.volume.allocateInode(kind, w.parent);
    if (ino == 0) return this.volume.status;
    const status = this.dirs.add(this.volume.inode(w.parent), w.name, w.nameLength, ino, kind);
    if (status < 0) {
      this.volume.freeInode(ino);
      return status;
    }
    return <i32>ino;
  }

  private mkdir(): i32 {
    const length = this.readPaths(0, 1);
    if (length < 0) return length;
    const w = this.walk;
    const status = w.walk(this.ino, paths, <u32>length);
    if (status < 0) return status;
    if (w.target != 0) return FS_E_EXISTS;
    const made = this.create(KIND_DIR);
    return made < 0 ? made : 0;
  }

  private unlink(): i32 {
    const length = this.readPaths(0, 1);
    if (length < 0) return length;
    const w = this.walk;
    let status = w.walk(this.ino, paths, <u32>length);
    if (status < 0) return status;
    if (w.target == 0) return FS_E_NOT_FOUND;
    if (!w.hasName) return E_INVALID_ARGUMENT; // the directory this capability names, or one on the way to it
    const entry = this.dirs.found.entry;
    const target = w.target;
    const at = this.volume.inode(target);
    if (at == 0) return this.volume.status;
    if (load<u32>(at + I_KIND_AT) == KIND_DIR) {
      const empty = this.dirs.isEmpty(at);
      if (empty < 0) return empty;
      if (empty == 0) return FS_E_NOT_EMPTY;
    }
    const parent = this.volume.inode(w.parent);
    if (parent == 0) return this.volume.status;
    this.dirs.remove(parent, entry);
    return this.volume.freeInode(target);
  }

  private rename(): i32 {
    const total = this.readPaths(0, 2);
    if (total < 0) return total;
    const fromLength = this.request.word(0);
    const toLength = this.request.word(1);
    const w = this.walk;
    let status = w.walk(this.ino, paths, fromLength);
    if (status < 0) return status;
    if (w.target == 0) return FS_E_NOT_FOUND;
    if (!w.hasName) return E_INVALID_ARGUMENT;
    const fromParent = w.parent;
    const fromEntry = this.dirs.found.entry;
    const moved = w.target;
    const movedKind = w.targetKind;
    status = w.walk(this.ino, paths + fromLength, toLength);
    if (status < 0) return status;
    if (!w.hasName) return FS_E_EXISTS;
    if (!validName(w.name, w.nameLength)) return FS_E_NAME;
    if (w.target == moved) return 0;
    const toParent = w.parent;
    if (movedKind == KIND_DIR) {
      // A directory cannot move into itself or below it.
      status = this.isBelow(toParent, moved);
      if (status < 0) return status;
      if (status == 1) return E_INVALID_ARGUMENT;
    }
    const toDir = this.volume.inode(toParent);
    if (toDir == 0) return this.volume.status;
    if (w.target != 0) {
      if (w.targetKind == KIND_DIR) return FS_E_EXISTS;
      if (movedKind == KIND_DIR) return FS_E_NOT_DIR;
      const replaced = w.target;
      this.dirs.remove(toDir, this.dirs.found.entry);
      status = this.volume.freeInode(replaced);
      if (status < 0) return status;
    }
    status = this.dirs.add(toDir, w.name, w.nameLength, moved, movedKind);
    if (status < 0) return status;
    const fromDir = this.volume.inode(fromParent);
    if (fromDir == 0) return this.volume.status;
    this.dirs.remove(fromDir, fromEntry);
    const at = this.volume.inode(moved);
    if (at == 0) return this.volume.status;
    store<u32>(at + I_PARENT_AT, toParent);
    this.volume.touch(at);
    return 0;
  }

  // 1 when directory `dir` is `ancestor` or lies below it, 0 if not, or a status.
  private isBelow(dir: u32, ancestor: u32): i32 {
    for (let steps = 0; steps < 1 << 16; steps++) {
      if (dir == ancestor) return 1;
      if (dir == ROOT_INODE) return 0;
      const at = this.volume.inode(dir);
      if (at == 0) return this.volume.status;
      dir = load<u32>(at + I_PARENT_AT);
    }
    return FS_E_IO; // a loop of parents: the disk is damaged
  }

  private readdir(): i32 {
    const r = this.request;
    if (r.wordCount < 3 || r.capCount < 1) return E_BAD_MESSAGE;
    const cookie = r.word(0);
    const offset = r.word(1);
    const length = r.word(2);
    const status = this.region.inspect(unchecked(r.caps[0]));
    if (status < 0) return status;
    if (!this.region.owner) return E_MISSING_RIGHT;
    if (!this.region.holds(offset, length)) return E_INVALID_ARGUMENT;
    let to = this.region.address + offset;
    const end = to + length;
    const count = this.dirs.capacity(this.at);
    let entries: u32 = 0;
    let index = cookie;
    for (; index < count; index++) {
      const entry = this.dirs.entryAt(this.at, index);
      if (entry == 0) return this.volume.status;
      const ino = load<u32>(entry + D_INODE_AT);
      if (ino == 0) continue;
      const nameLength = <u32>load<u16>(entry + D_NAME_LENGTH_AT);
      const size = (FS_DIRENT_HEADER + nameLength + 3) & ~3;
      if (to + size > end) break;
      memory.fill(to, 0, size);
      store<u32>(to, ino);
      store<u8>(to + 4, load<u8>(entry + D_KIND_AT));
      store<u8>(to + 5, <u8>nameLength);
      memory.copy(to + FS_DIRENT_HEADER, entry + D_NAME_AT, nameLength);
      to += size;
      entries++;
    }
    if (entries == 0 && index < count) return E_INVALID_ARGUMENT; // not even one entry fits
    this.reply.add(entries);
    this.reply.add(index);
    this.reply.add(<u32>(to - this.region.address - offset));
    return 0;
  }

  // ---- File operations -----------------------------------------------------------------------

  private stat(): i32 {
    const at = this.at;
    const rep = this.reply;
    rep.add(load<u32>(at + I_KIND_AT));
    rep.add64(load<u64>(at + I_SIZE_AT));
    rep.add64(load<u64>(at + I_CREATED_AT));
    rep.add64(load<u64>(at + I_MODIFIED_AT));
    rep.add(this.ino);
    rep.add(this.handles.rights(this.index));
    rep.add(load<u32>(at + I_BLOCKS_AT));
    return 0;
  }

  private read(): i32 {
    const r = this.request;
    if (r.wordCount < 3) return E_BAD_MESSAGE;
    const offset = r.word64(0);
    const length = r.word(2);
    if (r.capCount == 0) {
      if (length > FS_INLINE_BYTES) return E_INVALID_ARGUMENT;
      const n = this.volume.read(this.at, offset, length, inline);
      if (n < 0) return n;
      this.reply.add(<u32>n);
      memory.copy(this.reply.wordsAddress(1), inline, <usize>n);
      this.reply.use((n + 3) >> 2);
      return 0;
    }
    const regionOffset = r.word(3);
    const status = this.region.inspect(unchecked(r.caps[0]));
    if (status < 0) return status;
    if (!this.region.owner) return E_MISSING_RIGHT; // a view cannot be written into
    if (!this.region.holds(regionOffset, length)) return E_INVALID_ARGUMENT;
    const n = this.volume.read(this.at, offset, length, this.region.address + regionOffset);
    if (n < 0) return n;
    this.reply.add(<u32>n);
    return 0;
  }

  // ---- The stream protocol (user/lib/streams.ts): a file as standard input or output ----------

  /** READ: up to `max` (1 to 252) bytes from the handle's position, which moves past them. */
  private streamRead(): i32 {
    const r = this.request;
    const max = r.word(0);
    if (r.wordCount < 1 || max == 0 || max > STREAM_CHUNK) return E_INVALID_ARGUMENT;
    const position = this.handles.position(this.index);
    const n = this.volume.read(this.at, position, max, streamBytes);
    if (n < 0) return n;
    this.reply.add(<u32>n);
    memory.copy(this.reply.wordsAddress(1), streamBytes, <usize>n);
    this.reply.use((<u32>n + 3) >> 2);
    this.handles.setPosition(this.index, position + <u64>n);
    return 0;
  }

  /**
   * WRITE: the bytes at the handle's position, or at the end when the handle may only append
   * (`>>`); the position moves past them.
   */
  private streamWrite(): i32 {
    const r = this.request;
    const length = r.word(0) & 0xffff; // the high bits are hints (STREAM_TO_ERRORS) a file ignores
    if (r.wordCount < 1 || length > STREAM_CHUNK || <u32>(r.wordCount - 1) * 4 < length) return E_BAD_MESSAGE;
    const appendOnly = (this.handles.rights(this.index) & FS_RIGHT_WRITE) == 0;
    const offset = appendOnly ? load<u64>(this.at + I_SIZE_AT) : this.handles.position(this.index);
    const n = length == 0 ? 0 : this.volume.write(this.at, offset, length, r.wordsAddress(1));
    if (n < 0) return n;
    this.handles.setPosition(this.index, offset + <u64>n);
    this.reply.add(<u32>n);
    return 0;
  }

  private write(append: bool): i32 {
    const r = this.request;
    if (r.wordCount < 3) return E_BAD_MESSAGE;
    let offset = append ? load<u64>(this.at + I_SIZE_AT) : r.word64(0);
    const length = r.word(2);
    let from: usize;
    if (r.capCount == 0) {
      if (length > FS_INLINE_BYTES || <u32>(r.wordCount - 3) * 4 < length) return E_BAD_MESSAGE;
      from = r.wordsAddress(3);
    } else {
      const regionOffset = r.word(3);
      const status = this.region.inspect(unchecked(r.caps[0]));
      if (status < 0) return status;
      if (!this.region.holds(regionOffset, length)) return E_INVALID_ARGUMENT;
      from = this.region.address + regionOffset;
    }
    let done: u32 = 0;
    while (done < length) {
      const piece = min(length - done, WRITE_PIECE);
      const n = this.volume.write(this.at, offset + done, piece, from + done);
      if (n < 0) {
        if (done == 0) return n;
        break;
      }
      done += <u32>n;
      if (<u32>n < piece) break;
      if (done < length) {
        // Between pieces the file is whole: a commit here holds whole pieces.
        const status = this.maybeCommit();
        if (status < 0) return status;
        this.volume.cache.beginOperation();
        this.at = this.volume.inode(this.ino);
        if (this.at == 0) return this.volume.status;
      }
    }
    this.reply.add(done);
    if (append) this.reply.add64(load<u64>(this.at + I_SIZE_AT));
    return 0;
  }
}
