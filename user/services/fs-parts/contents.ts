// The operations on what a handle names (docs/FS.md "Protocol"): READ, WRITE, APPEND, TRUNCATE,
// the stream protocol's READ and WRITE (a file as standard input or output), STAT, SET_TIMES and
// READDIR. A symbolic link's handle (FS_OPEN_NOFOLLOW) reads its target and cannot be written
// (FS_E_LOOP). A write that fails is remembered on its handle until the next SYNC answers it.
import { STREAM_CHUNK, STREAM_KIND_FILE } from "../../lib/streams";
import { E_BAD_MESSAGE, E_INVALID_ARGUMENT, E_MISSING_RIGHT, wallClock } from "../../lib";
import {
  FS_RIGHT_WRITE, FS_INLINE_BYTES, FS_DIRENT_HEADER, FS_READDIR_DOTS, FS_TIMES_ACCESS, FS_TIMES_ACCESS_NOW,
  FS_TIMES_MODIFY, FS_TIMES_MODIFY_NOW, FS_E_LOOP, FS_E_TOO_BIG, FS_KIND_DIR, FS_READ_FILL,
} from "../../lib/fs-protocol";
import {
  D_INODE_AT, D_KIND_AT, D_NAME_AT, D_NAME_LENGTH_AT, I_ACCESSED_AT, I_BLOCKS_AT, I_CHANGED_AT, I_CREATED_AT,
  I_KIND_AT, I_LINKS_AT, I_MODIFIED_AT, I_PARENT_AT, I_SIZE_AT, KIND_SYMLINK, SYMLINK_MAX,
} from "./format";
import { Context } from "./context";
import { FillSink } from "./fill-sink";
import { WRITE_BEHIND_CALL } from "./page-cache";

/** A write is done in pieces of this much, with a commit allowed between them. */
export const WRITE_PIECE: u32 = 1 << 20;

const inline: usize = memory.data(<i32>FS_INLINE_BYTES + 8);
const streamBytes: usize = memory.data(<i32>STREAM_CHUNK + 8);
const linkBytes: usize = memory.data(<i32>SYMLINK_MAX + 8);
/** Where an attached read whose client gave a filler lands (fill-sink.ts). */
const sink = new FillSink();

export class Contents {
  constructor(readonly c: Context) {}

  private get isLink(): bool {
    return load<u32>(this.c.at + I_KIND_AT) == KIND_SYMLINK;
  }

  /** Reads `length` bytes at `offset` of what the handle names into `to`: a file's bytes, a link's target. */
  private readAt(offset: u64, length: u32, to: usize, into: FillSink | null = null): i32 {
    const c = this.c;
    if (!this.isLink) {
      const ahead = c.handles.readAhead(c.index, offset, length);
      const n = c.volume.read(c.at, offset, length, to, ahead, c.handles.direct(c.index), into);
      if (n >= 0) c.volume.accessed(c.at);
      return n;
    }
    const size = c.volume.readLink(c.at, linkBytes);
    if (size < 0) return size;
    if (offset >= <u64>size) return 0;
    const n = <u32>min(<u64>length, <u64>size - offset);
    memory.copy(to, linkBytes + <usize>offset, n);
    if (into != null) {
      const filled = into.put(to, to, n);
      if (filled < 0) return filled;
    }
    return <i32>n;
  }

