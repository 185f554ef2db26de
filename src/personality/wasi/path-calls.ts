import { ObjectKind, Rights } from "../../kernel/caps/object-abi.ts";
import { type DirectoryDescriptor, type Origin, ALL_FDFLAGS } from "./descriptors.ts";
import { Errno } from "./errno.ts";
import type { ServerStat } from "./file-server.ts";
import { type CheckedPath, checkPath, escapesByName, namesItself } from "./paths.ts";
import { AbiStatus, FS_LINK_FOLLOW, FsKind, FsOpen, FsRemove, FsRight, FsStatus, errnoOfStatus } from "./protocol.ts";
import { ALL_RIGHTS, DIRECTORY_CHANGING_RIGHTS, DIRECTORY_RIGHTS, FILE_CHANGING_RIGHTS, FILE_RIGHTS, Right, has } from "./rights.ts";
import { encodeFileStat, fileStatOf, fileTypeOf } from "./stat-layout.ts";
import type { WasiProcess } from "./wasi-process.ts";

const O_CREAT = 1;
const O_DIRECTORY = 2;
const O_EXCL = 4;
const O_TRUNC = 8;
const ALL_OFLAGS = 15;
export const LOOKUP_SYMLINK_FOLLOW = 1;
export const Fst = { ATIM: 1, ATIM_NOW: 2, MTIM: 4, MTIM_NOW: 8 } as const;

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** A directory with `rights` and a checked path: both, or the errno that refuses them. */
async function directoryAndPath(w: WasiProcess, fd: number, rights: bigint, bytes: Uint8Array): Promise<{ dir: DirectoryDescriptor; path: CheckedPath } | number> {
  const dir = await w.directory(fd, rights);
  if (typeof dir === "number") return dir;
  const path = checkPath(bytes);
  if (typeof path === "number") return path;
  return { dir, path };
}

/**
 * What `path` names under `dir` (a symbolic link as its last name followed or not): STAT_AT, one
 * call, from a server that has it (the file system, the host folder server); else OPEN with no rights (NOFOLLOW:
 * the link itself), STAT and CLOSE. A status when nothing is there.
 */
async function lookup(w: WasiProcess, dir: DirectoryDescriptor, path: Uint8Array, follow: boolean): Promise<ServerStat | number> {
  const direct = await w.server.statAt(dir.slot, path, follow);
  if (direct !== null) return direct;
  const opened = await w.server.open(dir.slot, path, follow ? 0 : FsOpen.NOFOLLOW);
  if (typeof opened === "number") return opened;
  const stat = await w.server.stat(opened.slot);
  await w.server.close(opened.slot);
  return stat;
}

/** The server's rights a handle is opened with for WASI rights `base` (and `inheriting`, for a directory). */
function serverRights(base: bigint, inheriting: bigint, directory: boolean): number {
  if (directory) return FsRight.READ | ((base | inheriting) & (DIRECTORY_CHANGING_RIGHTS | FILE_CHANGING_RIGHTS) ? FsRight.WRITE | FsRight.APPEND : 0);
  let rights = 0;
  if (base & (Right.FD_READ | Right.FD_READDIR)) rights |= FsRight.READ;
  if (base & (Right.FD_WRITE | Right.FD_ALLOCATE | Right.FD_FILESTAT_SET_SIZE)) rights |= FsRight.WRITE | FsRight.APPEND;
  else if (base & Right.FD_FILESTAT_SET_TIMES) rights |= FsRight.TIMES;
  return rights;
}

/** Where something opened under `dir` at `path` comes from (null when that cannot be said by name). */
function originUnder(dir: DirectoryDescriptor | { origin: Origin | null }, path: Uint8Array): Origin | null {
  if (!dir.origin) return null;
  const names = [...dir.origin.path];
  for (const name of decoder.decode(path).split("/")) {
    if (name === "" || name === ".") continue;
    if (name === "..") {
      if (names.length === 0) return null;
      names.pop();
    } else names.push(name);
  }
  return { root: dir.origin.root, path: names };
}

/**
 * path_open. The rights asked must lie within the directory's inheriting rights (ENOTCAPABLE);
 * what is opened keeps those that fit its kind (a file file rights, a directory directory rights)
 * and its server handle (a read-only one loses the rights that change things). A directory is
 * opened with the server's write right when it is to change (create, remove, rename...), so one
 * opened with path rights but without fd_write can still create entries.
 */
