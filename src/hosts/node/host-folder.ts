import {
  type BigIntStats, closeSync, constants, fstatSync, fsync, ftruncateSync, futimesSync, linkSync, lstatSync, lutimesSync, mkdirSync, openSync,
  opendirSync, readSync, readlinkSync, readvSync, realpathSync, renameSync, rmdirSync, statSync, symlinkSync, unlinkSync, utimesSync, writeSync, writevSync,
} from "node:fs";
import { dirname, isAbsolute, join, relative, sep } from "node:path";
import {
  type FolderBackend, type FolderEntry, type FolderEntryKind, FolderError, type FolderFailure, type FolderOpenFlags, type FolderOpened,
  type FolderStat, type FolderTime,
} from "../../machine/devices/folder-backend.ts";
import type { DirectoryStream } from "../../machine/devices/directory-cursors.ts";
import { type MoveCheck, close as closeCheck, moveChecks } from "./move-checks.ts";

/** Files open through one folder at most (each a host file descriptor). */
const MAX_OPEN_FILES = 1024;

/** Symbolic links followed in one path at most, before it is a loop (ELOOP), as Linux's 40. */
const MAX_LINK_HOPS = 40;

/**
 * Names one walk goes through at most, links' contents included ("" and "." too): 40 links of
 * 4 KiB each could make a path of 80,000 names, each an lstat on the machine's one thread (about
 * 100 ms); a path that long is refused as a loop. A path alone has at most 2,049.
 */
const MAX_WALK_NAMES = 8192;

/** Entries a move nearer the root looks through for links at most (`linksStayInside`). */
const MAX_MOVE_CHECK = 100_000;

/** Entries one request of such a move looks through at most; it answers "again" to go on. */
export const MOVE_CHECK_PER_REQUEST = 512;

/** Where a path leads: the real path of its last name (links followed or not), and what is there (null: nothing yet). */
interface Walked {
  readonly real: string;
  readonly info: BigIntStats | null;
}

/**
 * A host folder, read-write (or read-only), as the host folder device's backend (`dogma run
 * --dir`). Confined by construction: a path is walked one name at a time from the folder's real
 * root, each name looked at with lstat; a symbolic link is followed by reading it and walking its
 * contents in place of the name, so `..` (from the path or from a link) can step back only to a
 * directory the walk came through, and a link whose contents are absolute is refused: nothing
 * leads out of the folder, whether what it would lead to exists or not. A name is acted on in the
 * real directory the walk reached, never followed where the call says not to (remove, rename,
 * link, a stat or an open without following). A file opened by name is held open by id
 * (O_NOFOLLOW on the walked path), so what is read and written is the file that was opened,
 * whatever is renamed or removed meanwhile. No link the program makes or moves leads out of the
 * folder as the host resolves it either (`symlink`, `linksStayInside`): the host's own users follow
 * links the host's way. What the host changes in the folder between a walk and
 * the call on its result is not guarded against (the host's own users are trusted).
 *
 * Every call is the host's synchronous system call, as node:wasi's (uvwasi) are: on a local folder
 * each takes microseconds, where the same call through libuv's thread pool (node:fs/promises)
 * cost 100-200 µs of hand-offs between threads on the shared 2-core machine, a round trip a
 * program pays per write and per name of every path it opens (clang -O2 -c makes 1,239 writes of
 * 17 bytes on average and looks at 150 paths). The machine's thread waits meanwhile, as it would
 * for the program's own call; a request moves at most the device's 1 MiB (docs/HOSTFS.md).
 */
export class NodeFolder implements FolderBackend {
  readonly root: string;
  readonly readOnly: boolean;
  /** Open files by id: host file descriptors. */
  private readonly files = new Map<number, number>();
  private nextId = 1;

  private constructor(root: string, readOnly: boolean) {
    this.root = root;
    this.readOnly = readOnly;
  }

