// The protocol's one entry (docs/FS.md "Protocol"). `handle` copies the request, finds the handle
// its badge names, checks the rights in one place (`fsRightsNeeded`, the protocol's table), runs
// the operation (names.ts, contents.ts) and builds the reply. Operations never commit halfway: the
// server commits between operations (and between the 1 MiB pieces of a big write), so every
// transaction holds whole operations.
import { STREAM_READ, STREAM_WRITE, STREAM_INFO } from "../../lib/streams";
import {
  E_BAD_MESSAGE, E_INVALID_ARGUMENT, E_MISSING_RIGHT, OP_REGION_INFO, RIGHT_RECEIVER_CALL, RIGHT_REGION_FILL, CAP_MOVE,
  Receiver, Region, capDrop, capInfo, msgBegin, msgInvoke, msgWord,
} from "../../lib";
import {
  FS_INFO, FS_OPEN, FS_MKDIR, FS_UNLINK, FS_RENAME, FS_READ, FS_WRITE, FS_APPEND, FS_TRUNCATE, FS_STAT, FS_READDIR,
  FS_CLOSE, FS_SYNC, FS_TOKEN, FS_LINK, FS_SYMLINK, FS_SET_TIMES, FS_REMOVE, FS_ATTACH, FS_ATTACH_MAX,
  FS_ATTACH_READ_PAGES, FS_ATTACH_READ_PAGES_MAX, FS_MAP, FS_E_STALE, FS_E_TABLE_FULL, FS_STAT_AT, FS_STAT_AT_FOLLOW, FS_READLINK_AT, fsLabel,
  fsRightsNeeded, fsRightsAllow,
} from "../../lib/fs-protocol";
import { BLOCK_BYTES, I_GENERATION_AT, I_KIND_AT, KIND_DIR, KIND_FILE, ROOT_INODE } from "./format";
import { Context } from "./context";
import { Contents } from "./contents";
import { Directories } from "./directory";
import { Handles, MAX_HANDLES } from "./handles";
import { mapRequest } from "./map-request";
import { Names } from "./names";
import { CHUNK_PAGES } from "./page-cache";
import { Request, Reply } from "./request";
import { Tokens } from "./tokens";
import { Volume } from "./volume";


export class Operations {
  readonly c: Context;
  readonly names: Names;
  readonly contents: Contents;
  operations: u64 = 0;

  constructor(readonly volume: Volume, readonly receiver: Receiver, tokens: Tokens, memory: i32) {
    const c = new Context(volume, receiver, tokens, memory);
    this.c = c;
    this.names = new Names(c);
    this.contents = new Contents(c);
  }

  get request(): Request {
    return this.c.request;
  }
  get reply(): Reply {
    return this.c.reply;
  }
  get handles(): Handles {
    return this.c.handles;
  }
  get dirs(): Directories {
    return this.c.dirs;
  }
  /** The entry opened by the operation just handled (-1: none), closed again if its reply fails. */
  get opened(): i32 {
    return this.c.opened;
  }

  /** Copies the request in the message buffer out (before anything else uses the buffer). */
  capture(): void {
    this.c.request.capture();
  }

  /** Handles the request `capture` copied and leaves the reply in the message buffer: its label. */
  handle(): u32 {
    const c = this.c;
    c.reply.reset();
    c.opened = -1;
    this.operations++;
    for (let i = 0; i < c.request.capCount; i++) c.reply.addCap(unchecked(c.request.caps[i]));
    this.volume.cache.beginOperation();
    let status = this.maybeCommit();
    if (status >= 0) status = this.dispatch();
    // The cache must never hold more than a transaction can: commit now if it is close.
    const after = this.maybeCommit();
    if (status >= 0 && after < 0) status = after;
    c.reply.build(status >= 0);
    return fsLabel(status);
  }

  /** Commits when the journal or the cache is nearly full: 0 or a status. */
  maybeCommit(): i32 {
    return this.c.maybeCommit();
  }

  commit(): i32 {
    return this.c.commit();
  }

  /** A handle for the root directory, pinned (CLOSE leaves it open): its badge, or -1 if the table is full. */
  openRoot(rights: u32, session: i32 = 0): i32 {
    const root = this.volume.inode(ROOT_INODE);
    if (root == 0) return -1;
    const index = this.c.handles.open(ROOT_INODE, load<u32>(root + I_GENERATION_AT), KIND_DIR, rights, false, session);
    if (index < 0) return -1;
    this.c.handles.pin(index);
    return <i32>this.c.handles.badge(index);
  }