export async function pathOpen(w: WasiProcess, dirFd: number, lookupFlags: number, pathBytes: Uint8Array, oflags: number, base: bigint, inheriting: bigint, fdflags: number): Promise<number> {
  const found = await directoryAndPath(w, dirFd, Right.PATH_OPEN, pathBytes);
  if (typeof found === "number") return -found;
  const { dir, path } = found;
  if ((oflags & ~ALL_OFLAGS) !== 0 || (fdflags & ~ALL_FDFLAGS) !== 0 || (lookupFlags & ~LOOKUP_SYMLINK_FOLLOW) !== 0) return -Errno.INVAL;
  if ((oflags & O_CREAT) !== 0 && (oflags & O_DIRECTORY) !== 0) return -Errno.INVAL;
  if ((oflags & O_CREAT) !== 0 && !has(dir.rightsBase, Right.PATH_CREATE_FILE)) return -Errno.NOTCAPABLE;
  if ((oflags & O_TRUNC) !== 0 && !has(dir.rightsBase, Right.PATH_FILESTAT_SET_SIZE)) return -Errno.NOTCAPABLE;
  const wantedBase = BigInt.asUintN(64, base) & ALL_RIGHTS;
  const wantedInheriting = BigInt.asUintN(64, inheriting) & ALL_RIGHTS;
  if ((wantedBase & ~dir.rightsInheriting) !== 0n || (wantedInheriting & ~dir.rightsInheriting) !== 0n) return -Errno.NOTCAPABLE;
  if ((oflags & O_CREAT) !== 0 && path.trailingSlash) return -Errno.ISDIR;
  const follow = (lookupFlags & LOOKUP_SYMLINK_FOLLOW) !== 0;
  const wantsDirectory = (oflags & O_DIRECTORY) !== 0 || path.trailingSlash;
  let flags = (follow ? 0 : FsOpen.NOFOLLOW) | ((oflags & O_CREAT) !== 0 ? FsOpen.CREATE : 0) | ((oflags & O_EXCL) !== 0 ? FsOpen.EXCLUSIVE : 0) | ((oflags & O_TRUNC) !== 0 ? FsOpen.TRUNCATE : 0);
  if (wantsDirectory) flags |= FsOpen.DIRECTORY;
  const target = path.bytes.length === 0 ? new Uint8Array([0x2e]) : path.bytes;
  let rights = serverRights(wantedBase, wantedInheriting, wantsDirectory);
  let opened = await w.server.open(dir.slot, target, flags | rights);
  if (wantsDirectory && opened === AbiStatus.E_MISSING_RIGHT && (rights & FsRight.WRITE) !== 0) {
    rights = FsRight.READ; // a read-only directory: opened so, its rights narrowed below
    opened = await w.server.open(dir.slot, target, flags | rights);
  }
  if (typeof opened === "number") return -errnoOfStatus(opened);
  if (opened.kind === FsKind.SYMLINK) {
    // Not followed (no SYMLINK_FOLLOW): a link as the last name is ELOOP, as O_NOFOLLOW's.
    await w.server.close(opened.slot);
    return -Errno.LOOP;
  }
  if (opened.kind === FsKind.DIRECTORY && !wantsDirectory) {
    // Opened as a file would be; a directory wants the rights that change it.
    if ((wantedBase & Right.FD_WRITE) !== 0n) {
      await w.server.close(opened.slot);
      return -Errno.ISDIR;
    }
    const directoryRights = serverRights(wantedBase, wantedInheriting, true);
    if (directoryRights !== rights) {
      await w.server.close(opened.slot);
      rights = directoryRights;
      let again = await w.server.open(dir.slot, target, flags | FsOpen.DIRECTORY | rights);
      if (again === AbiStatus.E_MISSING_RIGHT) {
        rights = FsRight.READ;
        again = await w.server.open(dir.slot, target, flags | FsOpen.DIRECTORY | rights);
      }
      if (typeof again === "number") return -errnoOfStatus(again);
      opened = again;
    }
  }
  const origin = originUnder(dir, target);
  if (opened.kind === FsKind.DIRECTORY) {
    const writable = (rights & FsRight.WRITE) !== 0;
    const changing = writable ? 0n : DIRECTORY_CHANGING_RIGHTS | FILE_CHANGING_RIGHTS;
    return w.table.add({
      kind: "directory",
      slot: opened.slot,
      device: dir.device,
      preopen: null,
      origin,
      rightsBase: wantedBase & DIRECTORY_RIGHTS & ~changing,
      rightsInheriting: wantedInheriting & ~changing,
      flags: fdflags,
      writable,
    });
  }
  if (path.trailingSlash) {
    await w.server.close(opened.slot);
    return -Errno.NOTDIR;
  }
  let fileRights = wantedBase & FILE_RIGHTS;
  if ((rights & FsRight.READ) === 0) fileRights &= ~Right.FD_READ;
  if ((rights & FsRight.WRITE) === 0) fileRights &= ~(FILE_CHANGING_RIGHTS & ~((rights & FsRight.TIMES) !== 0 ? Right.FD_FILESTAT_SET_TIMES : 0n));
  return w.table.add({
    kind: "file",
    slot: opened.slot,
    device: dir.device,
    type: fileTypeOf(opened.kind),
    offset: 0n,
    rightsBase: fileRights,
    rightsInheriting: 0n,
    flags: fdflags,
  });
}

