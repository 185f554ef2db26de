/**
 * The status a queued request completes with, in word 1 of its used-ring entry. Shared by the
 * block, host share and host folder devices, and by the drivers written against docs/DEVICES.md.
 */
export const RequestStatus = {
  OK: 0,
  /** The backend failed (a host I/O error). */
  E_IO: 1,
  /** Sectors past the end of the disk. */
  E_RANGE: 2,
  /** A buffer (or path) outside the DMA window, or too small for the result. */
  E_BUFFER: 3,
  /** An operation the device does not have. */
  E_OP: 4,
  E_NOT_FOUND: 5,
  E_NOT_DIRECTORY: 6,
  E_IS_DIRECTORY: 7,
  /** The path leaves the share (`..`, a symlink pointing out) or the host refused access. */
  E_DENIED: 8,
  /** The path is not valid UTF-8 or holds a NUL or a backslash. */
  E_PATH: 9,
  /** A write to a write-protected disk (`--read-only`), or to an image the host cannot write; a change to a read-only host folder. */
  E_READ_ONLY: 10,
  /** The host has no room left for the disk image's data (ENOSPC on the file system under it), or for a host folder's. */
  E_NO_SPACE: 11,
  /** The name exists already (host folder: create exclusive, mkdir, link, symlink). */
  E_EXISTS: 12,
  /** The directory is not empty (host folder: remove, rename onto it). */
  E_NOT_EMPTY: 13,
  /** A symbolic link where none may be followed, or too many of them (host folder). */
  E_LOOP: 14,
  /** The file id names no open file (host folder). */
  E_STALE: 15,
  /** What a request needs is not what it names (host folder: readlink of what is no link). */
  E_INVALID: 16,
  /**
   * The device did a bounded share of a long request and keeps where it got to: send the same
   * request again (host folder: a LIST to a far position, a move whose links are being checked).
   */
  E_AGAIN: 17,
} as const;
