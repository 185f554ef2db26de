import type { Process } from "../../kernel/process.ts";
import type { DeliveredMessage } from "../../kernel/message.ts";
import type { KernelServices } from "../../kernel/services.ts";
import { ObjectKind, Rights } from "../../kernel/caps/object-abi.ts";
import { Errno } from "./errno.ts";

/**
 * WASI files over the file system server (docs/FS.md): a WASI program sees only the directories
 * it was given. A program the shell starts holds its working directory at slot 8 and the root at
 * slot 9 (docs/PROGRAMS.md); they are its preopens, fd 3 (".") and fd 4 ("/"). Every file it opens
 * is a capability the server minted, installed in its table; the fd table here maps fds to those
 * slots and keeps each file's offset. Calls go to the server as IPC the kernel makes for the
 * process (KernelServices.callFor), with data in message words (240 bytes a call).
 *
 * The numbers are the server's protocol (user/lib/fs-protocol.ts).
 */
const FS_OPEN = 2;
const FS_MKDIR = 3;
const FS_UNLINK = 4;
const FS_READ = 6;
const FS_WRITE = 7;
const FS_APPEND = 8;
const FS_TRUNCATE = 9;
const FS_STAT = 10;
const FS_READDIR = 11;
const FS_CLOSE = 12;
const FS_SYNC = 13;
const FS_RIGHT_READ = 1;
const FS_RIGHT_WRITE = 2;
const FS_RIGHT_APPEND = 4;
const FS_OPEN_CREATE = 0x100;
const FS_OPEN_EXCLUSIVE = 0x200;
const FS_OPEN_TRUNCATE = 0x400;
const FS_OPEN_DIRECTORY = 0x800;
const FS_KIND_DIR = 2;
const FS_INLINE_BYTES = 240;
const PATH_IN_WORDS = 4 * 62; // the path shares the message with two words

/** The server's statuses as WASI errnos (the standard's numbers). */
const ERRNO_OF: Record<number, number> = {
  [-201]: 44, // FS_E_NOT_FOUND: ENOENT
  [-202]: 20, // FS_E_EXISTS: EEXIST
  [-203]: 54, // FS_E_NOT_DIR: ENOTDIR
  [-204]: 31, // FS_E_IS_DIR: EISDIR
  [-205]: 55, // FS_E_NOT_EMPTY: ENOTEMPTY
  [-206]: 28, // FS_E_NAME: EINVAL
  [-207]: 51, // FS_E_NO_SPACE: ENOSPC
  [-208]: 33, // FS_E_TABLE_FULL: EMFILE
  [-209]: 8, // FS_E_STALE: EBADF
  [-210]: 63, // FS_E_ESCAPE: ENOTCAPABLE
  [-211]: 29, // FS_E_IO: EIO
  [-212]: 22, // FS_E_TOO_BIG: EFBIG
  [-2]: 63, // E_MISSING_RIGHT: ENOTCAPABLE
  [-6]: 29, // E_PEER_DEAD: EIO
};

export function errnoOfStatus(status: number): number {
  return ERRNO_OF[status] ?? Errno.IO;
}

const PREOPENS = [
  { fd: 3, slot: 8, name: "." },
  { fd: 4, slot: 9, name: "/" },
] as const;
const FIRST_FILE_FD = 5;
/** The job's Memory (docs/PROGRAMS.md), which pays for the page READDIR fills. */
const SLOT_JOB_MEMORY = 7;
const CAP_MOVE = 0x8000_0000;
const LISTING_BYTES = 4096;
const DIRENT_HEADER = 8; // the server's: inode u32, kind u8, name length u8, two zero bytes
const WASI_DIRENT = 24; // d_next u64, d_ino u64, d_namlen u32, d_type u8, padding
const O_CREAT = 1;
const O_DIRECTORY = 2;
const O_EXCL = 4;
const O_TRUNC = 8;
const FDFLAG_APPEND = 1;
const RIGHT_FD_READ = 1n << 1n;
const RIGHT_FD_WRITE = 1n << 6n;

interface OpenFile {
  readonly slot: number;
  readonly directory: boolean;
  readonly append: boolean;
  offset: bigint;
  /** fd_readdir goes on from here: WASI's cookie (entries handed out so far) and the server's. */
  listedEntries: bigint;
  serverCookie: number;
}