  /** Throws when `dir` is not a folder. */
  static async open(dir: string, readOnly: boolean): Promise<NodeFolder> {
    const root = realpathSync(dir);
    if (!statSync(root).isDirectory()) throw new Error(`cannot give ${dir}: it is not a folder`);
    return new NodeFolder(root, readOnly);
  }

  stat(path: readonly string[], follow: boolean): FolderStat {
    return statOf(existing(this.walk(path, follow), path));
  }

  /** The directory open as a host directory stream (opendir), read `most` entries at a time. */
  openDirectory(path: readonly string[]): DirectoryStream<FolderEntry> {
    const { real, info } = this.walk(path, true);
    if (!existing({ real, info }, path).isDirectory()) throw new FolderError("not-directory", `${path.join("/")} is not a directory`);
    const dir = failing(() => opendirSync(real, { bufferSize: 64 }));
    return {
      read(most: number): FolderEntry[] {
        const entries: FolderEntry[] = [];
        while (entries.length < most) {
          const entry = failing(() => dir.readSync());
          if (entry === null) break;
          // readdir gives no inode numbers: the entry's own lstat does (0 when it went meanwhile).
          const inode = lstatSync(join(real, entry.name), { bigint: true, throwIfNoEntry: false })?.ino ?? 0n;
          entries.push({ name: entry.name, kind: kindOf(entry), inode });
        }
        return entries;
      },
      close: () => dir.closeSync(),
    };
  }

  open(path: readonly string[], flags: FolderOpenFlags): FolderOpened {
    if (flags.create || flags.truncate || flags.write) this.writable();
    const { real, info } = this.walk(path, !flags.noFollow);
    const shown = path.join("/");
    if (info && flags.create && flags.exclusive) throw new FolderError("exists", `${shown} exists`);
    if (info?.isSymbolicLink()) {
      // Not followed: the link itself, whose contents READLINK gives; never cut to length 0.
      if (flags.truncate) throw new FolderError("loop", `${shown} is a symbolic link`);
      return { stat: statOf(info), file: null };
    }
    if (!info && !flags.create) throw new FolderError("not-found", `${shown} does not exist`);
    if (info?.isDirectory()) {
      if (flags.write || flags.truncate) throw new FolderError("is-directory", `${shown} is a directory`);
      return { stat: statOf(info), file: null };
    }
    if (info && !info.isFile()) throw new FolderError("denied", `${shown} is neither a file nor a directory`);
    if (this.files.size >= MAX_OPEN_FILES) throw new FolderError("no-space", `${MAX_OPEN_FILES} files are open in this folder`);
    const mode = (flags.write ? constants.O_RDWR : constants.O_RDONLY) | constants.O_NOFOLLOW | (constants.O_NONBLOCK ?? 0);
    const creating = info ? 0 : constants.O_CREAT | constants.O_EXCL;
    const fd = failing(() => openSync(real, mode | creating | (flags.truncate ? constants.O_TRUNC : 0), 0o666));
    let opened: BigIntStats;
    try {
      opened = failing(() => fstatSync(fd, { bigint: true }));
    } catch (error) {
      closeSync(fd);
      throw error;
    }
    const id = this.nextId++;
    this.files.set(id, fd);
    return { stat: statOf(opened), file: id };
  }

  mkdir(path: readonly string[]): void {
    this.writable();
    const { real, info } = this.walk(path, false);
    if (info) throw new FolderError("exists", `${path.join("/")} exists`);
    failing(() => mkdirSync(real));
  }

  remove(path: readonly string[], directory: boolean): void {
    this.writable();
    const { real, info } = this.walk(path, false);
    const found = existing({ real, info }, path);
    if (real === this.root) throw new FolderError("invalid", "the folder itself cannot be removed");
    if (directory && !found.isDirectory()) throw new FolderError("not-directory", `${path.join("/")} is not a directory`);
    if (!directory && found.isDirectory()) throw new FolderError("is-directory", `${path.join("/")} is a directory`);
    failing(() => (directory ? rmdirSync(real) : unlinkSync(real)));
  }

