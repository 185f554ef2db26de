// Time and the scheduler.
import * as sys from "./sys";

export const CLOCK_MONOTONIC: i32 = 0;
export const CLOCK_WALL: i32 = 1;

/** Nanoseconds since boot (monotonic). */
export function now(): i64 {
  return sys.clock(CLOCK_MONOTONIC);
}

/** Nanoseconds since 1970. */
export function wallClock(): i64 {
  return sys.clock(CLOCK_WALL);
}

/** Sleeps at least `ns` nanoseconds. */
export function sleep(ns: i64): void {
  sys.sleep(ns);
}

/** Gives up the rest of this time slice. */
export function yield_(): void {
  sys.yield_();
}

/** Runs `pid` next if it is ready; a status (E_NO_PROCESS, E_NOT_READY). */
export function yieldTo(pid: i32): i32 {
  return sys.yield_to(pid);
}
