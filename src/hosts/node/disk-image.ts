import { readSync, readvSync, writeSync, writevSync } from "node:fs";
import { type FileHandle, open, realpath } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { type BlockBackend, BlockError, type BlockFailure } from "../../machine/devices/block-backend.ts";
import { BackgroundSync } from "./background-sync.ts";
import { errnoText } from "./host-errors.ts";
import { ImageLock, ImageLockedError } from "./image-lock.ts";

/** Bytes written that start an fdatasync in the background (background-sync.ts). */
const BACKGROUND_SYNC_BYTES = 2 << 20;

export interface DiskImageOptions {
  /** Open the image read-only: the block device refuses writes, and nothing writes the file. */
  readonly readOnly?: boolean;
  /** Told once per kind of failure (no space, read-only, I/O error), as one line for the user. */
  readonly onFailure?: (line: string) => void;
}

/**
 * A disk image file as a block backend. Writes go straight to the file (no cache of our own);
 * flush is an fdatasync, so a flushed write survives the host crashing. The image is locked while
 * it is open (image-lock.ts): a second machine on the same image is refused. A host failure
 * (ENOSPC, EROFS, EIO) fails the request with a BlockError the device turns into its status, and
 * is told once through `onFailure`.
 *
 * Reads and writes are synchronous (a device request is at most 64 KiB): the host's page cache
 * answers them in microseconds, where a trip through libuv's thread pool and back to the event
 * loop cost about 55 µs a request (block-bench: 4 KiB reads 12 000/s asynchronous, 41 000/s
 * synchronous). The price is that a read the host must fetch from its own disk holds the machine's
 * one thread for that long. fdatasync, which waits for the disk, stays asynchronous, and starts
 * in the background every BACKGROUND_SYNC_BYTES written, and at the host's turn after what a flush
 * is followed by (background-sync.ts: a flush with nothing written since then waits for that
 * instead of syncing again), so that a flush
 * after a long run of writes waits for its tail only.
 */
export class DiskImage implements BlockBackend {
  readonly size: number;
  readonly path: string;
  readonly readOnly: boolean;
  /** Writes are synchronous (writeSync): the bytes are in the file when `write` returns. */
  readonly takesWritesAtOnce = true;
  private readonly file: FileHandle;
  private readonly lock: ImageLock | null;
  private readonly onFailure: (line: string) => void;
  private readonly told = new Set<BlockFailure>();
  private readonly background: BackgroundSync;

  private constructor(path: string, file: FileHandle, size: number, lock: ImageLock | null, options: DiskImageOptions) {
    this.path = path;
    this.file = file;
    this.size = size;
    this.lock = lock;
    this.readOnly = options.readOnly ?? false;
    this.onFailure = options.onFailure ?? (() => {});
    this.background = new BackgroundSync(() => file.datasync(), this.readOnly ? 0 : BACKGROUND_SYNC_BYTES);
  }

  /**
   * Locks and opens the image at `path`, read-write unless `readOnly`; a missing one is created
   * with `size` bytes (zeros, sparse where the file system allows) unless `readOnly`. An existing
   * image keeps its own size. Throws an Error whose message is one line for the user.
   */
  static async open(path: string, size: number, options: DiskImageOptions = {}): Promise<DiskImage> {
    const real = await realImagePath(path);
    const lock = await lockUnlessReadOnlyFolder(real, options.readOnly ?? false);
    let file: FileHandle | null = null;
    try {
      file = await openImage(path, size, options.readOnly ?? false);
      const { size: actual } = await file.stat();
      return new DiskImage(path, file, actual, lock, options);
    } catch (error) {
      await file?.close();
      lock?.release();
      throw error;
    }
  }

  read(offset: number, length: number): Promise<Uint8Array> {
    const out = new Uint8Array(length);
    try {
      let at = 0;
      while (at < length) {
        const got = this.failingSync(() => readSync(this.file.fd, out, at, length - at, offset + at));
        if (got === 0) break; // past the end of the file: zeros, like an unwritten sector
        at += got;
      }
    } catch (error) {
      return Promise.reject(error);
    }
    return Promise.resolve(out);
  }

  /** Reads into the pieces one after another, in as few `readv` calls as the host allows; zeros past the end of the file. */
  readScattered(offset: number, pieces: readonly Uint8Array[]): Promise<void> {
    try {
      let rest = pieces.filter((piece) => piece.length > 0);
      let at = offset;
      while (rest.length > 0) {
        let got = this.failingSync(() => readvSync(this.file.fd, rest, at));
        if (got === 0) {
          for (const piece of rest) piece.fill(0); // past the end of the file, like an unwritten sector
          break;
        }
        at += got;
        let first = 0;
        while (first < rest.length && got >= rest[first]!.length) got -= rest[first++]!.length;
        rest = first < rest.length ? [rest[first]!.subarray(got), ...rest.slice(first + 1)] : [];
      }
    } catch (error) {
      return Promise.reject(error);
    }
    return Promise.resolve();
  }

