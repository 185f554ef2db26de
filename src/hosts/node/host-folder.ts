import { type BigIntStats, constants } from "node:fs";
import { type FileHandle, link, lstat, lutimes, mkdir, open, readdir, readlink, realpath, rename, rmdir, stat, symlink, unlink, utimes } from "node:fs/promises";
import { isAbsolute, join, sep } from "node:path";
import {
  type FolderBackend, type FolderEntry, type FolderEntryKind, FolderError, type FolderFailure, type FolderOpenFlags, type FolderOpened,
  type FolderStat, type FolderTime,
} from "../../machine/devices/folder-backend.ts";

/** Files open through one folder at most (each a host file descriptor). */
const MAX_OPEN_FILES = 1024;

/**
 * A host folder, read-write (or read-only), as the host folder device's backend (`dogma run
 * --dir`). Confined as the host share is (folder-share.ts): every directory a path goes through
 * is resolved with realpath and must lie inside the folder, so neither `..` nor a symbolic link
 * leads out; a name is then acted on in that real directory without following it where the call
 * says not to (remove, rename, link, lstat, readlink, an open with noFollow), and a link that is
 * followed must resolve inside too. A file opened by name is held open by id, with O_NOFOLLOW on
 * the resolved path, so what is read and written is the file that was opened.
 */
export class NodeFolder implements FolderBackend {
  readonly root: string;
  readonly readOnly: boolean;
  private readonly files = new Map<number, FileHandle>();
  private nextId = 1;

  private constructor(root: string, readOnly: boolean) {
    this.root = root;
    this.readOnly = readOnly;
  }

  /** Throws when `dir` is not a folder. */
  static async open(dir: string, readOnly: boolean): Promise<NodeFolder> {
    const root = await realpath(dir);
    if (!(await stat(root)).isDirectory()) throw new Error(`cannot give ${dir}: it is not a folder`);
    return new NodeFolder(root, readOnly);
  }

  async stat(path: readonly string[], follow: boolean): Promise<FolderStat> {
    if (follow) return statOf(await failing(stat(await this.resolve(path), { bigint: true })));
    return statOf(await failing(lstat(await this.place(path), { bigint: true })));
  }

  async list(path: readonly string[]): Promise<FolderEntry[]> {
    const dir = await this.resolve(path);
    const entries = await failing(readdir(dir, { withFileTypes: true }));
    // readdir gives no inode numbers: each entry's own lstat does (a vanished one is left out).
    const listed = await Promise.all(
      entries.map(async (entry) => {
        try {
          return { name: entry.name, kind: kindOf(entry), inode: (await lstat(join(dir, entry.name), { bigint: true })).ino };
        } catch {
          return null;
        }
      }),
    );
    return listed.filter((entry): entry is FolderEntry => entry !== null);
  }

