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
 * The requests for links, times and removal by kind (docs/FS.md). A server that does not have
 * one answers E_INVALID_ARGUMENT, and the personality does without it (a lookup first) or says
 * ENOTSUP.
 */
export const FsMore = {
  /** Directory: a token naming it (a send capability of the server's), for RENAME and LINK into it from another directory. */
  TOKEN: 14,
  /** Directory. Words: flags (LINK_FOLLOW), from length, to length, both paths; caps: a token for the destination, a view. */
  LINK: 15,
  /** Directory. Words: target length, path length, the target then the path. */
  SYMLINK: 16,
  /** Any handle (the TIMES right). Words: flags (WASI's fstflags), access low, high, modification low, high. */
  SET_TIMES: 17,
  /** Directory. Words: flags (REMOVE_DIR, REMOVE_FILE), path length, path: UNLINK of that kind only. */
  REMOVE: 18,
  /**
   * File: a new handle whose READ without a Region lands in a read buffer the server made (a view
   * comes back; words: its bytes, the client buffer's bytes, its address). docs/FS.md "Attached handles".
   */
  ATTACH: 19,
  /** Directory (READ). Words: flags (1: follow a link as the last name), path length, path: STAT's words for what the path names, in one call. */
  STAT_AT: 21,
  /** Directory (READ). Words: path length, path: the kind there, then for a link its contents' length and bytes (at most 240). */
  READLINK_AT: 22,
} as const;
export const FsRemove = { DIR: 1, FILE: 2 } as const;
export const FS_LINK_FOLLOW = 1;

/** Rights of a handle; TIMES (set times) is implied by WRITE. */
export const FsRight = { READ: 1, WRITE: 2, APPEND: 4, TIMES: 8 } as const;
/** OPEN flags beside the rights; NOFOLLOW: a symbolic link as the last name is opened itself (kind SYMLINK). */
export const FsOpen = { CREATE: 0x100, EXCLUSIVE: 0x200, TRUNCATE: 0x400, DIRECTORY: 0x800, NOFOLLOW: 0x1000 } as const;
export const FsKind = { FILE: 1, DIRECTORY: 2, SYMLINK: 3 } as const;

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
  LINKS: -214,
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
  E_NOT_READY: -12,
} as const;

export const Stream = {
  WRITE: 0x1001,
  READ: 0x1002,
  /** Readiness, without waiting (every stream: the console, pipes, files, the host folder server): kind, readable bytes (0xffffffff at the end), room to write. */
  INFO: 0x1003,
  TO_ERRORS: 0x1_0000,
  /** Bytes in one message at most: 63 words after the length word. */
  CHUNK: 252,
} as const;

/** What STREAM INFO's first word says a stream is. */
export const StreamKind = { TERMINAL: 1, PIPE: 2, FILE: 3 } as const;

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
  [FsStatus.LINKS]: Errno.MLINK,
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
