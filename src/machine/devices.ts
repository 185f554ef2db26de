/**
 * What a host must supply to build a machine. Hosts (src/hosts) implement these over Node or the
 * browser; everything above the machine layer sees only these shapes.
 */
import type { InterruptController } from "./interrupts.ts";

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
 * A character device. Output is written through at once; input is asked for and arrives later
 * as a console interrupt carrying the bytes (null at end of input).
 */
export interface ConsoleDevice {
  write(stream: 1 | 2, bytes: Uint8Array): void;
  requestInput(): void;
}

export interface EntropySource {
  fill(bytes: Uint8Array): void;
}

export interface HostDevices {
  clock: Clock;
  createTimer(interrupts: InterruptController): Timer;
  createConsole(interrupts: InterruptController): ConsoleDevice;
  entropy: EntropySource;
  /** Resolves after the host has run its pending events (I/O callbacks, timers). */
  yieldToHost(): Promise<void>;
}
