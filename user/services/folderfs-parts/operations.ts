// The host folder server's operations: the file system server's protocol (docs/FS.md
// "Protocol"), read and written, on a host folder through its device (docs/HOSTFS.md "Host
// folders"). `handle` is the one entry: it copies the request, finds the handle its badge names,
// checks the rights in one place (`rightsNeeded`: the protocol's table), runs the operation and
// builds the reply. Paths are worked out from the
// handle's as the host share server does (hostfs-parts/paths.ts: `..` never above the handle);
// a file's bytes go through the device by the id of the host file it opened.
import { STREAM_READ, STREAM_WRITE, STREAM_INFO, STREAM_KIND_FILE, STREAM_CHUNK } from "../../lib/streams";
import { E_BAD_MESSAGE, E_INVALID_ARGUMENT, E_MISSING_RIGHT, RIGHT_RECEIVER_CALL, REGION_ZERO_ON_FREE, Memory, Receiver, Region, capDrop } from "../../lib";
import {
  FS_INFO, FS_OPEN, FS_MKDIR, FS_UNLINK, FS_RENAME, FS_READ, FS_WRITE, FS_APPEND, FS_TRUNCATE, FS_STAT, FS_READDIR, FS_CLOSE,
  FS_SYNC, FS_RIGHT_READ, FS_RIGHT_WRITE, FS_RIGHT_APPEND, FS_RIGHTS_ALL, FS_OPEN_CREATE, FS_OPEN_EXCLUSIVE, FS_OPEN_TRUNCATE,
  FS_OPEN_DIRECTORY, FS_KIND_FILE, FS_KIND_DIR, FS_E_IO, FS_E_NOT_DIR, FS_E_STALE, FS_E_TABLE_FULL, FS_INLINE_BYTES, FS_PATH_MAX,
  FS_DIRENT_HEADER, FS_STAT_AT, FS_STAT_AT_FOLLOW, FS_READLINK_AT, FS_E_TOO_BIG, FS_ATTACH, FS_ATTACH_READ_PAGES,
  FS_ATTACH_READ_PAGES_MAX, fsLabel, fsRightsNeeded, fsRightsAllow,
} from "../../lib/fs-protocol";
import { Request, RegionArg, Reply } from "../fs-parts/request";
import { joinPath } from "../hostfs-parts/paths";
import { ShareQueue, STAT_AT, DATA_AT } from "../hostfs-parts/share";
import { FolderHandles, MAX_HANDLES } from "./handles";
import {
  OP_STAT, OP_LIST, OP_OPEN, OP_MKDIR, OP_REMOVE, OP_RENAME, OP_LINK, OP_SYMLINK, OP_READLINK, OP_SET_TIMES, OP_READ, OP_WRITE,
  OP_APPEND, OP_TRUNCATE, OP_FILE_STAT, OP_FILE_SET_TIMES, OP_SYNC, OP_CLOSE, OPEN_CREATE, OPEN_EXCLUSIVE, OPEN_TRUNCATE,
  OPEN_WRITE, OPEN_NO_FOLLOW, FOLDER_FILE, FOLDER_DIRECTORY, FOLDER_SYMLINK, STAT_BYTES, FS_LINK, FS_SYMLINK, FS_SET_TIMES,
  FS_REMOVE, FS_OPEN_NOFOLLOW, FS_LINK_FOLLOW, FS_REMOVE_DIR, FS_REMOVE_FILE, FS_RIGHT_TIMES, FOLDER_RIGHTS_ALL, FS_KIND_SYMLINK,
  FS_E_LOOP, folderStatus,
} from "./device";

const BLOCK_BYTES: u32 = 4096;
/** Data one device request moves at most (the window's data area). */
export const FOLDER_DATA_BYTES: u32 = 1 << 20;
/** Where a second path (RENAME's, LINK's new name) or a link's target goes in the window. */
const SECOND_AT: u32 = DATA_AT;
const TIMES_BYTES: u32 = 20;
/**
 * Attached handles open at once at most (ATTACH answers FS_E_TABLE_FULL past it, and the client
 * uses plain handles): each holds a read buffer and the view of a client's buffer.
 */
export const FOLDER_ATTACH_MAX: i32 = 16;
/** A request's paths, copied out of the words or the Region they came in. */
const requestPaths: usize = memory.data(FS_PATH_MAX + 8);

export class FolderOperations {
  readonly request: Request = new Request();
  readonly reply: Reply = new Reply();
  readonly region: RegionArg = new RegionArg();
  readonly handles: FolderHandles = new FolderHandles();
  /** The entry opened by the operation just handled (-1: none), closed again if its reply fails. */
  opened: i32 = -1;
  private index: i32 = -1;

  /**
   * `readBuffers` pays for the attached handles' read buffers: a Memory of its own under the
   * server's, so that read buffers a client keeps viewing after CLOSE (whose freed ranges its
   * Memory pays for when the client cannot) use up its quota only, and ATTACH answers E_QUOTA
   * then; the rest of the server never runs short for them.
   */
  constructor(readonly device: ShareQueue, readonly receiver: Receiver, readonly readOnly: bool, readonly readBuffers: Memory) {}

