import type { InterruptSink } from "../devices.ts";
import type { DmaWindow } from "../mmio.ts";
import { DirectoryCursors, ListedRecords, listCompletion } from "./directory-cursors.ts";
import { type FolderAnswer, type FolderBackend, type FolderEntry, FolderError, type FolderEntryKind, type FolderStat, type FolderTime } from "./folder-backend.ts";
import { type Completion, type Descriptor, QueueDevice } from "./queue-device.ts";
import { DeviceKind } from "./registers.ts";
import { RequestStatus } from "./request-status.ts";
import { MAX_SHARE_PATH, parseSharePath } from "./share-path.ts";

export const FolderOp = {
  STAT: 1,
  LIST: 2,
  OPEN: 3,
  MKDIR: 4,
  REMOVE: 5,
  RENAME: 6,
  LINK: 7,
  SYMLINK: 8,
  READLINK: 9,
  SET_TIMES: 10,
  READ: 11,
  WRITE: 12,
  APPEND: 13,
  TRUNCATE: 14,
  FILE_STAT: 15,
  FILE_SET_TIMES: 16,
  SYNC: 17,
  CLOSE: 18,
} as const;

export const FolderKind = { FILE: 1, DIRECTORY: 2, OTHER: 3, SYMLINK: 4 } as const;
/** OPEN's flags (descriptor word 6). */
export const FolderOpen = { CREATE: 1, EXCLUSIVE: 2, TRUNCATE: 4, WRITE: 8, NO_FOLLOW: 16 } as const;
/** SET_TIMES' flags (the last word of its 20 bytes), as WASI's fstflags. */
export const FolderTimes = { ACCESS: 1, ACCESS_NOW: 2, MODIFY: 4, MODIFY_NOW: 8 } as const;
/** The register that says what the folder is: bit 0, read-only. */
export const FOLDER_FLAGS_REGISTER = 25;
export const FOLDER_READ_ONLY = 1;
export const FOLDER_STAT_BYTES = 48;
const TIMES_BYTES = 20;

/**
 * A host folder, read and written, behind a request queue (docs/DEVICES.md "Host folder"). A
 * descriptor is: op, id, path offset, path length, buffer offset, buffer length, position (low,
 * high). Operations on a name carry its path (names from the folder's root); a second path
 * (RENAME's and LINK's new name) or SYMLINK's target is in the buffer. Operations on an open file
 * carry its id (what OPEN answered in the used entry's extra word) in place of the path offset;
 * APPEND's position word is where in the window the file's size after it goes (8 bytes).
 * STAT, OPEN and FILE_STAT write a 48-byte record to the buffer: kind u32, links u32, size u64,
 * access, modification and change times u64 (ns), inode u64. LIST writes records of kind u32,
 * name length u32, inode u64 and the name padded to 4 bytes, from the entry its position names
 * (sorted by name up to 512 entries, else in the host's order; read a piece at a time from an
 * open host directory: directory-cursors.ts),
 * and says in the extra word whether the directory ends after them (1) or may not (0); one that
 * gives no record before its share of the work is done answers E_AGAIN.
 *
 * A request the backend answers at once (the Node host's calls are synchronous) completes before
 * the driver's NOTIFY returns: the driver finds it in the used ring without waiting for the
 * interrupt, which saves each request a block, a wake and an interrupt's delivery.
 */
export class HostFolderDevice extends QueueDevice {
  readonly name: string;
  private readonly backend: FolderBackend;
  private readonly cursors = new DirectoryCursors<FolderEntry>();

  constructor(line: number, interrupts: InterruptSink, backend: FolderBackend, name = "folder") {
    super(DeviceKind.FOLDER, line, interrupts);
    this.backend = backend;
    this.name = name;
    this.registers.set(FOLDER_FLAGS_REGISTER, backend.readOnly ? FOLDER_READ_ONLY : 0);
  }