  /** STAT_AT, or READLINK_AT (`link`): what the path in the request's words from `pathWord` names. */
  private atPath(pathWord: i32, follow: bool, link: bool): i32 {
    const ino = this.names.lookUp(pathWord, follow);
    if (ino < 0) return ino;
    const at = this.volume.inode(<u32>ino);
    if (at == 0) return this.volume.status;
    return link ? this.contents.linkOf(at) : this.contents.statOf(at, <u32>ino, 0);
  }

  private dispatch(): i32 {
    const c = this.c;
    const r = c.request;
    if (c.sortCaps() < 0) return E_BAD_MESSAGE; // at most a Region and a token; the reply could not carry more and a new handle
    if (r.capCount > 1 && r.label != FS_RENAME && r.label != FS_LINK) return E_BAD_MESSAGE;
    if (r.label == FS_ATTACH && c.tokenCap != 0) return E_BAD_MESSAGE;
    if (r.label == FS_INFO) return this.info();
    if (r.badge == 0) return r.label == FS_SYNC ? this.commit() : E_MISSING_RIGHT; // the service capability names no file or directory
    const index = c.handles.lookup(r.badge);
    if (index < 0) return FS_E_STALE;
    const ino = c.handles.inode(index);
    const at = this.volume.inode(ino);
    if (at == 0) return this.volume.status;
    if (load<u32>(at + I_GENERATION_AT) != c.handles.inodeGeneration(index) || load<u32>(at + I_KIND_AT) != c.handles.kind(index)) {
      return FS_E_STALE; // a directory removed since it was opened
    }
    // The swap door opens /swap (Names.open) and answers STAT and SYNC; nothing else.
    if (index == c.handles.swapDoor && r.label != FS_OPEN && r.label != FS_STAT && r.label != FS_SYNC && r.label != FS_CLOSE) return E_MISSING_RIGHT;
    const need = fsRightsNeeded(r.label, c.handles.kind(index) == KIND_DIR, r.word(0));
    if (need < 0) return need;
    if (!fsRightsAllow(c.handles.rights(index), <u32>need)) return E_MISSING_RIGHT;
    c.index = index;
    c.ino = ino;
    c.at = at;
    switch (r.label) {
      case FS_OPEN: return this.names.open();
      case FS_MKDIR: return this.names.mkdir();
      case FS_UNLINK: return this.names.remove(0, 0);
      case FS_REMOVE: return this.names.remove(r.word(0), 1);
      case FS_RENAME: return this.names.rename();
      case FS_LINK: return this.names.link();
      case FS_SYMLINK: return this.names.symlink();
      case FS_TOKEN: return this.token();
      case FS_READ: return this.contents.read();
      case FS_WRITE: return this.contents.write(false);
      case FS_APPEND: return this.contents.write(true);
      case FS_TRUNCATE: return this.contents.truncate();
      case FS_STAT: return this.contents.stat();
      case FS_STAT_AT: return this.atPath(1, (r.word(0) & FS_STAT_AT_FOLLOW) != 0, false);
      case FS_READLINK_AT: return this.atPath(0, false, true);
      case FS_SET_TIMES: return this.contents.setTimes();
      case FS_READDIR: return this.contents.readdir();
      case FS_CLOSE: return this.close();
      case FS_SYNC: return this.sync();
      case FS_ATTACH: return this.attach();
      case FS_MAP: return mapRequest(c);
      case STREAM_READ: return this.contents.streamRead();
      case STREAM_WRITE: return this.contents.streamWrite();
      case STREAM_INFO: return this.contents.streamInfo();
    }
    return E_INVALID_ARGUMENT;
  }

  private info(): i32 {
    const v = this.volume;
    const rep = this.c.reply;
    rep.add(BLOCK_BYTES);
    rep.add(v.layout.total);
    rep.add(v.bitmap.free);
    rep.add(v.layout.inodeCount);
    rep.add(v.freeInodes);
    rep.add(<u32>this.c.handles.used);
    rep.add(<u32>MAX_HANDLES);
    rep.add(this.c.handles.reclaimed);
    // The page cache (docs/FS.md "The page cache"): its pages now, those holding a block, dirty;
    // hits, misses, blocks read ahead, blocks written back (low words); chunks given back; its
    // most pages.
    const pages = v.pages;
    rep.add(<u32>pages.capacity);
    rep.add(<u32>pages.resident);
    rep.add(<u32>pages.dirtyCount);
    rep.add(<u32>pages.hits);
    rep.add(<u32>pages.misses);
    rep.add(<u32>pages.readAhead);
    rep.add(<u32>pages.writtenBack);
    rep.add(<u32>pages.chunksFreed);
    rep.add(<u32>(pages.limit * CHUNK_PAGES));
    // The metadata cache: its pages holding a frame, those given back under pressure (low word).
    rep.add(<u32>v.cache.resident);
    rep.add(<u32>v.cache.givenBack);
    // The page cache again: blocks it wrote back straight from its pages (low word).
    rep.add(<u32>pages.writtenFromViews);
    return 0;
  }

