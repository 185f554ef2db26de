import { ObjectKind, Rights } from "../../kernel/caps/object-abi.ts";
import type { Process } from "../../kernel/process.ts";
import type { KernelServices } from "../../kernel/services.ts";
import { FS_DIRENT_HEADER, FS_INLINE_BYTES, FS_PATH_MAX, Fs, FsKind, FsMore, FsStatus, AbiStatus, pack, u64, unpack, words64 } from "./protocol.ts";
import { TransferRegion } from "./transfer-region.ts";
import { FS_MAP, FS_MAP_RELEASE, MAP_MISS, type FileMap, mapGone, readMapped } from "./file-map.ts";
import type { IoVec } from "./guest-memory.ts";
import { type AheadWindow, READ_AHEAD_BYTES, READ_AHEAD_CALL_MAX, offsetNumber, readAhead } from "./read-ahead.ts";

/** What OPEN answers: the new handle's slot, its kind, size and inode. */
export interface Opened {
  readonly slot: number;
  readonly kind: number;
  readonly size: bigint;
  readonly inode: number;
}

/** What STAT answers. */
export interface ServerStat {
  readonly kind: number;
  readonly size: bigint;
  readonly created: bigint;
  readonly modified: bigint;
  readonly inode: number;
  /** The handle's own rights (FsRight bits). */
  readonly rights: number;
  readonly links: bigint;
  readonly accessed: bigint;
  readonly changed: bigint;
}

/** One directory entry as READDIR gives it. */
export interface ServerEntry {
  readonly inode: number;
  readonly kind: number;
  readonly name: Uint8Array;
}

/** A batch of READDIR: the entries and the cookie to go on from (no entries: the end). */
export interface ServerListing {
  readonly entries: ServerEntry[];
  readonly next: number;
}

const CAP_MOVE_BIT = 0x8000_0000;
const NO_CAPS: readonly number[] = [];
/** An attached handle's read buffer, in pages: the server's default and its most (user/lib/fs-protocol.ts FS_ATTACH_READ_PAGES*). */
const ATTACH_READ_PAGES_MIN = 16;
const ATTACH_READ_PAGES_MAX = 256;
/**
 * A file is mapped at its this many-th read through the server of at most MAP_CALL_MAX bytes that
 * answered bytes (as FsClient.read does, user/lib/fs-client.ts): a file read once, whole, in a
 * call or two (and the call that finds the end) pays no MAP; one read in small pieces, or again
 * and again, pays one and reads with no call from then on.
 */
const MAP_AFTER_READS = 4;
/**
 * Larger reads do not count: making the map copies in every page the cache holds of the file
 * (20-40 ms for 16 MiB on this machine), more than reading it start to end in 1 MiB calls costs,
 * and saves them only the call.
 */
const MAP_CALL_MAX = 64 * 1024;
/** After a MAP the server refused: this many more reads before it is asked again. */
const MAP_BACKOFF = 64;
/** The most data pages a map has (user/lib/fs-protocol.ts FS_MAP_PAGES_MAX): its valid bits fill 512 bytes. */
const FS_MAP_PAGES_MAX = 4096;
/** Maps one process holds at once (each a view in its space, up to 16 MiB): one more lets go of the least recently read. */
export const MAPS_MAX = 8;

/** Paths and two words of a request fit in the 64 message words: the rest go in the Region. */
const INLINE_PATH_BYTES = 4 * 61;

/**
 * The file system protocol (docs/FS.md), spoken for one process through capabilities in its own
 * table: every call is IPC the kernel makes for the process (KernelServices.callFor), so a
 * server sees the process's own handles and nothing else. Each method answers a value or a
 * negative status (a server's FS_E_*, or the kernel's). File data and long paths travel in the
 * process's TransferRegion; up to 240 bytes go in message words.
 */
/**
 * An attached handle (FsMore.ATTACH): the handle, its read buffer's view, address and size, and
 * the bytes of the write buffer the server keeps a view of (TransferRegion.attachBuffer; 0: none,
 * and writes move a Region).
 */
interface Attached {
  readonly slot: number;
  readonly view: number;
  readonly address: number;
  readonly bytes: number;
  readonly writeBytes: number;
  /** Where that write buffer lies here. */
  readonly writeAddress: number;
  /** Where the server's change word lies here (in the read buffer's view; 0: the server keeps none, and no read reads ahead). */
  readonly changeAt: number;
}