  rename(from: readonly string[], to: readonly string[]): void {
    const what = `rename\0${from.join("/")}\0${to.join("/")}`;
    this.writable();
    const source = this.walk(from, false);
    const moved = existing(source, from);
    const target = this.walk(to, false);
    this.linksStayInside(source.real, moved, target.real, to, what);
    failing(() => renameSync(source.real, target.real));
    moveChecks.changed(source.real, target.real);
  }

  link(from: readonly string[], to: readonly string[], follow: boolean): void {
    const what = `link${follow ? "+" : ""}\0${from.join("/")}\0${to.join("/")}`;
    this.writable();
    const source = this.walk(from, follow);
    existing(source, from);
    const target = this.walk(to, false);
    if (target.info) throw new FolderError("exists", `${to.join("/")} exists`);
    // A hard link to a symbolic link is that link at another place, where its `..` may reach further.
    this.linksStayInside(source.real, existing(source, from), target.real, to, what);
    failing(() => linkSync(source.real, target.real));
    moveChecks.changed(target.real);
  }

  symlink(target: string, path: readonly string[]): void {
    this.writable();
    const place = this.walk(path, false);
    // The host's own users follow links the way the host does, not through this walk: a link that
    // leads out of the folder, absolute or relative, is refused, so that none is left there.
    if (!staysInside(target, relative(this.root, dirname(place.real)))) {
      throw new FolderError("denied", `a link to ${JSON.stringify(target)} at ${path.join("/")} would lead out of the folder`);
    }
    if (place.info) throw new FolderError("exists", `${path.join("/")} exists`);
    failing(() => symlinkSync(target, place.real));
    moveChecks.changed(place.real);
  }

  /**
   * Refuses to put `real` (what `info` says is there) at `place` when a symbolic link it is or
   * holds would then lead out of the folder as the host resolves it (see `symlink`: a link's
   * leading `..` climb from wherever its directory is now, so moving a link, or a directory
   * holding one, nearer the root can make a link that stayed inside reach out). Only a move to a
   * shallower place can, so only such a move looks through what moves (at most MAX_MOVE_CHECK
   * entries: a bigger tree is refused rather than moved unchecked). It looks through at most
   * MOVE_CHECK_PER_REQUEST entries a request, reading each directory as a stream, and answers
   * "again" until it is through: the driver sends the same request again (`what` names it), and
   * the machine's other processes run in between. A change meanwhile that can bring a link into
   * the tree or move it, through any folder of this host (move-checks.ts), drops what was looked
   * through, so a check never goes on over a tree changed under it.
   */
  private linksStayInside(real: string, info: BigIntStats, place: string, shown: readonly string[], what: string): void {
    const depth = (path: string) => (path === this.root ? 0 : relative(this.root, path).split(sep).length);
    if (depth(dirname(place)) >= depth(dirname(real))) return;
    const refuse = (link: string, target: string) => {
      throw new FolderError("denied", `moving ${link} to ${shown.join("/")} would make its link to ${JSON.stringify(target)} lead out of the folder`);
    };
    if (info.isSymbolicLink()) {
      const target = failing(() => readlinkSync(real));
      if (!staysInside(target, relative(this.root, dirname(place)))) refuse(relative(this.root, real), target);
      return;
    }
    if (!info.isDirectory()) return;
    let check = moveChecks.take(this, what);
    if (check === null) {
      if (!moveChecks.makeRoom()) throw new FolderError("again", `waiting to look through ${relative(this.root, real)} before moving it: other moves are being checked`);
      check = { folder: this, what, tree: real, pending: [[real, place]], reading: null, seen: 0, used: 0 } satisfies MoveCheck;
    }
    let kept = false;
    try {
      for (let budget = MOVE_CHECK_PER_REQUEST; ; ) {
        if (check.reading === null) {
          const next = check.pending.pop();
          if (next === undefined) return; // through: nothing leads out
          const [now, future] = next;
          check.reading = { dir: failing(() => opendirSync(now, { bufferSize: 64 })), now, future };
        }
        const { dir, now, future } = check.reading;
        const entry = failing(() => dir.readSync());
        if (entry === null) {
          check.reading = null;
          dir.closeSync();
          continue;
        }
        if (++check.seen > MAX_MOVE_CHECK) throw new FolderError("denied", `${relative(this.root, real)} holds more than ${MAX_MOVE_CHECK} entries: too many to check its links before moving it nearer the root`);
        const at = join(now, entry.name);
        if (entry.isDirectory()) check.pending.push([at, join(future, entry.name)]);
        else if (entry.isSymbolicLink()) {
          const target = failing(() => readlinkSync(at));
          if (!staysInside(target, relative(this.root, future))) refuse(relative(this.root, at), target);
        }
        if (--budget === 0) {
          moveChecks.keep(check);
          kept = true;
          throw new FolderError("again", `looking through ${relative(this.root, real)} before moving it: ${check.seen} entries so far`);
        }
      }
    } finally {
      if (!kept) closeCheck(check);
    }
  }

