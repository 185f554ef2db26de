/**
 * The status a queued request completes with, in word 1 of its used-ring entry. Shared by the
 * block and host share devices, and by the drivers written against docs/DEVICES.md.
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
  /** A write to a write-protected disk (`--read-only`), or to an image the host cannot write. */
  E_READ_ONLY: 10,
  /** The host has no room left for the disk image's data (ENOSPC on the file system under it). */
  E_NO_SPACE: 11,
} as const;
