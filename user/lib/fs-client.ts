// A client of the file system server (docs/FS.md). Handles are capabilities: a directory or file
// capability the server minted, held in this process's table. The root comes from the Cappage
// init gives a line that says `use=fs` (fsRoot); everything else is opened under it.
//
// Data moves in a Region this client owns (its buffer, mapped at `address`): READ and READDIR
// move the buffer's owner capability to the server and get it back in the reply; WRITE and APPEND
// send a read-only view. The kernel maps and unmaps every page of a Region each time it moves, so
// a transfer much smaller than the buffer goes through a Region of 1 or 16 pages instead, copied
// to or from the buffer here (4 KiB copied costs far less than 256 pages mapped twice). Small
// transfers may go in message words instead (readInline, writeInline: at most FS_INLINE_BYTES).
// Paths go in words when they fit, else in a page of their own. Nothing allocates but the
// buffers, made once (and again if a dead server took one).
//
// Each server this client talks to is lent Regions of its own (`Lent`: a WRITE's view, an attach
// filler, the path page's view may be kept, and a READ's owner shows the server the whole Region),
// so that no server sees what passes to or from another (redteam11). A handle's server is known by
// where the handle came from: one this client opened (or attached) is its directory's server's;
// any other slot is a server of its own until `sameServer` says otherwise. While a client has
// talked to one server only, that server is lent the buffer itself (no copy: the fast path); when
// a second appears, the buffer becomes the first server's and the client makes itself a new one
// (`address` changes then), which no server is lent: every transfer is copied between it and the
// server's own Regions. Drop a handle with `close` or `forget`, never capDrop alone: a slot
// refilled from elsewhere would be taken for the old handle's server.
//
// Import it directly: `import { FsClient } from "../lib/fs-client";`.
import { CAP_MOVE, CAP_TABLE_SLOTS, KIND_REGION, KIND_RECEIVER, OP_REGION_INFO } from "./abi";
import { RegionBuffer } from "./region-buffer";
import { E_BAD_MESSAGE, E_INVALID_ARGUMENT, E_INVALID_CAP, E_MISSING_RIGHT, E_PEER_DEAD, E_QUEUE_FULL } from "./errors";
import {
  msgBegin, msgAddWord, msgAddCap, msgInvoke, msgLabel, msgWord, msgWord64, msgCap, msgCapCount, msgWordCount,
  msgBuffer, MAX_DATA_WORDS,
} from "./message";
import { capKind, capDrop } from "./caps/capability";
import { Cappage } from "./caps/cappage";
import { Memory } from "./caps/memory";
import { Region } from "./caps/region";
import { sleep } from "./time";
import { MappedFiles, ReadCounts, MAP_MISS } from "./fs-map";
import {
  FS_INFO, FS_OPEN, FS_MKDIR, FS_UNLINK, FS_RENAME, FS_READ, FS_WRITE, FS_APPEND, FS_TRUNCATE, FS_STAT, FS_READDIR,
  FS_CLOSE, FS_SYNC, FS_TOKEN, FS_LINK, FS_SYMLINK, FS_SET_TIMES, FS_REMOVE, FS_ATTACH, FS_MAP, FS_INLINE_BYTES, FS_PATH_MAX, FS_READ_FILL,
  FS_DIRENT_HEADER, FS_SYMLINK_MAX, FS_OPEN_NOFOLLOW, FS_OPEN_DIRECTORY, FS_OPEN_SESSION, FS_RIGHTS_ALL, FS_RIGHT_READ, FS_KIND_SYMLINK,
  FS_LINK_FOLLOW, FS_MAP_RELEASE, FS_MAP_VALID_AT, fsStatus,
} from "./fs-protocol";

export * from "./fs-protocol";

/** Paths of one request: at most FS_PATH_MAX bytes, and SYMLINK's target besides. */
const PATHS_MAX: i32 = FS_PATH_MAX + <i32>FS_SYMLINK_MAX + 1;
const pathBytes: usize = memory.data(PATHS_MAX + 8);
const BODY: usize = 20;
/** The smaller transfer Regions' sizes, in pages. */
const SMALL_PAGES: u32 = 1;
const MEDIUM_PAGES: u32 = 16;
/** Attached handles one client keeps track of (attach answers E_QUEUE_FULL past that). */
const ATTACHED_MAX: i32 = 8;
/**
 * Attached reads of at least this many bytes ask the server to write them into this buffer
 * (FS_READ_FILL: the kernel's copy, a call of the server's more); smaller ones are copied here
 * from the read buffer, which costs less than that call: a cached 4 KiB read took 3.5-3.7 µs
 * filled against 2.5-2.7 copied (bench/fs-profile.ts, sequential-cached-again, one run each way).
 */
const FILL_MIN_BYTES: u32 = 32768;
/**
 * `read` maps a file by itself (FS_MAP) at its handle's this many-th read through the server of at
 * most AUTO_MAP_CALL_MAX bytes that answered bytes: a file read once in one or two calls (a small file read whole, a
 * header looked at) never pays for a map; one read again and again, or in small pieces, pays one
 * MAP call (about a read's) and the map's making (a copy of what the cache holds of the file, at
 * most 16 MiB) and reads with no call from then on (docs/FS.md "Mapped reads").
 */
const AUTO_MAP_READS: i32 = 4;
/** Larger reads save only the call, a small part of their cost, and do not count towards a map. */
const AUTO_MAP_CALL_MAX: u32 = 65536;
/** After a MAP the server refused for want of room: this many more reads before asking again. */
const AUTO_MAP_BACKOFF: i32 = 64;
/** Slots whose server a client knows, at first (it grows to the highest slot known). */
const SLOTS_FIRST: i32 = 32;
/** Servers one client keeps Regions for at once (a new one past that: E_QUEUE_FULL, unless one has no handle left). */
const SERVERS_MAX: i32 = 8;