/** One directory entry as READDIR gave it. */
interface Entry {
  readonly inode: number;
  readonly kind: number;
  readonly name: Uint8Array;
}

const encoder = new TextEncoder();

/** A process's open files: fd to its capability and offset. */
export class FileTable {
  private readonly files = new Map<number, OpenFile>();
  private readonly k: KernelServices;
  private readonly process: Process;

  constructor(k: KernelServices, process: Process) {
    this.k = k;
    this.process = process;
    for (const p of PREOPENS) {
      if (k.capabilityKind(process, p.slot, Rights.RECEIVER_CALL) === ObjectKind.RECEIVER) {
        this.files.set(p.fd, { slot: p.slot, directory: true, append: false, offset: 0n, listedEntries: 0n, serverCookie: 0 });
      }
    }
  }

  /** The preopen's name for fd_prestat_get / fd_prestat_dir_name, or null when fd is none. */
  preopen(fd: number): Uint8Array | null {
    const p = PREOPENS.find((x) => x.fd === fd);
    return p && this.files.has(fd) ? encoder.encode(p.name) : null;
  }

  has(fd: number): boolean {
    return this.files.has(fd);
  }

  isDirectory(fd: number): boolean {
    return this.files.get(fd)?.directory ?? false;
  }

  /** path_open: the new fd, or a negative errno. */
  async open(dirFd: number, path: Uint8Array, oflags: number, rightsBase: bigint, fdflags: number): Promise<number> {
    const dir = this.files.get(dirFd);
    if (!dir || !dir.directory) return -Errno.BADF;
    if (path.length > PATH_IN_WORDS) return -37; // ENAMETOOLONG
    let flags = FS_RIGHT_READ;
    const wantsWrite = (rightsBase & RIGHT_FD_WRITE) !== 0n || (oflags & (O_CREAT | O_TRUNC)) !== 0;
    const append = (fdflags & FDFLAG_APPEND) !== 0;
    if (wantsWrite) flags |= append ? FS_RIGHT_APPEND : FS_RIGHT_WRITE | FS_RIGHT_APPEND;
    if ((rightsBase & RIGHT_FD_READ) === 0n && wantsWrite && (oflags & O_DIRECTORY) === 0) flags &= ~FS_RIGHT_READ;
    if (oflags & O_CREAT) flags |= FS_OPEN_CREATE;
    if (oflags & O_EXCL) flags |= FS_OPEN_EXCLUSIVE;
    if (oflags & O_TRUNC) flags |= FS_OPEN_TRUNCATE;
    if (oflags & O_DIRECTORY) flags |= FS_OPEN_DIRECTORY;
    const answer = await this.call(dir.slot, FS_OPEN, [flags, path.length, ...pack(path)]);
    if (typeof answer === "number") return -errnoOfStatus(answer);
    const slot = answer.caps[0] ?? 0;
    if (slot === 0) return -Errno.IO;
    const fd = this.freeFd();
    this.files.set(fd, { slot, directory: answer.words[0] === FS_KIND_DIR, append, offset: 0n, listedEntries: 0n, serverCookie: 0 });
    return fd;
  }

  /** Reads up to `max` bytes at the file's offset, which moves: the bytes, or a negative errno. */
  async read(fd: number, max: number, at?: bigint): Promise<Uint8Array | number> {
    const file = this.files.get(fd);
    if (!file) return -Errno.BADF;
    if (file.directory) return -31; // EISDIR
    const offset = at ?? file.offset;
    const n = Math.min(max, FS_INLINE_BYTES);
    const answer = await this.call(file.slot, FS_READ, [Number(offset & 0xffff_ffffn), Number(offset >> 32n), n]);
    if (typeof answer === "number") return -errnoOfStatus(answer);
    const count = Math.min(answer.words[0] ?? 0, n, 4 * (answer.words.length - 1));
    const bytes = unpack(answer.words, 1, count);
    if (at === undefined) file.offset += BigInt(count);
    return bytes;
  }

