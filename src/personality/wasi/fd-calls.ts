import { type DirectoryDescriptor, type FileDescriptor, type StreamDescriptor, ALL_FDFLAGS, FdFlag, FileType } from "./descriptors.ts";
import { Errno } from "./errno.ts";
import { type IoVec, MAX_IOVECS } from "./guest-memory.ts";
import { Right, has } from "./rights.ts";
import { FS_DIRENT_HEADER, FS_INLINE_BYTES, FsOpen, StreamKind, Stream, errnoOfStatus } from "./protocol.ts";
import { DIRENT_HEADER_BYTES, encodeDirent, encodeFdStat, encodeFileStat, fileStatOf, fileTypeOf } from "./stat-layout.ts";
import { streamRead, streamReadiness, streamWrite } from "./streams.ts";
import { TRANSFER_MAX_PAGES } from "./transfer-region.ts";
import { MAP_FAULT } from "./file-map.ts";
import { checkTimeFlags, timesErrno } from "./path-calls.ts";
import type { WasiProcess } from "./wasi-process.ts";

/** One fd_read or fd_write on a file moves at most this much (one call to its server); callers loop on short counts. */
export const MAX_TRANSFER = TRANSFER_MAX_PAGES * 4096;
/**
 * One fd_read of the boot console (a stream with no server: `dogma run`'s stdin) takes at most
 * this much of what the host has buffered: a host read's chunk (Node reads a file or a pipe 64 KiB
 * at a time). A stream server's READ answers in one message (Stream.CHUNK); the boot console is
 * the kernel's own buffer, so its reads need no such cap: a program reading a 756 KB file as its
 * stdin made 3,027 reads of 250 bytes, about 150 ms of a run.
 */
export const CONSOLE_READ_MAX = 64 << 10;
const MAX_OFFSET = (1n << 63n) - 1n;
const WHENCE_SET = 0;
const WHENCE_CUR = 1;
const WHENCE_END = 2;
const ADVICE_NOREUSE = 5;
/** What fd_pread and fd_pwrite need (made once: a BigInt operation allocates). */
const READ_AT = Right.FD_READ | Right.FD_SEEK;
const WRITE_AT = Right.FD_WRITE | Right.FD_SEEK;

/**
 * fd_read (`at` undefined) and fd_pread (at `at`, the offset unmoved). A read the file's map holds
 * is answered here and now, with no call to the server (docs/FS.md "Mapped reads") and no promise,
 * so the program's stack is not suspended; anything else goes on in `readCalling`, whose promise
 * the kernel answers as an async call's (a rejection for a page: paged in, called again).
 */
export function fdRead(w: WasiProcess, fd: number, iovs: number, count: number, out: number, at?: bigint): number | Promise<number> {
  const found = w.descriptor(fd);
  if (typeof found === "number") return found;
  if (found.kind === "directory") return Errno.ISDIR;
  if (at !== undefined && found.kind === "stream") return Errno.SPIPE;
  if (!has(found.rightsBase, at === undefined ? Right.FD_READ : READ_AT)) return Errno.NOTCAPABLE;
  if (count > MAX_IOVECS) return Errno.INVAL;
  if (at !== undefined && at > MAX_OFFSET) return Errno.INVAL;
  const buffers = w.memory.iovecs(w.process, iovs, count);
  if (buffers === null) return Errno.FAULT;
  let wanted = 0;
  for (const [, length] of buffers) wanted += length;
  // What is read is gone from its stream or moves the offset: where it goes must be resident first.
  const limit = Math.min(wanted, found.kind !== "stream" ? MAX_TRANSFER : found.slot === null ? CONSOLE_READ_MAX : Stream.CHUNK);
  w.memory.touch(w.process, buffers, limit);
  w.k.touch(w.process, out >>> 0, 4);
  if (found.kind === "file" && limit > 0) {
    const mapped = w.server.readMapped(found.slot, at ?? found.offset, limit, buffers);
    if (mapped === MAP_FAULT) return Errno.FAULT;
    if (mapped >= 0) {
      if (at === undefined) found.offset += BigInt(mapped);
      return w.memory.putU32(w.process, out, mapped) ? Errno.SUCCESS : Errno.FAULT;
    }
  }
  return readCalling(w, fd, found, buffers, limit, out, at);
}

