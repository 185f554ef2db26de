import type { ImportFunction, ImportModuleSpec } from "../../kernel/personality.ts";
import type { Process } from "../../kernel/process.ts";
import type { KernelServices } from "../../kernel/services.ts";
import { Errno } from "./errno.ts";
import * as fd from "./fd-calls.ts";
import { GuestMemory } from "./guest-memory.ts";
import * as path from "./path-calls.ts";
import { cpuNs, pollOneoff } from "./poll.ts";
import { FS_PATH_MAX } from "./protocol.ts";
import { Right } from "./rights.ts";
import { wasiSignatures } from "./signatures.ts";
import { WasiProcess } from "./wasi-process.ts";

/**
 * The WASI preview1 personality: turns a WASI program's calls into kernel calls, so unmodified
 * command-line programs run as Dogma processes. fds 0-2 are the process's standard streams when
 * it has some (streams.ts: IPC with the console, a pipe or a file), else the boot console; files
 * and directories are handles of file servers (the file system, the host share, a host folder)
 * that the process holds, the preopens among them (preopens.ts). Every function of preview1 is
 * here; docs/ABI.md says what each does.
 */
export const WASI_MODULE = "wasi_snapshot_preview1";

const SOCK_ACCEPT_NONBLOCK = 4;
/**
 * The calls that wait (IPC, a sleep) and touch the program's memory after, made async functions
 * here when they are not. fd_read, fd_pread, fd_write, fd_pwrite and fd_seek are not among them:
 * they answer at once when they can (a read from a file's map, a write to the boot console, a
 * seek but from the end) and return a promise only when they call a server (their module's
 * promises may need pages: `promisesNeedPages`).
 */
const ASYNC_CALLS = [
  "fd_close", "fd_renumber", "fd_fdstat_get", "fd_filestat_get",
  "fd_filestat_set_size", "fd_filestat_set_times", "fd_allocate", "fd_sync", "fd_datasync", "fd_readdir", "path_open",
  "path_create_directory", "path_remove_directory", "path_unlink_file", "path_filestat_get", "path_filestat_set_times",
  "path_readlink", "path_rename", "path_link", "path_symlink", "poll_oneoff",
] as const;
/** random_get fills at most this much a call (a larger request is EINVAL, never a huge allocation). */
const MAX_RANDOM_BYTES = 64 << 20;
const RANDOM_PIECE = 64 << 10;

