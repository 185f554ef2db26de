import { Status } from "./errors.ts";
import { ProcessFault } from "./fault.ts";
import type { Process } from "./process.ts";
import type { Scheduler } from "./scheduler.ts";

/**
 * Wait and wake on a 32-bit word (futex): the cheap lock under user-space mutexes. Waiters are
 * keyed by the word's physical address, so processes that map one frame at different addresses
 * (a shared Page, a Region) meet on the same word.
 */
export class Futexes {
  private readonly waiting = new Map<number, Process[]>();
  private readonly scheduler: Scheduler;

  constructor(scheduler: Scheduler) {
    this.scheduler = scheduler;
  }

  wait(process: Process, address: number, expected: number, deadlineNs: number): number | Promise<number> {
    const physical = this.physical(process, address);
    if (physical < 0) return physical;
    if (process.space.physicalWords[physical >>> 2]! !== expected >>> 0) return Status.E_NOT_READY;
    // A zero timeout (deadline -Infinity) only checks the word.
    if (deadlineNs === -Infinity) return Status.E_TIMEOUT;
    const queue = this.waiting.get(physical) ?? [];
    queue.push(process);
    this.waiting.set(physical, queue);
    process.waitCancel = () => {
      const at = queue.indexOf(process);
      if (at >= 0) queue.splice(at, 1);
      if (queue.length === 0 && this.waiting.get(physical) === queue) this.waiting.delete(physical);
    };
    // Woken with OK by futex_wake, or E_TIMEOUT by the deadline.
    return this.scheduler.waitUntil<number>(process, deadlineNs);
  }

  /** Wakes up to `count` waiters on the word; how many were woken. */
  wake(process: Process, address: number, count: number): number {
    const physical = this.physical(process, address);
    if (physical < 0) return physical;
    const queue = this.waiting.get(physical);
    let woken = 0;
    while (queue && queue.length > 0 && woken < count) {
      this.scheduler.wake(queue[0]!, Status.OK);
      woken++;
    }
    return woken;
  }

  /** The word's physical address, or a status: it must be aligned and readable. */
  private physical(process: Process, address: number): number {
    if ((address & 3) !== 0) return Status.E_INVALID_ARGUMENT;
    try {
      return process.space.translate(address >>> 0, false);
    } catch (error) {
      if (error instanceof ProcessFault) return Status.E_BAD_ADDRESS;
      throw error;
    }
  }
}