/** The rest of fdRead: a stream, or a file's bytes from its server. */
async function readCalling(w: WasiProcess, fd: number, found: FileDescriptor | StreamDescriptor, buffers: readonly IoVec[], limit: number, out: number, at: bigint | undefined): Promise<number> {
  let data: Uint8Array | number;
  if (limit === 0) data = new Uint8Array(0);
  else if (found.kind === "stream") data = await readStream(w, fd, found, limit);
  else if (limit > FS_INLINE_BYTES || w.server.readsAhead(found.slot, at ?? found.offset, limit)) {
    // From where the server put the bytes (a read buffer or the transfer Region) straight into the iovecs.
    const got = await w.server.readInPlace(found.slot, at ?? found.offset, limit);
    if (typeof got === "number") return errnoOfStatus(got);
    if (!scatterFrom(w, buffers, got.at, got.count)) return Errno.FAULT;
    if (at === undefined) found.offset += BigInt(got.count);
    return w.memory.putU32(w.process, out, got.count) ? Errno.SUCCESS : Errno.FAULT;
  } else {
    data = await w.server.read(found.slot, at ?? found.offset, limit);
    if (typeof data === "number") return errnoOfStatus(data);
    if (at === undefined) found.offset += BigInt(data.length);
  }
  if (typeof data === "number") return data;
  if (!w.memory.scatter(w.process, buffers, data)) {
    // Input taken from a stream cannot be given back to it: the next read of the fd gets it.
    if (found.kind === "stream" && data.length > 0) keepInput(w, fd, data);
    return Errno.FAULT;
  }
  return w.memory.putU32(w.process, out, data.length) ? Errno.SUCCESS : Errno.FAULT;
}

/** Copies `count` bytes at `from` (the process's own memory) over `buffers` in order: false when one is not writable. */
export function scatterFrom(w: WasiProcess, buffers: readonly IoVec[], from: number, count: number): boolean {
  let at = 0;
  for (const [address, length] of buffers) {
    if (at >= count) break;
    const n = Math.min(length, count - at);
    if (!w.k.copyWithin(w.process, address, from + at, n)) return false;
    at += n;
  }
  return true;
}

/** Puts `data` back in front of what fd's next read gets (its pending input). */
function keepInput(w: WasiProcess, fd: number, data: Uint8Array): void {
  const rest = w.pending.get(fd);
  if (rest === undefined) return void w.pending.set(fd, data.slice());
  const joined = new Uint8Array(data.length + rest.length);
  joined.set(data);
  joined.set(rest, data.length);
  w.pending.set(fd, joined);
}

/** Bytes from a standard stream: what a poll took first, else the stream (or the boot console): the bytes, or an errno. */
async function readStream(w: WasiProcess, fd: number, stream: StreamDescriptor, max: number): Promise<Uint8Array | number> {
  const pending = w.pending.get(fd);
  if (pending) {
    const piece = pending.subarray(0, max);
    if (piece.length === pending.length) w.pending.delete(fd);
    else w.pending.set(fd, pending.subarray(max));
    return piece;
  }
  if (stream.slot === null) return w.k.consoleRead(w.process, max);
  if ((stream.flags & FdFlag.NONBLOCK) !== 0) {
    const ready = await streamReadiness(w.k, w.process, stream.slot);
    if (ready.readable === 0) return Errno.AGAIN;
  }
  const got = await streamRead(w.k, w.process, stream.slot, max);
  return typeof got === "number" ? streamErrno(got) : got;
}

/** The errno for a stream's failure: the other end gone is a broken pipe, else an I/O error. */
export function streamErrno(status: number): number {
  return status === -6 ? Errno.PIPE : Errno.IO;
}

/**
 * fd_write (`at` undefined) and fd_pwrite. A write to the boot console is answered at once, with
 * no promise (the program's stack is not suspended); anything else goes on in `writeCalling` or
 * `writeInPlace`, whose promises the kernel answers as an async call's.
 */