/**
 * The Regions lent to one server: the buffer-sized one (the client's buffer itself while it has one
 * server), the 1- and 16-page transfer Regions, and the page for long paths. No other server is
 * ever lent any of them.
 */
class Lent {
  readonly small: RegionBuffer;
  readonly medium: RegionBuffer;
  /** A page for paths too long for words (made when first needed), and its view. */
  pathRegion: i32 = 0;
  pathView: i32 = 0;
  pathAddress: usize = 0;
  /** Slots known to be this server's handles (a Lent with none may be made afresh for another server). */
  handles: i32 = 0;

  constructor(public buffer: RegionBuffer) {
    this.small = new RegionBuffer(buffer.memory, SMALL_PAGES);
    this.medium = new RegionBuffer(buffer.memory, MEDIUM_PAGES);
  }

  /** Drops every Region (a server may keep views of them: they are never lent to another). */
  drop(): void {
    dropBuffer(this.buffer);
    dropBuffer(this.small);
    dropBuffer(this.medium);
    if (this.pathView != 0) capDrop(this.pathView);
    if (this.pathRegion != 0) capDrop(this.pathRegion);
    this.pathView = 0;
    this.pathRegion = 0;
    this.pathAddress = 0;
  }
}

function dropBuffer(b: RegionBuffer): void {
  if (b.view != 0) capDrop(b.view);
  if (b.region != 0) capDrop(b.region);
  b.view = 0;
  b.region = 0;
  b.address = 0;
}

/**
 * The root directory capability a publisher put at `index` of the Cappage at `slot` (init's
 * `use=NAME` grant), waiting for it while the server starts, or while the Cappage still holds a
 * dead server's root (E_PEER_DEAD: its successor is on the way): its slot here, or a status.
 */
export function fsRoot(slot: i32, index: u32 = 0, tries: i32 = 1000, waitNs: i64 = 10_000_000): i32 {
  let status = E_INVALID_CAP;
  for (let i = 0; i < tries; i++) {
    if (i > 0) sleep(waitNs);
    status = new Cappage(slot).get(index);
    if (status <= 0) continue;
    msgBegin(FS_INFO);
    const alive = msgInvoke(status);
    if (alive != E_PEER_DEAD) return status;
    capDrop(status);
    status = E_PEER_DEAD;
  }
  return status;
}

export class FsClient {
  /** The data buffer the caller reads and writes at `address`; lent to a server only while the client has one. */
  private main: RegionBuffer;
  /** The Regions lent to each server (`Lent`), and each capability slot's server (index + 1; 0: not known). */
  private readonly lent: Lent[] = [];
  // (Grown to the highest slot known, not the table's 1024: a client's heap is its working set,
  // and a page more of it resident in a small machine's paging made a sweep thrash.)
  private serverOf: StaticArray<u8> = new StaticArray<u8>(SLOTS_FIRST);
  /** The server the path page of the request being built belongs to. */
  private pathLent: Lent | null = null;
  /** Attached handles (FS_ATTACH): the handle's slot, its read buffer's view, where that is mapped and its bytes. */
  private readonly attachedHandle: StaticArray<i32> = new StaticArray<i32>(ATTACHED_MAX);
  /** The entry `attachment` found last. */
  private lastAttached: i32 = 0;
  private readonly attachedView: StaticArray<i32> = new StaticArray<i32>(ATTACHED_MAX);
  private readonly attachedAddress: StaticArray<usize> = new StaticArray<usize>(ATTACHED_MAX);
  private readonly attachedBytes: StaticArray<u32> = new StaticArray<u32>(ATTACHED_MAX);
  /** Files mapped read-only (FS_MAP): their reads are answered here while the map holds them. */
  readonly maps: MappedFiles = new MappedFiles();
  /**
   * `read` maps a handle's file after this many of its reads through the server (AUTO_MAP_READS);
   * 0: never (every read not mapped by `map` calls the server: benches of the call path, tests of it).
   */
  autoMapAfter: i32 = AUTO_MAP_READS;
  /** Reads through the server per handle (the most recent handles'), for autoMapAfter. */
  private readonly serverReads: ReadCounts = new ReadCounts();
  private replied: bool = false;
  /** The path page's view went with the call being made (it comes back as the reply's first capability). */
  private pathSent: bool = false;
  private firstLength: u32 = 0;
  private secondLength: u32 = 0;
  private twoPaths: bool = false;
  private inWords: bool = true;

  // What the last call answered.
  kind: u32 = 0;
  size: u64 = 0;
  inode: u32 = 0;
  created: i64 = 0;
  modified: i64 = 0;
  accessed: i64 = 0;
  changed: i64 = 0;
  rights: u32 = 0;
  blocks: u32 = 0;
  links: u32 = 0;
  /** readView: where the bytes it read lie (the attached handle's read buffer, read-only here). */
  viewAddress: usize = 0;
  /** READDIR: entries in the buffer, the cookie to continue from, bytes of entries. */
  entries: u32 = 0;
  cookie: u32 = 0;
  entryBytes: u32 = 0;

  constructor(readonly memory: i32, readonly pages: u32) {
    this.main = new RegionBuffer(memory, pages);
  }

  /** The caller's buffer (its Region; `address` is where it is mapped). */
  get buffer(): RegionBuffer {
    return this.main;
  }

