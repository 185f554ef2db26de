// The host folder device's numbers (src/machine/devices/host-folder.ts, docs/DEVICES.md "Host
// folder"), and the requests of the file system protocol that only the host folder server speaks
// so far: symbolic and hard links, a path's stat, times (the WASI personality's FsLinks,
// src/personality/wasi/protocol.ts, has the same numbers).
import { FS_E_ESCAPE, FS_E_EXISTS, FS_E_IO, FS_E_IS_DIR, FS_E_NAME, FS_E_NOT_DIR, FS_E_NOT_EMPTY, FS_E_NOT_FOUND, FS_E_NO_SPACE, FS_E_STALE, FS_E_TOO_BIG } from "../../lib/fs-protocol";
import { E_INVALID_ARGUMENT, E_MISSING_RIGHT } from "../../lib";

export const OP_STAT: u32 = 1;
export const OP_LIST: u32 = 2;
export const OP_OPEN: u32 = 3;
export const OP_MKDIR: u32 = 4;
export const OP_REMOVE: u32 = 5;
export const OP_RENAME: u32 = 6;
export const OP_LINK: u32 = 7;
export const OP_SYMLINK: u32 = 8;
export const OP_READLINK: u32 = 9;
export const OP_SET_TIMES: u32 = 10;
export const OP_READ: u32 = 11;
export const OP_WRITE: u32 = 12;
export const OP_APPEND: u32 = 13;
export const OP_TRUNCATE: u32 = 14;
export const OP_FILE_STAT: u32 = 15;
export const OP_FILE_SET_TIMES: u32 = 16;
export const OP_SYNC: u32 = 17;
export const OP_CLOSE: u32 = 18;

export const OPEN_CREATE: u32 = 1;
export const OPEN_EXCLUSIVE: u32 = 2;
export const OPEN_TRUNCATE: u32 = 4;
export const OPEN_WRITE: u32 = 8;
export const OPEN_NO_FOLLOW: u32 = 16;

export const FOLDER_FILE: u32 = 1;
export const FOLDER_DIRECTORY: u32 = 2;
export const FOLDER_OTHER: u32 = 3;
export const FOLDER_SYMLINK: u32 = 4;
/** The register whose bit 0 says the folder is read-only. */
export const FOLDER_FLAGS: i32 = 25;
export const STAT_BYTES: u32 = 48;

// The file system protocol's requests for links, times and removal by kind (docs/FS.md; the
// WASI personality's FsMore has the same numbers), its TIMES right and the kind of a link.
export const FS_LINK: u32 = 15;
export const FS_SYMLINK: u32 = 16;
export const FS_SET_TIMES: u32 = 17;
export const FS_REMOVE: u32 = 18;
export const FS_OPEN_NOFOLLOW: u32 = 0x1000;
export const FS_LINK_FOLLOW: u32 = 1;
export const FS_REMOVE_DIR: u32 = 1;
export const FS_REMOVE_FILE: u32 = 2;
/** Setting times (WASI's FD_FILESTAT_SET_TIMES): WRITE implies it. */
export const FS_RIGHT_TIMES: u32 = 8;
export const FOLDER_RIGHTS_ALL: u32 = 15;
export const FS_KIND_SYMLINK: u32 = 3;
/** A symbolic link where none may be followed (OPEN with NOFOLLOW and TRUNCATE, a write to a link), or one leading in circles. */
export const FS_E_LOOP: i32 = -213;

// RequestStatus (src/machine/devices/request-status.ts).
const S_OK: u32 = 0;
const S_E_RANGE: u32 = 2;
const S_E_BUFFER: u32 = 3;
const S_E_NOT_FOUND: u32 = 5;
const S_E_NOT_DIRECTORY: u32 = 6;
const S_E_IS_DIRECTORY: u32 = 7;
const S_E_DENIED: u32 = 8;
const S_E_PATH: u32 = 9;
const S_E_READ_ONLY: u32 = 10;
const S_E_NO_SPACE: u32 = 11;
const S_E_EXISTS: u32 = 12;
const S_E_NOT_EMPTY: u32 = 13;
const S_E_LOOP: u32 = 14;
const S_E_STALE: u32 = 15;
const S_E_INVALID: u32 = 16;

/** The file system status for a device RequestStatus. */
export function folderStatus(status: u32): i32 {
  switch (status) {
    case S_OK: return 0;
    case S_E_NOT_FOUND: return FS_E_NOT_FOUND;
    case S_E_NOT_DIRECTORY: return FS_E_NOT_DIR;
    case S_E_IS_DIRECTORY: return FS_E_IS_DIR;
    case S_E_DENIED: return FS_E_ESCAPE;
    case S_E_PATH: return FS_E_NAME;
    case S_E_BUFFER: return E_INVALID_ARGUMENT;
    case S_E_EXISTS: return FS_E_EXISTS;
    case S_E_NOT_EMPTY: return FS_E_NOT_EMPTY;
    case S_E_LOOP: return FS_E_LOOP;
    case S_E_NO_SPACE: return FS_E_NO_SPACE;
    case S_E_STALE: return FS_E_STALE;
    case S_E_READ_ONLY: return E_MISSING_RIGHT;
    case S_E_INVALID: return E_INVALID_ARGUMENT;
    case S_E_RANGE: return FS_E_TOO_BIG;
  }
  return FS_E_IO; // E_IO, E_OP, no completion
}