  protected override powerOn(): void {
    super.powerOn();
    this.registers.set(FOLDER_FLAGS_REGISTER, this.backend.readOnly ? FOLDER_READ_ONLY : 0);
    this.cursors.closeAll();
    try {
      void Promise.resolve(this.backend.closeAll()).catch(() => undefined);
    } catch {
      // Files the host could not close are closed with the host.
    }
  }

  protected override completesAtOnce(): boolean {
    return true;
  }

  protected start(descriptor: Descriptor, dma: DmaWindow): Completion | Promise<Completion> {
    // Indexed, not destructured: a typed array's destructuring goes through its iterator, some 300
    // bytes of garbage a request (every WASI read and write on a host folder is one).
    const op = descriptor[0]!;
    const pathOffset = descriptor[2]!;
    const pathLength = descriptor[3]!;
    const buffer = descriptor[4]!;
    const bufferLength = descriptor[5]!;
    const positionLow = descriptor[6]!;
    const positionHigh = descriptor[7]!;
    if (buffer + bufferLength > dma.size) return { status: RequestStatus.E_BUFFER };
    const position = positionHigh * 2 ** 32 + positionLow;
    let run: Completion | Promise<Completion> | number;
    try {
      run = op >= FolderOp.READ ? this.onFile(op, pathOffset, dma, buffer, bufferLength, position) : this.onPath(op, dma, pathOffset, pathLength, buffer, bufferLength, position);
    } catch (error) {
      return { status: statusOf(error) };
    }
    if (typeof run === "number") return { status: run };
    if (run instanceof Promise) return run.catch((error: unknown) => ({ status: statusOf(error) }));
    return run;
  }

  private onPath(op: number, dma: DmaWindow, pathOffset: number, pathLength: number, buffer: number, room: number, position: number): Completion | Promise<Completion> | number {
    if (op < FolderOp.STAT || op > FolderOp.SET_TIMES) return RequestStatus.E_OP;
    if (pathLength > MAX_SHARE_PATH) return RequestStatus.E_PATH;
    if (pathOffset + pathLength > dma.size) return RequestStatus.E_BUFFER;
    const path = parseSharePath(dma.read(pathOffset, pathLength));
    if (typeof path === "number") return path;
    const b = this.backend;
    const flags = position;
    switch (op) {
      case FolderOp.STAT:
        return this.statInto(b.stat(path, (flags & 1) !== 0), buffer, room);
      case FolderOp.LIST:
        return this.list(path, buffer, room, position);
      case FolderOp.OPEN:
        return this.open(path, flags, buffer, room);
      case FolderOp.MKDIR:
        return done(b.mkdir(path));
      case FolderOp.REMOVE:
        return done(b.remove(path, (flags & 1) !== 0));
      case FolderOp.READLINK:
        return then(b.readlink(path), (target): Completion => {
          const bytes = new TextEncoder().encode(target);
          if (bytes.length > room) return { status: RequestStatus.E_BUFFER };
          return { status: RequestStatus.OK, length: bytes.length, output: { offset: buffer, data: bytes } };
        });
      case FolderOp.SET_TIMES: {
        if (room < TIMES_BYTES) return RequestStatus.E_BUFFER;
        const [accessed, modified] = timesOf(dma.read(buffer, TIMES_BYTES));
        return done(b.setTimes(path, (flags & 1) !== 0, accessed, modified));
      }
    }
    // RENAME, LINK, SYMLINK: a second path (or the link's target) in the buffer.
    const second = dma.read(buffer, Math.min(room, MAX_SHARE_PATH));
    if (op === FolderOp.SYMLINK) {
      const target = textOf(second);
      if (target === null) return RequestStatus.E_PATH;
      return done(b.symlink(target, path));
    }
    const to = parseSharePath(second);
    if (typeof to === "number") return to;
    return done(op === FolderOp.RENAME ? b.rename(path, to) : b.link(path, to, (flags & 1) !== 0));
  }

