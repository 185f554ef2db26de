import { Errno } from "./errno.ts";

/**
 * The numbers of the protocols the personality speaks for a process: the file system server's
 * (docs/FS.md; user/lib/fs-protocol.ts is the same table for user space), which the host share
 * and host folder servers speak too, and the stream protocol (docs/PROGRAMS.md; user/lib/streams.ts).
 */
export const Fs = {
  OPEN: 2,
  MKDIR: 3,
  UNLINK: 4,
  RENAME: 5,
  READ: 6,
  WRITE: 7,
  APPEND: 8,
  TRUNCATE: 9,
  STAT: 10,
  READDIR: 11,
  CLOSE: 12,
  SYNC: 13,
} as const;

/**
 * Requests for symbolic links, hard links and times (PATH_STAT, LINK, SYMLINK, READLINK,
 * SET_TIMES): a server that does not know one answers E_INVALID_ARGUMENT, which the personality
 * gives as ENOTSUP. docs/FS.md has their words.
 */
export const FsLinks = {
  PATH_STAT: 14,
  LINK: 15,
  SYMLINK: 16,
  READLINK: 17,
  SET_TIMES: 18,
} as const;

export const FsRight = { READ: 1, WRITE: 2, APPEND: 4 } as const;
/** OPEN flags beside the rights; NOFOLLOW: a symbolic link as the last name is FS_E_LOOP. */
export const FsOpen = { CREATE: 0x100, EXCLUSIVE: 0x200, TRUNCATE: 0x400, DIRECTORY: 0x800, NOFOLLOW: 0x1000 } as const;
export const FsKind = { FILE: 1, DIRECTORY: 2, OTHER: 3, SYMLINK: 4 } as const;

/** Bytes a READ or WRITE may carry in message words instead of a Region. */
export const FS_INLINE_BYTES = 240;
/** All of a request's paths together, at most. */
export const FS_PATH_MAX = 4096;
/** A READDIR entry's header in the Region: inode u32, kind u8, name length u8, two zero bytes. */
export const FS_DIRENT_HEADER = 8;

export const FsStatus = {
  NOT_FOUND: -201,
  EXISTS: -202,
  NOT_DIR: -203,
  IS_DIR: -204,
  NOT_EMPTY: -205,
  NAME: -206,
  NO_SPACE: -207,
  TABLE_FULL: -208,
  STALE: -209,
  ESCAPE: -210,
  IO: -211,
  TOO_BIG: -212,
  LOOP: -213,
} as const;

/** ABI statuses (docs/ABI.md) the personality meets. */
export const AbiStatus = {
  E_INVALID_CAP: -1,
  E_MISSING_RIGHT: -2,
  E_WRONG_TYPE: -3,
  E_QUEUE_FULL: -4,
  E_QUOTA: -5,
  E_PEER_DEAD: -6,
  E_BAD_MESSAGE: -8,
  E_INVALID_ARGUMENT: -11,
} as const;

export const Stream = {
  WRITE: 0x1001,
  READ: 0x1002,
  /** Readiness, without waiting (pipes, the host folder server): kind, readable bytes (0xffffffff at the end), room to write. */
  INFO: 0x1003,
  TO_ERRORS: 0x1_0000,
  /** Bytes in one message at most: 63 words after the length word. */
  CHUNK: 252,
} as const;

/** What STREAM INFO's first word says a stream is. */
export const StreamKind = { TERMINAL: 1, PIPE: 2, FILE: 3 } as const;

/** The console driver's INFO (docs/DRIVERS.md): mode, bytes ready to read, readers waiting, ended. */
export const CONSOLE_INFO = 5;

const ERRNO_OF_STATUS: Readonly<Record<number, number>> = {
  [FsStatus.NOT_FOUND]: Errno.NOENT,
  [FsStatus.EXISTS]: Errno.EXIST,
  [FsStatus.NOT_DIR]: Errno.NOTDIR,
  [FsStatus.IS_DIR]: Errno.ISDIR,
  [FsStatus.NOT_EMPTY]: Errno.NOTEMPTY,
  [FsStatus.NAME]: Errno.INVAL,
  [FsStatus.NO_SPACE]: Errno.NOSPC,
  [FsStatus.TABLE_FULL]: Errno.NFILE,
  [FsStatus.STALE]: Errno.BADF,
  [FsStatus.ESCAPE]: Errno.NOTCAPABLE,
  [FsStatus.IO]: Errno.IO,
  [FsStatus.TOO_BIG]: Errno.FBIG,
  [FsStatus.LOOP]: Errno.LOOP,
  [AbiStatus.E_MISSING_RIGHT]: Errno.NOTCAPABLE,
  [AbiStatus.E_PEER_DEAD]: Errno.IO,
  [AbiStatus.E_QUOTA]: Errno.NOMEM,
  [AbiStatus.E_INVALID_CAP]: Errno.BADF,
};

/** The WASI errno for a server's (or the kernel's) status. */
export function errnoOfStatus(status: number): number {
  return ERRNO_OF_STATUS[status] ?? Errno.IO;
}

/** Bytes packed little-endian into 32-bit words, as message words carry them. */
export function pack(bytes: Uint8Array): number[] {
  const words: number[] = [];
  for (let i = 0; i < bytes.length; i += 4) {
    words.push((bytes[i]! | ((bytes[i + 1] ?? 0) << 8) | ((bytes[i + 2] ?? 0) << 16) | ((bytes[i + 3] ?? 0) << 24)) >>> 0);
  }
  return words;
}

/** `count` bytes from message words, starting at word `first`. */
export function unpack(words: readonly number[], first: number, count: number): Uint8Array {
  const bytes = new Uint8Array(count);
  for (let i = 0; i < count; i++) bytes[i] = ((words[first + (i >> 2)] ?? 0) >>> (8 * (i & 3))) & 0xff;
  return bytes;
}

/** A u64 from two words (low, high). */
export function u64(words: readonly number[], at: number): bigint {
  return BigInt(words[at] ?? 0) + (BigInt(words[at + 1] ?? 0) << 32n);
}

/** The two words (low, high) of a u64. */
export function words64(value: bigint): [number, number] {
  return [Number(value & 0xffff_ffffn), Number((value >> 32n) & 0xffff_ffffn)];
}