export async function pathCreateDirectory(w: WasiProcess, fd: number, bytes: Uint8Array): Promise<number> {
  const found = await directoryAndPath(w, fd, Right.PATH_CREATE_DIRECTORY, bytes);
  if (typeof found === "number") return found;
  if (namesItself(found.path)) return Errno.EXIST;
  const status = await w.server.mkdir(found.dir.slot, found.path.bytes);
  return status < 0 ? errnoOfStatus(status) : Errno.SUCCESS;
}

/** REMOVE of `kind` (a directory: else ENOTDIR; anything else: a directory is EISDIR); for a server without it, a lookup first and UNLINK. */
async function removeKind(w: WasiProcess, dir: DirectoryDescriptor, path: CheckedPath, kind: number): Promise<number> {
  const removed = await w.server.remove(dir.slot, path.bytes, kind);
  if (removed !== AbiStatus.E_INVALID_ARGUMENT) return removed < 0 ? errnoOfStatus(removed) : Errno.SUCCESS;
  const stat = await lookup(w, dir, path.bytes, false);
  if (typeof stat === "number") return errnoOfStatus(stat);
  if (kind === FsRemove.DIR && stat.kind !== FsKind.DIRECTORY) return Errno.NOTDIR;
  if (kind === FsRemove.FILE && stat.kind === FsKind.DIRECTORY) return Errno.ISDIR;
  const status = await w.server.unlink(dir.slot, path.bytes);
  return status < 0 ? errnoOfStatus(status) : Errno.SUCCESS;
}

/** path_remove_directory: only a directory (ENOTDIR otherwise), and only an empty one (ENOTEMPTY). */
export async function pathRemoveDirectory(w: WasiProcess, fd: number, bytes: Uint8Array): Promise<number> {
  const found = await directoryAndPath(w, fd, Right.PATH_REMOVE_DIRECTORY, bytes);
  if (typeof found === "number") return found;
  if (namesItself(found.path)) return Errno.INVAL;
  return removeKind(w, found.dir, found.path, FsRemove.DIR);
}

/** path_unlink_file: anything but a directory (EISDIR); with a trailing slash, what it names must have been one (ENOTDIR). */
export async function pathUnlinkFile(w: WasiProcess, fd: number, bytes: Uint8Array): Promise<number> {
  const found = await directoryAndPath(w, fd, Right.PATH_UNLINK_FILE, bytes);
  if (typeof found === "number") return found;
  if (namesItself(found.path)) return Errno.ISDIR;
  if (found.path.trailingSlash) {
    // A name with a slash must be a directory: it is EISDIR if it is one, else ENOTDIR (or ENOENT).
    const stat = await lookup(w, found.dir, found.path.bytes, false);
    if (typeof stat === "number") return errnoOfStatus(stat);
    return stat.kind === FsKind.DIRECTORY ? Errno.ISDIR : Errno.NOTDIR;
  }
  return removeKind(w, found.dir, found.path, FsRemove.FILE);
}