export function fdWrite(w: WasiProcess, fd: number, iovs: number, count: number, out: number, at?: bigint): number | Promise<number> {
  const found = w.descriptor(fd);
  if (typeof found === "number") return found;
  if (found.kind === "directory") return Errno.ISDIR;
  if (at !== undefined && found.kind === "stream") return Errno.SPIPE;
  if (!has(found.rightsBase, at === undefined ? Right.FD_WRITE : WRITE_AT)) return Errno.NOTCAPABLE;
  if (count > MAX_IOVECS) return Errno.INVAL;
  if (at !== undefined && at > MAX_OFFSET) return Errno.INVAL;
  const buffers = w.memory.iovecs(w.process, iovs, count);
  if (buffers === null) return Errno.FAULT;
  let wanted = 0;
  for (const [, length] of buffers) wanted += length;
  const total = Math.min(wanted, MAX_TRANSFER);
  if (found.kind === "file" && total > FS_INLINE_BYTES) return writeInPlace(w, found, buffers, total, out, at);
  const data = w.memory.gather(w.process, buffers, found.kind === "file" ? MAX_TRANSFER : 1 << 20);
  if (data === null) return Errno.FAULT;
  // The count is written after the data went out: its word must be resident first.
  w.k.touch(w.process, out >>> 0, 4);
  if (found.kind === "stream" && found.slot === null) {
    const status = w.k.consoleWrite(found.stream === 2 ? 2 : 1, data);
    if (status < 0) return streamErrno(status);
    return w.memory.putU32(w.process, out, data.length) ? Errno.SUCCESS : Errno.FAULT;
  }
  return writeCalling(w, found, data, out, at);
}

/** A file write of more than FS_INLINE_BYTES, gathered straight into where the server takes the bytes from (a buffer it holds a view of, or the transfer Region). */
async function writeInPlace(w: WasiProcess, found: FileDescriptor, buffers: readonly IoVec[], total: number, out: number, at: bigint | undefined): Promise<number> {
  // The count is written after the data went out: its word is resident first.
  w.k.touch(w.process, out >>> 0, 4);
  const append = at === undefined && (found.flags & FdFlag.APPEND) !== 0;
  let unreadable = false;
  const fill = (to: number, n: number): boolean => {
    unreadable = !gatherTo(w, buffers, to, n);
    return !unreadable;
  };
  const result = await w.server.writeInPlace(found.slot, at ?? found.offset, total, append, fill);
  if (unreadable) return Errno.FAULT;
  if (typeof result === "number") return errnoOfStatus(result);
  return finishFileWrite(w, found, out, at, append, result);
}

/** The rest of fdWrite: `data` to a stream through its server, or to a file's server. */
async function writeCalling(w: WasiProcess, found: FileDescriptor | StreamDescriptor, data: Uint8Array, out: number, at: bigint | undefined): Promise<number> {
  if (found.kind === "stream") {
    const sent = await streamWrite(w.k, w.process, found.slot!, data, found.stream === 2);
    if (sent < 0) return streamErrno(sent);
    return w.memory.putU32(w.process, out, sent) ? Errno.SUCCESS : Errno.FAULT;
  }
  if (data.length === 0) return w.memory.putU32(w.process, out, 0) ? Errno.SUCCESS : Errno.FAULT;
  const append = at === undefined && (found.flags & FdFlag.APPEND) !== 0;
  const result = await w.server.write(found.slot, at ?? found.offset, data, append);
  if (typeof result === "number") return errnoOfStatus(result);
  return finishFileWrite(w, found, out, at, append, result);
}

/** After a file's WRITE: the offset moves (to the new size for an append), an O_SYNC fd syncs, the count goes to `out`. */
async function finishFileWrite(w: WasiProcess, found: FileDescriptor, out: number, at: bigint | undefined, append: boolean, result: { written: number; size: bigint | null }): Promise<number> {
  if (at === undefined) found.offset = append && result.size !== null ? result.size : found.offset + BigInt(result.written);
  if ((found.flags & (FdFlag.SYNC | FdFlag.DSYNC)) !== 0) {
    const synced = await w.server.sync(found.slot);
    if (synced < 0) return errnoOfStatus(synced);
  }
  return w.memory.putU32(w.process, out, result.written) ? Errno.SUCCESS : Errno.FAULT;
}

/** Copies the first `count` bytes of `buffers` (the program's iovecs) to `to` in the process's memory: false when one is not readable. */
function gatherTo(w: WasiProcess, buffers: readonly (readonly [number, number])[], to: number, count: number): boolean {
  let at = 0;
  for (const [address, length] of buffers) {
    if (at >= count) break;
    const n = Math.min(length, count - at);
    if (!w.k.copyWithin(w.process, to + at, address, n)) return false;
    at += n;
  }
  return true;
}

