// The file system server's protocol (docs/FS.md "Protocol"; contract FileSystem,
// contracts/fs.contract, which the kernel checks: the labels are the contract's): labels, flags,
// rights and statuses, shared by the server (user/services/fs.ts) and its client (fs-client.ts).
//
// Every request is a call on a capability the server minted: its badge names an entry of the
// server's handle table (a file or a directory) and that entry's generation, so a closed handle's
// capability answers FS_E_STALE. Badge 0 is the service capability the registry hands out: it
// answers FS_INFO only. A reply's label is a status as its magnitude (0, an ABI status 1-12, or
// an FS_E_* status 201...), as the registry and the block driver do.
import { errorName, E_INVALID_ARGUMENT } from "./errors";
import { STREAM_READ, STREAM_WRITE, STREAM_INFO } from "./streams";
import { FileSystem } from "./contracts/fs";

/** The name the server registers (the service capability: FS_INFO only). */
export const FS_SERVICE = "fs";

// Labels.
/** Any capability. Replies: block size, blocks, free blocks, inodes, free inodes, handles in use, handles at most, handles taken back from a full table. */
export const FS_INFO: u32 = FileSystem.Info;
/** Directory. Words: flags, path length, path bytes (or cap 0: a Region view holding the path at offset 0). Replies cap 0: the new handle; words: kind, size low, size high, inode. */
export const FS_OPEN: u32 = FileSystem.Open;
/** Directory. Words: path length, path bytes (or a view). */
export const FS_MKDIR: u32 = FileSystem.Mkdir;
/** Directory. Words: path length, path bytes (or a view). A file, or an empty directory. */
export const FS_UNLINK: u32 = FileSystem.Unlink;
/**
 * Directory. Words: from length, to length, both paths' bytes one after the other (or a view). `to`
 * is under this directory, or under the one a token (FS_TOKEN) names when the request brings one.
 * One transaction: after a crash the name is where it was or where it went, never lost.
 */
export const FS_RENAME: u32 = FileSystem.Rename;
/** File. Words: offset low, high, length, Region offset; cap 0: a Region owner (moved, and moved back). Without a cap: length ≤ FS_INLINE_BYTES, the bytes come back in words after the count. Replies: bytes read. */
export const FS_READ: u32 = FileSystem.Read;
/** File. Words: offset low, high, length, Region offset; cap 0: a view (or owner) holding the bytes. Without a cap: length ≤ FS_INLINE_BYTES, bytes follow in words from word 3. Replies: bytes written. */
export const FS_WRITE: u32 = FileSystem.Write;
/** File. As FS_WRITE, at the end of the file whatever the offset words say. Replies: bytes written, new size low, high. */
export const FS_APPEND: u32 = FileSystem.Append;
/** File. Words: size low, high. */
export const FS_TRUNCATE: u32 = FileSystem.Truncate;
/**
 * Any handle. Replies: kind, size low, high, created low, high, modified low, high, inode, rights,
 * blocks, accessed low, high, changed low, high, links.
 */
export const FS_STAT: u32 = FileSystem.Stat;
/**
 * Directory. Words: cookie, Region offset, length, and optionally flags (FS_READDIR_DOTS); cap 0: a
 * Region owner (moved back). Replies: entries, next cookie, bytes used.
 */
export const FS_READDIR: u32 = FileSystem.Readdir;
/** File or directory: the handle's table entry is freed; its capability answers FS_E_STALE from now on. */
export const FS_CLOSE: u32 = FileSystem.Close;
/**
 * Any handle (and the service capability): commits everything done so far to the disk (the
 * journal), then replies; on a handle, it answers the first error a write through it met since
 * the last SYNC (a write that failed is never lost silently: the shell syncs what a redirection
 * wrote and reports it).
 */
export const FS_SYNC: u32 = FileSystem.Sync;
/**
 * Directory. Replies cap 0: a token naming this directory (a send capability of the server's own
 * Receiver, whose badge is this handle's), to hand to RENAME or LINK on another directory of the
 * same server as the destination. It goes stale with the handle. Needs no right; the destination's
 * rights are checked where it is used.
 */