export class FileServerClient {
  private readonly k: KernelServices;
  private readonly process: Process;
  /** The Memory that pays for the transfer Regions. */
  private readonly memorySlot: number;
  /**
   * The transfer Regions (and attach buffer) of each preopen's handles, by the preopen's slot: a
   * server that holds a Region while a call moves it, or a view of the attach buffer, could keep a
   * view of it and read whatever moves there after; so a buffer is lent only to the handles of
   * one preopen, never to another's server (redteam8).
   */
  private readonly transfers = new Map<number, TransferRegion>();
  /** Each handle's preopen (the one it was opened under, at any depth). */
  private readonly lineage = new Map<number, number>();
  /** Preopens (their handles) whose server has not got STAT_AT and READLINK_AT: asked once. */
  private readonly withoutPathCalls = new Set<number>();
  /**
   * Attached handles by the handle they were made from (null: the server does not attach, the
   * host share for one). A READ or WRITE through one moves no Region, which in the booted system
   * costs more than the data (docs/FS.md "Attached handles"); made at a file's first READ or
   * WRITE of more than FS_INLINE_BYTES.
   */
  private readonly attached = new Map<number, Attached | null>();
  /**
   * Maps of files (FS_MAP on the attached handle, made with it; docs/FS.md "Mapped reads") by the
   * handle they were made from: reads they hold are answered with no call (`readMapped`).
   */
  private readonly maps = new Map<number, FileMap>();
  /** Reads through the server per file not mapped (MAP_AFTER_READS; negative: that many more before MAP is asked again). */
  private readonly serverReads = new Map<number, number>();
  /** Counts reads answered from maps, for `lastUse`. */
  private mapClock = 0;
  /** What each file's last READ ahead left in its read buffer (read-ahead.ts), by the handle. */
  private readonly ahead = new Map<number, AheadWindow>();
  /** Where each file's last read ended (a read starting there is sequential), by the handle. */
  private readonly readEnds = new Map<number, number>();
  /** Whether each preopen's server keeps change words (read-ahead.ts), once an ATTACH there said. */
  private readonly changeWords = new Map<number, boolean>();

  constructor(k: KernelServices, process: Process, memorySlot: number) {
    this.k = k;
    this.process = process;
    this.memorySlot = memorySlot;
  }

  /** The transfer Regions of `handle`'s preopen (a handle not opened here is a preopen of its own). */
  private transferFor(handle: number): TransferRegion {
    const root = this.lineage.get(handle) ?? handle;
    let transfer = this.transfers.get(root);
    if (!transfer) this.transfers.set(root, (transfer = new TransferRegion(this.k, this.process, this.memorySlot)));
    return transfer;
  }

  /** OPEN `path` under the directory at `dir` with `flags` (rights asked and FsOpen bits). */
  async open(dir: number, path: Uint8Array, flags: number): Promise<Opened | number> {
    const answer = await this.withPaths(dir, Fs.OPEN, [flags], [path]);
    if (typeof answer === "number") return answer;
    // The new handle: the call capability among what came back (a Region lent for the path comes back too).
    const slot = answer.caps.find((cap) => this.k.capabilityKind(this.process, cap, Rights.RECEIVER_CALL) === ObjectKind.RECEIVER) ?? 0;
    if (slot === 0) return AbiStatus.E_BAD_MESSAGE;
    this.lineage.set(slot, this.lineage.get(dir) ?? dir);
    return { slot, kind: answer.words[0] ?? 0, size: u64(answer.words, 1), inode: answer.words[3] ?? 0 };
  }

  async mkdir(dir: number, path: Uint8Array): Promise<number> {
    return status(await this.withPaths(dir, Fs.MKDIR, [], [path]));
  }

  async unlink(dir: number, path: Uint8Array): Promise<number> {
    return status(await this.withPaths(dir, Fs.UNLINK, [], [path]));
  }

  /** REMOVE: UNLINK of `kind` only (FsRemove.DIR or FILE). */
  async remove(dir: number, path: Uint8Array, kind: number): Promise<number> {
    return status(await this.withPaths(dir, FsMore.REMOVE, [kind], [path]));
  }

  /** RENAME `from` to `to`, under `dir` or, with `token`, under the directory the token names. */
  async rename(dir: number, from: Uint8Array, to: Uint8Array, token = 0): Promise<number> {
    return status(await this.withPaths(dir, Fs.RENAME, [], [from, to], token));
  }