  /** Writes `data` at the file's offset (at the end when opened to append): bytes written, or a negative errno. */
  async write(fd: number, data: Uint8Array, at?: bigint): Promise<number> {
    const file = this.files.get(fd);
    if (!file) return -Errno.BADF;
    if (file.directory) return -31;
    let done = 0;
    while (done < data.length) {
      const piece = data.subarray(done, done + FS_INLINE_BYTES);
      const offset = at !== undefined ? at + BigInt(done) : file.offset;
      const label = file.append && at === undefined ? FS_APPEND : FS_WRITE;
      const answer = await this.call(file.slot, label, [Number(offset & 0xffff_ffffn), Number(offset >> 32n), piece.length, ...pack(piece)]);
      if (typeof answer === "number") return done > 0 ? done : -errnoOfStatus(answer);
      const n = answer.words[0] ?? 0;
      done += n;
      if (at === undefined) file.offset = label === FS_APPEND ? BigInt(answer.words[1] ?? 0) + (BigInt(answer.words[2] ?? 0) << 32n) : file.offset + BigInt(n);
      if (n < piece.length) break;
    }
    return done;
  }

  /** fd_seek: the new offset, or a negative errno. */
  async seek(fd: number, delta: bigint, whence: number): Promise<bigint | number> {
    const file = this.files.get(fd);
    if (!file) return -Errno.BADF;
    if (file.directory) return -31;
    let base = 0n;
    if (whence === 1) base = file.offset;
    else if (whence === 2) {
      const stat = await this.stat(fd);
      if (typeof stat === "number") return stat;
      base = stat.size;
    } else if (whence !== 0) return -Errno.INVAL;
    const next = base + delta;
    if (next < 0n) return -Errno.INVAL;
    file.offset = next;
    return next;
  }

  tell(fd: number): bigint | number {
    const file = this.files.get(fd);
    return file ? file.offset : -Errno.BADF;
  }

  /** FS_STAT: what fd_filestat_get needs, or a negative errno. */
  async stat(fd: number): Promise<{ kind: number; size: bigint; created: bigint; modified: bigint; inode: number } | number> {
    const file = this.files.get(fd);
    if (!file) return -Errno.BADF;
    const answer = await this.call(file.slot, FS_STAT, []);
    if (typeof answer === "number") return -errnoOfStatus(answer);
    const w = answer.words;
    const u64 = (i: number) => BigInt(w[i] ?? 0) + (BigInt(w[i + 1] ?? 0) << 32n);
    return { kind: w[0] ?? 0, size: u64(1), created: u64(3), modified: u64(5), inode: w[7] ?? 0 };
  }

  async truncate(fd: number, size: bigint): Promise<number> {
    const file = this.files.get(fd);
    if (!file || file.directory) return file ? 31 : Errno.BADF;
    const answer = await this.call(file.slot, FS_TRUNCATE, [Number(size & 0xffff_ffffn), Number(size >> 32n)]);
    return typeof answer === "number" ? errnoOfStatus(answer) : Errno.SUCCESS;
  }

  async sync(fd: number): Promise<number> {
    const file = this.files.get(fd);
    if (!file) return Errno.BADF;
    const answer = await this.call(file.slot, FS_SYNC, []);
    return typeof answer === "number" ? errnoOfStatus(answer) : Errno.SUCCESS;
  }

  /** MKDIR or UNLINK of a path under a directory fd: an errno. */
  async pathOperation(dirFd: number, label: "mkdir" | "unlink", path: Uint8Array): Promise<number> {
    const dir = this.files.get(dirFd);
    if (!dir || !dir.directory) return Errno.BADF;
    if (path.length > PATH_IN_WORDS) return 37;
    const answer = await this.call(dir.slot, label === "mkdir" ? FS_MKDIR : FS_UNLINK, [path.length, ...pack(path)]);
    return typeof answer === "number" ? errnoOfStatus(answer) : Errno.SUCCESS;
  }

  /** fd_close: the server forgets the handle, and its capability leaves the table. Preopens stay. */
  async close(fd: number): Promise<number> {
    const file = this.files.get(fd);
    if (!file) return Errno.BADF;
    if (PREOPENS.some((p) => p.fd === fd)) return Errno.SUCCESS;
    this.files.delete(fd);
    await this.call(file.slot, FS_CLOSE, []);
    this.k.dropCapability(this.process, file.slot);
    return Errno.SUCCESS;
  }