export const FS_TOKEN: u32 = FileSystem.Token;
/**
 * Directory. Words: flags (FS_LINK_FOLLOW), from length, to length, both paths' bytes (or a view);
 * caps: a token for the destination directory (else this one), a view. A new name `to` for the
 * file or symbolic link `from` (a directory: FS_E_IS_DIR); its link count grows (FS_E_LINKS).
 */
export const FS_LINK: u32 = FileSystem.Link;
/**
 * Directory. Words: target length, path length, the target's bytes then the path's (or a view).
 * Makes `path` a symbolic link to the target (1 to FS_SYMLINK_MAX bytes, no zero byte), which is
 * not looked at: it may name nothing.
 */
export const FS_SYMLINK: u32 = FileSystem.Symlink;
/**
 * Any handle (FS_RIGHT_TIMES, which WRITE implies). Words: flags (FS_TIMES_*), access time low,
 * high, modify time low, high (ns since 1970). The change time becomes now.
 */
export const FS_SET_TIMES: u32 = FileSystem.SetTimes;
/** Directory. Words: flags (FS_REMOVE_DIR, FS_REMOVE_FILE), path length, path bytes (or a view): UNLINK with a kind required. */
export const FS_REMOVE: u32 = FileSystem.Remove;
/**
 * File. Words: the read buffer's pages wanted (optional: FS_ATTACH_READ_PAGES; at most
 * FS_ATTACH_READ_PAGES_MAX). Caps: a view (or the owner) of the client's buffer, optional, which the
 * server keeps. A new handle on the same file with the same rights, *attached*: the server makes a
 * read buffer for it and sends a view. On an attached handle, a READ or WRITE (APPEND) that brings
 * no Region moves its bytes through these buffers instead (words: offset low, high, length,
 * buffer offset): read into the server's buffer from offset 0, written from the client's at the
 * buffer offset. No Region moves, so a small transfer costs one round trip and two copies. Replies
 * words: the read buffer's bytes, the write buffer's bytes (0: none), the read buffer's global
 * address; caps: the new handle, the read buffer's view. At most FS_ATTACH_MAX attached handles
 * are open at once, shared evenly between sessions (FS_E_TABLE_FULL); CLOSE frees the buffers. When the client's buffer came as a
 * filler (Region.filler: RIGHT_REGION_FILL), a READ whose buffer offset has FS_READ_FILL set lands
 * in the client's own buffer at that offset instead (the server's one copy, through the kernel):
 * the reply's word 1 is then 1; 0 says the bytes are in the read buffer, as without the flag.
 */
export const FS_ATTACH: u32 = FileSystem.Attach;
export const FS_ATTACH_READ_PAGES: u32 = 16;
export const FS_ATTACH_READ_PAGES_MAX: u32 = 256;
export const FS_ATTACH_MAX: i32 = 32;
/** In an attached READ's buffer offset word: write the bytes into the client's buffer there (through its filler). */
export const FS_READ_FILL: u32 = 0x8000_0000;
/**
 * File, READ. A read-only mapping of the file's bytes (docs/FS.md "Mapped reads"): the server
 * answers a view of a Region it keeps for the inode, shared by every handle that mapped it: a
 * header page (FS_MAP_*_AT), then the file's first pages, page k at 4096 × (k + 1). A client reads
 * a page whose valid bit is set with no call: read the sequence (odd: being changed, ask the
 * server), the magic (0: the map is gone, ask the server), the size and the valid bits, copy, and
 * read the sequence again (changed: discard the copy, ask the server). The server keeps every valid
 * page equal to the file's bytes (zeros past the end) and the size current, changing them only
 * between an odd and the next even sequence; a READ through the server makes the pages it read
 * valid. Replies words: the data pages, the Region's global address; caps: the view. CLOSE of the
 * handle (the last that mapped the inode) frees the Region: views then read zeros (magic 0); so
 * does MAP with the word FS_MAP_RELEASE, by which the handle lets go of its map and stays open.
 */
