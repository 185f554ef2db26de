import { type Dirent, constants } from "node:fs";
import { type FileHandle, open, opendir, realpath, stat } from "node:fs/promises";
import { join, sep } from "node:path";
import { errnoText } from "./host-errors.ts";
import type { DirectoryStream } from "../../machine/devices/directory-cursors.ts";
import { type ShareBackend, type ShareEntry, type ShareEntryKind, ShareError, type ShareFailure, type ShareStat } from "../../machine/devices/share-backend.ts";

/**
 * A host folder, read-only, as the host share device's backend (`--share DIR`). Every path is
 * resolved with realpath and refused unless it stays inside the folder, so a symlink cannot lead
 * out; what is opened is the resolved path, not the one the driver named.
 */
export class FolderShare implements ShareBackend {
  readonly root: string;

  private constructor(root: string) {
    this.root = root;
  }

  /** Throws when `dir` is not a folder that can be read. */
  static async open(dir: string): Promise<FolderShare> {
    let root: string;
    try {
      root = await realpath(dir);
      if (!(await stat(root)).isDirectory()) throw new Error(`cannot share ${dir}: it is not a folder`);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === undefined) throw error;
      throw new Error(`cannot share ${dir}: ${errnoText(error)}`);
    }
    return new FolderShare(root);
  }

  async stat(path: readonly string[]): Promise<ShareStat> {
    const info = await failing(stat(await this.resolve(path), { bigint: true }));
    return { kind: kindOf(info), size: Number(info.size), modifiedNs: info.mtimeNs };
  }

  /** The directory open as a host directory stream (opendir), read `most` entries at a time. */
  async openDirectory(path: readonly string[]): Promise<DirectoryStream<ShareEntry>> {
    const real = await this.resolve(path);
    const dir = await failing(opendir(real, { bufferSize: 64 }));
    return {
      read: async (most: number): Promise<ShareEntry[]> => {
        const entries: ShareEntry[] = [];
        while (entries.length < most) {
          const entry = await failing(dir.read());
          if (entry === null) break;
          entries.push({ name: entry.name, kind: await this.entryKind(real, entry) });
        }
        return entries;
      },
      close: () => void dir.close().catch(() => undefined),
    };
  }

  async read(path: readonly string[], offset: number, length: number): Promise<Uint8Array> {
    const real = await this.resolve(path);
    // Not following a symlink swapped in since realpath, nor blocking on a FIFO: it is refused below.
    const file: FileHandle = await failing(open(real, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0)));
    try {
      const info = await file.stat();
      if (!info.isFile()) throw new ShareError(info.isDirectory() ? "is-directory" : "denied", `${path.join("/")} is not a file`);
      const out = new Uint8Array(length);
      let at = 0;
      while (at < length) {
        const { bytesRead } = await failing(file.read(out, at, length - at, offset + at));
        if (bytesRead === 0) break;
        at += bytesRead;
      }
      return out.subarray(0, at);
    } finally {
      await file.close();
    }
  }

  /** The real path of `path` inside the share, or a ShareError ("denied" when it leads out). */
  private async resolve(path: readonly string[]): Promise<string> {
    for (const name of path) {
      if (name === "" || name === "." || name === ".." || name.includes("/") || name.includes("\\") || name.includes("\0")) {
        throw new ShareError("denied", `${JSON.stringify(name)} is not a name in the share`);
      }
    }
    return this.confined(await failing(realpath(join(this.root, ...path))), path.join("/"));
  }

  private confined(real: string, shown: string): string {
    const prefix = this.root.endsWith(sep) ? this.root : this.root + sep;
    if (real !== this.root && !real.startsWith(prefix)) throw new ShareError("denied", `${shown} leads outside the share`);
    return real;
  }

  /** A symlink shows as what it points to when that is inside the share, else as "other". */
  private async entryKind(dir: string, entry: Dirent): Promise<ShareEntryKind> {
    if (!entry.isSymbolicLink()) return kindOf(entry);
    try {
      return kindOf(await stat(this.confined(await realpath(join(dir, entry.name)), entry.name)));
    } catch {
      return "other";
    }
  }
}

function kindOf(info: { isFile(): boolean; isDirectory(): boolean }): ShareEntryKind {
  return info.isFile() ? "file" : info.isDirectory() ? "directory" : "other";
}

/** Runs a file system call, turning its errno into the ShareError a driver gets a status for. */
async function failing<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (error) {
    if (error instanceof ShareError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    const reasons: Record<string, ShareFailure> = { ENOENT: "not-found", ENOTDIR: "not-directory", EISDIR: "is-directory", EACCES: "denied", EPERM: "denied", ELOOP: "denied" };
    throw new ShareError(reasons[code ?? ""] ?? "io", (error as Error).message);
  }
}
