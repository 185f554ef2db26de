import type { Receiver } from "./caps/receiver.ts";
import type { Process } from "./process.ts";

/**
 * What the kernel tells an inspector while it runs (inspect.ts). Both hooks are null unless an
 * inspector watches, so a kernel nobody inspects pays one null check per switch and per message.
 * An observer must not change kernel state, and must be cheap: it runs inside the switch and the
 * send it observes.
 */
export interface SchedulerObserver {
  /** From `atNs` on, `process` runs (null: the CPU is back with the scheduler, or idle). */
  running(process: Process | null, atNs: number): void;
  /** `process` has ended (its outcome is set) and is being torn down: the last look at it. */
  ended(process: Process): void;
}

export interface IpcObserver {
  /** `from` (null: the kernel itself) sent or called through a capability to `to`. */
  message(from: Process | null, to: Receiver, call: boolean): void;
}