export const FS_MAP: u32 = 20;
/**
 * Directory, READ. What a path names, in one call (no OPEN, STAT, CLOSE): words flags
 * (FS_STAT_AT_FOLLOW: a symbolic link as the last name is followed), path length, path (or a view
 * holding it); replies STAT's words, rights 0. The host folder server has it (docs/HOSTFS.md); a
 * server without it answers E_INVALID_ARGUMENT.
 */
export const FS_STAT_AT: u32 = FileSystem.StatAt;
export const FS_STAT_AT_FOLLOW: u32 = 1;
/**
 * Directory, READ. A symbolic link's contents, in one call: words path length, path (or a view);
 * replies the kind at the name (FS_KIND_SYMLINK, else the contents are not there: no link), then
 * for a link its contents' length and bytes (at most FS_INLINE_BYTES: a longer one is
 * FS_E_TOO_BIG; OPEN it with FS_OPEN_NOFOLLOW and READ). The host folder server has it.
 */
export const FS_READLINK_AT: u32 = FileSystem.ReadlinkAt;
/** MAP's word 0: the handle lets go of the map it holds (freed with its last holder); answers nothing. */
export const FS_MAP_RELEASE: u32 = 1;
/** The header's words: a magic while the map lives, the sequence (even when stable), the file size (u64), the inode, the data pages. */
export const FS_MAP_MAGIC: u32 = 0x50414d46; // "FMAP"
export const FS_MAP_MAGIC_AT: usize = 0;
export const FS_MAP_SEQUENCE_AT: usize = 4;
export const FS_MAP_SIZE_AT: usize = 8;
export const FS_MAP_INODE_AT: usize = 16;
export const FS_MAP_PAGES_AT: usize = 20;
/** One bit per data page, page k at bit k % 8 of byte k / 8: its bytes are the file's. */
export const FS_MAP_VALID_AT: usize = 64;
/** The most data pages a map has: 16 MiB (the valid bits fill 512 bytes of the header). */
export const FS_MAP_PAGES_MAX: u32 = 4096;

// Rights of a handle (a directory's bound the rights of what is opened under it).
export const FS_RIGHT_READ: u32 = 1;
export const FS_RIGHT_WRITE: u32 = 2;
export const FS_RIGHT_APPEND: u32 = 4;
/** SET_TIMES (WASI's FD_FILESTAT_SET_TIMES): a file opened to read may still have its times set. WRITE implies it. */
export const FS_RIGHT_TIMES: u32 = 8;
export const FS_RIGHTS_ALL: u32 = 15;

// FS_OPEN flags: the rights asked for in bits 0-3, and these.
export const FS_OPEN_CREATE: u32 = 0x100;
/** With CREATE: FS_E_EXISTS if it exists. */
export const FS_OPEN_EXCLUSIVE: u32 = 0x200;
/** A file opened with WRITE is cut to length 0. */
export const FS_OPEN_TRUNCATE: u32 = 0x400;
/** Only a directory will do (FS_E_NOT_DIR otherwise); with CREATE, creates a directory. */
export const FS_OPEN_DIRECTORY: u32 = 0x800;
/**
 * A symbolic link as the last component is not followed but opened itself (kind FS_KIND_SYMLINK:
 * STAT, READ (its target), SET_TIMES and CLOSE; writing it is FS_E_LOOP, and so is opening it with
 * TRUNCATE). A '/' after the name follows it all the same.
 */
export const FS_OPEN_NOFOLLOW: u32 = 0x1000;
/**
 * Reads and writes through this handle go to the disk and leave nothing new in the file system's
 * page cache (what it holds already is used, and written through): for data that would only push
 * out what others read, such as the pager's swap file, whose pages are out because memory is short.
 */
export const FS_OPEN_DIRECT: u32 = 0x2000;
/**
 * The new handle starts a session of its own: it, and every handle opened or attached through it
 * (or through those), are charged to that session rather than to the one of the handle the OPEN
 * came through. A full handle table is shared evenly between sessions (docs/FS.md "Sessions").
 * Only through a handle of session 0 (a published root): through a session's handle the new
 * handle is that session's, so a program cannot leave its shell's session.
 */