  readlink(path: readonly string[]): string {
    const { real, info } = this.walk(path, false);
    if (!existing({ real, info }, path).isSymbolicLink()) throw new FolderError("invalid", `${path.join("/")} is not a symbolic link`);
    return failing(() => readlinkSync(real));
  }

  setTimes(path: readonly string[], follow: boolean, accessed: FolderTime, modified: FolderTime): void {
    this.writable();
    const { real, info } = this.walk(path, follow);
    const now = existing({ real, info }, path);
    const [a, m] = [timeOf(accessed, now.atimeNs), timeOf(modified, now.mtimeNs)];
    failing(() => (now.isSymbolicLink() ? lutimesSync(real, a, m) : utimesSync(real, a, m)));
  }

  read(file: number, offset: number, length: number): Uint8Array {
    const fd = this.file(file);
    const out = new Uint8Array(length);
    let at = 0;
    while (at < length) {
      const n = failing(() => readSync(fd, out, at, length - at, offset + at));
      if (n === 0) break;
      at += n;
    }
    return out.subarray(0, at);
  }

  /** As `read`, into the pieces (the device's DMA window): one readv, and more only for a short one before the end. */
  readScattered(file: number, offset: number, pieces: readonly Uint8Array[]): number {
    return movePieces(this.file(file), offset, pieces, readvSync, readSync);
  }

  /** As `write`, from the pieces: one writev, and more only for a short one. */
  writeGathered(file: number, offset: number, pieces: readonly Uint8Array[]): number {
    this.writable();
    return movePieces(this.file(file), offset, pieces, writevSync, writeSync);
  }

  write(file: number, offset: number, data: Uint8Array): number {
    this.writable();
    return this.writeAt(this.file(file), offset, data);
  }

  append(file: number, data: Uint8Array): { written: number; size: number } {
    const fd = this.file(file);
    const size = Number(failing(() => fstatSync(fd)).size);
    this.writable();
    const written = this.writeAt(fd, size, data);
    return { written, size: size + written };
  }

  truncate(file: number, size: number): void {
    this.writable();
    const fd = this.file(file);
    failing(() => ftruncateSync(fd, size));
  }

  fileStat(file: number): FolderStat {
    const fd = this.file(file);
    return statOf(failing(() => fstatSync(fd, { bigint: true })));
  }

  fileSetTimes(file: number, accessed: FolderTime, modified: FolderTime): void {
    this.writable();
    const fd = this.file(file);
    const now = failing(() => fstatSync(fd, { bigint: true }));
    failing(() => futimesSync(fd, timeOf(accessed, now.atimeNs), timeOf(modified, now.mtimeNs)));
  }

