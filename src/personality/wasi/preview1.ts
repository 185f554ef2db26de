import type { ImportFunction, ImportModuleSpec } from "../../kernel/personality.ts";
import type { Process } from "../../kernel/process.ts";
import type { KernelServices } from "../../kernel/services.ts";
import { Errno } from "./errno.ts";
import { wasiSignatures } from "./signatures.ts";
import { STREAM_CHUNK, streamRead, streamSlot, streamWrite } from "./streams.ts";
import { FileTable } from "./files.ts";

/**
 * The WASI preview1 personality: turns a WASI program's calls into kernel calls, so unmodified
 * command-line programs run as Dogma processes. fds 0-2 are the process's standard streams when
 * the shell gave it some (streams.ts: IPC with the console, a pipe or a file), else the boot
 * console. Files are the file system server's (files.ts): the working directory and the root the
 * shell gives a program are its preopens. docs/ABI.md lists what is implemented.
 */
export const WASI_MODULE = "wasi_snapshot_preview1";

const CHARACTER_DEVICE = 2;
const DIRECTORY = 3;
const REGULAR_FILE = 4;
const ALL_RIGHTS = (1n << 29n) - 1n;
const RIGHTS_FD_READ = 1n << 1n;
const RIGHTS_FD_WRITE = 1n << 6n;
const encoder = new TextEncoder();