  /** Handles the request in the message buffer and leaves the reply there: its label. */
  handle(): u32 {
    this.request.capture();
    this.reply.reset();
    this.opened = -1;
    for (let i = 0; i < this.request.capCount; i++) this.reply.addCap(unchecked(this.request.caps[i]));
    const status = this.dispatch();
    this.reply.build(status >= 0);
    return fsLabel(status);
  }

  /** A pinned handle on the folder's root: its badge, or a status. */
  openRoot(): i32 {
    const status = folderStatus(this.device.run(OP_STAT, 0, STAT_AT, STAT_BYTES, 1));
    if (status < 0) return status;
    if (load<u32>(this.device.statResult) != FOLDER_DIRECTORY) return FS_E_NOT_DIR;
    const rights = this.readOnly ? FS_RIGHT_READ : FOLDER_RIGHTS_ALL;
    const index = this.handles.open(this.device.path, 0, FS_KIND_DIR, rights, 0);
    if (index < 0) return FS_E_TABLE_FULL;
    this.handles.pin(index);
    return <i32>this.handles.badge(index);
  }

  /** Closes an entry and the host file it holds. */
  closeEntry(index: i32): bool {
    if (!this.handles.close(index)) return false;
    const file = this.handles.closedFile; // 0 while an attached handle made from it (or its origin) is open
    if (file != 0) this.device.run(OP_CLOSE, 0, 0, 0, 0, file);
    return true;
  }

  private dispatch(): i32 {
    const r = this.request;
    if (r.capCount > 1) return E_BAD_MESSAGE;
    if (r.label == FS_INFO) return this.info();
    if (r.badge == 0) return E_MISSING_RIGHT; // the service capability names nothing
    const index = this.handles.lookup(r.badge);
    if (index < 0) return FS_E_STALE;
    const kind = this.handles.kind(index);
    const need = rightsNeeded(r.label, kind, r.word(0));
    if (need < 0) return need;
    if (!rightsAllow(this.handles.rights(index), <u32>need)) return E_MISSING_RIGHT;
    this.index = index;
    if (kind == FS_KIND_SYMLINK) return this.onLink(r.label);
    switch (r.label) {
      case FS_OPEN: return this.open();
      case FS_MKDIR: return this.onPath(OP_MKDIR, 0);
      case FS_UNLINK: return this.remove(0);
      case FS_RENAME: return this.twoPaths(OP_RENAME);
      case FS_READ: return this.read();
      case FS_WRITE: return this.write(false);
      case FS_APPEND: return this.write(true);
      case FS_TRUNCATE: return this.truncate(r.word64(0));
      case FS_STAT: return this.stat();
      case FS_READDIR: return this.readdir();
      case FS_CLOSE: return this.closeEntry(index) ? 0 : E_INVALID_ARGUMENT; // a published root stays open
      case FS_SYNC: return kind == FS_KIND_DIR ? 0 : this.onFile(OP_SYNC, 0);
      case STREAM_READ: return this.streamRead();
      case STREAM_WRITE: return this.streamWrite();
      case STREAM_INFO: return this.streamInfo();
      case FS_LINK: return this.link();
      case FS_SYMLINK: return this.symlink();
      case FS_SET_TIMES: return this.setTimes();
      case FS_REMOVE: return this.remove(r.word(0), 1);
      case FS_STAT_AT: return this.statAt();
      case FS_READLINK_AT: return this.readlinkAt();
      case FS_ATTACH: return this.attach();
    }
    return E_INVALID_ARGUMENT;
  }

  /** A symbolic link opened itself (NOFOLLOW): STAT, READ (its contents), SET_TIMES, CLOSE; anything else FS_E_LOOP. */
  private onLink(label: u32): i32 {
    switch (label) {
      case FS_STAT: {
        const status = folderStatus(this.device.run(OP_STAT, this.ownPath(), STAT_AT, STAT_BYTES, 0));
        return status == FS_E_NOT_FOUND_STATUS ? FS_E_STALE : status < 0 ? status : this.statReply(this.handles.rights(this.index));
      }
      case FS_READ: return this.readLink();
      case FS_SET_TIMES: return this.setTimes();
      case FS_CLOSE: return this.closeEntry(this.index) ? 0 : E_INVALID_ARGUMENT;
      case FS_SYNC: return 0;
    }
    return FS_E_LOOP;
  }

  private info(): i32 {
    const rep = this.reply;
    rep.add(BLOCK_BYTES);
    rep.add(0); // blocks, free blocks, inodes, free inodes: the host's, not ours to tell
    rep.add(0);
    rep.add(0);
    rep.add(0);
    rep.add(<u32>this.handles.used);
    rep.add(<u32>MAX_HANDLES);
    rep.add(this.handles.reclaimed);
    return 0;
  }

  // ---- Paths ---------------------------------------------------------------------------------