/** fd_seek: answered at once but from the end, which asks the server for the size (a promise then). */
export function fdSeek(w: WasiProcess, fd: number, delta: bigint, whence: number, out: number): number | Promise<number> {
  const found = w.descriptor(fd);
  if (typeof found === "number") return found;
  if (found.kind === "stream") return Errno.SPIPE;
  if (found.kind === "directory") return Errno.ISDIR;
  const tellOnly = whence === WHENCE_CUR && delta === 0n;
  if (!has(found.rightsBase, Right.FD_SEEK) && !(tellOnly && has(found.rightsBase, Right.FD_TELL))) return Errno.NOTCAPABLE;
  if (whence === WHENCE_SET) return seekTo(w, found, 0n, delta, out);
  if (whence === WHENCE_CUR) return seekTo(w, found, found.offset, delta, out);
  if (whence === WHENCE_END) return seekFromEnd(w, found, delta, out);
  return Errno.INVAL;
}

async function seekFromEnd(w: WasiProcess, found: FileDescriptor, delta: bigint, out: number): Promise<number> {
  const stat = await w.server.stat(found.slot);
  if (typeof stat === "number") return errnoOfStatus(stat);
  return seekTo(w, found, stat.size, delta, out);
}

/** The offset moves to `base + delta` and goes to `out`; EINVAL before 0 or past the largest offset. */
function seekTo(w: WasiProcess, found: FileDescriptor, base: bigint, delta: bigint, out: number): number {
  const next = base + delta;
  if (next < 0n || next > MAX_OFFSET) return Errno.INVAL;
  // Resident before the offset moves: a page-in then calls again with nothing done.
  w.k.touch(w.process, out >>> 0, 8);
  found.offset = next;
  return w.memory.putU64(w.process, out, next) ? Errno.SUCCESS : Errno.FAULT;
}

export function fdTell(w: WasiProcess, fd: number, out: number): number {
  const found = w.descriptor(fd);
  if (typeof found === "number") return found;
  if (found.kind === "stream") return Errno.SPIPE;
  if (found.kind === "directory") return Errno.ISDIR;
  if (!has(found.rightsBase, Right.FD_TELL)) return Errno.NOTCAPABLE;
  return w.memory.putU64(w.process, out, found.offset) ? Errno.SUCCESS : Errno.FAULT;
}

/** fd_close: a preopen or a standard stream closes too (the fd is gone); a server handle is closed at its server. */
export async function fdClose(w: WasiProcess, fd: number): Promise<number> {
  const found = w.table.remove(fd);
  if (!found) return Errno.BADF;
  w.pending.delete(fd);
  await w.release(found);
  return Errno.SUCCESS;
}

/** fd_renumber: `to` (which must be open) is closed and `from` takes its number. */
export async function fdRenumber(w: WasiProcess, from: number, to: number): Promise<number> {
  const source = w.table.get(from);
  const target = w.table.get(to);
  if (!source || !target) return Errno.BADF;
  if (from === to) return Errno.SUCCESS;
  w.table.remove(from);
  w.table.set(to, source);
  const pending = w.pending.get(from);
  w.pending.delete(from);
  w.pending.delete(to);
  if (pending) w.pending.set(to, pending);
  await w.release(target);
  return Errno.SUCCESS;
}

export async function fdFdstatGet(w: WasiProcess, fd: number, out: number): Promise<number> {
  const found = w.descriptor(fd);
  if (typeof found === "number") return found;
  if (found.kind === "directory") await w.learnWritable(found);
  const type = found.kind === "directory" ? FileType.DIRECTORY : found.kind === "file" ? found.type : await streamType(w, found);
  return w.memory.write(w.process, out, encodeFdStat(type, found.flags, found.rightsBase, found.rightsInheriting)) ? Errno.SUCCESS : Errno.FAULT;
}

/**
 * What a standard stream is, asked once: a terminal a character device, a file a regular file, a
 * pipe unknown; the boot console a character device if the host's stream is a terminal, else
 * unknown (a host file or pipe: as wasmtime says of a redirected stdio; either way isatty is false).
 */
