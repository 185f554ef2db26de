import { rmSync, symlinkSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import { conformanceProgram, dogmaRun, nodeWasiRun, scratchFolder, verdictOf } from "./wasi-programs.ts";

/**
 * The WASI conformance programs (user/wasi/conformance, and user/programs/wasi-as-check in
 * AssemblyScript) under `dogma run --dir`, where every
 * check must pass and none may be skipped (the host folder server has every operation), and under
 * Node's node:wasi as a reference. Where node:wasi is not right, its failures are listed below
 * with why; a change in what it gets wrong fails the test, so the list stays true.
 */
const made: string[] = [];
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

interface Program {
  readonly name: string;
  /** The binary (default: user/wasi/conformance/NAME.c, built). */
  readonly wasm?: () => string;
  readonly args: readonly string[];
  readonly env: Record<string, string>;
  /** Readies its scratch folder before the run. */
  readonly prepare?: (scratch: string) => void;
  /** What node:wasi gets wrong, check by check (the names the program prints). */
  readonly nodeWrong: readonly string[];
  /** Checks a node:wasi run skips because they hang it or end it. */
  readonly nodeSkips: readonly string[];
}

const PROGRAMS: readonly Program[] = [
  {
    name: "fd",
    args: [],
    // Its stdout is a pipe to this test: not a character device (isatty false).
    env: { CONF_STDOUT: "pipe" },
    nodeWrong: [
      // Host open flags (O_RDWR and others) leak into fs_flags, and unknown flags are accepted.
      "fd_fdstat_get: no flags",
      "fd_fdstat_get reports APPEND",
      "fd_fdstat_set_flags with an unknown flag",
      // No "." and "..", and a listing that does not go on from d_next.
      "fd_readdir lists . and ..",
      "fd_readdir: . has the directory's inode",
      "fd_readdir lists the files",
      "fd_readdir goes on from each entry's d_next",
      "fd_readdir of a file",
      // Streams: ENOTCAPABLE or success where the standard says ESPIPE; EINVAL for a stream's prestat.
      "fd_seek on stdout",
      "fd_pread on stdin",
      "fd_prestat_get of stdout",
      // ENOBUFS for a name buffer that is too small.
      "fd_prestat_dir_name into too small a buffer",
    ],
    nodeSkips: [],
  },
  {
    name: "paths",
    args: [],
    env: {},
    // A link that leads out, which a program inside may not make.
    prepare: (scratch) => symlinkSync("../outside", join(scratch, "p-host-out")),
    nodeWrong: [
      "path_open of an empty path", // EINVAL, not ENOENT
      "path_open under a file's fd", // ENOTCAPABLE, not ENOTDIR
      "path_create_directory under a file's fd",
      // Inheriting rights narrower than a directory's own rights: opening one asking every right fails.
      "path_open of a directory asking every right",
      "a directory gets directory rights only",
      "path_open of a directory with every right",
      "path_rename across two directory fds",
      "it is under the other now",
      "an open file reads on after a rename",
      // Times set are read back rounded to the second or not at all.
      "the times set are the times read",
      "MTIM_NOW is now, ATIM kept",
      "fd_filestat_set_times' time",
      // readlink into a short buffer is ENOBUFS, not a truncated count.
      "path_readlink into a short buffer",
      "path_readlink truncates",
      "path_open of a link without following (O_NOFOLLOW)", // follows it
      // A link that leads out to nothing is ENOENT: only existing targets are checked.
      "path_open through a link that leads out: ENOTCAPABLE",
      "path_open O_CREAT through a link that leads out: ENOTCAPABLE",
      "path_create_directory through a link that leads out: ENOTCAPABLE",
      "path_unlink_file through a link that leads out: ENOTCAPABLE",
      "path_remove_directory through a link that leads out: ENOTCAPABLE",
      "path_filestat_get through a link that leads out: ENOTCAPABLE",
      "path_filestat_set_times through a link that leads out: ENOTCAPABLE",
      "path_rename (to) through a link that leads out: ENOTCAPABLE",
      "path_rename (from) through a link that leads out: ENOTCAPABLE",
      "path_link (to) through a link that leads out: ENOTCAPABLE",
      "path_link (from) through a link that leads out: ENOTCAPABLE",
      "path_symlink through a link that leads out: ENOTCAPABLE",
      "path_readlink through a link that leads out: ENOTCAPABLE",
      "path_symlink to an absolute path", // EPERM
    ],
    nodeSkips: ["path_filestat_set_times with ATIM and ATIM_NOW"],
  },
  {
    name: "misc",
    args: ["alpha", "beta"],
    env: { CONF_VAR: "value" },
    nodeWrong: [
      // A poll with a file among its subscriptions is EPERM.
      "poll_oneoff on a file, stdout and a clock",
      "a file is ready to read, its bytes counted",
      "stdout is ready to write",
      "its event says EBADF",
      // Socket calls on what is no socket: EINVAL, ENOTCAPABLE or ENOTSUP, not ENOTSOCK / EBADF.
      "sock_accept on a directory",
      "sock_recv on stdin",
      "sock_send on stdout",
      "sock_shutdown on a closed fd",
      "sock_shutdown on stdout",
    ],
    nodeSkips: ["after its time", "poll_oneoff on absolute times", "proc_raise", "nanosleep waits"],
  },
  {
    // AssemblyScript speaking WASI itself, as its WASI libraries do: everything from fd 3.
    name: "wasi-as",
    wasm: () => join(import.meta.dirname, "../../build/user/wasi-as-check.wasm"),
    args: [],
    env: {},
    nodeWrong: [],
    nodeSkips: [],
  },
  {
    name: "bad-input",
    args: [],
    env: {},
    nodeWrong: [
      // Every bad pointer, and every oversized count or length, is EOVERFLOW, not EFAULT / EINVAL / ENAMETOOLONG.
      "fd_write from a buffer that crosses the end of memory",
      "fd_read into a buffer that crosses the end of memory",
      "fd_pread of 600 bytes into a buffer that crosses the end of memory",
      "fd_pwrite of 600 bytes from a buffer that crosses the end of memory",
      "fd_write with the iovec array past the end",
      "fd_write with the count's word past the end",
      "fd_write with a count of 5 million iovecs",
      "fd_read with a count of 2^31 - 1 iovecs",
      "fd_filestat_get into memory's end",
      "fd_filestat_get at address -8",
      "path_open of a path that crosses the end of memory",
      "path_open of a path 2 GiB long",
      "args_get into memory's end",
      "random_get past the end",
      "fd_readdir into memory's end",
      "fd_readdir with its count past the end",
      "poll_oneoff with subscriptions past the end",
      "poll_oneoff with a million subscriptions",
    ],
    nodeSkips: [],
  },
];

describe.concurrent("WASI conformance under dogma run --dir", () => {
  for (const program of PROGRAMS) {
    it(`${program.name}: every check passes`, async () => {
      const wasm = program.wasm?.() ?? conformanceProgram(program.name);
      const scratch = scratchFolder(`conformance-${program.name}`);
      made.push(scratch);
      program.prepare?.(scratch);
      const env = Object.entries(program.env).flatMap(([name, value]) => ["--env", `${name}=${value}`]);
      const run = await dogmaRun(["--dir", `${scratch}::.`, ...env, wasm, ...program.args]);
      const verdict = verdictOf(program.name, run.stdout, run.code);
      expect(verdict.summary, run.stdout + run.stderr).not.toBeNull();
      expect(verdict.failed, verdict.output).toEqual([]);
      expect(verdict.skipped).toEqual([]);
      expect(verdict.checks).toBeGreaterThan(15);
      expect(run.stderr).toBe("");
      expect(run.code).toBe(0);
    }, 60_000);
  }
});

describe.concurrent("WASI conformance under node:wasi (the reference)", () => {
  for (const program of PROGRAMS) {
    it(`${program.name}: node:wasi gets right all but what is listed`, async () => {
      const wasm = program.wasm?.() ?? conformanceProgram(program.name);
      const scratch = scratchFolder(`node-wasi-${program.name}`);
      made.push(scratch);
      program.prepare?.(scratch);
      const run = await nodeWasiRun(wasm, scratch, program.args, { ...program.env, CONFORMANCE_REFERENCE: "node:wasi" });
      const verdict = verdictOf(program.name, run.stdout, run.code);
      expect(verdict.summary, run.stdout + run.stderr).not.toBeNull();
      expect(verdict.failed.sort()).toEqual([...program.nodeWrong].sort());
      expect(verdict.skipped.sort()).toEqual([...program.nodeSkips].sort());
    }, 60_000);
  }
});