  /**
   * fd_readdir: WASI dirents from entry `cookie` on, as many as `length` bytes hold (the last one
   * cut, as WASI wants, when it does not fit): the bytes, or a negative errno. The cookie counts
   * entries; the server's own cookie is kept for the next call, so reading on costs one READDIR.
   */
  async readdir(fd: number, cookie: bigint, length: number): Promise<Uint8Array | number> {
    const dir = this.files.get(fd);
    if (!dir) return -Errno.BADF;
    if (!dir.directory) return -54; // ENOTDIR
    if (cookie !== dir.listedEntries) {
      // Another position than where the last call stopped: start over and skip.
      dir.listedEntries = 0n;
      dir.serverCookie = 0;
    }
    const out = new Uint8Array(length);
    let used = 0;
    let skip = cookie;
    while (used < length) {
      const batch = await this.list(dir);
      if (typeof batch === "number") return batch;
      if (batch.length === 0) break;
      for (let i = 0; i < batch.length; i++) {
        const entry = batch[i]!;
        if (skip > 0n) {
          skip--;
          dir.listedEntries++;
          continue;
        }
        dir.listedEntries++;
        const record = new Uint8Array(WASI_DIRENT + entry.name.length);
        const view = new DataView(record.buffer);
        view.setBigUint64(0, dir.listedEntries, true);
        view.setBigUint64(8, BigInt(entry.inode), true);
        view.setUint32(16, entry.name.length, true);
        view.setUint8(20, entry.kind === FS_KIND_DIR ? 3 : 4);
        record.set(entry.name, WASI_DIRENT);
        const room = Math.min(record.length, length - used);
        out.set(record.subarray(0, room), used);
        used += room;
        if (used >= length) {
          // Stopped inside a batch: the server's cookie is past it, so the next call starts over.
          if (room < record.length || i + 1 < batch.length) dir.listedEntries = -1n;
          break;
        }
      }
    }
    return out.subarray(0, used);
  }

  /** The next READDIR batch of a directory (empty at its end), through a page of the job's Memory. */
  private async list(dir: OpenFile): Promise<Entry[] | number> {
    const region = this.k.createRegionFor(this.process, SLOT_JOB_MEMORY, 1);
    if (typeof region === "number") return -errnoOfStatus(region);
    const answer = await this.k.callFor(this.process, dir.slot, FS_READDIR, [dir.serverCookie, 0, LISTING_BYTES], [region.slot | CAP_MOVE]);
    if (typeof answer === "number" || answer.label !== 0) {
      if (typeof answer !== "number") for (const cap of answer.caps) this.k.dropCapability(this.process, cap);
      return -errnoOfStatus(typeof answer === "number" ? answer : -answer.label);
    }
    const [count = 0, next = 0, bytes = 0] = answer.words;
    const listing = bytes > 0 ? this.k.readMemory(this.process, region.address, Math.min(bytes, LISTING_BYTES)) : new Uint8Array(0);
    for (const cap of answer.caps) this.k.dropCapability(this.process, cap); // the page comes back, and goes
    if (listing === null) return -Errno.IO;
    dir.serverCookie = next;
    const entries: Entry[] = [];
    let at = 0;
    for (let i = 0; i < count && at + DIRENT_HEADER <= listing.length; i++) {
      const view = new DataView(listing.buffer, listing.byteOffset + at);
      const nameLength = view.getUint8(5);
      entries.push({ inode: view.getUint32(0, true), kind: view.getUint8(4), name: listing.slice(at + DIRENT_HEADER, at + DIRENT_HEADER + nameLength) });
      at += (DIRENT_HEADER + nameLength + 3) & ~3;
    }
    return entries;
  }

  private freeFd(): number {
    let fd = FIRST_FILE_FD;
    while (this.files.has(fd)) fd++;
    return fd;
  }

  /** A call to the server; a reply's label is a status as its magnitude. */
  private async call(slot: number, label: number, words: number[]): Promise<DeliveredMessage | number> {
    const answer = await this.k.callFor(this.process, slot, label, words);
    if (typeof answer === "number") return answer;
    return answer.label === 0 ? answer : -answer.label;
  }
}

function pack(bytes: Uint8Array): number[] {
  const words: number[] = [];
  for (let i = 0; i < bytes.length; i += 4) {
    words.push((bytes[i]! | ((bytes[i + 1] ?? 0) << 8) | ((bytes[i + 2] ?? 0) << 16) | ((bytes[i + 3] ?? 0) << 24)) >>> 0);
  }
  return words;
}

function unpack(words: readonly number[], first: number, count: number): Uint8Array {
  const bytes = new Uint8Array(count);
  for (let i = 0; i < count; i++) bytes[i] = (words[first + (i >> 2)]! >>> (8 * (i & 3))) & 0xff;
  return bytes;
}