  /**
   * Drops every Region this client made (its buffer, those lent to servers, their path pages): for
   * a client made for one task, such as the shell's reading of a binary into its job's Memory.
   * Kept, they stayed in the caller's table after that Memory went, charged to the caller (a Region
   * outlives its Memory while a table holds it): the shell kept one the size of each program it ran
   * from a file (redteam18). The client makes new ones if it is used again.
   */
  drop(): void {
    for (let i = 0; i < this.lent.length; i++) unchecked(this.lent[i]).drop();
    this.lent.length = 0;
    this.serverOf = new StaticArray<u8>(SLOTS_FIRST);
    this.pathLent = null;
    dropBuffer(this.main);
  }

  /**
   * Says that `slot` reaches the same server as `like` (a handle of it), so that the two share
   * lent Regions rather than each being lent its own: for roots given from outside whose giver
   * the caller trusts to know. Only the caller knows it: the kernel does not say whose Receiver a
   * capability reaches. Said wrongly, the two servers see each other's transfers.
   */
  sameServer(slot: i32, like: i32): void {
    const server = this.serverIndex(like);
    if (server < 0 || slot <= 0 || slot >= CAP_TABLE_SLOTS) return;
    this.assign(slot, server);
  }

  /** Forgets `slot` (a handle dropped without `close`), so that a capability put there later is not taken for that server's. */
  forget(slot: i32): void {
    if (slot <= 0 || slot >= CAP_TABLE_SLOTS) return;
    if (slot >= this.serverOf.length) return;
    const was = <i32>unchecked(this.serverOf[slot]);
    if (was == 0) return;
    unchecked((this.serverOf[slot] = 0));
    unchecked(this.lent[was - 1]).handles--;
  }

  private assign(slot: i32, server: i32): void {
    this.forget(slot);
    if (slot >= this.serverOf.length) {
      let length = this.serverOf.length;
      while (length <= slot) length <<= 1;
      const grown = new StaticArray<u8>(min(length, CAP_TABLE_SLOTS));
      memory.copy(changetype<usize>(grown), changetype<usize>(this.serverOf), <usize>this.serverOf.length);
      this.serverOf = grown;
    }
    unchecked((this.serverOf[slot] = <u8>(server + 1)));
    unchecked(this.lent[server]).handles++;
  }

  // The index of `cap`'s server among `lent` (a new one for a slot not known), or a status.
  private serverIndex(cap: i32): i32 {
    if (cap <= 0 || cap >= CAP_TABLE_SLOTS) return this.lent.length > 0 ? 0 : this.newServer(0); // the call fails E_INVALID_CAP before anything is lent
    const known = cap < this.serverOf.length ? <i32>unchecked(this.serverOf[cap]) : 0;
    if (known > 0) return known - 1;
    const server = this.newServer(cap);
    if (server >= 0 && cap > 0 && cap < CAP_TABLE_SLOTS) this.assign(cap, server);
    return server;
  }

  // Regions for a server not met before: the buffer itself for the first; for the second the
  // buffer becomes the first's and the client makes itself another, which no server is lent.
  private newServer(cap: i32): i32 {
    const count = this.lent.length;
    if (count == 0) {
      this.lent.push(new Lent(this.main));
      return 0;
    }
    if (count == 1 && unchecked(this.lent[0]).buffer == this.main) {
      const mine = new RegionBuffer(this.memory, this.pages);
      const old = this.main;
      if (old.region != 0) {
        const made = mine.ensure();
        if (made < 0) return made;
        memory.copy(mine.address, old.address, old.bytes); // what the caller put there, at its new address
      }
      this.main = mine;
    }
    if (count < SERVERS_MAX) {
      this.lent.push(new Lent(new RegionBuffer(this.memory, this.pages)));
      return count;
    }
    // A server none of whose handles this client holds any more: its Regions go (it may keep
    // views of them), and new ones are made for the newcomer.
    for (let i = 0; i < count; i++) {
      const lent = unchecked(this.lent[i]);
      if (lent.handles > 0) continue;
      lent.drop();
      this.lent[i] = new Lent(new RegionBuffer(this.memory, this.pages));
      return i;
    }
    return E_QUEUE_FULL;
  }

  // The Region a transfer of `length` bytes goes through: the server's buffer-sized one, or a
  // smaller one when it holds them and the buffer is larger.
  private transferFor(lent: Lent, length: u32): RegionBuffer {
    const pages = (length + 4095) >> 12;
    if (pages <= SMALL_PAGES && this.pages > SMALL_PAGES) return lent.small;
    if (pages <= MEDIUM_PAGES && this.pages > MEDIUM_PAGES) return lent.medium;
    return lent.buffer;
  }

  /** Where the buffer is mapped here; it changes if a buffer lost with a dead server is replaced. */
  get address(): usize {
    return this.main.address;
  }
  /** The buffer's owner capability (0: none yet). */
  get region(): i32 {
    return this.main.region;
  }

  get bufferBytes(): u32 {
    return this.main.bytes;
  }

  /** Makes the buffer now (every call makes it when it needs it): 0 or a status. */
  prepare(): i32 {
    return this.main.ensure();
  }

  /** FS_INFO (any capability, the registry's "fs" too): words in the message buffer (msgWord), 0 or a status. */
  info(cap: i32): i32 {
    msgBegin(FS_INFO);
    return this.call(cap);
  }

  /**
   * A new handle on directory `dir` with `rights` that starts a session of its own (FS_OPEN_SESSION):
   * what is opened through it is charged to that session, which a full table cannot starve (docs/FS.md
   * "Sessions"). Only through a published root (session 0): through a session's handle it is a
   * plain handle of that session. The new handle, or a status.
   */
  session(dir: i32, rights: u32): i32 {
    return this.open(dir, ".", (rights & FS_RIGHTS_ALL) | FS_OPEN_DIRECTORY | FS_OPEN_SESSION);
  }