  private onFile(op: number, file: number, dma: DmaWindow, buffer: number, room: number, position: number): Completion | Promise<Completion> | number {
    const b = this.backend;
    switch (op) {
      case FolderOp.READ:
        // A synchronous backend reads straight into the window's memory (the driver waits for the completion).
        if (b.readScattered && !dma.readOnly) return { status: RequestStatus.OK, length: b.readScattered(file, position, dma.lendPieces(buffer, room)) };
        return then(b.read(file, position, room), (data) => ({ status: RequestStatus.OK, length: data.length, output: { offset: buffer, data: data.subarray(0, room) } }));
      case FolderOp.WRITE:
        if (b.writeGathered) return { status: RequestStatus.OK, length: b.writeGathered(file, position, dma.lendPieces(buffer, room)) };
        return then(b.write(file, position, dma.read(buffer, room)), (written) => ({ status: RequestStatus.OK, length: written }));
      case FolderOp.APPEND:
        // The size after goes to the 8 bytes at the offset the position word gives.
        return then(b.append(file, dma.read(buffer, room)), ({ written, size }) => ({
          status: RequestStatus.OK,
          length: written,
          output: { offset: position, data: u64Bytes(BigInt(size)) },
        }));
      case FolderOp.TRUNCATE:
        return done(b.truncate(file, position));
      case FolderOp.FILE_STAT:
        return this.statInto(b.fileStat(file), buffer, room);
      case FolderOp.FILE_SET_TIMES: {
        if (room < TIMES_BYTES) return RequestStatus.E_BUFFER;
        const [accessed, modified] = timesOf(dma.read(buffer, TIMES_BYTES));
        return done(b.fileSetTimes(file, accessed, modified));
      }
      case FolderOp.SYNC:
        return done(b.sync(file));
      case FolderOp.CLOSE:
        return done(b.close(file));
    }
    return RequestStatus.E_OP;
  }

  private statInto(stat: FolderAnswer<FolderStat>, buffer: number, room: number): Completion | Promise<Completion> {
    if (room < FOLDER_STAT_BYTES) return { status: RequestStatus.E_BUFFER };
    return then(stat, (info) => ({ status: RequestStatus.OK, length: FOLDER_STAT_BYTES, output: { offset: buffer, data: encodeStat(info) } }));
  }

  private open(path: string[], flags: number, buffer: number, room: number): Completion | Promise<Completion> {
    if (room < FOLDER_STAT_BYTES) return { status: RequestStatus.E_BUFFER };
    const opened = this.backend.open(path, {
      create: (flags & FolderOpen.CREATE) !== 0,
      exclusive: (flags & FolderOpen.EXCLUSIVE) !== 0,
      truncate: (flags & FolderOpen.TRUNCATE) !== 0,
      write: (flags & FolderOpen.WRITE) !== 0,
      noFollow: (flags & FolderOpen.NO_FOLLOW) !== 0,
    });
    return then(opened, ({ file, stat }) => ({ status: RequestStatus.OK, length: FOLDER_STAT_BYTES, extra: file ?? 0, output: { offset: buffer, data: encodeStat(stat) } }));
  }

  /**
   * LIST: the directory's entries from `first`, a share of the host's work at a time. Its cursor
   * is the directory's path and inode, so a directory put in place of another is listed afresh.
   */
  private list(path: string[], buffer: number, room: number, first: number): Completion | Promise<Completion> {
    const info = this.backend.stat(path, true);
    if (info instanceof Promise) return info.then((known) => this.listFrom(known, path, buffer, room, first));
    return this.listFrom(info, path, buffer, room, first);
  }

  private listFrom(info: FolderStat, path: string[], buffer: number, room: number, first: number): Completion | Promise<Completion> {
    if (info.kind !== "directory") return { status: RequestStatus.E_NOT_DIRECTORY };
    const records = new ListedRecords<FolderEntry>(room, encodeEntry);
    const listed = this.cursors.list(`${info.inode}/${path.join("/")}`, first, () => this.backend.openDirectory(path), (entry) => records.add(entry));
    return listed instanceof Promise ? listed.then((done) => listCompletion(done, records, buffer)) : listCompletion(listed, records, buffer);
  }
}