  read(): i32 {
    const c = this.c;
    const r = c.request;
    if (r.wordCount < 3) return E_BAD_MESSAGE;
    const offset = r.word64(0);
    const length = r.word(2);
    const attached = c.pathCap == 0 ? c.handles.readBuffer(c.index) : 0;
    if (attached != 0) {
      // An attached handle: into the read buffer the server made for it, from its start.
      if (length > c.handles.readBytes(c.index)) return E_INVALID_ARGUMENT;
      // Into the client's own buffer, when it gave a filler and asks (FS_READ_FILL): one copy.
      const place = r.wordCount > 3 ? r.word(3) : 0;
      const clientAt = place & ~FS_READ_FILL;
      if ((place & FS_READ_FILL) != 0 && c.handles.fills(c.index) && <u64>clientAt + <u64>length <= <u64>c.handles.writeBytes(c.index)) {
        sink.begin(c.handles.writeBuffer(c.index), attached, clientAt);
        let filled = this.readAt(offset, length, attached, sink);
        if (filled >= 0) {
          const flushed = sink.flush();
          if (flushed < 0) filled = flushed;
        }
        if (filled >= 0) {
          c.reply.add(<u32>filled);
          c.reply.add(1);
          return 0;
        }
        // The kernel refused the fill (the client's buffer moved on, or is gone), or the read
        // failed: read again into the read buffer, which says what a failed read says.
      }
      const n = this.readAt(offset, length, attached);
      if (n < 0) return n;
      c.reply.add(<u32>n);
      c.reply.add(0);
      return 0;
    }
    if (c.pathCap == 0) {
      if (length > FS_INLINE_BYTES) return E_INVALID_ARGUMENT;
      const n = this.readAt(offset, length, inline);
      if (n < 0) return n;
      c.reply.add(<u32>n);
      memory.copy(c.reply.wordsAddress(1), inline, <usize>n);
      c.reply.use((n + 3) >> 2);
      return 0;
    }
    const regionOffset = r.word(3);
    const status = c.region.inspect(c.pathCap);
    if (status < 0) return status;
    if (!c.region.owner) return E_MISSING_RIGHT; // a view cannot be written into
    if (!c.region.holds(regionOffset, length)) return E_INVALID_ARGUMENT;
    const n = this.readAt(offset, length, c.region.address + regionOffset);
    if (n < 0) return n;
    c.reply.add(<u32>n);
    return 0;
  }

  /** WRITE and APPEND: from the words, or a Region, in pieces with a commit allowed between. */
  write(append: bool): i32 {
    const c = this.c;
    const r = c.request;
    if (r.wordCount < 3) return E_BAD_MESSAGE;
    if (this.isLink) return FS_E_LOOP;
    const offset = append ? load<u64>(c.at + I_SIZE_AT) : r.word64(0);
    const length = r.word(2);
    let from: usize;
    const attached = c.pathCap == 0 ? c.handles.writeBuffer(c.index) : 0;
    if (c.pathCap == 0 && attached == 0) {
      if (length > FS_INLINE_BYTES || <u32>(r.wordCount - 3) * 4 < length) return E_BAD_MESSAGE;
      from = r.wordsAddress(3);
    } else if (attached != 0) {
      // The client's buffer an attached handle holds (where it lies was asked once, at ATTACH).
      const regionOffset = r.word(3);
      if (<u64>regionOffset + <u64>length > <u64>c.handles.writeBytes(c.index)) return E_INVALID_ARGUMENT;
      from = c.handles.writeAddress(c.index) + regionOffset;
    } else {
      // The Region the request brought.
      const regionOffset = r.word(3);
      const status = c.region.inspect(c.pathCap);
      if (status < 0) return status;
      if (!c.region.holds(regionOffset, length)) return E_INVALID_ARGUMENT;
      from = c.region.address + regionOffset;
    }
    let done: u32 = 0;
    while (done < length) {
      const piece = min(length - done, WRITE_PIECE);
      const n = c.volume.write(c.at, offset + done, piece, from + done, c.handles.direct(c.index));
      if (n < 0) {
        c.handles.noteWriteError(c.index, n);
        if (done == 0) return n;
        break;
      }
      done += <u32>n;
      if (<u32>n < piece) {
        c.handles.noteWriteError(c.index, c.volume.status);
        break;
      }
      if (done < length) {
        c.volume.pages.writeBehind(); // (a piece is a large write)
        // Between pieces the file is whole: a commit here holds whole pieces.
        const status = c.maybeCommit();
        if (status < 0) return status;
        c.volume.cache.beginOperation();
        c.at = c.volume.inode(c.ino);
        if (c.at == 0) return c.volume.status;
      }
    }
    c.reply.add(done);
    if (append) c.reply.add64(load<u64>(c.at + I_SIZE_AT));
    // A large write's dirty pages go now, once there is a run of them (page-cache.ts "Write-behind");
    // a failure there is the next SYNC's to tell, as an eviction's is.
    if (done >= WRITE_BEHIND_CALL) c.volume.pages.writeBehind();
    return 0;
  }

