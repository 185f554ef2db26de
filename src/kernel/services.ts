import type { Clock, EntropySource } from "../machine/devices.ts";
import type { DeliveredMessage, MessageBuffer } from "./message.ts";
import type { Process } from "./process.ts";

/**
 * What the kernel offers the code that implements import modules (its own `dogma` module and the
 * personalities). Every method acts for a process; blocking ones return a promise that must be
 * returned from a blocking import, never awaited elsewhere.
 */
export interface KernelServices {
  readonly clock: Clock;
  readonly entropy: EntropySource;
  /** The process whose stack is running: the caller of any import. */
  current(): Process;
  /**
   * Reads process memory; null when any byte is not readable (no fault). A paged-out page throws
   * PageInRequired, which the blocking call's wrapper answers by paging it in and calling again
   * (resident-call.ts): so only blocking calls may touch process memory.
   */
  readMemory(process: Process, address: number, length: number): Uint8Array | null;
  /**
   * Reads `length` bytes (all of `into` by default) of process memory into `into`, allocating
   * nothing: false when any byte is not readable (`into` may then hold part of it). Paged-out
   * pages as `readMemory`. For the small reads every call makes (iovecs, a map's header).
   */
  readInto(process: Process, address: number, into: Uint8Array, length?: number): boolean;
  /** Writes process memory; false when any byte is not writable, in which case none was written. Paged-out pages as `readMemory`. */
  writeMemory(process: Process, address: number, data: Uint8Array): boolean;
  /**
   * Copies `length` bytes from `from` to `to` in `process`'s memory, frame to frame (no copy in
   * between): false when a byte of the source is not readable or of the destination not writable
   * by the process, or the ranges overlap; nothing is written then. Paged-out pages as readMemory.
   */
  copyWithin(process: Process, to: number, from: number, length: number): boolean;
  /**
   * Keeps `[address, address + length)` resident until the process's next call begins, or throws
   * PageInRequired as `readMemory`. A call calls it for memory it will write after a side effect
   * (input taken, a file opened), before that side effect, so that calling again repeats nothing.
   */
  touch(process: Process, address: number, length: number): void;
  /** Writes to the boot console: OK, or E_PEER_DEAD once that stream's reader has gone (a closed pipe). */
  consoleWrite(stream: 1 | 2, bytes: Uint8Array): number;
  /** Whether that stream of the boot console is a terminal, as the host knows it (ConsoleDevice.isTerminal). */
  consoleIsTerminal(stream: 0 | 1 | 2): boolean;
  /** Up to `max` bytes of console input; an empty array at end of input. Blocks. */
  consoleRead(process: Process, max: number): Promise<Uint8Array>;
  yield(process: Process): Promise<void>;
  /** Runs `pid` next; a status code, after the switch. Blocks. */
  yieldTo(process: Process, pid: number): number | Promise<number>;
  sleep(process: Process, nanoseconds: number): Promise<void>;
  /** The one system call (caps/invoke.ts). Blocks for receive, call and waits. */
  invoke(process: Process, cap: number, buffer: MessageBuffer): number | Promise<number>;
  /**
   * Calls the capability at `cap` in `process`'s table for it, with `label`, `words` and `caps`
   * (slots of its table, `| CAP_MOVE` to move them): the
   * reply, or a status (no such capability, not a Receiver with the call right, a dead server).
   * Blocks. For personalities that turn a foreign call into IPC (WASI's fd_write on a stream).
   */
  callFor(process: Process, cap: number, label: number, words: readonly number[], caps?: readonly number[]): Promise<DeliveredMessage | number>;
  /**
   * A zeroed Region of `pages` pages paid by the Memory at `memory` in `process`'s table, whose
   * owner capability is installed there (so it is mapped read-write at its address): the slot
   * and the address, or a status. For a personality that needs a buffer a server fills.
   */
  createRegionFor(process: Process, memory: number, pages: number): { slot: number; address: number } | number;
  /**
   * A read-only view of the Region whose owner capability is at `owner` in `process`'s table
   * (REGION_VIEW), installed there: its slot, or a status. For a personality that lends a server
   * its buffer (an attached file handle's).
   */
  viewFor(process: Process, owner: number): number;
  /** Disposes the capability at `cap` of `process`'s table (a personality's file that was closed). */
  dropCapability(process: Process, cap: number): void;
  /**
   * Where the Region the capability at `cap` of `process` names lies, as `REGION_INFO` answers it:
   * only when its range is mapped in full in `process` (E_MISSING_RIGHT: the capability maps
   * nothing there; E_WRONG_TYPE: no Region). For a personality that reads from a Region a server
   * hands it, at the address the server says: it checks the server's words against this first.
   */
  regionAt(process: Process, cap: number): { address: number; pages: number; owned: boolean } | number;
  /** The kind of object the capability at `cap` of `process` names, and whether it has `rights`; null when there is none. */
  capabilityKind(process: Process, cap: number, rights: number): number | null;
  /** Waits while the word at `address` is `expected` (nanoseconds: Infinity for ever). Blocks. */
  futexWait(process: Process, address: number, expected: number, nanoseconds: number): number | Promise<number>;
  futexWake(process: Process, address: number, count: number): number;
  /** Ends the process; the returned promise never settles, so its stack never runs again. */
  exit(process: Process, code: number): Promise<never>;
}