export const wasiPreview1: ImportModuleSpec<KernelServices> = {
  module: WASI_MODULE,
  functions: wasiSignatures,
  bind(k) {
    const io = new GuestMemory(k);
    const tables = new WeakMap<Process, FileTable>();
    const files = (process: Process): FileTable => {
      let table = tables.get(process);
      if (!table) tables.set(process, (table = new FileTable(k, process)));
      return table;
    };
    const path = (process: Process, ptr: number, length: number): Uint8Array | null =>
      length < 0 || length > 4096 ? null : k.readMemory(process, ptr, length);
    const implemented: Record<string, ImportFunction> = {
      args_sizes_get: (countPtr: number, sizePtr: number) => io.putSizes(countPtr, sizePtr, k.current().args),
      args_get: (argv: number, buf: number) => io.putStrings(argv, buf, k.current().args),
      environ_sizes_get: (countPtr: number, sizePtr: number) => io.putSizes(countPtr, sizePtr, k.current().env),
      environ_get: (environ: number, buf: number) => io.putStrings(environ, buf, k.current().env),
      clock_res_get: (id: number, out: number) => (id > 3 ? Errno.INVAL : io.putU64(out, 1000n)),
      clock_time_get(id: number, _precision: bigint, out: number): number {
        if (id > 3) return Errno.INVAL;
        const time = id === 0 ? k.clock.wallNs() : BigInt(Math.round(k.clock.monotonicNs()));
        return io.putU64(out, time);
      },
      async fd_write(fd: number, iovs: number, count: number, outPtr: number): Promise<number> {
        const process = k.current();
        const data = io.gather(iovs, count);
        if (data === null) return Errno.FAULT;
        // The count is written after the data went out: its word must be resident first.
        k.touch(process, outPtr >>> 0, 4);
        if (fd > 2) {
          const written = await files(process).write(fd, data);
          return written < 0 ? -written : io.putU32(outPtr, written, process);
        }
        if (fd !== 1 && fd !== 2) return Errno.BADF;
        const slot = streamSlot(k, process, fd);
        if (slot === null) {
          const status = k.consoleWrite(fd, data);
          return status < 0 ? errnoOf(status) : io.putU32(outPtr, data.length, process);
        }
        const written = await streamWrite(k, process, slot, data, fd === 2);
        return written < 0 ? errnoOf(written) : io.putU32(outPtr, written, process);
      },
      async fd_read(fd: number, iovs: number, count: number, outPtr: number): Promise<number> {
        const process = k.current();
        const buffers = io.iovecs(process, iovs, count);
        if (buffers === null) return Errno.FAULT;
        const wanted = buffers.reduce((n, [, len]) => n + len, 0);
        // What is read is gone from its stream or moves the offset: where it goes must be resident first.
        for (const [address, length] of buffers) k.touch(process, address, length);
        k.touch(process, outPtr >>> 0, 4);
        if (fd > 2) {
          const got = await files(process).read(fd, wanted);
          if (typeof got === "number") return -got;
          if (!io.scatter(process, buffers, got)) return Errno.FAULT;
          return io.putU32(outPtr, got.length, process);
        }
        if (fd !== 0) return Errno.BADF;
        const slot = streamSlot(k, process, fd);
        let data: Uint8Array | number = new Uint8Array(0);
        if (wanted > 0) data = slot === null ? await k.consoleRead(process, wanted) : await streamRead(k, process, slot, Math.min(wanted, STREAM_CHUNK));
        if (typeof data === "number") return errnoOf(data);
        if (!io.scatter(process, buffers, data)) return Errno.FAULT;
        return io.putU32(outPtr, data.length, process);
      },
      fd_close: (fd: number) => (fd <= 2 ? Errno.SUCCESS : files(k.current()).close(fd)),
      fd_fdstat_get(fd: number, out: number): number {
        const process = k.current();
        if (fd > 2 && !files(process).has(fd)) return Errno.BADF;
        const stat = new Uint8Array(24);
        const view = new DataView(stat.buffer);
        view.setUint8(0, fd <= 2 ? CHARACTER_DEVICE : files(process).isDirectory(fd) ? DIRECTORY : REGULAR_FILE);
        view.setBigUint64(8, fd === 0 ? RIGHTS_FD_READ : fd <= 2 ? RIGHTS_FD_WRITE : ALL_RIGHTS, true);
        view.setBigUint64(16, fd <= 2 ? 0n : ALL_RIGHTS, true);
        return k.writeMemory(process, out, stat) ? Errno.SUCCESS : Errno.FAULT;
      },
      fd_prestat_get(fd: number, out: number): number {
        const process = k.current();
        const name = files(process).preopen(fd);
        if (!name) return Errno.BADF;
        const stat = new Uint8Array(8);
        new DataView(stat.buffer).setUint32(4, name.length, true); // tag 0: a directory
        return k.writeMemory(process, out, stat) ? Errno.SUCCESS : Errno.FAULT;
      },
      fd_prestat_dir_name(fd: number, buf: number, length: number): number {
        const process = k.current();
        const name = files(process).preopen(fd);
        if (!name) return Errno.BADF;
        if (length < name.length) return Errno.INVAL;
        return k.writeMemory(process, buf, name) ? Errno.SUCCESS : Errno.FAULT;
      },
      async path_open(dirFd: number, _dirflags: number, pathPtr: number, pathLength: number, oflags: number, rightsBase: bigint, _inheriting: bigint, fdflags: number, out: number): Promise<number> {
        const process = k.current();
        const bytes = path(process, pathPtr, pathLength);
        if (bytes === null) return Errno.FAULT;
        k.touch(process, out >>> 0, 4);
        const fd = await files(process).open(dirFd, bytes, oflags, rightsBase, fdflags);
        return fd < 0 ? -fd : io.putU32(out, fd, process);
      },
      async path_create_directory(dirFd: number, pathPtr: number, pathLength: number): Promise<number> {
        const process = k.current();
        const bytes = path(process, pathPtr, pathLength);
        return bytes === null ? Errno.FAULT : files(process).pathOperation(dirFd, "mkdir", bytes);
      },
      async path_unlink_file(dirFd: number, pathPtr: number, pathLength: number): Promise<number> {
        const process = k.current();
        const bytes = path(process, pathPtr, pathLength);
        return bytes === null ? Errno.FAULT : files(process).pathOperation(dirFd, "unlink", bytes);
      },
      async path_remove_directory(dirFd: number, pathPtr: number, pathLength: number): Promise<number> {
        const process = k.current();
        const bytes = path(process, pathPtr, pathLength);
        return bytes === null ? Errno.FAULT : files(process).pathOperation(dirFd, "unlink", bytes);
      },
      async fd_seek(fd: number, delta: bigint, whence: number, out: number): Promise<number> {
        const process = k.current();
        if (fd <= 2) return 70; // ESPIPE: a stream has no offset
        k.touch(process, out >>> 0, 8);
        const at = await files(process).seek(fd, delta, whence);
        return typeof at === "number" ? -at : io.putU64(out, at);
      },
      fd_tell(fd: number, out: number): number {
        const at = fd <= 2 ? -70 : files(k.current()).tell(fd);
        return typeof at === "number" ? -at : io.putU64(out, at);
      },
      async fd_filestat_get(fd: number, out: number): Promise<number> {
        const process = k.current();
        if (fd <= 2) return Errno.NOSYS;
        const stat = await files(process).stat(fd);
        if (typeof stat === "number") return -stat;
        const bytes = new Uint8Array(64);
        const view = new DataView(bytes.buffer);
        view.setBigUint64(8, BigInt(stat.inode), true);
        view.setUint8(16, stat.kind === 2 ? DIRECTORY : REGULAR_FILE);
        view.setBigUint64(24, 1n, true);
        view.setBigUint64(32, stat.size, true);
        view.setBigUint64(40, stat.modified, true);
        view.setBigUint64(48, stat.modified, true);
        view.setBigUint64(56, stat.created, true);
        return k.writeMemory(process, out, bytes) ? Errno.SUCCESS : Errno.FAULT;
      },
      async fd_readdir(fd: number, buf: number, length: number, cookie: bigint, usedPtr: number): Promise<number> {
        const process = k.current();
        if (length < 0 || length > 1 << 20) return Errno.INVAL;
        const bytes = await files(process).readdir(fd, cookie, length);
        if (typeof bytes === "number") return -bytes;
        if (!k.writeMemory(process, buf, bytes)) return Errno.FAULT;
        return io.putU32(usedPtr, bytes.length, process);
      },
      fd_filestat_set_size: (fd: number, size: bigint) => (fd <= 2 ? Errno.INVAL : files(k.current()).truncate(fd, size)),
      fd_sync: (fd: number) => (fd <= 2 ? Errno.SUCCESS : files(k.current()).sync(fd)),
      fd_datasync: (fd: number) => (fd <= 2 ? Errno.SUCCESS : files(k.current()).sync(fd)),
      proc_exit: (code: number) => k.exit(k.current(), code),
      sched_yield: () => k.yield(k.current()).then(() => Errno.SUCCESS),
      random_get(buf: number, length: number): number {
        if (length < 0 || length > 1 << 20) return Errno.INVAL;
        const bytes = new Uint8Array(length);
        k.entropy.fill(bytes);
        return k.writeMemory(k.current(), buf, bytes) ? Errno.SUCCESS : Errno.FAULT;
      },
    };
    const all: Record<string, ImportFunction> = {};
    for (const name of Object.keys(wasiSignatures)) all[name] = implemented[name] ?? (() => Errno.NOSYS);
    return all;
  },
};