export async function streamType(w: WasiProcess, stream: StreamDescriptor): Promise<number> {
  if (stream.type !== null) return stream.type;
  if (stream.slot === null) stream.type = w.k.consoleIsTerminal(stream.stream) ? FileType.CHARACTER_DEVICE : FileType.UNKNOWN;
  else {
    const { kind } = await streamReadiness(w.k, w.process, stream.slot);
    stream.type = kind === StreamKind.TERMINAL ? FileType.CHARACTER_DEVICE : kind === StreamKind.FILE ? FileType.REGULAR_FILE : FileType.UNKNOWN;
  }
  return stream.type;
}

export function fdFdstatSetFlags(w: WasiProcess, fd: number, flags: number): number {
  const found = w.descriptor(fd, Right.FD_FDSTAT_SET_FLAGS);
  if (typeof found === "number") return found;
  if ((flags & ~ALL_FDFLAGS) !== 0) return Errno.INVAL;
  found.flags = flags;
  return Errno.SUCCESS;
}

/** fd_fdstat_set_rights: rights only shrink; asking for one the descriptor lacks is ENOTCAPABLE. */
export function fdFdstatSetRights(w: WasiProcess, fd: number, base: bigint, inheriting: bigint): number {
  const found = w.descriptor(fd);
  if (typeof found === "number") return found;
  const wantedBase = BigInt.asUintN(64, base);
  const wantedInheriting = BigInt.asUintN(64, inheriting);
  if ((wantedBase & ~found.rightsBase) !== 0n || (wantedInheriting & ~found.rightsInheriting) !== 0n) return Errno.NOTCAPABLE;
  found.rightsBase = wantedBase;
  found.rightsInheriting = wantedInheriting;
  return Errno.SUCCESS;
}

export async function fdFilestatGet(w: WasiProcess, fd: number, out: number): Promise<number> {
  const found = w.descriptor(fd, Right.FD_FILESTAT_GET);
  if (typeof found === "number") return found;
  w.k.touch(w.process, out >>> 0, 64);
  if (found.kind === "stream") {
    const type = await streamType(w, found);
    return w.memory.write(w.process, out, encodeFileStat({ device: 0n, inode: 0n, type, links: 1n, size: 0n, accessed: 0n, modified: 0n, changed: 0n })) ? Errno.SUCCESS : Errno.FAULT;
  }
  const stat = await w.server.stat(found.slot);
  if (typeof stat === "number") return errnoOfStatus(stat);
  return w.memory.write(w.process, out, encodeFileStat(fileStatOf(stat, found.device))) ? Errno.SUCCESS : Errno.FAULT;
}

export async function fdFilestatSetSize(w: WasiProcess, fd: number, size: bigint): Promise<number> {
  const found = w.file(fd, Right.FD_FILESTAT_SET_SIZE);
  if (typeof found === "number") return found === Errno.SPIPE ? Errno.INVAL : found;
  if (size > MAX_OFFSET || size < 0n) return Errno.INVAL;
  const status = await w.server.truncate(found.slot, size);
  return status < 0 ? errnoOfStatus(status) : Errno.SUCCESS;
}

/** fd_filestat_set_times on a file or a directory (a stream has no times: EBADF). */
export async function fdFilestatSetTimes(w: WasiProcess, fd: number, accessed: bigint, modified: bigint, flags: number): Promise<number> {
  const found = w.descriptor(fd, Right.FD_FILESTAT_SET_TIMES);
  if (typeof found === "number") return found;
  if (found.kind === "stream") return Errno.BADF;
  if (!checkTimeFlags(flags)) return Errno.INVAL;
  return timesErrno(await w.server.setTimes(found.slot, flags, accessed, modified));
}

/** fd_allocate: the file is at least `offset + length` bytes long afterwards (the new bytes read as zeros). */
export async function fdAllocate(w: WasiProcess, fd: number, offset: bigint, length: bigint): Promise<number> {
  const found = w.file(fd, Right.FD_ALLOCATE);
  if (typeof found === "number") return found;
  const end = BigInt.asUintN(64, offset) + BigInt.asUintN(64, length);
  if (end > MAX_OFFSET) return Errno.FBIG;
  const stat = await w.server.stat(found.slot);
  if (typeof stat === "number") return errnoOfStatus(stat);
  if (end <= stat.size) return Errno.SUCCESS;
  const status = await w.server.truncate(found.slot, end);
  return status < 0 ? errnoOfStatus(status) : Errno.SUCCESS;
}

