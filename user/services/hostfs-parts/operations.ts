// The host share server's operations: the file system server's protocol (docs/FS.md
// "Protocol"), read-only. `handle` is the one entry: it copies the request, finds the handle its
// badge names, checks the rights in one place (`fsRightsNeeded`, the protocol's table, which the
// file system server checks too: a handle here never has more than READ, so every request that
// changes something answers E_MISSING_RIGHT), runs the operation through the share device and
// builds the reply.
import { STREAM_READ, STREAM_INFO, STREAM_CHUNK, STREAM_KIND_FILE } from "../../lib/streams";
import { E_BAD_MESSAGE, E_INVALID_ARGUMENT, E_MISSING_RIGHT, RIGHT_RECEIVER_CALL, Receiver } from "../../lib";
import {
  FS_INFO, FS_OPEN, FS_READ, FS_STAT, FS_READDIR, FS_CLOSE, FS_SYNC, FS_RIGHT_READ, FS_RIGHTS_ALL, FS_OPEN_DIRECTORY,
  FS_KIND_FILE, FS_KIND_DIR, FS_E_ESCAPE, FS_E_IO, FS_E_IS_DIR, FS_E_NAME, FS_E_NOT_DIR,
  FS_E_NOT_FOUND, FS_E_STALE, FS_E_TABLE_FULL, FS_INLINE_BYTES, FS_PATH_MAX, FS_DIRENT_HEADER, fsLabel,
  fsRightsNeeded, fsRightsAllow,
} from "../../lib/fs-protocol";
import { Request, RegionArg, Reply } from "../fs-parts/request";
import { HostHandles, MAX_HANDLES } from "./handles";
import { joinPath, pathNumber } from "./paths";
import {
  ShareQueue, OP_STAT, OP_LIST, OP_READ, STAT_AT, DATA_AT, DATA_BYTES, PATH_MAX, S_OK, S_E_BUFFER, S_E_NOT_FOUND,
  S_E_NOT_DIRECTORY, S_E_IS_DIRECTORY, S_E_DENIED, S_E_PATH, SHARE_FILE, SHARE_DIRECTORY,
} from "./share";

const BLOCK_BYTES: u32 = 4096;
/** A request's path, copied out of the words or the Region it came in. */
const requestPath: usize = memory.data(FS_PATH_MAX + 8);

/** The file system status for a device RequestStatus. */
export function shareStatus(status: u32): i32 {
  switch (status) {
    case S_OK: return 0;
    case S_E_NOT_FOUND: return FS_E_NOT_FOUND;
    case S_E_NOT_DIRECTORY: return FS_E_NOT_DIR;
    case S_E_IS_DIRECTORY: return FS_E_IS_DIR;
    case S_E_DENIED: return FS_E_ESCAPE;
    case S_E_PATH: return FS_E_NAME;
    case S_E_BUFFER: return E_INVALID_ARGUMENT;
  }
  return FS_E_IO; // E_IO, E_RANGE, E_OP, no completion
}

export class HostOperations {
  readonly request: Request = new Request();
  readonly reply: Reply = new Reply();
  readonly region: RegionArg = new RegionArg();
  readonly handles: HostHandles = new HostHandles();
  /** The entry opened by the operation just handled (-1: none), closed again if its reply fails. */
  opened: i32 = -1;
  operations: u64 = 0;
  private index: i32 = -1;

  constructor(readonly share: ShareQueue, readonly receiver: Receiver) {}

  /** Handles the request in the message buffer and leaves the reply there: its label. */
  handle(): u32 {
    this.request.capture();
    this.reply.reset();
    this.opened = -1;
    this.operations++;
    for (let i = 0; i < this.request.capCount; i++) this.reply.addCap(unchecked(this.request.caps[i]));
    const status = this.dispatch();
    this.reply.build(status >= 0);
    return fsLabel(status);
  }

  /** A pinned handle on the share's root with `rights` (READ at most): its badge, or a status. */
  openRoot(rights: u32): i32 {
    const status = shareStatus(this.share.run(OP_STAT, 0, STAT_AT, 24, 0));
    if (status < 0) return status;
    if (load<u32>(this.share.statResult) != SHARE_DIRECTORY) return FS_E_NOT_DIR;
    const index = this.handles.open(this.share.path, 0, FS_KIND_DIR, rights & FS_RIGHT_READ);
    if (index < 0) return FS_E_TABLE_FULL;
    this.handles.pin(index);
    return <i32>this.handles.badge(index);
  }