  /**
   * The host's fsync waits for its disk (milliseconds, more on a busy one): in libuv's threads, so
   * that the machine runs meanwhile. Synchronous, a program's fd_sync in a loop froze every
   * process for each of them, as a whole-directory LIST did.
   */
  sync(file: number): Promise<void> {
    const fd = this.file(file);
    return new Promise((resolve, reject) => fsync(fd, (error) => (error ? reject(failure(error)) : resolve())));
  }

  close(file: number): void {
    const fd = this.file(file);
    this.files.delete(file);
    failing(() => closeSync(fd));
  }

  closeAll(): void {
    moveChecks.forget(this);
    const all = [...this.files.values()];
    this.files.clear();
    for (const fd of all) {
      try {
        closeSync(fd);
      } catch {
        // Closed is closed.
      }
    }
  }

  private writeAt(fd: number, offset: number, data: Uint8Array): number {
    let at = 0;
    while (at < data.length) {
      const n = failing(() => writeSync(fd, data, at, data.length - at, offset + at));
      if (n === 0) break;
      at += n;
    }
    return at;
  }

  private file(id: number): number {
    const fd = this.files.get(id);
    if (fd === undefined) throw new FolderError("stale", `no file is open with id ${id}`);
    return fd;
  }

  /** Refuses a change to a read-only folder. */
  private writable(): void {
    if (this.readOnly) throw new FolderError("read-only", "the folder is read-only");
  }

  /**
   * Walks `path` from the folder's root (see the class comment): where its last name is, and
   * what is there (null when nothing is, its directory being there). A link as the last name is
   * followed only when `followLast`.
   */
  private walk(path: readonly string[], followLast: boolean): Walked {
    const pending = [...checked(path)];
    const shown = path.join("/");
    const above: string[] = [];
    let dir = this.root;
    let hops = 0;
    let looked = 0;
    while (pending.length > 0) {
      const name = pending.shift()!;
      if (++looked > MAX_WALK_NAMES) throw new FolderError("loop", `${shown}: more than ${MAX_WALK_NAMES} names to walk, links included`);
      if (name === "" || name === ".") continue;
      if (name === "..") {
        if (above.length === 0) throw new FolderError("denied", `${shown} leads outside the folder`);
        dir = above.pop()!;
        continue;
      }
      const last = pending.every((rest) => rest === "" || rest === ".");
      const candidate = join(dir, name);
      const info = failing(() => lstatSync(candidate, { bigint: true, throwIfNoEntry: false }));
      if (info === undefined) {
        if (last) return { real: candidate, info: null };
        throw new FolderError("not-found", `${shown}: ${name} does not exist`);
      }
      if (info.isSymbolicLink() && (!last || followLast)) {
        if (++hops > MAX_LINK_HOPS) throw new FolderError("loop", `${shown}: too many symbolic links`);
        const target = failing(() => readlinkSync(candidate));
        if (isAbsolute(target)) throw new FolderError("denied", `${shown} goes through a link to ${JSON.stringify(target)}, outside the folder`);
        pending.unshift(...target.split(sep));
        continue;
      }
      if (last) return { real: candidate, info };
      if (!info.isDirectory()) throw new FolderError("not-directory", `${shown}: ${name} is not a directory`);
      above.push(dir);
      dir = candidate;
    }
    return { real: dir, info: failing(() => lstatSync(dir, { bigint: true })) };
  }
}

/**
 * Whether a link at `linkDir` (its directory, relative to the folder's root; "" for the root) to
 * `target` leads, as the host resolves it, to a place inside the folder: not absolute, its `..`
 * all at its start (a `..` after a name could step back out of a link that name is, now or
 * later) and no more of them than `linkDir` is deep. A move that would put a link where this
 * fails is refused (`linksStayInside`).
 */