  /** Opens `path` under directory `dir` with `flags` (rights | FS_OPEN_*): the new handle, or a status; kind, size, inode set. */
  open(dir: i32, path: string, flags: u32): i32 {
    const prepared = this.preparePaths(dir, path, null, 1);
    if (prepared < 0) return prepared;
    msgBegin(FS_OPEN);
    msgAddWord(flags);
    this.addPaths();
    const status = this.call(dir);
    if (status < 0) return status;
    this.kind = msgWord(0);
    this.size = msgWord64(1);
    this.inode = msgWord(3);
    const count = msgCapCount();
    if (count == 0) return E_INVALID_ARGUMENT;
    const handle = msgCap(count - 1);
    this.sameServer(handle, dir); // the directory's server's
    return handle;
  }

  mkdir(dir: i32, path: string): i32 {
    const prepared = this.preparePaths(dir, path, null, 0);
    if (prepared < 0) return prepared;
    msgBegin(FS_MKDIR);
    this.addPaths();
    return this.call(dir);
  }

  /** Removes a file, or an empty directory. */
  unlink(dir: i32, path: string): i32 {
    const prepared = this.preparePaths(dir, path, null, 0);
    if (prepared < 0) return prepared;
    msgBegin(FS_UNLINK);
    this.addPaths();
    return this.call(dir);
  }

  /** Renames `from` to `to`, both under `dir` (a file replaces a file). */
  rename(dir: i32, from: string, to: string): i32 {
    return this.renameTo(dir, from, dir, to);
  }

  /**
   * Renames `from` under directory `fromDir` to `to` under directory `toDir` (another handle of the
   * same server: its token goes with the request). One transaction: after a crash the name is
   * under one of them, never both nor neither.
   */
  renameTo(fromDir: i32, from: string, toDir: i32, to: string): i32 {
    const token = toDir == fromDir ? 0 : this.token(toDir);
    if (token < 0) return token;
    const prepared = this.preparePaths(fromDir, from, to, 0);
    if (prepared < 0) return this.dropToken(token, prepared);
    msgBegin(FS_RENAME);
    this.addPaths();
    if (token > 0) msgAddCap(<u32>token | CAP_MOVE);
    return this.dropToken(token, this.call(fromDir));
  }

  /**
   * Gives the file or symbolic link `from` (under `fromDir`; with `follow`, a link there is followed)
   * the new name `to` under `toDir`: a hard link.
   */
  link(fromDir: i32, from: string, toDir: i32, to: string, follow: bool = false): i32 {
    const token = toDir == fromDir ? 0 : this.token(toDir);
    if (token < 0) return token;
    const prepared = this.preparePaths(fromDir, from, to, 1);
    if (prepared < 0) return this.dropToken(token, prepared);
    msgBegin(FS_LINK);
    msgAddWord(follow ? FS_LINK_FOLLOW : 0);
    this.addPaths();
    if (token > 0) msgAddCap(<u32>token | CAP_MOVE);
    return this.dropToken(token, this.call(fromDir));
  }

  /** Makes `path` under `dir` a symbolic link to `target` (which may name nothing). */
  symlink(dir: i32, target: string, path: string): i32 {
    if (String.UTF8.byteLength(path) > FS_PATH_MAX) return E_INVALID_ARGUMENT;
    const prepared = this.preparePaths(dir, target, path, 0, PATHS_MAX);
    if (prepared < 0) return prepared;
    msgBegin(FS_SYMLINK);
    this.addPaths();
    return this.call(dir);
  }

  /**
   * The target of the symbolic link `path` under `dir`, into the buffer at `address`: its length
   * (E_INVALID_ARGUMENT when `path` is no link), or a status.
   */
  readlink(dir: i32, path: string): i32 {
    const link = this.open(dir, path, FS_RIGHT_READ | FS_OPEN_NOFOLLOW);
    if (link < 0) return link;
    const n = this.kind == FS_KIND_SYMLINK ? this.read(link, 0, this.bufferBytes) : E_INVALID_ARGUMENT;
    this.close(link);
    return n;
  }

  /** Removes `path` under `dir`, which must be a directory (FS_REMOVE_DIR) or must not be (FS_REMOVE_FILE). */
  remove(dir: i32, path: string, flags: u32): i32 {
    const prepared = this.preparePaths(dir, path, null, 1);
    if (prepared < 0) return prepared;
    msgBegin(FS_REMOVE);
    msgAddWord(flags);
    this.addPaths();
    return this.call(dir);
  }

  /** Sets the times of what `handle` names (flags: FS_TIMES_*; ns since 1970); the change time becomes now. */
  setTimes(handle: i32, flags: u32, accessed: i64, modified: i64): i32 {
    msgBegin(FS_SET_TIMES);
    msgAddWord(flags);
    msgAddWord(<u32>accessed);
    msgAddWord(<u32>(<u64>accessed >>> 32));
    msgAddWord(<u32>modified);
    msgAddWord(<u32>(<u64>modified >>> 32));
    return this.call(handle);
  }

  /** A token naming directory `dir`, for RENAME or LINK through another handle: its slot, or a status. */
  token(dir: i32): i32 {
    msgBegin(FS_TOKEN);
    const status = this.call(dir);
    if (status < 0) return status;
    return msgCapCount() > 0 ? msgCap(0) : E_INVALID_ARGUMENT;
  }

  // Drops the token that went with a request and came back in its reply (or not), and answers `status`.
  private dropToken(token: i32, status: i32): i32 {
    if (token > 0) {
      if (this.replied && msgCapCount() > 0) capDrop(msgCap(msgCapCount() - 1));
      else if (!this.replied && capKind(token) == <i32>KIND_RECEIVER) capDrop(token); // the call failed before it moved
    }
    return status;
  }