/** fd_advise: advice is checked and taken (the servers read ahead on their own; none of it changes what is read). */
export function fdAdvise(w: WasiProcess, fd: number, _offset: bigint, _length: bigint, advice: number): number {
  const found = w.descriptor(fd);
  if (typeof found === "number") return found;
  if (found.kind === "stream") return Errno.SPIPE;
  if (!has(found.rightsBase, Right.FD_ADVISE)) return Errno.NOTCAPABLE;
  return advice < 0 || advice > ADVICE_NOREUSE ? Errno.INVAL : Errno.SUCCESS;
}

/** fd_sync / fd_datasync: the server commits what was written (the file system: its journal). */
export async function fdSync(w: WasiProcess, fd: number, right: bigint): Promise<number> {
  const found = w.descriptor(fd, right);
  if (typeof found === "number") return found;
  if (found.kind === "stream") return Errno.SUCCESS; // every write went out before it was answered
  const status = await w.server.sync(found.slot);
  return status < 0 ? errnoOfStatus(status) : Errno.SUCCESS;
}

export function fdPrestatGet(w: WasiProcess, fd: number, out: number): number {
  const found = w.table.get(fd);
  if (!found || found.kind !== "directory" || found.preopen === null) return Errno.BADF;
  const bytes = new Uint8Array(8); // tag 0: a directory
  new DataView(bytes.buffer).setUint32(4, found.preopen.length, true);
  return w.memory.write(w.process, out, bytes) ? Errno.SUCCESS : Errno.FAULT;
}

export function fdPrestatDirName(w: WasiProcess, fd: number, buf: number, length: number): number {
  const found = w.table.get(fd);
  if (!found || found.kind !== "directory" || found.preopen === null) return Errno.BADF;
  if (length < found.preopen.length) return Errno.NAMETOOLONG;
  return w.memory.write(w.process, buf, found.preopen) ? Errno.SUCCESS : Errno.FAULT;
}

/**
 * WASI cookies of fd_readdir: 0 is ".", 1 "..", and the entry at place k of the server's batch
 * from server cookie S is 2 + S × BATCH_SPAN + k. A cookie says where to ask the server from, so
 * nothing of the listing is kept between calls: a descriptor costs the same whatever the size of
 * its directory (redteam5: every entry listed was kept on it, charged to nobody, and 1024
 * descriptors of a big directory held gigabytes of the host's memory).
 */
const BATCH_SPAN = 1n << 20n;
/** Server cookies are u32s (docs/FS.md READDIR). */
const LAST_SERVER_COOKIE = 0xffff_ffffn;

/**
 * fd_readdir: WASI dirents from entry `cookie` on ("." and "..", then the server's entries in its
 * order), as many as `length` bytes hold, the last one cut when it does not fit (as WASI wants: a
 * full buffer means "call again"). Each entry's d_next is the cookie of the one after it. Written
 * into the buffer a batch at a time, so a call holds at most one batch of the server's.
 */