  /** LINK: a new name `to` (under the token's directory, or `dir`) for `from`. */
  async link(dir: number, flags: number, from: Uint8Array, to: Uint8Array, token = 0): Promise<number> {
    return status(await this.withPaths(dir, FsMore.LINK, [flags], [from, to], token));
  }

  /** SYMLINK: a link at `path` whose contents are `target`. */
  async symlink(dir: number, target: Uint8Array, path: Uint8Array): Promise<number> {
    return status(await this.withPaths(dir, FsMore.SYMLINK, [], [target, path]));
  }

  /** TOKEN: a capability naming the directory at `dir`, for RENAME and LINK into it: its slot, or a status. */
  async token(dir: number): Promise<number> {
    const answer = await this.call(dir, FsMore.TOKEN, []);
    if (typeof answer === "number") return answer;
    return answer.caps[0] ?? AbiStatus.E_BAD_MESSAGE;
  }

  /** SET_TIMES on a handle: `flags` are WASI's fstflags (set access, access now, set modification, modification now). */
  async setTimes(handle: number, flags: number, accessed: bigint, modified: bigint): Promise<number> {
    return status(await this.call(handle, FsMore.SET_TIMES, [flags, ...words64(accessed), ...words64(modified)]));
  }

  /** Drops a capability of the process's (a token used up). */
  drop(slot: number): void {
    this.k.dropCapability(this.process, slot);
  }

  /**
   * READ of more than FS_INLINE_BYTES (at most the Region's 1 MiB) at `offset`, left where the
   * server put it in the process's memory — the attached handle's read buffer, or the transfer
   * Region — until the next call: where the bytes lie and how many (fewer at the end), or a status.
   * The caller copies them on (KernelServices.copyWithin), with no copy in between.
   */
  async readInPlace(file: number, offset: bigint, length: number): Promise<{ at: number; count: number } | number> {
    const [low, high] = words64(offset);
    const attached = this.attached.get(file) ?? (await this.attachment(file, length));
    if (attached && length <= attached.bytes) {
      // The read buffer is about to hold other bytes: what was read ahead there goes.
      this.ahead.delete(file);
      const start = offsetNumber(offset);
      const ahead = attached.changeAt !== 0 && this.sequential(file, start, length);
      const asked = ahead ? Math.max(length, Math.min(READ_AHEAD_BYTES, attached.bytes)) : length;
      const answer = await this.call(attached.slot, Fs.READ, [low, high, asked, 0]);
      if (typeof answer === "number") return answer;
      const got = Math.min(answer.words[0] ?? 0, asked);
      const count = Math.min(got, length);
      if (ahead && answer.words.length >= 3) {
        this.ahead.set(file, { base: start, count: got, end: got < asked, stamp: answer.words[2]!, address: attached.address, changeAt: attached.changeAt });
      }
      if (start >= 0) this.readEnds.set(file, start + count);
      if (this.counted(file, length, count)) await this.mapCounted(file);
      return { at: attached.address, count };
    }
    const transfer = this.transferFor(file);
    const room = transfer.ensure(length);
    if (room < 0) return room;
    const wanted = Math.min(length, room);
    const answer = await this.callMoving(file, Fs.READ, [low, high, wanted, 0]);
    if (typeof answer === "number") return answer;
    return { at: transfer.address, count: Math.min(answer.words[0] ?? 0, wanted) };
  }

  // A read of `file` through the server answered `count` bytes of `length` asked: whether it is
  // the MAP_AFTER_READS-th such read, and the file is to be mapped now (its next reads the map
  // holds make no call). Synchronous: a read that maps nothing waits for nothing more.
  private counted(file: number, length: number, count: number): boolean {
    if (count === 0 || length > MAP_CALL_MAX || this.maps.has(file)) return false;
    const reads = (this.serverReads.get(file) ?? 0) + 1;
    this.serverReads.set(file, reads);
    return reads >= MAP_AFTER_READS;
  }

  private async mapCounted(file: number): Promise<void> {
    const status = await this.mapFile(file);
    // A server that never maps this handle (the host share answers E_MISSING_RIGHT, a host folder
    // E_INVALID_ARGUMENT) is not asked again; one without room is, later.
    const never = [AbiStatus.E_INVALID_ARGUMENT, AbiStatus.E_MISSING_RIGHT, AbiStatus.E_BAD_MESSAGE, AbiStatus.E_INVALID_CAP] as number[];
    if (never.includes(status)) this.serverReads.set(file, -Infinity);
    else if (status < 0) this.serverReads.set(file, -MAP_BACKOFF);
    else this.serverReads.delete(file);
  }