  write(offset: number, data: Uint8Array): Promise<void> {
    if (this.readOnly) return Promise.reject(new BlockError("read-only", `${this.path} is open read-only`));
    let at = 0;
    try {
      while (at < data.length) at += this.failingSync(() => writeSync(this.file.fd, data, at, data.length - at, offset + at));
    } catch (error) {
      return Promise.reject(error);
    } finally {
      this.background.wrote(at); // (a write that failed part of the way wrote something too: no sync before it covers it)
    }
    return Promise.resolve();
  }

  /** The pieces one after another from `offset`, in as few `writev` calls as the host allows (one, mostly). */
  writeGathered(offset: number, pieces: readonly Uint8Array[]): Promise<void> {
    if (this.readOnly) return Promise.reject(new BlockError("read-only", `${this.path} is open read-only`));
    let at = offset;
    try {
      let rest = pieces.filter((piece) => piece.length > 0);
      while (rest.length > 0) {
        let wrote = this.failingSync(() => writevSync(this.file.fd, rest, at));
        at += wrote;
        // A short write: go on from the first byte it did not take.
        let first = 0;
        while (first < rest.length && wrote >= rest[first]!.length) wrote -= rest[first++]!.length;
        rest = first < rest.length ? [rest[first]!.subarray(wrote), ...rest.slice(first + 1)] : [];
      }
    } catch (error) {
      return Promise.reject(error);
    } finally {
      this.background.wrote(at - offset); // (as in `write`)
    }
    return Promise.resolve();
  }

  async flush(): Promise<void> {
    if (!this.readOnly) await this.failing(this.background.flush());
  }

  /** Closes the file and lets the image go. */
  async close(): Promise<void> {
    try {
      await this.background.settle();
      await this.file.close();
    } finally {
      this.lock?.release();
    }
  }

  /** Runs a file call, turning a host failure into the BlockError the device reports. */
  private async failing<T>(call: Promise<T>): Promise<T> {
    try {
      return await call;
    } catch (error) {
      throw this.blockError(error);
    }
  }

  /** `failing` for a synchronous call. */
  private failingSync<T>(call: () => T): T {
    try {
      return call();
    } catch (error) {
      throw this.blockError(error);
    }
  }

  /** A host failure as the BlockError the device reports, told once per kind through `onFailure`. */
  private blockError(error: unknown): BlockError {
    const failure = blockFailureOf(error);
    if (!this.told.has(failure)) {
      this.told.add(failure);
      const what = { "no-space": "the host has no room left for it", "read-only": "the host refuses writes to it", io: "the host failed an operation on it" }[failure];
      this.onFailure(`disk image ${this.path}: ${what} (${errnoText(error)}); the machine sees ${failure === "io" ? "I/O errors" : failure === "no-space" ? "E_NO_SPACE" : "E_READ_ONLY"}`);
    }
    return new BlockError(failure, (error as Error).message);
  }
}

/** What a host error means to the block device: out of space, writes refused, or an I/O error. */
export function blockFailureOf(error: unknown): BlockFailure {
  const code = (error as NodeJS.ErrnoException).code ?? "";
  if (code === "ENOSPC" || code === "EDQUOT") return "no-space";
  if (code === "EROFS" || code === "EBADF" || code === "EPERM" || code === "EACCES") return "read-only";
  return "io";
}

/** The real path of the image (its folder's, when it does not exist yet), so that a symlink locks what it points to. */
async function realImagePath(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch {
    try {
      return join(await realpath(dirname(path)), basename(path));
    } catch (error) {
      throw new Error(`cannot open the disk image ${path}: ${errnoText(error)}`);
    }
  }
}

/**
 * The image's lock. A read-only boot of an image in a folder where no lock file can be made (a
 * read-only file system) goes without one: nobody can write that image there anyway.
 */
async function lockUnlessReadOnlyFolder(real: string, readOnly: boolean): Promise<ImageLock | null> {
  try {
    return ImageLock.acquire(real);
  } catch (error) {
    if (readOnly && error instanceof ImageLockedError && !error.inUse) return null;
    throw error;
  }
}

async function openImage(path: string, size: number, readOnly: boolean): Promise<FileHandle> {
  try {
    return await open(path, readOnly ? "r" : "r+");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EROFS" || code === "EACCES" || code === "EPERM") {
      if (!readOnly) throw new Error(`cannot open the disk image ${path} for writing (${errnoText(error)}); boot it with --read-only to use it without writing`);
    }
    if (code !== "ENOENT") throw new Error(`cannot open the disk image ${path}: ${errnoText(error)}`);
    if (readOnly) throw new Error(`cannot open the disk image ${path}: it does not exist, and a --read-only boot does not create one`);
  }
  try {
    const file = await open(path, "wx+");
    await file.truncate(size).catch(async (error: unknown) => {
      await file.close();
      throw error;
    });
    return file;
  } catch (error) {
    // Another boot made it just now: open that one (the lock already says who may).
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return openImage(path, size, readOnly);
    throw new Error(`cannot create the disk image ${path}: ${errnoText(error)}`);
  }
}