  /** Copies the request's paths (`count` lengths from word `first`, bytes after them or in a Region) to requestPaths: their total, or a status. */
  private readPaths(first: i32, count: i32): i32 {
    const r = this.request;
    if (r.wordCount < first + count) return E_BAD_MESSAGE;
    // Summed in 64 bits: in 32, lengths that add up past 2^32 to a few bytes passed, and the
    // callers, which take each length as it is (RENAME's first path, SYMLINK's target), read and
    // copied far past the bytes sent, out of the server's memory (redteam13: one call ended it).
    let sum: u64 = 0;
    for (let i = 0; i < count; i++) sum += <u64>r.word(first + i);
    if (sum > <u64>FS_PATH_MAX) return E_INVALID_ARGUMENT;
    const total = <u32>sum;
    if (r.capCount > 0) {
      const status = this.region.inspect(unchecked(r.caps[0]));
      if (status < 0) return status;
      if (!this.region.holds(0, total)) return E_INVALID_ARGUMENT;
      memory.copy(requestPaths, this.region.address, total);
    } else {
      const words = first + count;
      if (<u32>(r.wordCount - words) * 4 < total) return E_BAD_MESSAGE;
      memory.copy(requestPaths, r.wordsAddress(words), total);
    }
    return <i32>total;
  }

  /** The handle's path joined with `length` bytes at `path`, into `out` (the device's path area or its second): the length, or a status. */
  private join(out: usize, path: usize, length: u32): i32 {
    return joinPath(out, this.handles.path(this.index), this.handles.pathLength(this.index), path, length);
  }

  /** The handle's own path in the device's path area: its length. */
  private ownPath(): u32 {
    const length = this.handles.pathLength(this.index);
    memory.copy(this.device.path, this.handles.path(this.index), length);
    return length;
  }

  /** A device request on the request's one path (length at word `first`), `flags` in the position word. */
  private onPath(op: u32, flags: u32, first: i32 = 0): i32 {
    const length = this.readPaths(first, 1);
    if (length < 0) return length;
    const joined = this.join(this.device.path, requestPaths, <u32>length);
    if (joined < 0) return joined;
    return folderStatus(this.device.run(op, <u32>joined, STAT_AT, STAT_BYTES, flags));
  }

  /** A device request on this handle's host file (`position` its offset or size). */
  private onFile(op: u32, position: u64): i32 {
    const file = this.handles.file(this.index);
    if (file == 0) return this.handles.kind(this.index) == FS_KIND_DIR ? FS_E_IS_DIR_STATUS : FS_E_IO;
    return folderStatus(this.device.run(op, 0, STAT_AT, STAT_BYTES, position, file));
  }

  // ---- Directory operations ------------------------------------------------------------------

  private open(): i32 {
    const flags = this.request.word(0);
    const length = this.readPaths(1, 1);
    if (length < 0) return length;
    const joined = this.join(this.device.path, requestPaths, <u32>length);
    if (joined < 0) return joined;
    const wantDir = (flags & FS_OPEN_DIRECTORY) != 0;
    if (wantDir && (flags & FS_OPEN_CREATE) != 0) {
      // CREATE with DIRECTORY makes one (as the file system server does).
      const made = folderStatus(this.device.run(OP_MKDIR, <u32>joined, STAT_AT, STAT_BYTES, 0));
      if (made < 0 && !(made == FS_E_EXISTS_STATUS && (flags & FS_OPEN_EXCLUSIVE) == 0)) return made;
    }
    let deviceFlags: u32 = 0;
    if (!wantDir && (flags & FS_OPEN_CREATE) != 0) deviceFlags |= OPEN_CREATE;
    if ((flags & FS_OPEN_EXCLUSIVE) != 0 && !wantDir) deviceFlags |= OPEN_EXCLUSIVE;
    if ((flags & FS_OPEN_TRUNCATE) != 0) deviceFlags |= OPEN_TRUNCATE;
    if (!wantDir && (flags & (FS_RIGHT_WRITE | FS_RIGHT_APPEND)) != 0) deviceFlags |= OPEN_WRITE;
    if ((flags & FS_OPEN_NOFOLLOW) != 0) deviceFlags |= OPEN_NO_FOLLOW;
    const status = folderStatus(this.device.run(OP_OPEN, <u32>joined, STAT_AT, STAT_BYTES, deviceFlags));
    if (status < 0) return status;
    const file = this.device.extra;
    const at = this.device.statResult;
    const deviceKind = load<u32>(at);
    const kind = deviceKind == FOLDER_DIRECTORY ? FS_KIND_DIR : deviceKind == FOLDER_SYMLINK ? FS_KIND_SYMLINK : FS_KIND_FILE;
    if (deviceKind != FOLDER_DIRECTORY && deviceKind != FOLDER_FILE && deviceKind != FOLDER_SYMLINK) return this.dropFile(file, FS_E_IO);
    if (wantDir && kind != FS_KIND_DIR) return this.dropFile(file, FS_E_NOT_DIR);
    const inode = kind == FS_KIND_FILE ? load<u64>(at, 40) : 0;
    const opened = this.handles.open(this.device.path, <u32>joined, kind, flags & FOLDER_RIGHTS_ALL, file, inode);
    if (this.handles.orphanedFile != 0) this.device.run(OP_CLOSE, 0, 0, 0, 0, this.handles.orphanedFile);
    if (opened < 0) return this.dropFile(file, FS_E_TABLE_FULL);
    // Cut to length 0: whoever read ahead of the file asks again.
    if ((flags & FS_OPEN_TRUNCATE) != 0 && kind == FS_KIND_FILE) this.handles.changed(opened);
    const cap = this.receiver.mint(this.handles.badge(opened), RIGHT_RECEIVER_CALL);
    if (cap < 0) {
      this.closeEntry(opened);
      return cap;
    }
    this.opened = opened;
    this.reply.addCap(cap);
    this.reply.add(kind);
    this.reply.add64(load<u64>(at, 8));
    this.reply.add(<u32>load<u64>(at, 40));
    return 0;
  }