  /** Reads up to `length` bytes at `offset` into the buffer at `at`: the bytes read (0 at the end), or a status. */
  read(file: i32, offset: u64, length: u32, at: u32 = 0): i32 {
    const buffer = this.main.ready();
    if (buffer < 0) return buffer;
    const mapped = this.maps.find(file);
    if (mapped >= 0 && <u64>at + <u64>length <= <u64>this.main.bytes) {
      // A mapped file: no call while the map holds the bytes (fs-map.ts).
      const n = this.maps.read(mapped, offset, length, this.main.address + at);
      if (n != MAP_MISS) return n;
    }
    const n = this.readThroughServer(file, offset, length, at);
    if (n > 0 && mapped < 0 && this.autoMapAfter > 0 && length <= AUTO_MAP_CALL_MAX) this.countRead(file);
    return n;
  }

  // A handle's file read through the server once more: mapped when it has been often enough (AUTO_MAP_READS).
  private countRead(file: i32): void {
    if (this.maps.find(file) >= 0) return; // (mapped since, and gone again: counted afresh)
    if (this.serverReads.count(file) < this.autoMapAfter) return;
    const status = this.map(file);
    // A server that never maps this handle (a direct handle, a link, the host share) is not asked
    // again; one without room is, after a while.
    if (status == E_INVALID_ARGUMENT || status == E_MISSING_RIGHT || status == E_BAD_MESSAGE || status == E_INVALID_CAP) this.serverReads.reset(file, i32.MIN_VALUE);
    else if (status < 0) this.serverReads.reset(file, -AUTO_MAP_BACKOFF);
    else this.serverReads.reset(file, 0); // a map the server frees later (memory short) is asked for again only after as many reads
  }

  // `read` through the server (the map did not answer).
  private readThroughServer(file: i32, offset: u64, length: u32, at: u32): i32 {
    const server = this.serverIndex(file);
    if (server < 0) return server;
    const lent = unchecked(this.lent[server]);
    const main = this.main;
    const attached = this.attachment(file);
    if (attached >= 0 && length <= unchecked(this.attachedBytes[attached]) && <u64>at + <u64>length <= <u64>main.bytes) {
      // No Region moves: the server writes the bytes into its buffer-sized Region (this buffer,
      // while it has one server) through the filler ATTACH gave it (one copy); or, when the kernel
      // refused that (word 1 is 0), into its read buffer, of which this process holds a view, and
      // they are copied on from there.
      this.transfer(FS_READ, offset, length, length >= FILL_MIN_BYTES ? at | FS_READ_FILL : at);
      const status = this.call(file);
      if (status < 0) return status;
      const n = min(msgWord(0), length);
      if (msgWordCount() < 2 || msgWord(1) == 0) memory.copy(main.address + at, unchecked(this.attachedAddress[attached]), n);
      else if (lent.buffer != main) {
        if (lent.buffer.region == 0) return E_BAD_MESSAGE; // it said it filled a Region this client no longer has
        memory.copy(main.address + at, lent.buffer.address + at, n);
      }
      return <i32>n;
    }
    // Past the buffer's end the server says what is wrong, with the buffer-sized Region.
    const whole = <u64>at + <u64>length > <u64>main.bytes;
    const through = whole ? lent.buffer : this.transferFor(lent, length);
    const made = through.ready();
    if (made < 0) return made;
    const from: u32 = through == lent.buffer ? at : 0;
    this.transfer(FS_READ, offset, length, from);
    msgAddCap(<u32>through.region | CAP_MOVE);
    const status = this.call(file);
    const n = status >= 0 ? <i32>min(msgWord(0), length) : 0;
    const back = this.regain(through);
    if (status < 0) return status;
    if (back < 0) return back;
    if (through != main && n > 0 && !whole) memory.copy(main.address + at, through.address + from, <usize>n);
    return n;
  }

  /**
   * Reads up to `length` bytes at `offset` through attached handle `file` and leaves them where the
   * server put them, in the handle's read buffer, which this process sees read-only at
   * `viewAddress` (until the next request on the handle): one copy, the server's, where `read`
   * makes a second into the buffer. The bytes read (0 at the end), or a status; E_INVALID_ARGUMENT
   * for a handle that is not attached, or more than its read buffer holds.
   */
  readView(file: i32, offset: u64, length: u32): i32 {
    const attached = this.attachment(file);
    if (attached < 0 || length > unchecked(this.attachedBytes[attached])) return E_INVALID_ARGUMENT;
    this.transfer(FS_READ, offset, length, 0);
    const status = this.call(file);
    if (status < 0) return status;
    this.viewAddress = unchecked(this.attachedAddress[attached]);
    return <i32>min(msgWord(0), length);
  }

  /** Writes `length` bytes from the buffer at `at` to `offset`: the bytes written, or a status. */
  write(file: i32, offset: u64, length: u32, at: u32 = 0): i32 {
    return this.send(FS_WRITE, file, offset, length, at);
  }

  /** Writes `length` bytes from the buffer at `at` at the end of the file: the bytes written; `size` is the new size. */
  append(file: i32, length: u32, at: u32 = 0): i32 {
    const n = this.send(FS_APPEND, file, 0, length, at);
    if (n >= 0) this.size = msgWord64(1);
    return n;
  }