  private dispatch(): i32 {
    const r = this.request;
    if (r.capCount > 1) return E_BAD_MESSAGE;
    if (r.label == FS_INFO) return this.info();
    if (r.badge == 0) return E_MISSING_RIGHT; // the service capability names nothing
    const index = this.handles.lookup(r.badge);
    if (index < 0) return FS_E_STALE;
    const need = fsRightsNeeded(r.label, this.handles.kind(index) == FS_KIND_DIR, r.word(0));
    if (need < 0) return need;
    if (!fsRightsAllow(this.handles.rights(index), <u32>need)) return E_MISSING_RIGHT;
    this.index = index;
    switch (r.label) {
      case FS_OPEN: return this.open();
      case FS_READ: return this.read();
      case FS_STAT: return this.stat();
      case FS_READDIR: return this.readdir();
      case FS_CLOSE: return this.handles.close(index) ? 0 : E_INVALID_ARGUMENT; // a published root stays open
      case FS_SYNC: return 0; // nothing is ever written
      case STREAM_READ: return this.streamRead();
      case STREAM_INFO: return this.streamInfo();
    }
    return E_MISSING_RIGHT; // what changes the share: no handle has the right to ask
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

  /** Copies the request's path (length at word `first`, bytes after it or in a Region view) to requestPath: its length, or a status. */
  private readPath(first: i32): i32 {
    const r = this.request;
    const total = r.word(first);
    if (r.wordCount < first + 1 || total > <u32>FS_PATH_MAX) return E_INVALID_ARGUMENT;
    if (r.capCount > 0) {
      const status = this.region.inspect(unchecked(r.caps[0]));
      if (status < 0) return status;
      if (!this.region.holds(0, total)) return E_INVALID_ARGUMENT;
      memory.copy(requestPath, this.region.address, total);
    } else {
      const words = first + 1;
      if (<u32>(r.wordCount - words) * 4 < total) return E_BAD_MESSAGE;
      memory.copy(requestPath, r.wordsAddress(words), total);
    }
    return <i32>total;
  }

  /** Puts this handle's own path in the device's path area: its length. */
  private ownPath(): u32 {
    const length = this.handles.pathLength(this.index);
    memory.copy(this.share.path, this.handles.path(this.index), length);
    return length;
  }

  /** A device status on the handle's own path: what it named is gone (FS_E_STALE), or as mapped. */
  private onHandle(status: u32): i32 {
    return status == S_E_NOT_FOUND ? FS_E_STALE : shareStatus(status);
  }

  // ---- Operations ----------------------------------------------------------------------------

  private open(): i32 {
    const flags = this.request.word(0);
    const length = this.readPath(1);
    if (length < 0) return length;
    const index = this.index;
    const joined = joinPath(this.share.path, this.handles.path(index), this.handles.pathLength(index), requestPath, <u32>length);
    if (joined < 0) return joined;
    const status = shareStatus(this.share.run(OP_STAT, <u32>joined, STAT_AT, 24, 0));
    if (status < 0) return status;
    const shareKind = load<u32>(this.share.statResult);
    if (shareKind != SHARE_FILE && shareKind != SHARE_DIRECTORY) return FS_E_IO; // a device, a FIFO: nothing to read here
    const kind = shareKind == SHARE_DIRECTORY ? FS_KIND_DIR : FS_KIND_FILE;
    if ((flags & FS_OPEN_DIRECTORY) != 0 && kind != FS_KIND_DIR) return FS_E_NOT_DIR;
    const size = load<u64>(this.share.statResult, 8);
    const opened = this.handles.open(this.share.path, <u32>joined, kind, flags & FS_RIGHTS_ALL);
    if (opened < 0) return FS_E_TABLE_FULL;
    const cap = this.receiver.mint(this.handles.badge(opened), RIGHT_RECEIVER_CALL);
    if (cap < 0) {
      this.handles.close(opened);
      return cap;
    }
    this.opened = opened;
    this.reply.addCap(cap);
    this.reply.add(kind);
    this.reply.add64(size);
    this.reply.add(pathNumber(this.handles.path(opened), <u32>joined));
    return 0;
  }

  private stat(): i32 {
    const length = this.ownPath();
    const status = this.onHandle(this.share.run(OP_STAT, length, STAT_AT, 24, 0));
    if (status < 0) return status;
    const at = this.share.statResult;
    const kind = load<u32>(at) == SHARE_DIRECTORY ? FS_KIND_DIR : FS_KIND_FILE;
    if (kind != this.handles.kind(this.index)) return FS_E_STALE; // replaced by something else
    const size = load<u64>(at, 8);
    const modified = load<u64>(at, 16);
    const rep = this.reply;
    rep.add(kind);
    rep.add64(size);
    rep.add64(modified); // the host's creation time is not in the device's STAT: the modification's
    rep.add64(modified);
    rep.add(pathNumber(this.handles.path(this.index), length));
    rep.add(this.handles.rights(this.index));
    rep.add(<u32>((size + 4095) >> 12));
    return 0;
  }

  /** Reads up to `length` bytes from `offset` of this handle's file to `to`: bytes read, or a status. */
  private readBytes(offset: u64, length: u32, to: usize): i32 {
    const pathLength = this.ownPath();
    let done: u32 = 0;
    while (done < length) {
      const piece = min(length - done, DATA_BYTES);
      const status = this.onHandle(this.share.run(OP_READ, pathLength, DATA_AT, piece, offset + <u64>done));
      if (status < 0) return done > 0 ? <i32>done : status;
      const n = min(this.share.length, piece);
      memory.copy(to + done, this.share.data, n);
      done += n;
      if (n < piece) break;
    }
    return <i32>done;
  }

  private read(): i32 {
    const r = this.request;
    if (r.wordCount < 3) return E_BAD_MESSAGE;
    const offset = r.word64(0);
    const length = r.word(2);
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

  /** Stream READ: up to `max` (1 to 252) bytes from the handle's position, which moves past them. */
  /** Stream INFO: a file; the bytes from the handle's position to the end (0xffffffff at the end); a write is answered at once (refused: read-only). */
  private streamInfo(): i32 {
    const length = this.ownPath();
    const status = this.onHandle(this.share.run(OP_STAT, length, STAT_AT, 24, 0));
    if (status < 0) return status;
    const size = load<u64>(this.share.statResult, 8);
    const position = this.handles.position(this.index);
    this.reply.add(STREAM_KIND_FILE);
    this.reply.add(size > position ? <u32>min(size - position, <u64>0xffff_fffe) : 0xffff_ffff);
    this.reply.add(STREAM_CHUNK);
    return 0;
  }

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

  /**
   * READDIR: the device's LIST from the cookie (its entry index) into the caller's Region. The
   * device's records (kind u32, name length u32, the name padded to 4) are the protocol's entries'
   * size (inode u32, kind u8, name length u8, two zeros, the name padded to 4), so each is
   * rewritten in place. A name that leads out of the share, or is neither file nor directory,
   * shows with kind 3.
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
    const pathLength = this.ownPath();
    const listed = this.share.run(OP_LIST, pathLength, DATA_AT, min(length, DATA_BYTES), <u64>cookie);
    if (listed == S_E_BUFFER) return E_INVALID_ARGUMENT; // not even one entry fits
    const failed = this.onHandle(listed);
    if (failed < 0) return failed;
    const used = min(this.share.length, min(length, DATA_BYTES));
    const from = this.share.data;
    const to = this.region.address + offset;
    let at: u32 = 0;
    let entries: u32 = 0;
    const dir = this.handles.path(this.index);
    while (at + FS_DIRENT_HEADER <= used) {
      const kind = load<u32>(from + at);
      const nameLength = load<u32>(from + at, 4);
      const size = (FS_DIRENT_HEADER + nameLength + 3) & ~3;
      if (at + size > used || nameLength > 255) break;
      const name = from + at + FS_DIRENT_HEADER;
      store<u32>(to + at, pathNumber(dir, pathLength, name, nameLength));
      store<u8>(to + at + 4, <u8>(kind == SHARE_DIRECTORY ? FS_KIND_DIR : kind == SHARE_FILE ? FS_KIND_FILE : 3));
      store<u8>(to + at + 5, <u8>nameLength);
      store<u16>(to + at + 6, 0);
      memory.copy(to + at + FS_DIRENT_HEADER, name, size - FS_DIRENT_HEADER);
      at += size;
      entries++;
    }
    this.reply.add(entries);
    this.reply.add(cookie + entries);
    this.reply.add(at);
    return 0;
  }
}