  private dropFile(file: u32, status: i32): i32 {
    if (file != 0) this.device.run(OP_CLOSE, 0, 0, 0, 0, file);
    return status;
  }

  /**
   * UNLINK (`kinds` 0: a file, a link or an empty directory, whichever the name is) and REMOVE
   * (FS_REMOVE_DIR: only a directory, else FS_E_NOT_DIR; FS_REMOVE_FILE: anything else, a directory
   * FS_E_IS_DIR). The path's length is at word `first`.
   */
  private remove(kinds: u32, first: i32 = 0): i32 {
    const length = this.readPaths(first, 1);
    if (length < 0) return length;
    const joined = this.join(this.device.path, requestPaths, <u32>length);
    if (joined < 0) return joined;
    if (joined == <i32>this.handles.pathLength(this.index)) return E_INVALID_ARGUMENT; // the handle's own directory
    const found = folderStatus(this.device.run(OP_STAT, <u32>joined, STAT_AT, STAT_BYTES, 0));
    if (found < 0) return found;
    const isDirectory = load<u32>(this.device.statResult) == FOLDER_DIRECTORY;
    if ((kinds & FS_REMOVE_DIR) != 0 && !isDirectory) return FS_E_NOT_DIR;
    if ((kinds & FS_REMOVE_FILE) != 0 && isDirectory) return FS_E_IS_DIR_STATUS;
    return folderStatus(this.device.run(OP_REMOVE, <u32>joined, STAT_AT, STAT_BYTES, isDirectory ? 1 : 0));
  }

  /** RENAME and LINK: the lengths at words `at` and on; the first path in the device's path area, the second in the data area. */
  private twoPaths(op: u32, at: i32 = 0, flags: u32 = 0): i32 {
    const total = this.readPaths(at, 2);
    if (total < 0) return total;
    const first = this.request.word(at);
    const from = this.join(this.device.path, requestPaths, first);
    if (from < 0) return from;
    const to = this.join(this.device.data, requestPaths + first, <u32>total - first);
    if (to < 0) return to;
    return folderStatus(this.device.run(op, <u32>from, SECOND_AT, <u32>to, flags));
  }

  /** LINK: words: flags (FS_LINK_FOLLOW), from length, to length, the paths. */
  private link(): i32 {
    return this.twoPaths(OP_LINK, 1, (this.request.word(0) & FS_LINK_FOLLOW) != 0 ? 1 : 0);
  }

  /** SYMLINK: words: target length, link path length, the target's bytes then the path's. */
  private symlink(): i32 {
    const total = this.readPaths(0, 2);
    if (total < 0) return total;
    const targetLength = this.request.word(0);
    const at = this.join(this.device.path, requestPaths + targetLength, <u32>total - targetLength);
    if (at < 0) return at;
    memory.copy(this.device.data, requestPaths, targetLength);
    return folderStatus(this.device.run(OP_SYMLINK, <u32>at, SECOND_AT, targetLength, 0));
  }

  /** READ of a link opened itself: its contents, from the offset, inline (up to 240 bytes) or into the Region. */
  private readLink(): i32 {
    const r = this.request;
    if (r.wordCount < 3) return E_BAD_MESSAGE;
    const read = folderStatus(this.device.run(OP_READLINK, this.ownPath(), DATA_AT, <u32>FS_PATH_MAX, 0));
    if (read < 0) return read == FS_E_NOT_FOUND_STATUS ? FS_E_STALE : read;
    const contents = min(this.device.length, <u32>FS_PATH_MAX);
    const offset = <u32>min(r.word64(0), <u64>contents);
    const n = min(r.word(2), contents - offset);
    let to: usize;
    if (r.capCount == 0) {
      if (n > FS_INLINE_BYTES) return E_INVALID_ARGUMENT;
      to = this.reply.wordsAddress(1);
    } else {
      const status = this.region.inspect(unchecked(r.caps[0]));
      if (status < 0) return status;
      if (!this.region.owner) return E_MISSING_RIGHT;
      if (!this.region.holds(r.word(3), n)) return E_INVALID_ARGUMENT;
      to = this.region.address + r.word(3);
    }
    memory.copy(to, this.device.data + offset, n);
    this.reply.add(n);
    if (r.capCount == 0) this.reply.use((n + 3) >> 2);
    return 0;
  }