/** A LIST record: kind u32, name length u32, inode u64, the name padded to 4 bytes. */
function encodeEntry(entry: FolderEntry): Uint8Array {
  const name = new TextEncoder().encode(entry.name);
  const record = new Uint8Array(16 + ((name.length + 3) & ~3));
  const view = new DataView(record.buffer);
  view.setUint32(0, kindCode(entry.kind), true);
  view.setUint32(4, name.length, true);
  view.setBigUint64(8, BigInt.asUintN(64, entry.inode), true);
  record.set(name, 16);
  return record;
}

/** `f` of a backend's answer: at once when it answered at once, else when it does. */
function then<T>(answer: FolderAnswer<T>, f: (value: T) => Completion): Completion | Promise<Completion> {
  return answer instanceof Promise ? answer.then(f) : f(answer);
}

function done(work: FolderAnswer<void>): Completion | Promise<Completion> {
  return then(work, () => ({ status: RequestStatus.OK }));
}

function kindCode(kind: FolderEntryKind): number {
  return kind === "file" ? FolderKind.FILE : kind === "directory" ? FolderKind.DIRECTORY : kind === "symlink" ? FolderKind.SYMLINK : FolderKind.OTHER;
}

function encodeStat(stat: FolderStat): Uint8Array {
  const out = new Uint8Array(FOLDER_STAT_BYTES);
  const view = new DataView(out.buffer);
  view.setUint32(0, kindCode(stat.kind), true);
  view.setUint32(4, Math.min(stat.links, 0xffff_ffff), true);
  view.setBigUint64(8, BigInt(stat.size), true);
  view.setBigUint64(16, BigInt.asUintN(64, stat.accessedNs), true);
  view.setBigUint64(24, BigInt.asUintN(64, stat.modifiedNs), true);
  view.setBigUint64(32, BigInt.asUintN(64, stat.changedNs), true);
  view.setBigUint64(40, BigInt.asUintN(64, stat.inode), true);
  return out;
}

function u64Bytes(value: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, value, true);
  return out;
}

/** SET_TIMES' 20 bytes: access u64, modification u64, flags u32. */
function timesOf(bytes: Uint8Array): [FolderTime, FolderTime] {
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  const flags = view.getUint32(16, true);
  const pick = (value: bigint, set: number, now: number): FolderTime => ((flags & now) !== 0 ? "now" : (flags & set) !== 0 ? value : null);
  return [pick(view.getBigUint64(0, true), FolderTimes.ACCESS, FolderTimes.ACCESS_NOW), pick(view.getBigUint64(8, true), FolderTimes.MODIFY, FolderTimes.MODIFY_NOW)];
}

function textOf(bytes: Uint8Array): string | null {
  const end = bytes.indexOf(0);
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(end < 0 ? bytes : bytes.subarray(0, end));
  } catch {
    return null;
  }
}

const STATUS_OF: Readonly<Record<string, number>> = {
  "not-found": RequestStatus.E_NOT_FOUND,
  "not-directory": RequestStatus.E_NOT_DIRECTORY,
  "is-directory": RequestStatus.E_IS_DIRECTORY,
  denied: RequestStatus.E_DENIED,
  exists: RequestStatus.E_EXISTS,
  "not-empty": RequestStatus.E_NOT_EMPTY,
  loop: RequestStatus.E_LOOP,
  "no-space": RequestStatus.E_NO_SPACE,
  stale: RequestStatus.E_STALE,
  "read-only": RequestStatus.E_READ_ONLY,
  invalid: RequestStatus.E_INVALID,
  "too-big": RequestStatus.E_RANGE,
  again: RequestStatus.E_AGAIN,
};

function statusOf(error: unknown): number {
  return error instanceof FolderError ? (STATUS_OF[error.reason] ?? RequestStatus.E_IO) : RequestStatus.E_IO;
}
