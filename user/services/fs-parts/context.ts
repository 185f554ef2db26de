// What every operation works with (operations.ts dispatches; names.ts and contents.ts do the
// work): the request and the reply being built, the handle the request came through, the path
// walk, and the rules every operation shares — how a path comes in, where a RENAME or LINK goes
// (this directory, or the one a token names), and when an inode's last name or handle goes.
import { E_BAD_MESSAGE, E_INVALID_ARGUMENT, E_MISSING_RIGHT, KIND_REGION, KIND_RECEIVER, capKind, Receiver } from "../../lib";
import {
  FS_E_IO, FS_E_NOT_DIR, FS_E_STALE, FS_PATH_MAX, FS_SYMLINK_MAX, FS_RIGHTS_DESTINATION, fsRightsAllow,
} from "../../lib/fs-protocol";
import { I_GENERATION_AT, I_KIND_AT, I_LINKS_AT, KIND_DIR, KIND_FREE } from "./format";
import { Directories } from "./directory";
import { Handles, SESSIONS } from "./handles";
import { ViewedRegions } from "./viewed-regions";
import { Walk } from "./paths";
import { Request, RegionArg, Reply } from "./request";
import { Tokens } from "./tokens";
import { Volume } from "./volume";

/** Commit before an operation when fewer dirty blocks than this are left before the journal is full. */
const JOURNAL_RESERVE: i32 = 96;
/** ... or when fewer cache slots than this could take a new block. */
const CACHE_RESERVE: i32 = 400;
/** Blocks the disk should be able to give at once: a write piece's (contents.ts, WRITE_PIECE) and its block maps. */
const ALLOCATION_RESERVE: u32 = 288;

/** A request's paths, copied out of its words or its Region (one buffer for all of them; SYMLINK's target besides). */
export const paths: usize = memory.data(FS_PATH_MAX + <i32>FS_SYMLINK_MAX + 8);

export class Context {
  readonly request: Request = new Request();
  readonly reply: Reply = new Reply();
  readonly region: RegionArg = new RegionArg();
  readonly handles: Handles = new Handles();
  readonly dirs: Directories;
  readonly walk: Walk;
  /** The handle the request came through: its table entry, inode, and the inode's cached bytes. */
  index: i32 = -1;
  ino: u32 = 0;
  at: usize = 0;
  /** The request's capabilities by kind (0: none): a Region holding paths, a token. */
  pathCap: i32 = 0;
  tokenCap: i32 = 0;
  /** The entry opened by the operation just handled (-1: none), closed again if its reply fails. */
  opened: i32 = -1;
  /** Where attached handles' read buffers are made: a Memory whose quota bounds what they cost the server. */
  readonly viewed: ViewedRegions;

  /** `memory`: the server's Memory capability (attached handles' read buffers are made under it). */
  constructor(readonly volume: Volume, readonly receiver: Receiver, readonly tokens: Tokens, readonly memory: i32) {
    const viewed = new ViewedRegions(memory, SESSIONS); // every session number, the readers' and the swap door's too
    this.viewed = viewed;
    const dirs = new Directories(volume);
    this.dirs = dirs;
    this.walk = new Walk(volume, dirs);
    this.handles.watcher = volume.maps; // a closed handle lets go of the file map it held
    this.handles.viewed = viewed; // a closed handle's read buffer is freed there
    volume.maps.configure(memory, viewed);
  }

  /**
   * Commits when the journal or the cache is nearly full, or when what the disk can give now is
   * short and blocks freed by the running transaction wait for its commit to be given (a write
   * right after a large `rm` on a full disk was refused FS_E_NO_SPACE, room on the disk, until a
   * commit happened to come): 0 or a status.
   */
  maybeCommit(): i32 {
    const cache = this.volume.cache;
    if (cache.dirtyCount == 0) return 0;
    const bitmap = this.volume.bitmap;
    if (bitmap.awaitingCommit > 0 && bitmap.free - bitmap.awaitingCommit < ALLOCATION_RESERVE) return this.commit();
    const reserve = JOURNAL_RESERVE + <i32>this.volume.layout.bitmapBlocks;
    if (cache.dirtyCount + reserve < this.volume.journal.capacity && cache.evictable > CACHE_RESERVE) return 0;
    return this.commit();
  }