  /**
   * A READ answered from `file`'s map, with no call, when the map holds all of it: `scatter(from,
   * n)` copies the bytes on. The count, MAP_MISS (ask the server: readInPlace), or MAP_FAULT.
   * Synchronous: nothing runs between the map's checks and the copy.
   */
  readMapped(file: number, offset: bigint, length: number, buffers: readonly IoVec[]): number {
    const map = this.maps.get(file);
    if (!map) return this.readAheadOf(file, offset, length, buffers);
    const n = readMapped(this.k, this.process, map, offset, length, buffers);
    if (n >= 0) map.lastUse = ++this.mapClock;
    else if (n === MAP_MISS && mapGone(this.k, this.process, map)) {
      this.maps.delete(file);
      this.k.dropCapability(this.process, map.view);
    }
    return n;
  }

  // A read answered out of what `file`'s last READ ahead left (read-ahead.ts): the count, MAP_MISS or MAP_FAULT.
  private readAheadOf(file: number, offset: bigint, length: number, buffers: readonly IoVec[]): number {
    const window = this.ahead.get(file);
    if (!window) return MAP_MISS;
    const start = offsetNumber(offset);
    const n = start < 0 ? MAP_MISS : readAhead(this.k, this.process, window, start, length, buffers);
    if (n >= 0) this.readEnds.set(file, start + n);
    return n;
  }

  /**
   * Whether a read of `length` bytes at `offset` of `file` goes on from where its last read ended
   * (the first read of a file from 0 does too, unless it is at most FS_INLINE_BYTES: a small
   * header read once makes no ATTACH): one to read ahead of.
   */
  private sequential(file: number, offset: number, length: number): boolean {
    if (offset < 0 || length > READ_AHEAD_CALL_MAX) return false;
    const end = this.readEnds.get(file);
    return end === undefined ? offset === 0 && length > FS_INLINE_BYTES : end === offset;
  }

  /**
   * Whether a read of at most FS_INLINE_BYTES at `offset` should go through the attached handle
   * (readInPlace) to read ahead: a second sequential small read of a file whose server keeps a
   * change word (or whose handle is not attached yet: ATTACH says).
   */
  readsAhead(file: number, offset: bigint, length: number): boolean {
    const attached = this.attached.get(file);
    if (attached === null || (attached !== undefined && attached.changeAt === 0)) return false;
    // Not attached yet: only where this preopen's server keeps change words, or nobody knows yet
    // (the disk's file system does not: its small reads are not made to ATTACH for nothing).
    if (attached === undefined && this.changeWords.get(this.lineage.get(file) ?? file) === false) return false;
    return this.readEnds.has(file) && this.sequential(file, offsetNumber(offset), length);
  }

  /** READ of up to `length` bytes (at most the Region's 1 MiB) at `offset`: the bytes (fewer at the end), or a status. */
  async read(file: number, offset: bigint, length: number): Promise<Uint8Array | number> {
    const [low, high] = words64(offset);
    if (length <= FS_INLINE_BYTES) {
      const answer = await this.call(file, Fs.READ, [low, high, length]);
      if (typeof answer === "number") return answer;
      const count = Math.min(answer.words[0] ?? 0, length, 4 * (answer.words.length - 1));
      const bytes = unpack(answer.words, 1, count);
      const start = offsetNumber(offset);
      if (start >= 0) this.readEnds.set(file, start + count);
      if (this.counted(file, length, count)) await this.mapCounted(file);
      return bytes;
    }
    const attached = this.attached.get(file) ?? (await this.attachment(file, length));
    if (attached && length <= attached.bytes) {
      this.ahead.delete(file);
      const answer = await this.call(attached.slot, Fs.READ, [low, high, length, 0]);
      if (typeof answer === "number") return answer;
      return this.k.readMemory(this.process, attached.address, Math.min(answer.words[0] ?? 0, length)) ?? AbiStatus.E_BAD_MESSAGE;
    }
    const transfer = this.transferFor(file);
    const room = transfer.ensure(length);
    if (room < 0) return room;
    const wanted = Math.min(length, room);
    const answer = await this.callMoving(file, Fs.READ, [low, high, wanted, 0]);
    if (typeof answer === "number") return answer;
    const count = Math.min(answer.words[0] ?? 0, wanted);
    return this.k.readMemory(this.process, transfer.address, count) ?? AbiStatus.E_BAD_MESSAGE;
  }