  // ---- File and handle operations ------------------------------------------------------------

  private stat(): i32 {
    let status: i32;
    if (this.handles.file(this.index) != 0) status = this.onFile(OP_FILE_STAT, 0);
    else status = folderStatus(this.device.run(OP_STAT, this.ownPath(), STAT_AT, STAT_BYTES, 1));
    if (status == FS_E_NOT_FOUND_STATUS) return FS_E_STALE;
    if (status < 0) return status;
    return this.statReply(this.handles.rights(this.index));
  }

  /** STAT's words from the device's record: kind, size, created (the change time), modified, inode, rights, blocks, accessed, changed, links. */
  private statReply(rights: u32): i32 {
    const at = this.device.statResult;
    const deviceKind = load<u32>(at);
    const kind: u32 = deviceKind == FOLDER_DIRECTORY ? FS_KIND_DIR : deviceKind == FOLDER_FILE ? FS_KIND_FILE : deviceKind == FOLDER_SYMLINK ? FS_KIND_SYMLINK : 0;
    const size = load<u64>(at, 8);
    const rep = this.reply;
    rep.add(kind);
    rep.add64(size);
    rep.add64(load<u64>(at, 32));
    rep.add64(load<u64>(at, 24));
    rep.add(<u32>load<u64>(at, 40));
    rep.add(rights);
    rep.add(<u32>((size + 4095) >> 12));
    rep.add64(load<u64>(at, 16));
    rep.add64(load<u64>(at, 32));
    rep.add(load<u32>(at, 4));
    return 0;
  }

  /**
   * STAT_AT: what a path under this directory names, in one device request (a WASI path_filestat_get
   * or a lookup was an OPEN, a STAT and a CLOSE: three calls, each walking the path on the host).
   * Words: flags (FS_STAT_AT_FOLLOW), path length, path. The path is joined as OPEN's is, so `..`
   * past this directory is FS_E_ESCAPE and the device's walk keeps it in the folder.
   */
  private statAt(): i32 {
    const r = this.request;
    if (r.wordCount < 2) return E_BAD_MESSAGE;
    const status = this.onPath(OP_STAT, (r.word(0) & FS_STAT_AT_FOLLOW) != 0 ? 1 : 0, 1);
    return status < 0 ? status : this.statReply(0);
  }

  /**
   * READLINK_AT: a link's contents, in one device request (path_readlink was an OPEN, a READ and a
   * CLOSE). Words: path length, path. Replies the kind there (a link: then its contents' length
   * and bytes; anything else: nothing more), FS_E_TOO_BIG past FS_INLINE_BYTES.
   */
  private readlinkAt(): i32 {
    const length = this.readPaths(0, 1);
    if (length < 0) return length;
    const joined = this.join(this.device.path, requestPaths, <u32>length);
    if (joined < 0) return joined;
    const read = folderStatus(this.device.run(OP_READLINK, <u32>joined, DATA_AT, FOLDER_DATA_BYTES, 0));
    if (read == E_INVALID_ARGUMENT) {
      // Not a link (the device's E_INVALID): say what is there instead.
      const found = folderStatus(this.device.run(OP_STAT, <u32>joined, STAT_AT, STAT_BYTES, 0));
      if (found < 0) return found;
      const deviceKind = load<u32>(this.device.statResult);
      this.reply.add(deviceKind == FOLDER_DIRECTORY ? FS_KIND_DIR : deviceKind == FOLDER_FILE ? FS_KIND_FILE : 0);
      return 0;
    }
    if (read < 0) return read;
    const n = this.device.length;
    if (n > FS_INLINE_BYTES) return FS_E_TOO_BIG;
    this.reply.add(FS_KIND_SYMLINK);
    this.reply.add(n);
    memory.copy(this.reply.wordsAddress(2), this.device.data, n);
    this.reply.use((n + 3) >> 2);
    return 0;
  }

  /** SET_TIMES on any handle: words: flags (WASI's fstflags), access low, high, modification low, high. A link opened itself gets its own times. */
  private setTimes(): i32 {
    const r = this.request;
    if (r.wordCount < 5) return E_BAD_MESSAGE;
    const times = this.device.data;
    store<u64>(times, r.word64(1));
    store<u64>(times, r.word64(3), 8);
    store<u32>(times, r.word(0), 16);
    const file = this.handles.file(this.index);
    if (file != 0) return folderStatus(this.device.run(OP_FILE_SET_TIMES, 0, DATA_AT, TIMES_BYTES, 0, file));
    const follow: u32 = this.handles.kind(this.index) == FS_KIND_SYMLINK ? 0 : 1;
    return folderStatus(this.device.run(OP_SET_TIMES, this.ownPath(), DATA_AT, TIMES_BYTES, follow));
  }

