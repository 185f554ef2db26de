import type { DirectoryStream } from "./directory-cursors.ts";

/**
 * A read-only host folder as the host share device sees it. Paths are lists of names from the
 * share's root (already split and checked by the device: no "", ".", "..", "/", "\\" or NUL);
 * the backend must still refuse anything that resolves outside the root (a symlink).
 */
export type ShareEntryKind = "file" | "directory" | "other";

export interface ShareStat {
  readonly kind: ShareEntryKind;
  readonly size: number;
  /** Last modification, nanoseconds since the Unix epoch. */
  readonly modifiedNs: bigint;
}

export interface ShareEntry {
  readonly name: string;
  readonly kind: ShareEntryKind;
}

export interface ShareBackend {
  stat(path: readonly string[]): Promise<ShareStat>;
  /** The directory open as a stream of its entries in the host's order; the device reads it a piece at a time and closes it. */
  openDirectory(path: readonly string[]): Promise<DirectoryStream<ShareEntry>>;
  /** Up to `length` bytes of the file from `offset` (fewer at its end, none past it). */
  read(path: readonly string[], offset: number, length: number): Promise<Uint8Array>;
}

/** Why a share operation failed; a backend rejects with one so the driver gets a precise status. */
export type ShareFailure = "not-found" | "not-directory" | "is-directory" | "denied" | "io";

export class ShareError extends Error {
  readonly reason: ShareFailure;

  constructor(reason: ShareFailure, message: string) {
    super(message);
    this.name = "ShareError";
    this.reason = reason;
  }
}