  /**
   * WRITE (or APPEND) of `length` bytes (more than FS_INLINE_BYTES; at most 1 MiB are taken) at
   * `offset`, which `fill(to, n)` copies into the process's memory at `to` first — the attached
   * handle's write buffer, or the transfer Region — with no copy in between (false: the program's
   * memory could not be read). Bytes written and, for APPEND, the new size; or a status.
   */
  async writeInPlace(file: number, offset: bigint, length: number, append: boolean, fill: (to: number, n: number) => boolean): Promise<{ written: number; size: bigint | null } | number> {
    const label = append ? Fs.APPEND : Fs.WRITE;
    const [low, high] = words64(offset);
    const attached = this.attached.get(file) ?? (await this.attachment(file, length));
    let answer: Answer | number;
    if (attached && length <= attached.writeBytes) {
      if (!fill(attached.writeAddress, length)) return AbiStatus.E_BAD_MESSAGE;
      answer = await this.call(attached.slot, label, [low, high, length, 0]);
    } else {
      const transfer = this.transferFor(file);
      const room = transfer.ensure(length);
      if (room < 0) return room;
      const n = Math.min(length, room);
      if (!fill(transfer.address, n)) return AbiStatus.E_BAD_MESSAGE;
      answer = await this.callMoving(file, label, [low, high, n, 0]);
    }
    if (typeof answer === "number") return answer;
    return { written: answer.words[0] ?? 0, size: append ? u64(answer.words, 1) : null };
  }

  /** WRITE (or APPEND) of `data` (at most 1 MiB) at `offset`: bytes written and, for APPEND, the new size. */
  async write(file: number, offset: bigint, data: Uint8Array, append: boolean): Promise<{ written: number; size: bigint | null } | number> {
    const label = append ? Fs.APPEND : Fs.WRITE;
    const [low, high] = words64(offset);
    let answer: Answer | number;
    const attached = data.length > FS_INLINE_BYTES ? (this.attached.get(file) ?? (await this.attachment(file, data.length))) : null;
    if (data.length <= FS_INLINE_BYTES) answer = await this.call(file, label, [low, high, data.length, ...pack(data)]);
    else if (attached && data.length <= attached.writeBytes) {
      // Into the buffer the server holds a view of: no Region moves.
      if (!this.k.writeMemory(this.process, attached.writeAddress, data)) return AbiStatus.E_BAD_MESSAGE;
      answer = await this.call(attached.slot, label, [low, high, data.length, 0]);
    } else {
      const transfer = this.transferFor(file);
      const room = transfer.ensure(data.length);
      if (room < 0) return room;
      const piece = data.subarray(0, room);
      if (!this.k.writeMemory(this.process, transfer.address, piece)) return AbiStatus.E_BAD_MESSAGE;
      answer = await this.callMoving(file, label, [low, high, piece.length, 0]);
    }
    if (typeof answer === "number") return answer;
    return { written: answer.words[0] ?? 0, size: append ? u64(answer.words, 1) : null };
  }

  async truncate(file: number, size: bigint): Promise<number> {
    return status(await this.call(file, Fs.TRUNCATE, words64(size)));
  }

  /**
   * STAT_AT: what `path` under `dir` names, in one call; null when the server has not got the
   * request (it answered E_INVALID_ARGUMENT: remembered for the preopen, so it is asked once).
   */
  async statAt(dir: number, path: Uint8Array, follow: boolean): Promise<ServerStat | number | null> {
    const root = this.lineage.get(dir) ?? dir;
    if (this.withoutPathCalls.has(root)) return null;
    const answer = await this.withPaths(dir, FsMore.STAT_AT, [follow ? 1 : 0], [path]);
    if (answer === AbiStatus.E_INVALID_ARGUMENT) {
      this.withoutPathCalls.add(root);
      return null;
    }
    return typeof answer === "number" ? answer : statOf(answer.words);
  }