  /**
   * ATTACH (docs/FS.md "Attached handles"): a new handle on this handle's host file (the same file
   * id, the same rights) with a read buffer this server makes (a view goes to the client) and the
   * view of the client's buffer the request brought, kept; a READ or WRITE through it that brings
   * no Region moves its bytes through those, so no Region is mapped or unmapped per call. Words:
   * the read buffer's pages wanted (optional). Replies: the read buffer's bytes, the client
   * buffer's bytes (0: none came), the read buffer's address, the change word's offset in it (the
   * page after the bytes; a READ through the handle answers its value as word 2); caps: the
   * handle, the view.
   */
  private attach(): i32 {
    const r = this.request;
    const index = this.index;
    if (this.handles.kind(index) != FS_KIND_FILE || this.handles.file(index) == 0) return E_INVALID_ARGUMENT;
    if (this.handles.attached >= FOLDER_ATTACH_MAX) return FS_E_TABLE_FULL;
    let writeView: i32 = 0;
    let writeAddress: usize = 0;
    let writeBytes: u32 = 0;
    if (r.capCount > 0) {
      // REGION_INFO answers only a Region mapped here in full: reading at its address never faults,
      // and it stays where it is while this server holds the view (a Region never moves).
      writeView = unchecked(r.caps[0]);
      const status = this.region.inspect(writeView);
      if (status < 0) return status;
      writeAddress = this.region.address;
      writeBytes = <u32>min(this.region.bytes, <u64>FOLDER_DATA_BYTES);
    }
    const asked = r.wordCount > 0 ? r.word(0) : FS_ATTACH_READ_PAGES;
    const pages = max<u32>(1, min(asked, FS_ATTACH_READ_PAGES_MAX));
    // One page more than asked: its first word is the change word (handles.ts `changed`).
    const readRegion = this.readBuffers.createRegion(pages + 1, REGION_ZERO_ON_FREE);
    if (readRegion < 0) return readRegion;
    const info = new Region(readRegion).info();
    const view = info.status < 0 ? info.status : new Region(readRegion).view();
    if (view < 0) {
      capDrop(readRegion);
      return view;
    }
    const opened = this.handles.open(this.handles.path(index), this.handles.pathLength(index), FS_KIND_FILE, this.handles.rights(index), this.handles.file(index), this.handles.inode(index));
    if (this.handles.orphanedFile != 0) this.device.run(OP_CLOSE, 0, 0, 0, 0, this.handles.orphanedFile);
    const cap = opened < 0 ? FS_E_TABLE_FULL : this.receiver.mint(this.handles.badge(opened), RIGHT_RECEIVER_CALL);
    if (cap < 0) {
      if (opened >= 0) this.closeEntry(opened);
      capDrop(view);
      capDrop(readRegion);
      return cap;
    }
    this.handles.attach(opened, readRegion, <usize>info.address, pages << 12, writeView, writeAddress, writeBytes);
    this.opened = opened;
    // The client's buffer stays here (the reply would move it back); the handle and the view go.
    this.reply.capCount = 0;
    this.reply.addCap(cap);
    this.reply.addCap(view);
    this.reply.add(pages << 12);
    this.reply.add(writeBytes);
    this.reply.add(info.address); // the same in every process
    this.reply.add(pages << 12); // where the change word lies in it (docs/HOSTFS.md "Reading ahead")
    return 0;
  }

  /** Reads up to `length` bytes from `offset` of this handle's file to `to`: bytes read, or a status. */
  private readBytes(offset: u64, length: u32, to: usize): i32 {
    const file = this.handles.file(this.index);
    if (file == 0) return FS_E_IO;
    let done: u32 = 0;
    while (done < length) {
      const piece = min(length - done, FOLDER_DATA_BYTES);
      const status = folderStatus(this.device.run(OP_READ, 0, DATA_AT, piece, offset + <u64>done, file));
      if (status < 0) return done > 0 ? <i32>done : status;
      const n = min(this.device.length, piece);
      memory.copy(to + done, this.device.data, n);
      done += n;
      if (n < piece) break;
    }
    return <i32>done;
  }

  /** Writes `length` bytes from `from` at `offset` (at the end when `append`): bytes written, or a status; the size after in `sizeAfter`. */
  private writeBytes(offset: u64, length: u32, from: usize, append: bool): i32 {
    const file = this.handles.file(this.index);
    if (file == 0) return FS_E_IO;
    // Before the bytes change: a client that read ahead of them asks again (docs/HOSTFS.md "Reading ahead").
    this.handles.changed(this.index);
    let done: u32 = 0;
    while (done < length) {
      const piece = min(length - done, FOLDER_DATA_BYTES);
      memory.copy(this.device.data, from + done, piece);
      // APPEND's position is where the device puts the size after it.
      const position = append ? <u64>STAT_AT : offset + <u64>done;
      const status = folderStatus(this.device.run(append ? OP_APPEND : OP_WRITE, 0, DATA_AT, piece, position, file));
      if (status < 0) return done > 0 ? <i32>done : status;
      const n = min(this.device.length, piece);
      if (append) this.sizeAfter = load<u64>(this.device.statResult);
      done += n;
      if (n < piece) break;
    }
    if (!append) this.sizeAfter = offset + <u64>done;
    return <i32>done;
  }
  private sizeAfter: u64 = 0;