  /**
   * Reads up to FS_INLINE_BYTES at `offset` into `to` (any memory of this process), in message
   * words (through its read buffer, for an attached handle); from the file's map when it holds
   * them, and counted towards mapping the file as `read`'s are (autoMapAfter).
   */
  readInline(file: i32, offset: u64, to: usize, length: u32): i32 {
    if (length > FS_INLINE_BYTES) return E_INVALID_ARGUMENT;
    const mapped = this.maps.find(file);
    if (mapped >= 0) {
      // From the file's map, as `read` does (no call while it holds the bytes).
      const n = this.maps.read(mapped, offset, length, to);
      if (n != MAP_MISS) return n;
    }
    const attached = this.attachment(file);
    this.transfer(FS_READ, offset, length, 0);
    const status = this.call(file);
    if (status < 0) return status;
    const n = min(msgWord(0), length);
    memory.copy(to, attached >= 0 ? unchecked(this.attachedAddress[attached]) : msgBuffer() + BODY + 4, n);
    if (n > 0 && mapped < 0 && this.autoMapAfter > 0) this.countRead(file);
    return <i32>n;
  }

  /** Writes `length` (at most FS_INLINE_BYTES) bytes from `from` at `offset`, in message words (not on an attached handle: `write`). */
  writeInline(file: i32, offset: u64, from: usize, length: u32): i32 {
    if (length > FS_INLINE_BYTES || this.attachment(file) >= 0) return E_INVALID_ARGUMENT;
    msgBegin(FS_WRITE);
    msgAddWord(<u32>offset);
    msgAddWord(<u32>(offset >>> 32));
    msgAddWord(length);
    for (let i: u32 = 0; i < length; i += 4) {
      let word: u32 = 0;
      for (let b: u32 = 0; b < 4 && i + b < length; b++) word |= <u32>load<u8>(from + i + b) << (b * 8);
      msgAddWord(word);
    }
    const status = this.call(file);
    return status < 0 ? status : <i32>msgWord(0);
  }

  truncate(file: i32, size: u64): i32 {
    msgBegin(FS_TRUNCATE);
    msgAddWord(<u32>size);
    msgAddWord(<u32>(size >>> 32));
    return this.call(file);
  }

  /** Fills kind, size, created, modified, accessed, changed, inode, rights, blocks and links: 0 or a status. */
  stat(handle: i32): i32 {
    msgBegin(FS_STAT);
    const status = this.call(handle);
    if (status < 0) return status;
    this.kind = msgWord(0);
    this.size = msgWord64(1);
    this.created = <i64>msgWord64(3);
    this.modified = <i64>msgWord64(5);
    this.inode = msgWord(7);
    this.rights = msgWord(8);
    this.blocks = msgWord(9);
    this.accessed = <i64>msgWord64(10);
    this.changed = <i64>msgWord64(12);
    this.links = msgWord(14);
    return 0;
  }

  /**
   * Reads entries of directory `dir` from `cookie` (0: the first; with FS_READDIR_DOTS "." and ".."
   * come first) into the buffer: how many (0: no more), `cookie` for the next call. Walk them with direntInode/Kind/NameLength/Name and
   * direntNext, starting at `address`.
   */
  readdir(dir: i32, cookie: u32, flags: u32 = 0): i32 {
    const buffer = this.main.ensure();
    if (buffer < 0) return buffer;
    const server = this.serverIndex(dir);
    if (server < 0) return server;
    const through = unchecked(this.lent[server]).buffer;
    const made = through.ensure();
    if (made < 0) return made;
    msgBegin(FS_READDIR);
    msgAddWord(cookie);
    msgAddWord(0);
    msgAddWord(this.bufferBytes);
    if (flags != 0) msgAddWord(flags);
    msgAddCap(<u32>through.region | CAP_MOVE);
    const status = this.call(dir);
    if (status >= 0) {
      this.entries = msgWord(0);
      this.cookie = msgWord(1);
      this.entryBytes = msgWord(2);
    }
    const back = this.regain(through);
    if (status < 0) return status;
    if (back < 0 || !this.entriesFit(through)) {
      this.entries = 0;
      return back < 0 ? back : E_BAD_MESSAGE;
    }
    if (through != this.main) memory.copy(this.main.address, through.address, this.entryBytes);
    return <i32>this.entries;
  }

  /** Commits everything done so far to the disk. */
  sync(handle: i32): i32 {
    msgBegin(FS_SYNC);
    return this.call(handle);
  }

  /** Closes the handle (the server frees its entry, and an attached handle's buffers) and drops the capability. */
  close(handle: i32): i32 {
    // The map's view goes first: a view of a map the CLOSE frees would be charged to this process
    // for the range it keeps reserved until it is dropped (docs/MEMORY.md).
    this.maps.forget(handle);
    this.serverReads.forget(handle);
    msgBegin(FS_CLOSE);
    const status = this.call(handle);
    capDrop(handle);
    this.forget(handle);
    const attached = this.attachment(handle);
    if (attached >= 0) {
      capDrop(unchecked(this.attachedView[attached]));
      unchecked((this.attachedHandle[attached] = 0));
    }
    return status;
  }