  /**
   * READLINK_AT: the kind `path` under `dir` names and, for a link, its contents, in one call;
   * null when the server has not got the request, or the contents did not fit its words.
   */
  async readlinkAt(dir: number, path: Uint8Array): Promise<{ kind: number; contents: Uint8Array | null } | number | null> {
    const root = this.lineage.get(dir) ?? dir;
    if (this.withoutPathCalls.has(root)) return null;
    const answer = await this.withPaths(dir, FsMore.READLINK_AT, [], [path]);
    if (answer === AbiStatus.E_INVALID_ARGUMENT) {
      this.withoutPathCalls.add(root);
      return null;
    }
    if (answer === FsStatus.TOO_BIG) return null;
    if (typeof answer === "number") return answer;
    const [kind = 0, length = 0] = answer.words;
    if (kind !== FsKind.SYMLINK) return { kind, contents: null };
    if (length > FS_INLINE_BYTES || answer.words.length < 2 + ((length + 3) >> 2)) return AbiStatus.E_BAD_MESSAGE;
    return { kind, contents: unpack(answer.words, 2, length) };
  }

  async stat(handle: number): Promise<ServerStat | number> {
    const answer = await this.call(handle, Fs.STAT, []);
    return typeof answer === "number" ? answer : statOf(answer.words);
  }

  async sync(handle: number): Promise<number> {
    return status(await this.call(handle, Fs.SYNC, []));
  }

  /** CLOSE (and of its attached handle), then the capabilities leave the process's table whatever the server said. */
  async close(handle: number): Promise<void> {
    const attached = this.attached.get(handle);
    this.attached.delete(handle);
    const map = this.maps.get(handle);
    this.maps.delete(handle);
    this.serverReads.delete(handle);
    this.lineage.delete(handle);
    this.ahead.delete(handle);
    this.readEnds.delete(handle);
    if (map) this.k.dropCapability(this.process, map.view);
    if (attached) {
      await this.call(attached.slot, Fs.CLOSE, []);
      this.k.dropCapability(this.process, attached.slot);
      this.k.dropCapability(this.process, attached.view);
    }
    await this.call(handle, Fs.CLOSE, []);
    this.k.dropCapability(this.process, handle);
  }

  /**
   * The attached handle of `file`, made at its first use with a view of the process's write buffer
   * (kept by the server); null when the server will not attach it.
   */
  private async attachment(file: number, transfer: number): Promise<Attached | null> {
    const known = this.attached.get(file);
    if (known !== undefined) return known;
    const buffer = this.transferFor(file).attachBuffer();
    const view = buffer ? this.k.viewFor(this.process, buffer.slot) : 0;
    // A read buffer as large as the first transfer (16 pages at least, 256 at most: the server's
    // bounds), so that a program reading in 1 MiB calls reads through it and moves no Region (a
    // 1 MiB Region moved there and back costs some 0.4 ms, four times the copy); the server pays
    // for it, so a file first touched in small calls keeps the small one.
    const readPages = Math.min(ATTACH_READ_PAGES_MAX, Math.max(ATTACH_READ_PAGES_MIN, Math.ceil(transfer / 4096)));
    const reply = await this.k.callFor(this.process, file, FsMore.ATTACH, [readPages], view > 0 ? [view | CAP_MOVE_BIT] : []);
    const answer = answerOf(reply);
    let made: Attached | null = null;
    if (typeof answer !== "number" && answer.caps.length >= 2 && this.lent(answer.caps[1]!, answer.words[2] ?? 0, Math.ceil((answer.words[0] ?? 0) / 4096))) {
      const writeBytes = view > 0 && buffer ? Math.min(answer.words[1] ?? 0, buffer.bytes) : 0;
      const address = answer.words[2]!;
      made = { slot: answer.caps[0]!, view: answer.caps[1]!, bytes: answer.words[0] ?? 0, address, writeBytes, writeAddress: buffer?.address ?? 0, changeAt: this.changeWordAt(answer, address) };
      this.changeWords.set(this.lineage.get(file) ?? file, made.changeAt !== 0);
    } else {
      // A read buffer that is not where the server says, or smaller: its handle is closed too.
      if (typeof answer !== "number" && answer.caps.length >= 2) await this.call(answer.caps[0]!, Fs.CLOSE, []);
      // Refused: whatever came back goes (the view among it); a view the call never took, too.
      if (typeof reply !== "number") for (const cap of reply.caps) this.k.dropCapability(this.process, cap);
      else if (view > 0 && this.k.capabilityKind(this.process, view, Rights.REGION_READ) === ObjectKind.REGION) this.k.dropCapability(this.process, view);
    }
    this.attached.set(file, made);
    return made;
  }

