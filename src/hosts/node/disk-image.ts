import { type FileHandle, open } from "node:fs/promises";
import type { BlockBackend } from "../../machine/devices/block-backend.ts";

/**
 * A disk image file as a block backend. Writes go straight to the file (no cache of our own);
 * flush waits for every write already started, then fdatasync, so a flushed write survives the
 * host crashing.
 */
export class DiskImage implements BlockBackend {
  readonly size: number;
  readonly path: string;
  private readonly file: FileHandle;
  private readonly writing = new Set<Promise<void>>();

  private constructor(path: string, file: FileHandle, size: number) {
    this.path = path;
    this.file = file;
    this.size = size;
  }

  /**
   * Opens the image at `path` read-write; a missing one is created with `size` bytes (zeros,
   * sparse where the file system allows). An existing image keeps its own size.
   */
  static async open(path: string, size: number): Promise<DiskImage> {
    let file: FileHandle;
    try {
      file = await open(path, "r+");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      file = await open(path, "wx+");
      await file.truncate(size);
    }
    const { size: actual } = await file.stat();
    return new DiskImage(path, file, actual);
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    const out = new Uint8Array(length);
    let at = 0;
    while (at < length) {
      const { bytesRead } = await this.file.read(out, at, length - at, offset + at);
      if (bytesRead === 0) break; // past the end of the file: zeros, like an unwritten sector
      at += bytesRead;
    }
    return out;
  }

  write(offset: number, data: Uint8Array): Promise<void> {
    const done = this.writeAll(offset, data);
    this.writing.add(done);
    const forget = () => void this.writing.delete(done);
    done.then(forget, forget);
    return done;
  }

  async flush(): Promise<void> {
    await Promise.allSettled([...this.writing]);
    await this.file.datasync();
  }

  /** Waits for writes in flight, then closes the file. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.writing]);
    await this.file.close();
  }

  private async writeAll(offset: number, data: Uint8Array): Promise<void> {
    let at = 0;
    while (at < data.length) {
      const { bytesWritten } = await this.file.write(data, at, data.length - at, offset + at);
      at += bytesWritten;
    }
  }
}