/** The errno for a kernel status a stream answered: the other end gone is a broken pipe, else an I/O error. */
function errnoOf(status: number): number {
  return status === -6 ? Errno.PIPE : Errno.IO;
}

/** Reading and writing WASI's structures in the calling process's memory. */
class GuestMemory {
  private readonly k: KernelServices;
  constructor(k: KernelServices) {
    this.k = k;
  }

  putU32(address: number, value: number, process: Process = this.k.current()): number {
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setUint32(0, value, true);
    return this.k.writeMemory(process, address, bytes) ? Errno.SUCCESS : Errno.FAULT;
  }

  putU64(address: number, value: bigint): number {
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setBigUint64(0, BigInt.asUintN(64, value), true);
    return this.k.writeMemory(this.k.current(), address, bytes) ? Errno.SUCCESS : Errno.FAULT;
  }

  putSizes(countPtr: number, sizePtr: number, strings: readonly string[]): number {
    const size = strings.reduce((n, s) => n + encoder.encode(s).length + 1, 0);
    const status = this.putU32(countPtr, strings.length);
    return status !== Errno.SUCCESS ? status : this.putU32(sizePtr, size);
  }

  /** Writes NUL-terminated strings to `buf` and their addresses to `pointers`. */
  putStrings(pointers: number, buf: number, strings: readonly string[]): number {
    let at = buf >>> 0;
    for (let i = 0; i < strings.length; i++) {
      const bytes = encoder.encode(strings[i] + "\0");
      if (this.putU32(pointers + 4 * i, at) !== Errno.SUCCESS) return Errno.FAULT;
      if (!this.k.writeMemory(this.k.current(), at, bytes)) return Errno.FAULT;
      at += bytes.length;
    }
    return Errno.SUCCESS;
  }

  /** The (address, length) pairs of an iovec array, or null when it is not readable. */
  iovecs(process: Process, iovs: number, count: number): Array<[number, number]> | null {
    if (count < 0 || count > 1024) return null;
    const raw = this.k.readMemory(process, iovs, count * 8);
    if (raw === null) return null;
    const view = new DataView(raw.buffer);
    return Array.from({ length: count }, (_, i) => [view.getUint32(8 * i, true), view.getUint32(8 * i + 4, true)]);
  }

  gather(iovs: number, count: number): Uint8Array | null {
    const process = this.k.current();
    const buffers = this.iovecs(process, iovs, count);
    if (buffers === null) return null;
    const parts: Uint8Array[] = [];
    for (const [address, length] of buffers) {
      const part = this.k.readMemory(process, address, length);
      if (part === null) return null;
      parts.push(part);
    }
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const part of parts) {
      out.set(part, at);
      at += part.length;
    }
    return out;
  }

  scatter(process: Process, buffers: Array<[number, number]>, data: Uint8Array): boolean {
    let at = 0;
    for (const [address, length] of buffers) {
      if (at >= data.length) break;
      const piece = data.subarray(at, at + length);
      if (!this.k.writeMemory(process, address, piece)) return false;
      at += piece.length;
    }
    return true;
  }
}