  // Maps the file (MAP on its own handle: the map lives while the handle does, or until let go of):
  // 0, or the status of a server that does not map (the host share) or has no room, whose file is
  // read through the server as before. A process holds MAPS_MAX maps at most: the one read least
  // recently is let go of first.
  private async mapFile(file: number): Promise<number> {
    if (this.maps.size >= MAPS_MAX) {
      let oldest: [number, FileMap] | null = null;
      for (const entry of this.maps) if (oldest === null || entry[1].lastUse < oldest[1].lastUse) oldest = entry;
      if (oldest) await this.unmap(oldest[0], oldest[1]);
    }
    const answer = answerOf(await this.k.callFor(this.process, file, FS_MAP, []));
    if (typeof answer === "number") return answer;
    const [pages = 0, address = 0] = answer.words;
    if (answer.caps.length < 1 || pages === 0 || address === 0) {
      for (const cap of answer.caps) this.k.dropCapability(this.process, cap);
      return AbiStatus.E_INVALID_ARGUMENT;
    }
    // Reads copy from the map with no call: its header page and `pages` more, their valid bits in
    // the header, must be a Region of the server's mapped here where it says.
    if (pages > FS_MAP_PAGES_MAX || !this.lent(answer.caps[0]!, address, pages + 1)) {
      for (const cap of answer.caps) this.k.dropCapability(this.process, cap);
      await this.call(file, FS_MAP, [FS_MAP_RELEASE]);
      return AbiStatus.E_BAD_MESSAGE;
    }
    this.maps.set(file, { view: answer.caps[0]!, address, pages, validBytes: Math.ceil(Math.min(pages, FS_MAP_PAGES_MAX) / 8), lastUse: ++this.mapClock });
    return 0;
  }

  // Whether `view` is what a server may lend this process to read from (an attached handle's read
  // buffer, a map): a Region mapped here in full (REGION_INFO's check), at `address`, of `pages`
  // at least, and not one of this process's own (a view of its transfer Region, which a server
  // held during a call, would read back what the process moved there, to this server or another).
  // Else the server lies, and what it said is not used.
  private lent(view: number, address: number, pages: number): boolean {
    const region = this.k.regionAt(this.process, view);
    return typeof region !== "number" && !region.owned && address !== 0 && region.address === address && region.pages >= pages;
  }

  // Where ATTACH's change word lies (word 3: its offset in the read buffer, past the buffer's bytes,
  // aligned, inside the view `lent` checked): its address, or 0 when the server keeps none (or says
  // one where it cannot be), and no read of the file reads ahead.
  private changeWordAt(answer: Answer, address: number): number {
    const offset = answer.words[3];
    const bytes = answer.words[0] ?? 0;
    if (offset === undefined || offset < bytes || offset % 4 !== 0) return 0;
    return this.lent(answer.caps[1]!, address, Math.ceil((offset + 4) / 4096)) ? address + offset : 0;
  }

  // Lets go of `file`'s map: the view leaves this process's space first (a view of a map the
  // server frees would be charged for its range), then the handle stops holding it.
  private async unmap(file: number, map: FileMap): Promise<void> {
    this.maps.delete(file);
    this.k.dropCapability(this.process, map.view);
    await this.call(file, FS_MAP, [FS_MAP_RELEASE]);
  }

  /** Maps held now (at most MAPS_MAX). */
  get mapCount(): number {
    return this.maps.size;
  }

  /** One READDIR batch from the server's `cookie`, through the Region. */
  async list(dir: number, cookie: number, most = 16 * 4096): Promise<ServerListing | number> {
    const transfer = this.transferFor(dir);
    const ensured = transfer.ensure(16 * 4096);
    if (ensured < 0) return ensured;
    const room = Math.min(ensured, most);
    const answer = await this.callMoving(dir, Fs.READDIR, [cookie, 0, room]);
    if (typeof answer === "number") return answer;
    const [count = 0, next = 0, bytes = 0] = answer.words;
    const listing = bytes > 0 ? this.k.readMemory(this.process, transfer.address, Math.min(bytes, room)) : new Uint8Array(0);
    if (listing === null) return AbiStatus.E_BAD_MESSAGE;
    const entries: ServerEntry[] = [];
    let at = 0;
    for (let i = 0; i < count && at + FS_DIRENT_HEADER <= listing.length; i++) {
      const view = new DataView(listing.buffer, listing.byteOffset + at);
      const nameLength = view.getUint8(5);
      entries.push({ inode: view.getUint32(0, true), kind: view.getUint8(4), name: listing.slice(at + FS_DIRENT_HEADER, at + FS_DIRENT_HEADER + nameLength) });
      at += (FS_DIRENT_HEADER + nameLength + 3) & ~3;
    }
    return { entries, next };
  }

