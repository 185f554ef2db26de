/**
 * WASI preview1 rights (the `rights` flags of wasi_snapshot_preview1.witx) and the sets a
 * descriptor of each kind may hold. A descriptor's rights only shrink: path_open takes what was
 * asked within the directory's inheriting rights and the kind of what it opened, and
 * fd_fdstat_set_rights only narrows.
 */
export const Right = {
  FD_DATASYNC: 1n << 0n,
  FD_READ: 1n << 1n,
  FD_SEEK: 1n << 2n,
  FD_FDSTAT_SET_FLAGS: 1n << 3n,
  FD_SYNC: 1n << 4n,
  FD_TELL: 1n << 5n,
  FD_WRITE: 1n << 6n,
  FD_ADVISE: 1n << 7n,
  FD_ALLOCATE: 1n << 8n,
  PATH_CREATE_DIRECTORY: 1n << 9n,
  PATH_CREATE_FILE: 1n << 10n,
  PATH_LINK_SOURCE: 1n << 11n,
  PATH_LINK_TARGET: 1n << 12n,
  PATH_OPEN: 1n << 13n,
  FD_READDIR: 1n << 14n,
  PATH_READLINK: 1n << 15n,
  PATH_RENAME_SOURCE: 1n << 16n,
  PATH_RENAME_TARGET: 1n << 17n,
  PATH_FILESTAT_GET: 1n << 18n,
  PATH_FILESTAT_SET_SIZE: 1n << 19n,
  PATH_FILESTAT_SET_TIMES: 1n << 20n,
  FD_FILESTAT_GET: 1n << 21n,
  FD_FILESTAT_SET_SIZE: 1n << 22n,
  FD_FILESTAT_SET_TIMES: 1n << 23n,
  PATH_SYMLINK: 1n << 24n,
  PATH_REMOVE_DIRECTORY: 1n << 25n,
  PATH_UNLINK_FILE: 1n << 26n,
  POLL_FD_READWRITE: 1n << 27n,
  SOCK_SHUTDOWN: 1n << 28n,
  SOCK_ACCEPT: 1n << 29n,
} as const;

const R = Right;

/** What a regular file's descriptor can do at most. */
export const FILE_RIGHTS =
  R.FD_DATASYNC | R.FD_READ | R.FD_SEEK | R.FD_FDSTAT_SET_FLAGS | R.FD_SYNC | R.FD_TELL | R.FD_WRITE | R.FD_ADVISE |
  R.FD_ALLOCATE | R.FD_FILESTAT_GET | R.FD_FILESTAT_SET_SIZE | R.FD_FILESTAT_SET_TIMES | R.POLL_FD_READWRITE;

/** What a directory's descriptor can do at most (it cannot be read, written or seeked as bytes). */
export const DIRECTORY_RIGHTS =
  R.FD_FDSTAT_SET_FLAGS | R.FD_SYNC | R.FD_ADVISE | R.PATH_CREATE_DIRECTORY | R.PATH_CREATE_FILE | R.PATH_LINK_SOURCE |
  R.PATH_LINK_TARGET | R.PATH_OPEN | R.FD_READDIR | R.PATH_READLINK | R.PATH_RENAME_SOURCE | R.PATH_RENAME_TARGET |
  R.PATH_FILESTAT_GET | R.PATH_FILESTAT_SET_SIZE | R.PATH_FILESTAT_SET_TIMES | R.FD_FILESTAT_GET |
  R.FD_FILESTAT_SET_TIMES | R.PATH_SYMLINK | R.PATH_REMOVE_DIRECTORY | R.PATH_UNLINK_FILE;

/** What a directory hands down to what is opened under it, at most: anything a file or a directory may hold. */
export const INHERITABLE_RIGHTS = FILE_RIGHTS | DIRECTORY_RIGHTS;

/** Standard input and output streams: read (or write), no offset, stat, flags, poll. */
export const STREAM_IN_RIGHTS = R.FD_READ | R.FD_FDSTAT_SET_FLAGS | R.FD_FILESTAT_GET | R.POLL_FD_READWRITE;
export const STREAM_OUT_RIGHTS = R.FD_WRITE | R.FD_FDSTAT_SET_FLAGS | R.FD_FILESTAT_GET | R.POLL_FD_READWRITE | R.FD_SYNC | R.FD_DATASYNC;

/** Rights that change a directory: a directory handle the server opened read-only cannot hold them. */
export const DIRECTORY_CHANGING_RIGHTS =
  R.PATH_CREATE_DIRECTORY | R.PATH_CREATE_FILE | R.PATH_LINK_TARGET | R.PATH_RENAME_SOURCE | R.PATH_RENAME_TARGET |
  R.PATH_FILESTAT_SET_SIZE | R.PATH_FILESTAT_SET_TIMES | R.FD_FILESTAT_SET_TIMES | R.PATH_SYMLINK |
  R.PATH_REMOVE_DIRECTORY | R.PATH_UNLINK_FILE;

/** Rights that change a file's bytes or attributes: a file handle without the server's write right cannot hold them. */
export const FILE_CHANGING_RIGHTS = R.FD_WRITE | R.FD_ALLOCATE | R.FD_FILESTAT_SET_SIZE | R.FD_FILESTAT_SET_TIMES;

/** Every right preview1 defines (bits 0-29). */
export const ALL_RIGHTS = (1n << 30n) - 1n;

export function has(rights: bigint, wanted: bigint): boolean {
  return (rights & wanted) === wanted;
}