  truncate(): i32 {
    const c = this.c;
    if (this.isLink) return FS_E_LOOP;
    const status = c.volume.truncate(c.at, c.request.word64(0));
    if (status < 0) c.handles.noteWriteError(c.index, status);
    return status;
  }

  /** Stream READ: up to `max` (1 to 252) bytes from the handle's position, which moves past them. */
  streamRead(): i32 {
    const c = this.c;
    const r = c.request;
    const max = r.word(0);
    if (r.wordCount < 1 || max == 0 || max > STREAM_CHUNK) return E_INVALID_ARGUMENT;
    if (this.isLink) return FS_E_LOOP;
    const position = c.handles.position(c.index);
    const n = this.readAt(position, max, streamBytes);
    if (n < 0) return n;
    c.reply.add(<u32>n);
    memory.copy(c.reply.wordsAddress(1), streamBytes, <usize>n);
    c.reply.use((<u32>n + 3) >> 2);
    c.handles.setPosition(c.index, position + <u64>n);
    return 0;
  }

  /**
   * Stream INFO (a WASI program's poll, at once): a file; the bytes from the handle's position to
   * the end (at the end, 0xffffffff: a read answers 0 at once, as at the end of input); a write
   * always finds room.
   */
  streamInfo(): i32 {
    const c = this.c;
    const size = load<u64>(c.at + I_SIZE_AT);
    const position = c.handles.position(c.index);
    c.reply.add(STREAM_KIND_FILE);
    c.reply.add(size > position ? <u32>min(size - position, <u64>0xffff_fffe) : 0xffff_ffff);
    c.reply.add(STREAM_CHUNK);
    return 0;
  }

  /**
   * Stream WRITE: the bytes at the handle's position, or at the end when the handle may only
   * append (`>>`); the position moves past them.
   */
  streamWrite(): i32 {
    const c = this.c;
    const r = c.request;
    const length = r.word(0) & 0xffff; // the high bits are hints (STREAM_TO_ERRORS) a file ignores
    if (r.wordCount < 1 || length > STREAM_CHUNK || <u32>(r.wordCount - 1) * 4 < length) return E_BAD_MESSAGE;
    if (this.isLink) return FS_E_LOOP;
    const appendOnly = (c.handles.rights(c.index) & FS_RIGHT_WRITE) == 0;
    const offset = appendOnly ? load<u64>(c.at + I_SIZE_AT) : c.handles.position(c.index);
    const n = length == 0 ? 0 : c.volume.write(c.at, offset, length, r.wordsAddress(1), c.handles.direct(c.index));
    if (n < 0 || <u32>n < length) c.handles.noteWriteError(c.index, n < 0 ? n : c.volume.status);
    if (n < 0) return n;
    c.handles.setPosition(c.index, offset + <u64>n);
    c.reply.add(<u32>n);
    return 0;
  }

  stat(): i32 {
    const c = this.c;
    return this.statOf(c.at, c.ino, c.handles.rights(c.index));
  }

  /** STAT's reply for the inode `ino` at `at`, with `rights` (STAT_AT: 0, no handle). */
  statOf(at: usize, ino: u32, rights: u32): i32 {
    const rep = this.c.reply;
    rep.add(load<u32>(at + I_KIND_AT));
    rep.add64(load<u64>(at + I_SIZE_AT));
    rep.add64(load<u64>(at + I_CREATED_AT));
    rep.add64(load<u64>(at + I_MODIFIED_AT));
    rep.add(ino);
    rep.add(rights);
    rep.add(load<u32>(at + I_BLOCKS_AT));
    rep.add64(load<u64>(at + I_ACCESSED_AT));
    rep.add64(load<u64>(at + I_CHANGED_AT));
    rep.add(load<u32>(at + I_LINKS_AT));
    return 0;
  }

  /** READLINK_AT's reply for the inode at `at`: its kind, and for a link its contents' length and bytes. */
  linkOf(at: usize): i32 {
    const c = this.c;
    const kind = load<u32>(at + I_KIND_AT);
    c.reply.add(kind);
    if (kind != KIND_SYMLINK) return 0;
    const size = c.volume.readLink(at, linkBytes);
    if (size < 0) return size;
    if (<u32>size > FS_INLINE_BYTES) return FS_E_TOO_BIG;
    c.reply.add(<u32>size);
    memory.copy(c.reply.wordsAddress(2), linkBytes, <usize>size);
    c.reply.use((<u32>size + 3) >> 2);
    return 0;
  }

