import type { Process } from "../../kernel/process.ts";

/** A directory capability a WASI program gets as a preopen, and the name it sees (fd_prestat_dir_name). */
export interface WasiPreopen {
  readonly slot: number;
  readonly name: string;
}

/** Where a process's WASI resources are in its capability table. */
export interface WasiProcessConfig {
  /** The Memory that pays for the Region file data travels in. */
  readonly memorySlot: number;
  /** In fd order from 3; a slot that holds no Receiver the process may call is left out. */
  readonly preopens: readonly WasiPreopen[];
  /**
   * Where fd 0, 1 and 2 are: stream capabilities at these slots when the process holds them (the
   * middle one a Receiver it may call), or null for the machine's console. Said, not guessed from
   * what a slot holds: `dogma run` with three folders has a folder's root at slot 5.
   */
  readonly streams: readonly [number, number, number] | null;
}

/**
 * What a program the shell starts holds (docs/PROGRAMS.md "Standard slots"): its job's Memory at
 * 7, its working directory at 8, the host share's root at 10 when there is one. The working
 * directory is fd 3, ".", and the only preopen whose name is empty once wasi-libc strips "./"
 * and "/": wasi-libc (and Rust's std, built on it) resolves a path by the longest preopen name
 * that prefixes it, and among equal ones the last, so a relative path goes to the working
 * directory; AssemblyScript's WASI library and Zig's std open everything from fd 3. "/host" is fd
 * 4, so absolute paths into the host share reach it from anywhere. The root (slot 9) is not a
 * preopen: named "/" it would tie with "." and, coming later, take every relative path; so an
 * absolute path outside /host resolves against the working directory, as under wasmtime with
 * `--dir .` alone (wasi-libc cannot tell "/x" from "x").
 */
export const SHELL_PROGRAM: WasiProcessConfig = {
  memorySlot: 7,
  preopens: [
    { slot: 8, name: "." },
    { slot: 10, name: "/host" },
  ],
  streams: [4, 5, 6],
};

const configs = new WeakMap<Process, WasiProcessConfig>();

/**
 * Gives a process other WASI resources than a shell-started program's (`dogma run --dir`, which
 * names its preopens as wasmtime does). Must be called before the process runs.
 */
export function configureWasiProcess(process: Process, config: WasiProcessConfig): void {
  configs.set(process, config);
}

export function wasiConfigOf(process: Process): WasiProcessConfig {
  return configs.get(process) ?? SHELL_PROGRAM;
}
