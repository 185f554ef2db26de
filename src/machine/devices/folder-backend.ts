import type { DirectoryStream } from "./directory-cursors.ts";

/**
 * A host folder, readable and writable, as the host folder device sees it. Paths are lists of
 * names from the folder's root, already split and checked by the device (no "", ".", "..", "/",
 * "\\" or NUL); the backend must still refuse anything that resolves outside the folder (a
 * symbolic link leading out), and never follow a link where the call says not to. Open files
 * are numbered by the backend (ids from 1), so reads and writes reach the file opened, whatever
 * is renamed or removed meanwhile.
 */
export type FolderEntryKind = "file" | "directory" | "symlink" | "other";

export interface FolderStat {
  readonly kind: FolderEntryKind;
  readonly size: number;
  readonly links: number;
  readonly inode: bigint;
  /** Nanoseconds since the Unix epoch. */
  readonly accessedNs: bigint;
  readonly modifiedNs: bigint;
  readonly changedNs: bigint;
}

export interface FolderEntry {
  readonly name: string;
  readonly kind: FolderEntryKind;
  readonly inode: bigint;
}

export interface FolderOpenFlags {
  readonly create: boolean;
  /** With create: the name must be free. */
  readonly exclusive: boolean;
  readonly truncate: boolean;
  /** The file is written through this id (else only read). */
  readonly write: boolean;
  /** A symbolic link as the last name is not followed: opened itself (its stat, no file id), or "loop" with truncate. */
  readonly noFollow: boolean;
}

/** What `open` gives: the stat, and an id for a regular file (null for a directory or anything else). */
export interface FolderOpened {
  readonly stat: FolderStat;
  readonly file: number | null;
}

/** Times to set: a value, the host's "now", or left as it is. */
export type FolderTime = bigint | "now" | null;

/** A backend's answer: at once (a host whose calls are synchronous) or later. */
export type FolderAnswer<T> = T | Promise<T>;

/**
 * A backend answers each call at once or with a promise; it fails by throwing (or rejecting with)
 * a FolderError. The device completes a request answered at once before the driver's NOTIFY
 * returns (src/machine/devices/host-folder.ts).
 */
export interface FolderBackend {
  /** A read-only folder refuses every change with "read-only". */
  readonly readOnly: boolean;
  stat(path: readonly string[], follow: boolean): FolderAnswer<FolderStat>;
  /**
   * The directory open as a stream of its entries in the host's order (a link shows as
   * "symlink"); the device reads it a piece at a time and closes it (src/machine/devices/directory-cursors.ts).
   */
  openDirectory(path: readonly string[]): FolderAnswer<DirectoryStream<FolderEntry>>;
  open(path: readonly string[], flags: FolderOpenFlags): FolderAnswer<FolderOpened>;
  mkdir(path: readonly string[]): FolderAnswer<void>;
  /** Removes a name: a directory (empty) when `directory`, else anything that is not one. */
  remove(path: readonly string[], directory: boolean): FolderAnswer<void>;
  /** Moves a name, replacing what `to` names as rename(2) does. */
  rename(from: readonly string[], to: readonly string[]): FolderAnswer<void>;
  /** A hard link `to` for what `from` names (a symbolic link as its last name followed when `follow`, else linked itself). */
  link(from: readonly string[], to: readonly string[], follow: boolean): FolderAnswer<void>;
  symlink(target: string, path: readonly string[]): FolderAnswer<void>;
  readlink(path: readonly string[]): FolderAnswer<string>;
  setTimes(path: readonly string[], follow: boolean, accessed: FolderTime, modified: FolderTime): FolderAnswer<void>;
  read(file: number, offset: number, length: number): FolderAnswer<Uint8Array>;
  write(file: number, offset: number, data: Uint8Array): FolderAnswer<number>;
  /**
   * Optional, for a backend whose calls are synchronous: as `read` into the pieces one after
   * another, every byte in place before it returns: the bytes read (fewer at the end). The device
   * hands it the DMA window's own memory (DmaWindow.lendPieces), so a read lands where the driver
   * reads it, with no buffer allocated and no copy between (a 4 KiB read made both every call).
   */
  readScattered?(file: number, offset: number, pieces: readonly Uint8Array[]): number;
  /** Optional, as `readScattered`: `write` of the pieces one after another, every byte taken before it returns: the bytes written. */
  writeGathered?(file: number, offset: number, pieces: readonly Uint8Array[]): number;
  /** Writes at the end of the file: bytes written and the size after. */
  append(file: number, data: Uint8Array): FolderAnswer<{ written: number; size: number }>;
  truncate(file: number, size: number): FolderAnswer<void>;
  fileStat(file: number): FolderAnswer<FolderStat>;
  fileSetTimes(file: number, accessed: FolderTime, modified: FolderTime): FolderAnswer<void>;
  sync(file: number): FolderAnswer<void>;
  close(file: number): FolderAnswer<void>;
  /** Closes every open file (the device was reset: its driver starts over). */
  closeAll(): FolderAnswer<void>;
}

/** Why a folder operation failed; a backend rejects with one so the driver gets a precise status. */
export type FolderFailure =
  | "not-found" | "not-directory" | "is-directory" | "denied" | "io" | "exists" | "not-empty" | "loop" | "no-space"
  | "stale" | "read-only" | "invalid" | "too-big" | "again";

export class FolderError extends Error {
  readonly reason: FolderFailure;

  constructor(reason: FolderFailure, message: string) {
    super(message);
    this.name = "FolderError";
    this.reason = reason;
  }
}