  /**
   * A new handle on `file` whose reads (up to the buffer's size, FS_ATTACH_READ_PAGES_MAX pages at most) and writes move no
   * Region (FS_ATTACH, docs/FS.md "Attached handles"): the server keeps a view of this client's
   * buffer and makes a read buffer this client sees. Its slot, or a status (FS_E_TABLE_FULL: the
   * server has as many as it keeps; E_QUEUE_FULL: this client has ATTACHED_MAX). Close it with
   * `close`; the plain handle stays open until closed itself.
   */
  attach(file: i32): i32 {
    let free = -1;
    for (let i = 0; i < ATTACHED_MAX && free < 0; i++) if (unchecked(this.attachedHandle[i]) == 0) free = i;
    if (free < 0) return E_QUEUE_FULL;
    const server = this.serverIndex(file);
    if (server < 0) return server;
    const lent = unchecked(this.lent[server]).buffer;
    const ready = lent.ready();
    if (ready < 0) return ready;
    // The server keeps it: a filler, so that reads can land in its buffer-sized Region (this
    // buffer while the client has one server; docs/FS.md "Attached handles").
    const view = new Region(lent.region).filler();
    if (view < 0) return view;
    msgBegin(FS_ATTACH);
    msgAddWord(this.pages); // a read buffer as large as this one (the server may give less)
    msgAddCap(<u32>view | CAP_MOVE);
    const status = this.call(file);
    if (status < 0) {
      if (!this.replied && capKind(view) == <i32>KIND_REGION) capDrop(view);
      else if (this.replied) for (let i = 0; i < msgCapCount(); i++) capDrop(msgCap(i));
      return status;
    }
    if (msgCapCount() < 2) return E_INVALID_ARGUMENT;
    const handle = msgCap(0);
    const readView = msgCap(1);
    const bytes = msgWord(0);
    // The server's word is not trusted: reads copy up to `bytes` from the view, so the kernel must
    // say it is mapped here (REGION_INFO answers only then) and holds them all.
    msgBegin(OP_REGION_INFO);
    if (msgInvoke(readView) < 0 || <u64>bytes > <u64>msgWord(1) << 12) {
      capDrop(readView);
      this.close(handle);
      return E_BAD_MESSAGE;
    }
    unchecked((this.attachedHandle[free] = handle));
    unchecked((this.attachedView[free] = readView));
    unchecked((this.attachedAddress[free] = <usize>msgWord(0)));
    unchecked((this.attachedBytes[free] = bytes));
    this.sameServer(handle, file); // (after the answer's words: it may call the kernel)
    return handle;
  }

  /**
   * Maps `file` read-only (FS_MAP, docs/FS.md "Mapped reads"): from now on `read` on this handle
   * copies from the map what it holds, with no call, and asks the server for the rest (which the
   * server then adds to the map). `read` does this by itself for a file it reads often enough
   * (autoMapAfter). A client holds MAPPED_MAX maps at most: one more lets go of the one read least
   * recently (`unmap`). 0, or a status (E_QUOTA: the server has no room for another map;
   * E_INVALID_ARGUMENT: a server that does not map, a direct handle). Reads work as before
   * whatever it answers. `close` unmaps.
   */
  map(file: i32): i32 {
    if (this.maps.find(file) >= 0) return 0;
    let free = this.maps.free();
    if (free < 0) {
      this.unmap(this.maps.victim());
      this.maps.evicted++;
      free = this.maps.free();
    }
    msgBegin(FS_MAP);
    const status = this.call(file);
    if (status < 0) return status;
    if (msgCapCount() < 1) return E_INVALID_ARGUMENT;
    const view = msgCap(0);
    const pages = msgWord(0);
    const address = msgWord(1);
    // Reads load from the map with no call: it must be mapped here, where the server says, with
    // the header page and `pages` more, their valid bits within the header (else E_BAD_MESSAGE).
    msgBegin(OP_REGION_INFO);
    const mapped = msgInvoke(view);
    if (mapped < 0 || msgWord(0) != address || <u64>pages + 1 > <u64>msgWord(1) || <u64>pages > <u64>(4096 - FS_MAP_VALID_AT) << 3) {
      capDrop(view);
      return E_BAD_MESSAGE;
    }
    this.maps.set(free, file, view, <usize>address, pages);
    return 0;
  }

  /**
   * Lets go of `file`'s map: the view leaves this process's space and the handle stops holding the
   * map (FS_MAP_RELEASE: the server frees it when no other handle holds it). Its reads call the
   * server again. 0, or a status.
   */
  unmap(file: i32): i32 {
    if (this.maps.find(file) < 0) return 0;
    this.maps.forget(file);
    this.serverReads.forget(file);
    msgBegin(FS_MAP);
    msgAddWord(FS_MAP_RELEASE);
    return this.call(file);
  }

  // The entry of `handle` among the attached ones, or -1.
  private attachment(handle: i32): i32 {
    if (handle == 0) return -1;
    // The entry found last (a reader keeps to one handle): checked, so nothing need forget it.
    const last = this.lastAttached;
    if (unchecked(this.attachedHandle[last]) == handle) return last;
    for (let i = 0; i < ATTACHED_MAX; i++) {
      if (unchecked(this.attachedHandle[i]) == handle) {
        this.lastAttached = i;
        return i;
      }
    }
    return -1;
  }

  // ---- Internals -----------------------------------------------------------------------------

  private transfer(label: u32, offset: u64, length: u32, at: u32): void {
    msgBegin(label);
    msgAddWord(<u32>offset);
    msgAddWord(<u32>(offset >>> 32));
    msgAddWord(length);
    msgAddWord(at);
  }

  private send(label: u32, file: i32, offset: u64, length: u32, at: u32): i32 {
    const buffer = this.main.ready();
    if (buffer < 0) return buffer;
    const server = this.serverIndex(file);
    if (server < 0) return server;
    const lent = unchecked(this.lent[server]);
    const main = this.main;
    const fits = <u64>at + <u64>length <= <u64>main.bytes;
    if (this.attachment(file) >= 0) {
      // No Region moves: the server holds a view of its buffer-sized Region and reads it at `at`
      // (past the end it says what is wrong).
      if (lent.buffer != main && fits) {
        const made = lent.buffer.ready();
        if (made < 0) return made;
        memory.copy(lent.buffer.address + at, main.address + at, length);
      }
      this.transfer(label, offset, length, at);
      const status = this.call(file);
      return status < 0 ? status : <i32>msgWord(0);
    }
    // Past the buffer's end the server says what is wrong, with the buffer-sized Region.
    const through = fits ? this.transferFor(lent, length) : lent.buffer;
    if (through != main) {
      const made = through.ready();
      if (made < 0) return made;
      if (fits) {
        const to: u32 = through == lent.buffer ? at : 0;
        memory.copy(through.address + to, main.address + at, length);
        at = to;
      }
    }
    const view = through.readyView();
    if (view < 0) return view;
    this.transfer(label, offset, length, at);
    msgAddCap(<u32>through.view | CAP_MOVE);
    const status = this.call(file);
    const n = status >= 0 ? <i32>msgWord(0) : 0;
    if (this.replied) through.view = msgCapCount() > 0 ? msgCap(0) : 0;
    else if (capKind(through.view) != <i32>KIND_REGION) through.view = 0;
    return status < 0 ? status : n;
  }