export async function pathFilestatGet(w: WasiProcess, fd: number, lookupFlags: number, bytes: Uint8Array, out: number): Promise<number> {
  const found = await directoryAndPath(w, fd, Right.PATH_FILESTAT_GET, bytes);
  if (typeof found === "number") return found;
  if ((lookupFlags & ~LOOKUP_SYMLINK_FOLLOW) !== 0) return Errno.INVAL;
  const target = found.path.bytes.length === 0 ? new Uint8Array([0x2e]) : found.path.bytes;
  w.k.touch(w.process, out >>> 0, 64);
  const stat = await lookup(w, found.dir, target, (lookupFlags & LOOKUP_SYMLINK_FOLLOW) !== 0 || found.path.trailingSlash);
  if (typeof stat === "number") return errnoOfStatus(stat);
  if (found.path.trailingSlash && stat.kind !== FsKind.DIRECTORY) return Errno.NOTDIR;
  return w.memory.write(w.process, out, encodeFileStat(fileStatOf(stat, found.dir.device))) ? Errno.SUCCESS : Errno.FAULT;
}

/** The fstflags of a set_times call: EINVAL when a time is both given and "now", or a bit is unknown. */
export function checkTimeFlags(flags: number): boolean {
  if ((flags & ~15) !== 0) return false;
  if ((flags & Fst.ATIM) !== 0 && (flags & Fst.ATIM_NOW) !== 0) return false;
  return !((flags & Fst.MTIM) !== 0 && (flags & Fst.MTIM_NOW) !== 0);
}

/** A set_times answer: a server without SET_TIMES cannot (ENOTSUP). */
export function timesErrno(status: number): number {
  return status === AbiStatus.E_INVALID_ARGUMENT ? Errno.NOTSUP : status < 0 ? errnoOfStatus(status) : Errno.SUCCESS;
}

/**
 * The errno of a request a server may not have (E_INVALID_ARGUMENT: ENOTSUP): a path that leaves
 * its directory by name is ENOTCAPABLE all the same, as the server would have said.
 */
function unsupportedOr(status: number, paths: readonly Uint8Array[], otherwise: number = Errno.NOTSUP): number {
  if (status !== AbiStatus.E_INVALID_ARGUMENT) return status < 0 ? errnoOfStatus(status) : Errno.SUCCESS;
  return paths.some(escapesByName) ? Errno.NOTCAPABLE : otherwise;
}

export async function pathFilestatSetTimes(w: WasiProcess, fd: number, lookupFlags: number, bytes: Uint8Array, accessed: bigint, modified: bigint, flags: number): Promise<number> {
  const found = await directoryAndPath(w, fd, Right.PATH_FILESTAT_SET_TIMES, bytes);
  if (typeof found === "number") return found;
  if (!checkTimeFlags(flags) || (lookupFlags & ~LOOKUP_SYMLINK_FOLLOW) !== 0) return Errno.INVAL;
  const target = found.path.bytes.length === 0 ? new Uint8Array([0x2e]) : found.path.bytes;
  const follow = (lookupFlags & LOOKUP_SYMLINK_FOLLOW) !== 0 || found.path.trailingSlash;
  const opened = await w.server.open(found.dir.slot, target, (follow ? 0 : FsOpen.NOFOLLOW) | FsRight.TIMES);
  if (typeof opened === "number") return errnoOfStatus(opened);
  const status = found.path.trailingSlash && opened.kind !== FsKind.DIRECTORY ? FsStatus.NOT_DIR : await w.server.setTimes(opened.slot, flags, BigInt.asUintN(64, accessed), BigInt.asUintN(64, modified));
  await w.server.close(opened.slot);
  return unsupportedOr(status, [target]);
}

interface Meeting {
  readonly slot: number;
  readonly a: Uint8Array;
  readonly b: Uint8Array;
  /** A token for the destination directory (0: none; the paths are both under `slot`). */
  readonly token: number;
}

/**
 * Where two directories meet for RENAME or LINK: one handle as they are; for another directory, a
 * token of it (FsMore.TOKEN); from a server without tokens, both paths worked out from the
 * preopen they descend from. Null when they cannot meet (EXDEV).
 */