export async function fdReaddir(w: WasiProcess, fd: number, buf: number, length: number, cookie: bigint, out: number): Promise<number> {
  const dir = await w.directory(fd);
  if (typeof dir === "number") return dir;
  if (!has(dir.rightsBase, Right.FD_READDIR)) return Errno.NOTCAPABLE;
  let used = 0;
  let parts: Uint8Array[] = [];
  let pending = 0;
  /** The records gathered so far into the buffer after what is there; false when it is not writable. */
  const flush = (): boolean => {
    const bytes = new Uint8Array(pending);
    let at = 0;
    for (const part of parts) {
      bytes.set(part, at);
      at += part.length;
    }
    parts = [];
    pending = 0;
    if (bytes.length > 0 && !w.memory.write(w.process, (buf >>> 0) + used, bytes)) return false;
    used += bytes.length;
    return true;
  };
  const add = (record: Uint8Array): void => {
    const piece = record.subarray(0, Math.min(record.length, length - used - pending));
    parts.push(piece);
    pending += piece.length;
  };
  if (cookie < 2n) {
    const dots = await dotInodes(w, dir);
    if (typeof dots === "number") return dots;
    if (cookie === 0n) add(encodeDirent(1n, dots[0], FileType.DIRECTORY, DOT));
    if (used + pending < length) add(encodeDirent(2n, dots[1], FileType.DIRECTORY, DOT_DOT));
    if (!flush()) return Errno.FAULT;
  }
  let position = cookie < 2n ? 2n : cookie;
  while (used < length) {
    const server = (position - 2n) / BATCH_SPAN;
    let place = Number((position - 2n) % BATCH_SPAN);
    if (server > LAST_SERVER_COOKIE) break; // a cookie no listing gave: nothing is there
    const batch = await w.server.list(dir.slot, Number(server));
    if (typeof batch === "number") return errnoOfStatus(batch);
    const entries = batch.entries.slice(0, Number(BATCH_SPAN));
    if (entries.length === 0) break;
    const after = 2n + BigInt(batch.next) * BATCH_SPAN;
    // The caller's buffer ends inside the batch: the entry it will ask from next gets a cookie
    // of the server's own (a batch's start), not a place in this batch (`boundary`).
    let fit = place;
    for (let room = length - used - pending; fit < entries.length && DIRENT_HEADER_BYTES + entries[fit]!.name.length <= room; fit++) room -= DIRENT_HEADER_BYTES + entries[fit]!.name.length;
    const resume = fit > place && fit < entries.length ? await boundary(w, dir.slot, Number(server), entries, fit) : null;
    for (; place < entries.length && used + pending < length; place++) {
      const entry = entries[place]!;
      const next = place + 1 === fit && resume !== null ? resume : place + 1 < entries.length ? 2n + server * BATCH_SPAN + BigInt(place + 1) : after;
      add(encodeDirent(next, BigInt(entry.inode), fileTypeOf(entry.kind), entry.name));
    }
    if (!flush()) return Errno.FAULT;
    // A server whose cookies do not move on would be asked for ever.
    if (BigInt(batch.next) <= server) break;
    position = after;
  }
  return w.memory.putU32(w.process, out, used) ? Errno.SUCCESS : Errno.FAULT;
}

/**
 * The WASI cookie of entry `at` of the batch the server gave from `server`: the server's own
 * cookie after the entries before it (asked again with just the room they take), as a batch's
 * start. A place in a batch counts the entries the server gives from its start when asked again,
 * so a program that removes (or makes) names as it lists, asking from its last entry's cookie at
 * every buffer (wasi-libc's readdir), was given entries its removals moved up: a readdir and
 * unlink loop over 300 files removed 156. The server's cookie goes on from where its listing was
 * (the disk's a slot; a host folder's a place in the host directory stream its listing opened).
 * Null when the server does not give those entries again (a place is used then).
 */
async function boundary(w: WasiProcess, slot: number, server: number, entries: readonly { name: Uint8Array }[], at: number): Promise<bigint | null> {
  // A server may give fewer than the room holds (a host folder's device records are bigger): go
  // on from its cookie until the entries before `at` are all given again, a few calls at most.
  let cookie = server;
  for (let given = 0, calls = 0; given < at; calls++) {
    if (calls === BOUNDARY_CALLS) return null;
    let room = 0;
    for (let i = given; i < at; i++) room += (FS_DIRENT_HEADER + entries[i]!.name.length + 3) & ~3;
    const again = await w.server.list(slot, cookie, room);
    if (typeof again === "number" || again.entries.length === 0 || given + again.entries.length > at || again.next <= cookie) return null;
    for (const entry of again.entries) if (!sameBytes(entry.name, entries[given++]!.name)) return null;
    cookie = again.next;
  }
  return 2n + BigInt(cookie) * BATCH_SPAN;
}

/** Calls `boundary` makes at most. */
const BOUNDARY_CALLS = 4;

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const DOT = new Uint8Array([0x2e]);
const DOT_DOT = new Uint8Array([0x2e, 0x2e]);

/** The inodes of "." (this directory) and ".." (its parent, or itself at the top of what the handle reaches). */
async function dotInodes(w: WasiProcess, dir: DirectoryDescriptor): Promise<[bigint, bigint] | number> {
  const own = await w.server.stat(dir.slot);
  if (typeof own === "number") return errnoOfStatus(own);
  let parentInode = BigInt(own.inode);
  const parent = await w.server.open(dir.slot, DOT_DOT, FsOpen.DIRECTORY);
  if (typeof parent !== "number") {
    parentInode = BigInt(parent.inode);
    await w.server.close(parent.slot);
  }
  return [BigInt(own.inode), parentInode];
}