  async open(path: readonly string[], flags: FolderOpenFlags): Promise<FolderOpened> {
    if (this.readOnly && (flags.create || flags.truncate || flags.write)) throw new FolderError("read-only", "the folder is read-only");
    const place = await this.place(path);
    let existing: BigIntStats | null = null;
    try {
      existing = await lstat(place, { bigint: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw failure(error);
    }
    if (existing && flags.create && flags.exclusive) throw new FolderError("exists", `${path.join("/")} exists`);
    let target = place;
    if (existing?.isSymbolicLink()) {
      if (flags.noFollow) throw new FolderError("loop", `${path.join("/")} is a symbolic link`);
      target = this.confined(await failing(realpath(place)), path.join("/"), flags.create);
      existing = await failing(stat(target, { bigint: true }));
    }
    if (!existing && !flags.create) throw new FolderError("not-found", `${path.join("/")} does not exist`);
    if (existing?.isDirectory()) {
      if (flags.write || flags.truncate) throw new FolderError("is-directory", `${path.join("/")} is a directory`);
      return { stat: statOf(existing), file: null };
    }
    if (existing && !existing.isFile()) throw new FolderError("denied", `${path.join("/")} is neither a file nor a directory`);
    if (this.files.size >= MAX_OPEN_FILES) throw new FolderError("no-space", `${MAX_OPEN_FILES} files are open in this folder`);
    const mode = (flags.write ? constants.O_RDWR : constants.O_RDONLY) | constants.O_NOFOLLOW | (constants.O_NONBLOCK ?? 0);
    const creating = existing ? 0 : constants.O_CREAT | constants.O_EXCL;
    const handle = await failing(open(target, mode | creating | (flags.truncate ? constants.O_TRUNC : 0), 0o666));
    const id = this.nextId++;
    this.files.set(id, handle);
    return { stat: statOf(await failing(handle.stat({ bigint: true }))), file: id };
  }

  async mkdir(path: readonly string[]): Promise<void> {
    this.writable();
    await failing(mkdir(await this.place(path)));
  }

  async remove(path: readonly string[], directory: boolean): Promise<void> {
    this.writable();
    const place = await this.place(path);
    const info = await failing(lstat(place));
    if (directory && !info.isDirectory()) throw new FolderError("not-directory", `${path.join("/")} is not a directory`);
    if (!directory && info.isDirectory()) throw new FolderError("is-directory", `${path.join("/")} is a directory`);
    await failing(directory ? rmdir(place) : unlink(place));
  }

  async rename(from: readonly string[], to: readonly string[]): Promise<void> {
    this.writable();
    await failing(rename(await this.place(from), await this.place(to)));
  }

  async link(from: readonly string[], to: readonly string[]): Promise<void> {
    this.writable();
    await failing(link(await this.place(from), await this.place(to)));
  }

  async symlink(target: string, path: readonly string[]): Promise<void> {
    this.writable();
    // An absolute target names the host's own tree: refused, so no link in the folder points there.
    if (isAbsolute(target) || target.includes("\0")) throw new FolderError("denied", `a link to ${JSON.stringify(target)} would lead out of the folder`);
    await failing(symlink(target, await this.place(path)));
  }

  async readlink(path: readonly string[]): Promise<string> {
    return failing(readlink(await this.place(path)));
  }

  async setTimes(path: readonly string[], follow: boolean, accessed: FolderTime, modified: FolderTime): Promise<void> {
    this.writable();
    const target = follow ? await this.resolve(path) : await this.place(path);
    const now = await failing((follow ? stat : lstat)(target, { bigint: true }));
    const [a, m] = [timeOf(accessed, now.atimeNs), timeOf(modified, now.mtimeNs)];
    await failing(follow ? utimes(target, a, m) : lutimes(target, a, m));
  }

  async read(file: number, offset: number, length: number): Promise<Uint8Array> {
    const handle = this.file(file);
    const out = new Uint8Array(length);
    let at = 0;
    while (at < length) {
      const { bytesRead } = await failing(handle.read(out, at, length - at, offset + at));
      if (bytesRead === 0) break;
      at += bytesRead;
    }
    return out.subarray(0, at);
  }

  async write(file: number, offset: number, data: Uint8Array): Promise<number> {
    this.writable();
    const handle = this.file(file);
    let at = 0;
    while (at < data.length) {
      const { bytesWritten } = await failing(handle.write(data, at, data.length - at, offset + at));
      if (bytesWritten === 0) break;
      at += bytesWritten;
    }
    return at;
  }

  async append(file: number, data: Uint8Array): Promise<{ written: number; size: number }> {
    const size = Number((await failing(this.file(file).stat())).size);
    const written = await this.write(file, size, data);
    return { written, size: size + written };
  }

  async truncate(file: number, size: number): Promise<void> {
    this.writable();
    await failing(this.file(file).truncate(size));
  }

  async fileStat(file: number): Promise<FolderStat> {
    return statOf(await failing(this.file(file).stat({ bigint: true })));
  }

  async fileSetTimes(file: number, accessed: FolderTime, modified: FolderTime): Promise<void> {
    this.writable();
    const handle = this.file(file);
    const now = await failing(handle.stat({ bigint: true }));
    await failing(handle.utimes(timeOf(accessed, now.atimeNs), timeOf(modified, now.mtimeNs)));
  }

  async sync(file: number): Promise<void> {
    await failing(this.file(file).sync());
  }

  async close(file: number): Promise<void> {
    const handle = this.file(file);
    this.files.delete(file);
    await failing(handle.close());
  }

  async closeAll(): Promise<void> {
    const all = [...this.files.values()];
    this.files.clear();
    await Promise.allSettled(all.map((handle) => handle.close()));
  }

  private file(id: number): FileHandle {
    const handle = this.files.get(id);
    if (!handle) throw new FolderError("stale", `no file is open with id ${id}`);
    return handle;
  }

  private writable(): void {
    if (this.readOnly) throw new FolderError("read-only", "the folder is read-only");
  }

  /** The real path of what `path` names, every link followed, inside the folder ("denied" when it leads out). */
  private async resolve(path: readonly string[]): Promise<string> {
    return this.confined(await failing(realpath(join(this.root, ...checked(path)))), path.join("/"));
  }

  /**
   * Where `path`'s last name lies, not followed: its directory resolved (and confined), then the
   * name. The folder's own root is itself.
   */
  private async place(path: readonly string[]): Promise<string> {
    const names = checked(path);
    if (names.length === 0) return this.root;
    const parent = await this.resolve(names.slice(0, -1));
    return join(parent, names[names.length - 1]!);
  }

  private confined(real: string, shown: string, creating = false): string {
    const prefix = this.root.endsWith(sep) ? this.root : this.root + sep;
    if (real !== this.root && !real.startsWith(prefix)) throw new FolderError(creating ? "denied" : "denied", `${shown} leads outside the folder`);
    return real;
  }
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
async function failing<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (error) {
    throw failure(error);
  }
}