  // Encodes the paths and, when they do not fit in words, makes sure of the path page: before
  // msgBegin, since making a page is a kernel call that overwrites the message buffer. 0 or a status.
  private preparePaths(dir: i32, first: string, second: string | null, wordsBefore: i32, max: i32 = FS_PATH_MAX): i32 {
    const a = String.UTF8.byteLength(first);
    const b = second == null ? 0 : String.UTF8.byteLength(second);
    if (a + b > max) return E_INVALID_ARGUMENT;
    String.UTF8.encodeUnsafe(changetype<usize>(first), first.length, pathBytes);
    if (second != null) String.UTF8.encodeUnsafe(changetype<usize>(second), second.length, pathBytes + <usize>a);
    this.firstLength = <u32>a;
    this.secondLength = <u32>b;
    this.twoPaths = second != null;
    const total = <u32>(a + b);
    const room = <u32>(MAX_DATA_WORDS - wordsBefore - (second != null ? 2 : 1)) * 4;
    this.inWords = total <= room;
    if (this.inWords) return 0;
    const server = this.serverIndex(dir);
    if (server < 0) return server;
    const lent = unchecked(this.lent[server]);
    this.pathLent = lent;
    return this.ensurePathPage(lent);
  }

  // Appends the prepared paths' lengths and bytes: in words, or in the path page (its view as cap 0).
  private addPaths(): void {
    msgAddWord(this.firstLength);
    if (this.twoPaths) msgAddWord(this.secondLength);
    const total = this.firstLength + this.secondLength;
    if (this.inWords) {
      store<u32>(pathBytes + total, 0); // zero padding of the last word
      for (let i: u32 = 0; i < total; i += 4) msgAddWord(load<u32>(pathBytes + i));
      return;
    }
    const lent = this.pathLent!;
    memory.copy(lent.pathAddress, pathBytes, total);
    msgAddCap(<u32>lent.pathView | CAP_MOVE);
    this.pathSent = true;
  }

  private ensurePathPage(lent: Lent): i32 {
    if (lent.pathView != 0 && capKind(lent.pathView) == <i32>KIND_REGION) return 0;
    if (lent.pathRegion == 0) {
      const region = new Memory(this.memory).createRegion(<u32>((PATHS_MAX + 4095) >> 12));
      if (region < 0) return region;
      const info = new Region(region).info();
      if (info.status < 0) return info.status;
      lent.pathRegion = region;
      lent.pathAddress = <usize>info.address;
    }
    const view = new Region(lent.pathRegion).view();
    if (view < 0) return view;
    lent.pathView = view;
    return 0;
  }

  // Calls `cap` with the message built: the call's status, or the reply label's.
  private call(cap: i32): i32 {
    this.replied = false;
    const pathSent = this.pathSent;
    this.pathSent = false;
    if (cap <= 0) return E_INVALID_CAP;
    const status = msgInvoke(cap);
    if (pathSent) this.pathLent!.pathView = status >= 0 && msgCapCount() > 0 ? msgCap(0) : 0;
    if (status < 0) return status;
    this.replied = true;
    return fsStatus(msgLabel());
  }

  // After READ or READDIR: the Region's owner came back as the reply's first capability, or was
  // lost. 0, or E_BAD_MESSAGE when the server kept it or gave back another capability (dropped:
  // the buffer is made again at the next call): the bytes would have been read from a range
  // this process no longer has.
  private regain(through: RegionBuffer): i32 {
    if (!this.replied) return through.ensure();
    through.region = 0;
    return msgCapCount() == 0 ? E_BAD_MESSAGE : through.takeBack(msgCap(0));
  }

  // Whether the `entries` entries READDIR answered lie in the `entryBytes` it answered, and those
  // in the buffer: a walk with direntNext reads no byte past them.
  private entriesFit(through: RegionBuffer): bool {
    if (this.entryBytes > through.bytes) return false;
    const end = through.address + <usize>this.entryBytes;
    let at = through.address;
    for (let i: u32 = 0; i < this.entries; i++) {
      if (at + <usize>FS_DIRENT_HEADER > end || direntName(at) + <usize>direntNameLength(at) > end) return false;
      at = direntNext(at);
    }
    return true;
  }
}

// ---- READDIR entries in the buffer ------------------------------------------------------------

export function direntInode(at: usize): u32 {
  return load<u32>(at);
}
export function direntKind(at: usize): u32 {
  return <u32>load<u8>(at + 4);
}
export function direntNameLength(at: usize): u32 {
  return <u32>load<u8>(at + 5);
}
/** The name's bytes start here. */
export function direntName(at: usize): usize {
  return at + FS_DIRENT_HEADER;
}
/** The next entry after the one at `at`. */
export function direntNext(at: usize): usize {
  return at + ((FS_DIRENT_HEADER + direntNameLength(at) + 3) & ~3);
}