  /** Commits the running transaction: 0 or a status. */
  commit(): i32 {
    const status = this.volume.journal.commit();
    if (status < 0) return status;
    return this.volume.bitmap.snapshot(false) < 0 ? FS_E_IO : 0;
  }

  /** Sorts the request's capabilities by kind: at most one Region and one token. 0 or E_BAD_MESSAGE. */
  sortCaps(): i32 {
    this.pathCap = 0;
    this.tokenCap = 0;
    const r = this.request;
    for (let i = 0; i < r.capCount; i++) {
      const cap = unchecked(r.caps[i]);
      const kind = capKind(cap);
      if (kind == <i32>KIND_REGION && this.pathCap == 0) this.pathCap = cap;
      else if (kind == <i32>KIND_RECEIVER && this.tokenCap == 0) this.tokenCap = cap;
      else return E_BAD_MESSAGE;
    }
    return 0;
  }

  /**
   * Copies the request's `count` paths into `paths`: their lengths are words `first` ...; the
   * bytes follow in words, or lie at the start of the Region the request brought; at most `max`
   * bytes in all. Total bytes, or a status.
   */
  readPaths(first: i32, count: i32, max: u32 = <u32>FS_PATH_MAX): i32 {
    const r = this.request;
    let total: u64 = 0;
    for (let i = 0; i < count; i++) total += <u64>r.word(first + i);
    if (r.wordCount < first + count || total > <u64>max) return E_INVALID_ARGUMENT;
    if (this.pathCap != 0) {
      const status = this.region.inspect(this.pathCap);
      if (status < 0) return status;
      if (!this.region.holds(0, <u32>total)) return E_INVALID_ARGUMENT;
      memory.copy(paths, this.region.address, <usize>total);
    } else {
      const words = first + count;
      if (<u64>(r.wordCount - words) * 4 < total) return E_BAD_MESSAGE;
      memory.copy(paths, r.wordsAddress(words), <usize>total);
    }
    return <i32>total;
  }

  /**
   * The directory a RENAME or LINK puts its new name in: the one the request's token names, or
   * the handle's own; it must have FS_RIGHTS_DESTINATION. Its inode, or a status.
   */
  destination(): i32 {
    if (this.tokenCap == 0) {
      return fsRightsAllow(this.handles.rights(this.index), FS_RIGHTS_DESTINATION) ? <i32>this.ino : E_MISSING_RIGHT;
    }
    const status = this.tokens.identify(this.tokenCap);
    if (status < 0) return status;
    const index = this.handles.lookup(this.tokens.badge);
    if (index < 0) return FS_E_STALE;
    if (this.handles.kind(index) != KIND_DIR) return FS_E_NOT_DIR;
    if (!fsRightsAllow(this.handles.rights(index), FS_RIGHTS_DESTINATION)) return E_MISSING_RIGHT;
    const ino = this.handles.inode(index);
    const at = this.volume.inode(ino);
    if (at == 0) return this.volume.status;
    if (load<u32>(at + I_GENERATION_AT) != this.handles.inodeGeneration(index) || load<u32>(at + I_KIND_AT) != KIND_DIR) return FS_E_STALE;
    return <i32>ino;
  }

  /**
   * Inode `ino` lost one name. A directory (it had one) is freed; a file or link whose count
   * reaches 0 is freed unless a handle holds it open (an orphan then, freed at its last close).
   * 0 or a status.
   */
  dropLink(ino: u32): i32 {
    const at = this.volume.inode(ino);
    if (at == 0) return this.volume.status;
    if (load<u32>(at + I_KIND_AT) == KIND_DIR) return this.volume.freeInode(ino);
    const links = load<u32>(at + I_LINKS_AT);
    store<u32>(at + I_LINKS_AT, links > 0 ? links - 1 : 0);
    this.volume.changed(at);
    if (links > 1 || this.handles.holds(ino)) return 0;
    return this.volume.freeInode(ino);
  }

  /** A handle on inode `ino` went (closed, or taken back): an orphan no other handle holds is freed. 0 or a status. */
  release(ino: u32, except: i32 = -1): i32 {
    if (ino == 0) return 0;
    const at = this.volume.inode(ino);
    if (at == 0) return this.volume.status;
    const kind = load<u32>(at + I_KIND_AT);
    if (kind == KIND_FREE || kind == KIND_DIR || load<u32>(at + I_LINKS_AT) != 0) return 0;
    if (this.handles.holds(ino, except)) return 0;
    return this.volume.freeInode(ino);
  }
}
