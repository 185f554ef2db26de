import { type BigIntStats, type Stats, close, fstat, open, read, stat, utimes } from "node:fs";

/**
 * A file opened with node:fs's callback calls, as promises: what a warm `dogma run` reads (the
 * program, its module cache record, the digests of program files) without node:fs/promises, whose
 * first use loads a dozen of Node's modules more (its FileHandle, readline's interface, the REPL's
 * history, fs watchers: 10-20 M instructions of a start's ~180 M, callgrind). The same libuv
 * thread-pool calls as a FileHandle's.
 */
export class FdFile {
  private readonly fd: number;

  private constructor(fd: number) {
    this.fd = fd;
  }

  /** Opens `path` (flags as node:fs's open takes them). */
  static open(path: string, flags: string | number, mode?: number): Promise<FdFile> {
    return new Promise((resolve, reject) => open(path, flags, mode, (error, fd) => (error ? reject(error) : resolve(new FdFile(fd)))));
  }

  stat(): Promise<Stats> {
    return new Promise((resolve, reject) => fstat(this.fd, (error, info) => (error ? reject(error) : resolve(info))));
  }

  /** Reads up to `length` bytes at file offset `position` into `buffer` at `offset`. */
  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesRead: number }> {
    return new Promise((resolve, reject) => read(this.fd, buffer, offset, length, position, (error, bytesRead) => (error ? reject(error) : resolve({ bytesRead }))));
  }

  /** The whole file (as long as it is now) as UTF-8 text. */
  async readText(): Promise<string> {
    const bytes = new Uint8Array((await this.stat()).size);
    let at = 0;
    while (at < bytes.length) {
      const { bytesRead } = await this.read(bytes, at, bytes.length - at, at);
      if (bytesRead === 0) break;
      at += bytesRead;
    }
    return new TextDecoder().decode(bytes.subarray(0, at));
  }

  close(): Promise<void> {
    return new Promise((resolve, reject) => close(this.fd, (error) => (error ? reject(error) : resolve())));
  }
}

/** node:fs's stat in nanoseconds (bigint), as a promise. */
export function statBigInt(path: string): Promise<BigIntStats> {
  return new Promise((resolve, reject) => stat(path, { bigint: true }, (error, info) => (error ? reject(error) : resolve(info))));
}

/** node:fs's utimes, as a promise. */
export function setTimes(path: string, atime: Date, mtime: Date): Promise<void> {
  return new Promise((resolve, reject) => utimes(path, atime, mtime, (error) => (error ? reject(error) : resolve())));
}