function staysInside(target: string, linkDir: string): boolean {
  if (target === "" || isAbsolute(target) || target.includes("\0") || target.includes("\\")) return false;
  let depth = linkDir === "" ? 0 : linkDir.split(sep).length;
  let named = false;
  for (const name of target.split("/")) {
    if (name === "" || name === ".") continue;
    if (name === "..") {
      if (named || --depth < 0) return false;
      continue;
    }
    named = true;
  }
  return true;
}

/** What a walk found, or "not-found". */
function existing(walked: Walked, path: readonly string[]): BigIntStats {
  if (!walked.info) throw new FolderError("not-found", `${path.join("/")} does not exist`);
  return walked.info;
}

function checked(path: readonly string[]): readonly string[] {
  for (const name of path) {
    if (name === "" || name === "." || name === ".." || name.includes("/") || name.includes("\\") || name.includes("\0")) {
      throw new FolderError("denied", `${JSON.stringify(name)} is not a name in the folder`);
    }
  }
  return path;
}

function kindOf(info: { isFile(): boolean; isDirectory(): boolean; isSymbolicLink(): boolean }): FolderEntryKind {
  return info.isSymbolicLink() ? "symlink" : info.isFile() ? "file" : info.isDirectory() ? "directory" : "other";
}

function statOf(info: BigIntStats): FolderStat {
  return {
    kind: kindOf(info),
    size: Number(info.size),
    links: Number(info.nlink),
    inode: info.ino,
    accessedNs: info.atimeNs,
    modifiedNs: info.mtimeNs,
    changedNs: info.ctimeNs,
  };
}

/** A time for utimes: the one given (ns), the host's now, or the one it has. */
function timeOf(time: FolderTime, current: bigint): number {
  if (time === "now") return Date.now() / 1000;
  return Number(time ?? current) / 1e9;
}

const REASONS: Readonly<Record<string, FolderFailure>> = {
  ENOENT: "not-found",
  ENOTDIR: "not-directory",
  EISDIR: "is-directory",
  EACCES: "denied",
  EPERM: "denied",
  EEXIST: "exists",
  ENOTEMPTY: "not-empty",
  ELOOP: "loop",
  ENOSPC: "no-space",
  EDQUOT: "no-space",
  EROFS: "read-only",
  EINVAL: "invalid",
  EFBIG: "too-big",
  ENAMETOOLONG: "invalid",
};

function failure(error: unknown): FolderError {
  if (error instanceof FolderError) return error;
  const code = (error as NodeJS.ErrnoException).code ?? "";
  return new FolderError(REASONS[code] ?? "io", (error as Error).message);
}

/** Runs a file system call, turning its errno into the FolderError a driver gets a status for. */
function failing<T>(call: () => T): T {
  try {
    return call();
  } catch (error) {
    throw failure(error);
  }
}

/**
 * The bytes of `pieces` moved at `offset` of `fd`: one vectored call (readv, writev), then, past a
 * short one, the rest a piece at a time (read, write) until done or one moves nothing.
 */
function movePieces(
  fd: number,
  offset: number,
  pieces: readonly Uint8Array[],
  vectored: (fd: number, pieces: Uint8Array[], position: number) => number,
  single: (fd: number, piece: Uint8Array, at: number, length: number, position: number) => number,
): number {
  const wanted = pieces.reduce((n, piece) => n + piece.length, 0);
  let done = failing(() => vectored(fd, pieces as Uint8Array[], offset));
  while (done > 0 && done < wanted) {
    const [piece, at] = pieceAt(pieces, done);
    const n = failing(() => single(fd, piece, at, piece.length - at, offset + done));
    if (n === 0) break;
    done += n;
  }
  return done;
}

/** The piece holding byte `at` of `pieces` laid end to end, and where in it. */
function pieceAt(pieces: readonly Uint8Array[], at: number): [Uint8Array, number] {
  let left = at;
  for (const piece of pieces) {
    if (left < piece.length) return [piece, left];
    left -= piece.length;
  }
  return [pieces[pieces.length - 1]!, pieces[pieces.length - 1]!.length];
}