async function meet(w: WasiProcess, a: DirectoryDescriptor, aPath: Uint8Array, b: DirectoryDescriptor, bPath: Uint8Array): Promise<Meeting | null> {
  if (a.slot === b.slot) return { slot: a.slot, a: aPath, b: bPath, token: 0 };
  const token = await w.server.token(b.slot);
  if (token > 0) return { slot: a.slot, a: aPath, b: bPath, token };
  const from = originUnder(a, aPath);
  const to = originUnder(b, bPath);
  if (!from || !to || from.root !== to.root) return null;
  if (w.k.capabilityKind(w.process, from.root, Rights.RECEIVER_CALL) !== ObjectKind.RECEIVER) return null;
  return { slot: from.root, a: encoder.encode(from.path.join("/") || "."), b: encoder.encode(to.path.join("/") || "."), token: 0 };
}

/** A RENAME or LINK answer: a token another server does not know (E_INVALID_CAP) is another device. */
function meetingErrno(status: number, meeting: Meeting): number {
  if (status === AbiStatus.E_INVALID_CAP && meeting.token !== 0) return Errno.XDEV;
  return status < 0 ? errnoOfStatus(status) : Errno.SUCCESS;
}

/**
 * path_rename. A file replaces a file; a directory replaces an empty directory (ENOTEMPTY when
 * it is not); a file onto a directory is EISDIR, a directory onto a file ENOTDIR.
 */
export async function pathRename(w: WasiProcess, fd: number, fromBytes: Uint8Array, newFd: number, toBytes: Uint8Array): Promise<number> {
  const source = await directoryAndPath(w, fd, Right.PATH_RENAME_SOURCE, fromBytes);
  if (typeof source === "number") return source;
  const target = await directoryAndPath(w, newFd, Right.PATH_RENAME_TARGET, toBytes);
  if (typeof target === "number") return target;
  if (namesItself(source.path) || namesItself(target.path)) return Errno.BUSY;
  const moving = await lookup(w, source.dir, source.path.bytes, false);
  if (typeof moving === "number") return errnoOfStatus(moving);
  const isDirectory = moving.kind === FsKind.DIRECTORY;
  if (!isDirectory && (source.path.trailingSlash || target.path.trailingSlash)) return Errno.NOTDIR;
  const replaced = await lookup(w, target.dir, target.path.bytes, false);
  const meeting = await meet(w, source.dir, source.path.bytes, target.dir, target.path.bytes);
  if (!meeting) return Errno.XDEV;
  let status: number;
  if (typeof replaced !== "number" && replaced.inode === moving.inode && replaced.kind === moving.kind && source.dir.device === target.dir.device) status = 0;
  else if (typeof replaced !== "number" && !isDirectory && replaced.kind === FsKind.DIRECTORY) status = FsStatus.IS_DIR;
  else if (typeof replaced !== "number" && isDirectory && replaced.kind !== FsKind.DIRECTORY) status = FsStatus.NOT_DIR;
  else if (typeof replaced === "number" && replaced !== FsStatus.NOT_FOUND) status = replaced;
  else {
    if (typeof replaced !== "number" && isDirectory) {
      // An empty directory in the way goes first (the servers move names only onto free ones).
      status = await w.server.remove(target.dir.slot, target.path.bytes, FsRemove.DIR);
      if (status === AbiStatus.E_INVALID_ARGUMENT) status = await w.server.unlink(target.dir.slot, target.path.bytes);
    } else status = 0;
    if (status >= 0) status = await w.server.rename(meeting.slot, meeting.a, meeting.b, meeting.token);
  }
  if (meeting.token !== 0) w.server.drop(meeting.token);
  return meetingErrno(status, meeting);
}