export const FS_OPEN_SESSION: u32 = 0x4000;

/** FS_LINK: a symbolic link as `from`'s last component is followed (linkat's AT_SYMLINK_FOLLOW). */
export const FS_LINK_FOLLOW: u32 = 1;
/** FS_REMOVE: only a directory (a file or link: FS_E_NOT_DIR); only a file or link (a directory: FS_E_IS_DIR). */
export const FS_REMOVE_DIR: u32 = 1;
export const FS_REMOVE_FILE: u32 = 2;
/** FS_READDIR: the listing starts with "." (this directory) and ".." (its parent; the root's is itself). */
export const FS_READDIR_DOTS: u32 = 1;
/** FS_SET_TIMES flags, as WASI's fstflags: set the access time to the given one, or to now; the same for the modify time. */
export const FS_TIMES_ACCESS: u32 = 1;
export const FS_TIMES_ACCESS_NOW: u32 = 2;
export const FS_TIMES_MODIFY: u32 = 4;
export const FS_TIMES_MODIFY_NOW: u32 = 8;

// Kinds of inodes.
export const FS_KIND_FILE: u32 = 1;
export const FS_KIND_DIR: u32 = 2;
export const FS_KIND_SYMLINK: u32 = 3;

/** Names have 1 to 255 bytes, with no '/' and no zero byte, and are not "." or "..". */
export const FS_NAME_MAX: i32 = 255;
/** Paths (all of a request's paths together) have at most this many bytes. */
export const FS_PATH_MAX: i32 = 4096;
/** A symbolic link's target has at most this many bytes. */
export const FS_SYMLINK_MAX: u32 = 4095;
/** Bytes that fit in a message's words after FS_READ's count or FS_WRITE's three words. */
export const FS_INLINE_BYTES: u32 = 240;
/** A READDIR entry in the Region: inode u32, kind u8, name length u8, 2 zero bytes, the name, zero-padded to 4. */
export const FS_DIRENT_HEADER: u32 = 8;

// Statuses of the file system, beside the ABI's (-1 ... -12).
export const FS_STATUS_BASE: i32 = 200;
/** No such file or directory. */
export const FS_E_NOT_FOUND: i32 = -201;
/** The name exists already. */
export const FS_E_EXISTS: i32 = -202;
/** A path component, or the target, is not a directory. */
export const FS_E_NOT_DIR: i32 = -203;
/** A directory where a file is needed (read, write, truncate). */
export const FS_E_IS_DIR: i32 = -204;
/** The directory is not empty. */
export const FS_E_NOT_EMPTY: i32 = -205;
/** A bad name: empty, longer than 255 bytes, ".", "..", or holding a zero byte. */
export const FS_E_NAME: i32 = -206;
/** The disk (or its inode table) is full. */
export const FS_E_NO_SPACE: i32 = -207;
/** The handle table is full: close handles. */
export const FS_E_TABLE_FULL: i32 = -208;
/** The capability names a closed handle, or a file or directory that was removed. */
export const FS_E_STALE: i32 = -209;
/** ".." would climb above the directory this capability names. */
export const FS_E_ESCAPE: i32 = -210;
/** The disk failed, or holds something the format does not allow. */
export const FS_E_IO: i32 = -211;
/** Past the largest file the block map holds. */
export const FS_E_TOO_BIG: i32 = -212;
/** Too many symbolic links in one path (40), or a link where it is not followed and cannot serve (ELOOP). */
export const FS_E_LOOP: i32 = -213;
/** A file has the most names it may have (65000: EMLINK). */
export const FS_E_LINKS: i32 = -214;

/** The label that carries `status` (0 or negative) in a reply: its magnitude. */
export function fsLabel(status: i32): u32 {
  return <u32>(status < 0 ? -status : 0);
}

/** The status a reply's label stands for: 0 or negative. */
export function fsStatus(label: u32): i32 {
  return -<i32>label;
}