export const wasiPreview1: ImportModuleSpec<KernelServices> = {
  module: WASI_MODULE,
  functions: wasiSignatures,
  promisesNeedPages: true,
  bind(k) {
    const memory = new GuestMemory(k);
    const processes = new WeakMap<Process, WasiProcess>();
    // The last caller's state: a program making call after call finds it with no map lookup.
    let last: WasiProcess | null = null;
    const state = (): WasiProcess => {
      const process = k.current();
      if (last !== null && last.process === process) return last;
      let w = processes.get(process);
      if (!w) processes.set(process, (w = new WasiProcess(k, process, memory)));
      return (last = w);
    };
    /** A path argument: its bytes, or the errno (a path longer than any server takes is refused unread). */
    const pathArg = (w: WasiProcess, ptr: number, length: number): Uint8Array | number => {
      if (length >>> 0 > FS_PATH_MAX) return Errno.NAMETOOLONG;
      return memory.read(w.process, ptr, length >>> 0) ?? Errno.FAULT;
    };
    const u32 = (n: number) => n >>> 0;
    const put = (ok: boolean) => (ok ? Errno.SUCCESS : Errno.FAULT);
    const calls: Record<string, ImportFunction> = {
      args_sizes_get: (countPtr: number, sizePtr: number) => put(memory.putSizes(k.current(), countPtr, sizePtr, k.current().args)),
      args_get: (argv: number, buf: number) => put(memory.putStrings(k.current(), argv, buf, k.current().args)),
      environ_sizes_get: (countPtr: number, sizePtr: number) => put(memory.putSizes(k.current(), countPtr, sizePtr, k.current().env)),
      environ_get: (environ: number, buf: number) => put(memory.putStrings(k.current(), environ, buf, k.current().env)),
      clock_res_get(id: number, out: number): number {
        if (u32(id) > 3) return Errno.INVAL;
        return put(memory.putU64(k.current(), out, u32(id) >= 2 ? 1000n : 1n));
      },
      clock_time_get(id: number, _precision: bigint, out: number): number {
        const clock = u32(id);
        if (clock > 3) return Errno.INVAL;
        const w = state();
        // The clocks' own numbers, no BigInt a call (putU64 splits any integer double exactly).
        const time = clock === 0 ? k.clock.wallNs() : Math.max(0, Math.round(clock === 1 ? k.clock.monotonicNs() : cpuNs(w)));
        return put(memory.putU64(w.process, out, time));
      },
      fd_read: (f: number, iovs: number, count: number, out: number) => fd.fdRead(state(), u32(f), iovs, u32(count), out),
      fd_pread: (f: number, iovs: number, count: number, offset: bigint, out: number) => fd.fdRead(state(), u32(f), iovs, u32(count), out, BigInt.asUintN(64, offset)),
      fd_write: (f: number, iovs: number, count: number, out: number) => fd.fdWrite(state(), u32(f), iovs, u32(count), out),
      fd_pwrite: (f: number, iovs: number, count: number, offset: bigint, out: number) => fd.fdWrite(state(), u32(f), iovs, u32(count), out, BigInt.asUintN(64, offset)),
      fd_seek: (f: number, delta: bigint, whence: number, out: number) => fd.fdSeek(state(), u32(f), delta, u32(whence), out),
      fd_tell: (f: number, out: number) => fd.fdTell(state(), u32(f), out),
      fd_close: (f: number) => fd.fdClose(state(), u32(f)),
      fd_renumber: (from: number, to: number) => fd.fdRenumber(state(), u32(from), u32(to)),
      fd_fdstat_get: (f: number, out: number) => fd.fdFdstatGet(state(), u32(f), out),
      fd_fdstat_set_flags: (f: number, flags: number) => fd.fdFdstatSetFlags(state(), u32(f), flags & 0xffff),
      fd_fdstat_set_rights: (f: number, base: bigint, inheriting: bigint) => fd.fdFdstatSetRights(state(), u32(f), base, inheriting),
      fd_filestat_get: (f: number, out: number) => fd.fdFilestatGet(state(), u32(f), out),
      fd_filestat_set_size: (f: number, size: bigint) => fd.fdFilestatSetSize(state(), u32(f), BigInt.asUintN(64, size)),
      fd_filestat_set_times: (f: number, accessed: bigint, modified: bigint, flags: number) =>
        fd.fdFilestatSetTimes(state(), u32(f), BigInt.asUintN(64, accessed), BigInt.asUintN(64, modified), flags & 0xffff),
      fd_allocate: (f: number, offset: bigint, length: bigint) => fd.fdAllocate(state(), u32(f), offset, length),
      fd_advise: (f: number, offset: bigint, length: bigint, advice: number) => fd.fdAdvise(state(), u32(f), offset, length, advice & 0xff),
      fd_sync: (f: number) => fd.fdSync(state(), u32(f), Right.FD_SYNC),
      fd_datasync: (f: number) => fd.fdSync(state(), u32(f), Right.FD_DATASYNC),
      fd_readdir: (f: number, buf: number, length: number, cookie: bigint, out: number) => fd.fdReaddir(state(), u32(f), buf, u32(length), BigInt.asUintN(64, cookie), out),
      fd_prestat_get: (f: number, out: number) => fd.fdPrestatGet(state(), u32(f), out),
      fd_prestat_dir_name: (f: number, buf: number, length: number) => fd.fdPrestatDirName(state(), u32(f), buf, u32(length)),
      async path_open(dirFd: number, lookup: number, ptr: number, length: number, oflags: number, base: bigint, inheriting: bigint, fdflags: number, out: number): Promise<number> {
        const w = state();
        const bytes = pathArg(w, ptr, length);
        if (typeof bytes === "number") return bytes;
        k.touch(w.process, out >>> 0, 4);
        const opened = await path.pathOpen(w, u32(dirFd), u32(lookup), bytes, oflags & 0xffff, base, inheriting, fdflags & 0xffff);
        if (opened < 0) return -opened;
        if (memory.putU32(w.process, out, opened)) return Errno.SUCCESS;
        await fd.fdClose(w, opened); // nowhere to say which fd: it must not stay open
        return Errno.FAULT;
      },
      path_create_directory: (dirFd: number, ptr: number, length: number) => withPath(ptr, length, (w, bytes) => path.pathCreateDirectory(w, u32(dirFd), bytes)),
      path_remove_directory: (dirFd: number, ptr: number, length: number) => withPath(ptr, length, (w, bytes) => path.pathRemoveDirectory(w, u32(dirFd), bytes)),
      path_unlink_file: (dirFd: number, ptr: number, length: number) => withPath(ptr, length, (w, bytes) => path.pathUnlinkFile(w, u32(dirFd), bytes)),
      path_filestat_get: (dirFd: number, lookup: number, ptr: number, length: number, out: number) => withPath(ptr, length, (w, bytes) => path.pathFilestatGet(w, u32(dirFd), u32(lookup), bytes, out)),
      path_filestat_set_times: (dirFd: number, lookup: number, ptr: number, length: number, accessed: bigint, modified: bigint, flags: number) =>
        withPath(ptr, length, (w, bytes) => path.pathFilestatSetTimes(w, u32(dirFd), u32(lookup), bytes, accessed, modified, flags & 0xffff)),
      path_readlink: (dirFd: number, ptr: number, length: number, buf: number, bufLength: number, out: number) =>
        withPath(ptr, length, (w, bytes) => path.pathReadlink(w, u32(dirFd), bytes, buf, u32(bufLength), out)),
      path_rename: (dirFd: number, fromPtr: number, fromLength: number, newFd: number, toPtr: number, toLength: number) =>
        withPaths(fromPtr, fromLength, toPtr, toLength, (w, from, to) => path.pathRename(w, u32(dirFd), from, u32(newFd), to)),
      path_link: (dirFd: number, lookup: number, fromPtr: number, fromLength: number, newFd: number, toPtr: number, toLength: number) =>
        withPaths(fromPtr, fromLength, toPtr, toLength, (w, from, to) => path.pathLink(w, u32(dirFd), u32(lookup), from, u32(newFd), to)),
      path_symlink: (targetPtr: number, targetLength: number, dirFd: number, ptr: number, length: number) =>
        withPaths(targetPtr, targetLength, ptr, length, (w, target, bytes) => path.pathSymlink(w, target, u32(dirFd), bytes)),
      poll_oneoff: (inPtr: number, outPtr: number, count: number, countOut: number) => pollOneoff(state(), inPtr, outPtr, u32(count), countOut),
      proc_exit: (code: number) => k.exit(k.current(), code),
      proc_raise: () => Errno.NOSYS,
      sched_yield: () => k.yield(k.current()).then(() => Errno.SUCCESS),
      random_get(buf: number, length: number): number {
        const total = u32(length);
        if (total > MAX_RANDOM_BYTES) return Errno.INVAL;
        const process = k.current();
        for (let at = 0; at < total; at += RANDOM_PIECE) {
          const bytes = new Uint8Array(Math.min(RANDOM_PIECE, total - at));
          k.entropy.fill(bytes);
          if (!memory.write(process, (buf >>> 0) + at, bytes)) return Errno.FAULT;
        }
        return Errno.SUCCESS;
      },
      // No descriptor is a socket until Dogma has a network: an open one is ENOTSOCK, any other EBADF.
      sock_accept: (f: number, flags: number) => (!state().table.get(u32(f)) ? Errno.BADF : (flags & ~SOCK_ACCEPT_NONBLOCK) !== 0 ? Errno.INVAL : Errno.NOTSOCK),
      sock_recv: (f: number) => notSocket(u32(f)),
      sock_send: (f: number) => notSocket(u32(f)),
      sock_shutdown: (f: number) => notSocket(u32(f)),
    };
    const notSocket = (f: number) => (state().table.get(f) ? Errno.NOTSOCK : Errno.BADF);
    const withPath = async (ptr: number, length: number, call: (w: WasiProcess, bytes: Uint8Array) => Promise<number>): Promise<number> => {
      const w = state();
      const bytes = pathArg(w, ptr, length);
      return typeof bytes === "number" ? bytes : call(w, bytes);
    };
    const withPaths = async (aPtr: number, aLength: number, bPtr: number, bLength: number, call: (w: WasiProcess, a: Uint8Array, b: Uint8Array) => Promise<number>): Promise<number> => {
      const w = state();
      const a = pathArg(w, aPtr, aLength);
      if (typeof a === "number") return a;
      const b = pathArg(w, bPtr, bLength);
      return typeof b === "number" ? b : call(w, a, b);
    };
    const missing = Object.keys(wasiSignatures).filter((name) => !(name in calls));
    if (missing.length > 0) throw new Error(`kernel bug: WASI functions without an implementation: ${missing.join(", ")}`);
    // A call that may wait and then touch the program's memory answers with a promise that may
    // reject for a page: the kernel pages in what it asked for and calls it again
    // (kernel/resident-call.ts, promisesNeedPages above).
    for (const name of ASYNC_CALLS) {
      const call = calls[name]!;
      if (call.constructor.name !== "AsyncFunction") calls[name] = async (...args: never[]) => call(...args);
    }
    return calls;
  },
};