  private token(): i32 {
    const c = this.c;
    const cap = c.tokens.mint(c.handles.badge(c.index));
    if (cap < 0) return cap;
    c.reply.addCap(cap);
    return 0;
  }

  /** CLOSE: the entry goes (a published root or a session's first handle stays open), and its buffers; an orphan it was the last to hold goes with it. */
  private close(): i32 {
    const c = this.c;
    if (c.handles.startsSession(c.index) || !c.handles.close(c.index)) return E_INVALID_ARGUMENT;
    return c.release(c.ino);
  }

  /**
   * ATTACH (docs/FS.md "Attached handles"): a new handle on this file with a read buffer the server
   * makes (a view goes to the client) and the client's buffer the request brought (kept); READ and
   * WRITE through it move no Region.
   */
  private attach(): i32 {
    const c = this.c;
    if (c.handles.kind(c.index) != KIND_FILE) return E_INVALID_ARGUMENT;
    if (c.handles.attached >= FS_ATTACH_MAX) {
      // Full: one goes if this session holds less than its even share, or one has been idle long enough.
      const idle = c.handles.attachedVictim(c.handles.session(c.index));
      if (idle < 0) return FS_E_TABLE_FULL;
      const ino = c.handles.inode(idle);
      c.handles.close(idle);
      const released = c.release(ino);
      if (released < 0) return released;
    }
    let writeBytes: u32 = 0;
    let writeAddress: usize = 0;
    let fills = false;
    if (c.pathCap != 0) {
      const inspected = c.region.inspect(c.pathCap);
      if (inspected < 0) return inspected;
      writeBytes = <u32>c.region.bytes;
      writeAddress = c.region.address;
      // A filler: reads may be written straight into the client's buffer (one copy, no second).
      fills = (capInfo(c.pathCap).rights & RIGHT_REGION_FILL) != 0;
    }
    const asked = c.request.wordCount > 0 ? c.request.word(0) : FS_ATTACH_READ_PAGES;
    const pages = max<u32>(1, min(asked, FS_ATTACH_READ_PAGES_MAX));
    const readRegion = c.viewed.create(pages, this.volume.pages, c.handles.session(c.index));
    if (readRegion < 0) return readRegion;
    msgBegin(OP_REGION_INFO);
    let status = msgInvoke(readRegion);
    const readAddress = <usize>msgWord(0);
    const view = status < 0 ? status : new Region(readRegion).view();
    if (view < 0) {
      capDrop(readRegion);
      return view;
    }
    const index = c.handles.open(c.ino, c.handles.inodeGeneration(c.index), KIND_FILE, c.handles.rights(c.index), c.handles.direct(c.index), c.handles.session(c.index));
    const back = c.handles.released;
    if (back != 0) c.release(back, index);
    const cap = index < 0 ? FS_E_TABLE_FULL : c.receiver.mint(c.handles.badge(index), RIGHT_RECEIVER_CALL);
    if (cap < 0) {
      if (index >= 0) c.handles.close(index);
      capDrop(view);
      capDrop(readRegion);
      return cap;
    }
    c.handles.attach(index, readRegion, readAddress, pages << 12, c.pathCap, writeAddress, writeBytes, fills);
    c.opened = index;
    // The client's buffer stays here; the reply carries the new handle and the read buffer's view.
    c.reply.capCount = 0;
    c.reply.addCap(cap);
    c.reply.addCap(view);
    c.reply.add(pages << 12);
    c.reply.add(writeBytes);
    c.reply.add(<u32>readAddress); // (the same in every process: a client need not ask REGION_INFO)
    return 0;
  }

  /**
   * SYNC: commits (the page cache's dirty pages first), then answers the first write error the
   * handle met since its last SYNC, or one the write-back of this file's pages met.
   */
  private sync(): i32 {
    const status = this.commit();
    const failed = this.c.handles.takeWriteError(this.c.index);
    const lost = this.volume.pages.takeFailure(this.c.ino);
    return status < 0 ? status : failed < 0 ? failed : lost;
  }
}