/** The name of any status an fs call may answer. */
export function fsErrorName(status: i32): string {
  switch (status) {
    case FS_E_NOT_FOUND: return "FS_E_NOT_FOUND";
    case FS_E_EXISTS: return "FS_E_EXISTS";
    case FS_E_NOT_DIR: return "FS_E_NOT_DIR";
    case FS_E_IS_DIR: return "FS_E_IS_DIR";
    case FS_E_NOT_EMPTY: return "FS_E_NOT_EMPTY";
    case FS_E_NAME: return "FS_E_NAME";
    case FS_E_NO_SPACE: return "FS_E_NO_SPACE";
    case FS_E_TABLE_FULL: return "FS_E_TABLE_FULL";
    case FS_E_STALE: return "FS_E_STALE";
    case FS_E_ESCAPE: return "FS_E_ESCAPE";
    case FS_E_IO: return "FS_E_IO";
    case FS_E_TOO_BIG: return "FS_E_TOO_BIG";
    case FS_E_LOOP: return "FS_E_LOOP";
    case FS_E_LINKS: return "FS_E_LINKS";
  }
  return errorName(status);
}

/**
 * The rights an operation needs on a handle, or a status: the one table of rights every server of
 * this protocol checks (the file system's and the host share's). A directory's rights bound what
 * is opened under it (OPEN asks for the rights it wants, `openFlags`, and needs them all); looking
 * names up needs READ, changing the directory WRITE.
 */
export function fsRightsNeeded(label: u32, isDirectory: bool, openFlags: u32): i32 {
  const dir = isDirectory;
  switch (label) {
    case FS_OPEN: {
      if (!dir) return FS_E_NOT_DIR;
      let need = FS_RIGHT_READ | (openFlags & FS_RIGHTS_ALL);
      if ((openFlags & (FS_OPEN_CREATE | FS_OPEN_TRUNCATE)) != 0) need |= FS_RIGHT_WRITE;
      return <i32>need;
    }
    // LINK too: a new name for a file in a directory one may write is a handle on it with WRITE,
    // so only who could write the file through this directory may give it one (redteam10).
    case FS_MKDIR: case FS_UNLINK: case FS_RENAME: case FS_SYMLINK: case FS_REMOVE: case FS_LINK:
      return dir ? <i32>(FS_RIGHT_READ | FS_RIGHT_WRITE) : FS_E_NOT_DIR;
    // As OPEN without rights, by which a lookup was made before: READ on the directory.
    case FS_READDIR: case FS_STAT_AT: case FS_READLINK_AT:
      return dir ? <i32>FS_RIGHT_READ : FS_E_NOT_DIR;
    case FS_TOKEN:
      return dir ? 0 : FS_E_NOT_DIR;
    case FS_SET_TIMES:
      return <i32>FS_RIGHT_TIMES;
    case FS_READ: case STREAM_READ: case FS_MAP:
      return dir ? FS_E_IS_DIR : <i32>FS_RIGHT_READ;
    case FS_WRITE: case FS_TRUNCATE:
      return dir ? FS_E_IS_DIR : <i32>FS_RIGHT_WRITE;
    case FS_APPEND: case STREAM_WRITE:
      return dir ? FS_E_IS_DIR : <i32>FS_RIGHT_APPEND;
    case FS_STAT: case FS_CLOSE: case FS_SYNC:
      return 0;
    case STREAM_INFO:
      return dir ? FS_E_IS_DIR : 0;
    case FS_ATTACH:
      return dir ? FS_E_IS_DIR : 0;
  }
  return E_INVALID_ARGUMENT;
}

/** The rights the destination directory of RENAME and LINK needs (this one, or a token's). */
export const FS_RIGHTS_DESTINATION: u32 = FS_RIGHT_READ | FS_RIGHT_WRITE;

/** Whether a handle with rights `have` may do what needs `need`: who may write anywhere may write at the end, and set times. */
export function fsRightsAllow(have: u32, need: u32): bool {
  if ((have & FS_RIGHT_WRITE) != 0) have |= FS_RIGHT_APPEND | FS_RIGHT_TIMES;
  return (need & ~have) == 0;
}