  /** SET_TIMES: flags as WASI's fstflags; a time given and "now" for the same one is E_INVALID_ARGUMENT. */
  setTimes(): i32 {
    const c = this.c;
    const r = c.request;
    const flags = r.word(0);
    if ((flags & ~<u32>15) != 0) return E_INVALID_ARGUMENT;
    if ((flags & FS_TIMES_ACCESS) != 0 && (flags & FS_TIMES_ACCESS_NOW) != 0) return E_INVALID_ARGUMENT;
    if ((flags & FS_TIMES_MODIFY) != 0 && (flags & FS_TIMES_MODIFY_NOW) != 0) return E_INVALID_ARGUMENT;
    const t = wallClock();
    const at = c.at;
    if ((flags & FS_TIMES_ACCESS) != 0) store<u64>(at + I_ACCESSED_AT, r.word64(1));
    if ((flags & FS_TIMES_ACCESS_NOW) != 0) store<i64>(at + I_ACCESSED_AT, t);
    if ((flags & FS_TIMES_MODIFY) != 0) store<u64>(at + I_MODIFIED_AT, r.word64(3));
    if ((flags & FS_TIMES_MODIFY_NOW) != 0) store<i64>(at + I_MODIFIED_AT, t);
    c.volume.changed(at);
    return 0;
  }

  /**
   * READDIR: entries from the cookie into the Region. With FS_READDIR_DOTS cookies 0 and 1 are "."
   * and "..", and entry k has cookie k + 2; without, entry k has cookie k.
   */
  readdir(): i32 {
    const c = this.c;
    const r = c.request;
    if (r.wordCount < 3 || c.pathCap == 0) return E_BAD_MESSAGE;
    const cookie = r.word(0);
    const offset = r.word(1);
    const length = r.word(2);
    const dots: u32 = (r.word(3) & FS_READDIR_DOTS) != 0 ? 2 : 0;
    const status = c.region.inspect(c.pathCap);
    if (status < 0) return status;
    if (!c.region.owner) return E_MISSING_RIGHT;
    if (!c.region.holds(offset, length)) return E_INVALID_ARGUMENT;
    let to = c.region.address + offset;
    const end = to + length;
    const count = c.dirs.capacity(c.at) + dots;
    let entries: u32 = 0;
    let next = cookie;
    for (; next < count; next++) {
      let ino: u32;
      let kind: u32 = FS_KIND_DIR;
      let name: usize = 0;
      let nameLength: u32;
      if (next < dots) {
        ino = next == 0 ? c.ino : load<u32>(c.at + I_PARENT_AT);
        nameLength = next + 1; // "." or ".."
      } else {
        const entry = c.dirs.entryAt(c.at, next - dots);
        if (entry == 0) return c.volume.status;
        ino = load<u32>(entry + D_INODE_AT);
        if (ino == 0) continue;
        kind = <u32>load<u8>(entry + D_KIND_AT);
        nameLength = <u32>load<u16>(entry + D_NAME_LENGTH_AT);
        name = entry + D_NAME_AT;
      }
      const size = (FS_DIRENT_HEADER + nameLength + 3) & ~3;
      if (to + size > end) break;
      memory.fill(to, 0, size);
      store<u32>(to, ino);
      store<u8>(to + 4, <u8>kind);
      store<u8>(to + 5, <u8>nameLength);
      if (name != 0) memory.copy(to + FS_DIRENT_HEADER, name, nameLength);
      else memory.fill(to + FS_DIRENT_HEADER, 0x2e, nameLength);
      to += size;
      entries++;
    }
    if (entries == 0 && next < count) return E_INVALID_ARGUMENT; // not even one entry fits
    c.volume.accessed(c.at);
    c.reply.add(entries);
    c.reply.add(next);
    c.reply.add(<u32>(to - c.region.address - offset));
    return 0;
  }
}