/** path_link: a new name for a file (never a directory: EPERM); the new name must be free (EEXIST). */
export async function pathLink(w: WasiProcess, fd: number, lookupFlags: number, fromBytes: Uint8Array, newFd: number, toBytes: Uint8Array): Promise<number> {
  const source = await directoryAndPath(w, fd, Right.PATH_LINK_SOURCE, fromBytes);
  if (typeof source === "number") return source;
  const target = await directoryAndPath(w, newFd, Right.PATH_LINK_TARGET, toBytes);
  if (typeof target === "number") return target;
  if ((lookupFlags & ~LOOKUP_SYMLINK_FOLLOW) !== 0) return Errno.INVAL;
  const follow = (lookupFlags & LOOKUP_SYMLINK_FOLLOW) !== 0;
  const linked = await lookup(w, source.dir, source.path.bytes, follow);
  if (typeof linked === "number") return errnoOfStatus(linked);
  if (linked.kind === FsKind.DIRECTORY) return Errno.PERM;
  if (source.path.trailingSlash) return Errno.NOTDIR;
  const existing = await lookup(w, target.dir, target.path.bytes, false);
  if (typeof existing !== "number") return Errno.EXIST;
  if (existing === FsStatus.ESCAPE) return Errno.NOTCAPABLE;
  if (target.path.trailingSlash) return Errno.NOENT;
  const meeting = await meet(w, source.dir, source.path.bytes, target.dir, target.path.bytes);
  if (!meeting) return Errno.XDEV;
  const status = await w.server.link(meeting.slot, follow ? FS_LINK_FOLLOW : 0, meeting.a, meeting.b, meeting.token);
  if (meeting.token !== 0) w.server.drop(meeting.token);
  if (status === AbiStatus.E_INVALID_ARGUMENT) return unsupportedOr(status, [source.path.bytes, target.path.bytes]);
  return meetingErrno(status, meeting);
}

/** path_symlink: a link whose contents are `target` (never resolved now: following it later is what is confined). */
export async function pathSymlink(w: WasiProcess, targetBytes: Uint8Array, fd: number, bytes: Uint8Array): Promise<number> {
  const found = await directoryAndPath(w, fd, Right.PATH_SYMLINK, bytes);
  if (typeof found === "number") return found;
  if (targetBytes.length === 0) return Errno.NOENT;
  if (targetBytes.includes(0)) return Errno.INVAL;
  const existing = await lookup(w, found.dir, found.path.bytes, false);
  if (typeof existing !== "number") return found.path.trailingSlash && existing.kind !== FsKind.DIRECTORY ? Errno.NOTDIR : Errno.EXIST;
  if (existing === FsStatus.ESCAPE) return Errno.NOTCAPABLE;
  if (found.path.trailingSlash) return Errno.NOENT;
  return unsupportedOr(await w.server.symlink(found.dir.slot, targetBytes, found.path.bytes), [found.path.bytes]);
}

/** A symbolic link's contents at most. */
const SYMLINK_MAX = 4096;

/**
 * path_readlink: as many bytes of the contents as fit (readlink truncates), their count; EINVAL
 * for what is no link. The link is opened itself (NOFOLLOW) and read: its READ gives the contents.
 */
export async function pathReadlink(w: WasiProcess, fd: number, bytes: Uint8Array, buf: number, length: number, out: number): Promise<number> {
  const found = await directoryAndPath(w, fd, Right.PATH_READLINK, bytes);
  if (typeof found === "number") return found;
  w.k.touch(w.process, out >>> 0, 4);
  // One call from a server that has READLINK_AT (the file system, the host folder server); else OPEN, READ, CLOSE.
  const direct = await w.server.readlinkAt(found.dir.slot, found.path.bytes);
  if (typeof direct === "number") return errnoOfStatus(direct);
  if (direct !== null) {
    if (direct.contents === null) return Errno.INVAL;
    const piece = direct.contents.subarray(0, length);
    if (!w.memory.write(w.process, buf, piece)) return Errno.FAULT;
    return w.memory.putU32(w.process, out, piece.length) ? Errno.SUCCESS : Errno.FAULT;
  }
  const opened = await w.server.open(found.dir.slot, found.path.bytes, FsOpen.NOFOLLOW | FsRight.READ);
  if (typeof opened === "number") return errnoOfStatus(opened);
  const contents = opened.kind === FsKind.SYMLINK ? await w.server.read(opened.slot, 0n, SYMLINK_MAX) : FsStatus.NOT_DIR;
  await w.server.close(opened.slot);
  if (typeof contents === "number") return opened.kind === FsKind.SYMLINK ? errnoOfStatus(contents) : Errno.INVAL;
  const piece = contents.subarray(0, length);
  if (!w.memory.write(w.process, buf, piece)) return Errno.FAULT;
  return w.memory.putU32(w.process, out, piece.length) ? Errno.SUCCESS : Errno.FAULT;
}