  /**
   * A call whose paths (each with its length as a word) go in words, or in the Region when they do
   * not fit; with `token` (moved, and dropped when it comes back) for RENAME and LINK.
   */
  private async withPaths(handle: number, label: number, first: readonly number[], paths: readonly Uint8Array[], token = 0): Promise<(Answer & { viaRegion: boolean }) | number> {
    const total = paths.reduce((n, p) => n + p.length, 0);
    if (total > FS_PATH_MAX) return FsStatus.NAME;
    const lengths = paths.map((p) => p.length);
    const joined = new Uint8Array(total);
    let at = 0;
    for (const p of paths) {
      joined.set(p, at);
      at += p.length;
    }
    if (total <= INLINE_PATH_BYTES - 4 * first.length) {
      const answer = await this.call(handle, label, [...first, ...lengths, ...pack(joined)], token);
      return typeof answer === "number" ? answer : { ...answer, viaRegion: false };
    }
    const transfer = this.transferFor(handle);
    const room = transfer.ensure(total);
    if (room < 0) return room;
    if (!this.k.writeMemory(this.process, transfer.address, joined)) return AbiStatus.E_BAD_MESSAGE;
    const answer = await this.callMoving(handle, label, [...first, ...lengths], token);
    return typeof answer === "number" ? answer : { ...answer, viaRegion: true };
  }

  /** A call that moves the transfer Region `ensure` chose (the handle's preopen's) to the server and takes it back from the reply (first; a token after it). */
  private async callMoving(handle: number, label: number, words: readonly number[], token = 0): Promise<Answer | number> {
    const transfer = this.transferFor(handle);
    const caps = token !== 0 ? [transfer.moved(), token | CAP_MOVE_BIT] : [transfer.moved()];
    const reply = await this.k.callFor(this.process, handle, label, words, caps);
    const region = transfer.settle(typeof reply === "number" ? null : reply.caps);
    const answer = answerOf(reply);
    if (typeof answer !== "number" && region === 0) {
      // An answer without the Region (the server kept it, or gave back another): its words would
      // have the bytes read from a range the process no longer has; nothing it gave is used.
      for (const cap of answer.caps) this.k.dropCapability(this.process, cap);
      return AbiStatus.E_BAD_MESSAGE;
    }
    if (token !== 0 && typeof reply !== "number") for (const cap of reply.caps) if (cap !== region) this.k.dropCapability(this.process, cap);
    return answer;
  }

  /**
   * A call; a token it brings (moved) comes back and is dropped, as is anything a failed call
   * answers. Not async: every READ and WRITE makes one, and an async function's frame kept over
   * its await is some 600 bytes of garbage a call.
   */
  private call(handle: number, label: number, words: readonly number[], token = 0): Promise<Answer | number> {
    return this.k.callFor(this.process, handle, label, words, token !== 0 ? [token | CAP_MOVE_BIT] : NO_CAPS).then((reply) => {
      if (typeof reply !== "number" && (reply.label !== 0 || token !== 0)) for (const cap of reply.caps) this.k.dropCapability(this.process, cap);
      return answerOf(reply);
    });
  }
}

interface Answer {
  readonly words: readonly number[];
  readonly caps: readonly number[];
}

/** A reply as its words and capabilities, or the status its label carries (the kernel's, or the server's as a magnitude). */
function answerOf(reply: Awaited<ReturnType<KernelServices["callFor"]>>): Answer | number {
  if (typeof reply === "number") return reply;
  if (reply.label !== 0) return -reply.label;
  return { words: reply.words, caps: reply.caps };
}

/** STAT's words: kind, size, created, modified, inode, rights, blocks; then, from servers that keep them, accessed, changed and links. */
function statOf(w: readonly number[]): ServerStat {
  const modified = u64(w, 5);
  const extended = w.length >= 15;
  return {
    kind: w[0] ?? 0,
    size: u64(w, 1),
    created: u64(w, 3),
    modified,
    inode: w[7] ?? 0,
    rights: w[8] ?? 0,
    accessed: extended ? u64(w, 10) : modified,
    changed: extended ? u64(w, 12) : modified,
    links: extended ? BigInt(w[14] ?? 1) : 1n,
  };
}

function status(answer: Answer | number): number {
  return typeof answer === "number" ? answer : 0;
}