  /** TRUNCATE: whoever read ahead of the file asks again (before the size changes). */
  private truncate(size: u64): i32 {
    if (this.handles.file(this.index) != 0) this.handles.changed(this.index);
    return this.onFile(OP_TRUNCATE, size);
  }

  private read(): i32 {
    const r = this.request;
    if (r.wordCount < 3) return E_BAD_MESSAGE;
    const offset = r.word64(0);
    const length = r.word(2);
    if (r.capCount == 0 && this.handles.isAttached(this.index)) {
      // Into the read buffer, from its start; word 1 says the bytes are there (no fill into the client's).
      if (length > this.handles.readBytes(this.index)) return E_INVALID_ARGUMENT;
      const n = this.readBytes(offset, length, this.handles.readAddress(this.index));
      if (n < 0) return n;
      this.reply.add(<u32>n);
      this.reply.add(0);
      // The change word as these bytes were read: while it reads the same, they are the file's.
      this.reply.add(load<u32>(this.handles.changeWord(this.index)));
      return 0;
    }
    if (r.capCount == 0) {
      if (length > FS_INLINE_BYTES) return E_INVALID_ARGUMENT;
      const n = this.readBytes(offset, length, this.reply.wordsAddress(1));
      if (n < 0) return n;
      this.reply.add(<u32>n);
      this.reply.use((n + 3) >> 2);
      return 0;
    }
    const regionOffset = r.word(3);
    const status = this.region.inspect(unchecked(r.caps[0]));
    if (status < 0) return status;
    if (!this.region.owner) return E_MISSING_RIGHT; // a view cannot be written into
    if (!this.region.holds(regionOffset, length)) return E_INVALID_ARGUMENT;
    const n = this.readBytes(offset, length, this.region.address + regionOffset);
    if (n < 0) return n;
    this.reply.add(<u32>n);
    return 0;
  }

  private write(append: bool): i32 {
    const r = this.request;
    if (r.wordCount < 3) return E_BAD_MESSAGE;
    const offset = r.word64(0);
    const length = r.word(2);
    let from: usize;
    if (r.capCount == 0 && this.handles.isAttached(this.index)) {
      // From the client's buffer at the offset word 3 says (where it lies was asked at ATTACH).
      if (r.wordCount < 4) return E_BAD_MESSAGE;
      const bufferOffset = r.word(3);
      if (<u64>bufferOffset + <u64>length > <u64>this.handles.writeBytes(this.index)) return E_INVALID_ARGUMENT;
      from = this.handles.writeAddress(this.index) + <usize>bufferOffset;
    } else if (r.capCount == 0) {
      if (length > FS_INLINE_BYTES || <u32>(r.wordCount - 3) * 4 < length) return E_BAD_MESSAGE;
      from = r.wordsAddress(3);
    } else {
      const regionOffset = r.word(3);
      const status = this.region.inspect(unchecked(r.caps[0]));
      if (status < 0) return status;
      if (!this.region.holds(regionOffset, length)) return E_INVALID_ARGUMENT;
      from = this.region.address + regionOffset;
    }
    const n = this.writeBytes(offset, length, from, append);
    if (n < 0) return n;
    this.reply.add(<u32>n);
    if (append) this.reply.add64(this.sizeAfter);
    return 0;
  }

  /** Stream READ: up to `max` (1 to 252) bytes from the handle's position, which moves past them. */
  private streamRead(): i32 {
    const r = this.request;
    const max = r.word(0);
    if (r.wordCount < 1 || max == 0 || max > STREAM_CHUNK) return E_INVALID_ARGUMENT;
    const position = this.handles.position(this.index);
    const n = this.readBytes(position, max, this.reply.wordsAddress(1));
    if (n < 0) return n;
    this.reply.add(<u32>n);
    this.reply.use((n + 3) >> 2);
    this.handles.setPosition(this.index, position + <u64>n);
    return 0;
  }

  /** Stream WRITE: at the handle's position, or at the end for a handle with only APPEND. */
  private streamWrite(): i32 {
    const r = this.request;
    const length = r.word(0) & 0xffff; // the high bits are hints (STREAM_TO_ERRORS) a file ignores
    if (r.wordCount < 1 || length > STREAM_CHUNK || <u32>(r.wordCount - 1) * 4 < length) return E_BAD_MESSAGE;
    const append = (this.handles.rights(this.index) & FS_RIGHT_WRITE) == 0;
    const n = this.writeBytes(this.handles.position(this.index), length, r.wordsAddress(1), append);
    if (n < 0) return n;
    this.handles.setPosition(this.index, this.sizeAfter);
    this.reply.add(<u32>n);
    return 0;
  }

