import type { BlockBackend } from "../../../machine/devices/block-backend.ts";

/** The disk image's name in the origin's private file system. */
export const OPFS_DISK_NAME = "dogma-disk.img";
/** How long to wait for a lock an earlier page of this origin still holds (a reload). */
const LOCK_PATIENCE_MS = 3000;

/**
 * The disk as a file in the Origin Private File System, through a synchronous access handle
 * (dedicated workers only): a write goes to the file before it completes, and flush is the file's
 * flush, as DiskImage's fdatasync on Node. What was flushed survives a reload or a crash of the
 * tab; what was not may be partly there, which the file system's journal is made for. The handle
 * is exclusive: a second tab of the same origin cannot open the disk and is told so.
 */
export class OpfsDisk implements BlockBackend {
  private readonly handle: FileSystemSyncAccessHandle;
  private closed = false;

  private constructor(handle: FileSystemSyncAccessHandle) {
    this.handle = handle;
  }

  /** Opens the disk (created with `size` zero bytes when missing); `fresh` says it was just made. */
  static async open(size: number): Promise<{ disk: OpfsDisk; fresh: boolean }> {
    const root = await navigator.storage.getDirectory();
    const file = await root.getFileHandle(OPFS_DISK_NAME, { create: true });
    const handle = await lockedHandle(file);
    const fresh = handle.getSize() === 0;
    if (fresh) {
      handle.truncate(size);
      handle.flush();
    }
    return { disk: new OpfsDisk(handle), fresh };
  }

  get size(): number {
    return this.handle.getSize();
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    const out = new Uint8Array(length);
    let at = 0;
    while (at < length) {
      const got = this.handle.read(out.subarray(at), { at: offset + at });
      if (got === 0) break; // past the end: zeros, like an unwritten sector
      at += got;
    }
    return out;
  }

  /** The sync access handle writes before `write` returns. */
  readonly takesWritesAtOnce = true;

  async write(offset: number, data: Uint8Array): Promise<void> {
    let at = 0;
    while (at < data.length) at += this.handle.write(data.subarray(at), { at: offset + at });
  }

  async flush(): Promise<void> {
    this.handle.flush();
  }

  /** Replaces the whole disk with `bytes` (an uploaded image), durably. */
  replace(bytes: Uint8Array): void {
    this.handle.truncate(bytes.length);
    let at = 0;
    while (at < bytes.length) at += this.handle.write(bytes.subarray(at), { at });
    this.handle.flush();
  }

  /** The whole disk, for a download. */
  readAll(): Uint8Array {
    const out = new Uint8Array(this.size);
    this.handle.read(out, { at: 0 });
    return out;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.handle.flush();
    this.handle.close();
  }
}

/** The file's access handle; a reload's old worker may hold it a moment longer, another tab for good. */
async function lockedHandle(file: FileSystemFileHandle): Promise<FileSystemSyncAccessHandle> {
  const giveUp = Date.now() + LOCK_PATIENCE_MS;
  for (;;) {
    try {
      return await file.createSyncAccessHandle();
    } catch (error) {
      if ((error as DOMException).name !== "NoModificationAllowedError") throw error;
      if (Date.now() > giveUp) throw new Error("the disk is open in another tab of this page: close it, or use that one (a browser disk has one user at a time)");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
