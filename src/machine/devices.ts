/**
 * What a host must supply to build a machine. Hosts (src/hosts) implement these over Node or the
 * browser; everything above the machine layer sees only these shapes.
 */
import type { BlockBackend } from "./devices/block-backend.ts";
import type { ShareBackend } from "./devices/share-backend.ts";
import type { Interrupt, InterruptController } from "./interrupts.ts";

/** A monotonic clock and the wall clock, both in nanoseconds. */
export interface Clock {
  monotonicNs(): number;
  wallNs(): bigint;
}

/** A one-shot timer: when the deadline passes it raises the timer line. */
export interface Timer {
  arm(deadlineNs: number): void;
  disarm(): void;
}

/**
 * Where a host device delivers its interrupts. The machine's InterruptController is one; the
 * console's input goes through a router that hands it to the UART once a driver has taken it.
 */
export interface InterruptSink {
  raise(interrupt: Interrupt): void;
}

/**
 * A character device. Output is written through at once; input is asked for and arrives later
 * as a console interrupt carrying the bytes (null at end of input). A host delivers input only
 * when asked, one chunk per request: that is what keeps the UART's buffering bounded.
 */
export interface ConsoleDevice {
  /**
   * Writes through at once. False when nothing can be written to that stream any more: its
   * reader went away (a closed pipe, a closed terminal); the bytes are dropped.
   */
  write(stream: 1 | 2, bytes: Uint8Array): boolean;
  requestInput(): void;
  /**
   * Raw input (every key as typed, no echo, no line editing, ^C a byte) while a console driver
   * does the line discipline; a terminal host switches modes, a pipe ignores it.
   */
  setRawInput?(raw: boolean): void;
  /** The machine is powering off: stop reading for it (what was read ahead stays with the host). */
  close?(): void;
  /**
   * Whether that stream is a terminal (what a program's isatty asks): false for a file or pipe the
   * host's stream was redirected to, so that a program that refuses to write binary data to a
   * terminal (bzip2 -c) or buffers differently for one sees what a user would expect. Absent: a
   * terminal (the web page's).
   */
  isTerminal?(stream: 0 | 1 | 2): boolean;
}

export interface EntropySource {
  fill(bytes: Uint8Array): void;
}

/** Runs `callback` once, no sooner than `delayNs` from now, on the host's event loop; returns a cancel. */
export type Schedule = (delayNs: number, callback: () => void) => () => void;

export interface HostDevices {
  clock: Clock;
  createTimer(interrupts: InterruptController): Timer;
  createConsole(interrupts: InterruptSink): ConsoleDevice;
  entropy: EntropySource;
  /** Resolves after the host has run its pending events (I/O callbacks, timers). */
  yieldToHost(): Promise<void>;
  /** The host's timers; without them the machine has no timer/RTC device. */
  schedule?: Schedule;
  /** A disk: the machine gets a block device over it. */
  disk?: BlockBackend;
  /** A read-only host folder: the machine gets a host share device over it. */
  share?: ShareBackend;
  /** The machine gets a front panel (devices/panel.ts) the host works through `Machine.panel`. */
  panel?: boolean;
}