  /** STREAM INFO: a file, always ready: the bytes from the position to the end, and room to write. */
  private streamInfo(): i32 {
    if (this.handles.file(this.index) == 0) return FS_E_IS_DIR_STATUS;
    const status = this.onFile(OP_FILE_STAT, 0);
    if (status < 0) return status;
    const size = load<u64>(this.device.statResult, 8);
    const position = this.handles.position(this.index);
    const left = size > position ? size - position : 0;
    this.reply.add(STREAM_KIND_FILE);
    this.reply.add(<u32>min(left, 0x7fffffff));
    this.reply.add(0x7fffffff);
    return 0;
  }

  /**
   * READDIR: the device's LIST from the cookie (its entry index) into the caller's Region. Device
   * records (kind u32, name length u32, inode u64, the name padded to 4) become the protocol's
   * entries (inode u32, kind u8, name length u8, two zeros, the name padded to 4); a symbolic link
   * has kind 3, anything neither file, directory nor link kind 0.
   */
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
    const listed = this.device.run(OP_LIST, this.ownPath(), DATA_AT, min(length + 8 * 64, FOLDER_DATA_BYTES), <u64>cookie);
    const failed = folderStatus(listed);
    if (failed < 0) return failed == FS_E_NOT_FOUND_STATUS ? FS_E_STALE : failed;
    const used = min(this.device.length, FOLDER_DATA_BYTES);
    const from = this.device.data;
    const to = this.region.address + offset;
    let at: u32 = 0;
    let out: u32 = 0;
    let entries: u32 = 0;
    while (at + 16 <= used) {
      const deviceKind = load<u32>(from + at);
      const nameLength = load<u32>(from + at, 4);
      const size = (16 + nameLength + 3) & ~3;
      const entry = (FS_DIRENT_HEADER + nameLength + 3) & ~3;
      if (at + size > used || nameLength > 255 || out + entry > length) break;
      const kind: u32 = deviceKind == FOLDER_DIRECTORY ? FS_KIND_DIR : deviceKind == FOLDER_FILE ? FS_KIND_FILE : deviceKind == FOLDER_SYMLINK ? FS_KIND_SYMLINK : 0;
      store<u32>(to + out, <u32>load<u64>(from + at, 8));
      store<u8>(to + out + 4, <u8>kind);
      store<u8>(to + out + 5, <u8>nameLength);
      store<u16>(to + out + 6, 0);
      memory.copy(to + out + FS_DIRENT_HEADER, from + at + 16, entry - FS_DIRENT_HEADER);
      at += size;
      out += entry;
      entries++;
    }
    this.reply.add(entries);
    this.reply.add(cookie + entries);
    this.reply.add(out);
    return 0;
  }
}

const FS_E_IS_DIR_STATUS: i32 = -204;
const FS_E_EXISTS_STATUS: i32 = -202;
const FS_E_NOT_FOUND_STATUS: i32 = -201;

/**
 * The rights a request needs on a handle of `kind`, or a status: the protocol's table
 * (fsRightsNeeded), with the TIMES right and the requests for links, times and removal by kind.
 */
function rightsNeeded(label: u32, kind: u32, word0: u32): i32 {
  const dir = kind == FS_KIND_DIR;
  switch (label) {
    case FS_OPEN: {
      if (!dir) return FS_E_NOT_DIR;
      let need = FS_RIGHT_READ | (word0 & FOLDER_RIGHTS_ALL);
      if ((word0 & (FS_OPEN_CREATE | FS_OPEN_TRUNCATE)) != 0) need |= FS_RIGHT_WRITE;
      return <i32>need;
    }
    case FS_SYMLINK: case FS_REMOVE:
      return dir ? <i32>(FS_RIGHT_READ | FS_RIGHT_WRITE) : FS_E_NOT_DIR;
    case FS_LINK:
      return dir ? <i32>(FS_RIGHT_READ | FS_RIGHT_WRITE) : FS_E_NOT_DIR;
    case FS_SET_TIMES:
      return <i32>FS_RIGHT_TIMES;
    case STREAM_INFO:
      return 0;
    // As OPEN without rights, by which a lookup was made before: READ on the directory.
    case FS_STAT_AT: case FS_READLINK_AT:
      return dir ? <i32>FS_RIGHT_READ : FS_E_NOT_DIR;
  }
  if (kind == FS_KIND_SYMLINK) return label == FS_READ ? <i32>FS_RIGHT_READ : 0;
  return fsRightsNeeded(label, dir, word0);
}

/** Whether rights `have` allow `need`: WRITE implies APPEND and TIMES. */
function rightsAllow(have: u32, need: u32): bool {
  if ((have & FS_RIGHT_WRITE) != 0) have |= FS_RIGHT_APPEND | FS_RIGHT_TIMES;
  return (need & ~have) == 0;
}
