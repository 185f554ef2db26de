import { PAGE_SIZE } from "./constants.ts";
import { Status } from "./errors.ts";
import { ProcessFault } from "./fault.ts";
import { PTE_WRITE } from "./page-table.ts";
import { PageInRequired } from "./paging-hooks.ts";
import type { Process } from "./process.ts";
import type { Scheduler } from "./scheduler.ts";

/** `physical`'s answer for a wake on a paged-out word. */
const PAGED_OUT = -1000;

interface FutexWaiter {
  readonly process: Process;
  readonly address: number;
}

/**
 * Wait and wake on a 32-bit word (futex): the cheap lock under user-space mutexes. Two processes
 * meet on a word when their addresses reach the same physical word *now*: a waiter's address is
 * translated again at each wake, so a Page that gets a frame of its own (after a copy) or loses
 * it (a move) takes its waiters along, and processes that map one frame at different addresses
 * meet all the same.
 */
export class Futexes {
  private readonly waiting: FutexWaiter[] = [];
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
    const waiter = { process, address: address >>> 0 };
    this.waiting.push(waiter);
    // The word's page stays resident while anyone waits on it: a waker must find it where it is.
    const held = process.space.hold(address >>> 0, 4);
    process.waitCancel = () => {
      const at = this.waiting.indexOf(waiter);
      if (at >= 0) this.waiting.splice(at, 1);
      process.space.release(held);
    };
    // Woken with OK by futex_wake, or E_TIMEOUT by the deadline.
    return this.scheduler.waitUntil<number>(process, deadlineNs);
  }

  /**
   * Wakes up to `count` waiters on the word, oldest first; how many were woken. Only a process that
   * may write the word wakes its waiters (E_MISSING_RIGHT otherwise): a wake says the word changed,
   * and a reader of a published word (the log's sequence, a view of a Region) could otherwise wake
   * every waiter on it as often as it liked, each then asking its server again for nothing.
   */
  wake(process: Process, address: number, count: number): number {
    const physical = this.physical(process, address, false);
    if (physical === PAGED_OUT) return 0;
    if (physical < 0) return physical;
    const mapping = process.space.mapping(address >>> 0);
    if (!mapping?.writable) {
      // A private page still shared copy-on-write (after a clone) is the caller's own word: others
      // sharing its frame wait on words of their own, which this wake must not reach.
      const rights = mapping && !mapping.shared ? process.space.privateRights(address >>> 0) : null;
      return rights !== null && (rights & PTE_WRITE) !== 0 ? 0 : Status.E_MISSING_RIGHT;
    }
    const chosen = this.waiting.filter((waiter) => whereNow(waiter) === physical).slice(0, Math.max(0, count));
    for (const waiter of chosen) this.scheduler.wake(waiter.process, Status.OK);
    return chosen.length;
  }

  /**
   * The word's physical address, or a status: it must be aligned and readable. A paged-out word
   * throws PageInRequired for a wait (a blocking call, which pages it in and calls again); for a
   * wake it has no waiters (theirs are held resident), so nobody is woken.
   */
  private physical(process: Process, address: number, canPageIn = true): number {
    if ((address & 3) !== 0) return Status.E_INVALID_ARGUMENT;
    try {
      return process.space.translate(address >>> 0, false);
    } catch (error) {
      if (error instanceof PageInRequired) {
        if (canPageIn) throw error;
        return PAGED_OUT;
      }
      if (error instanceof ProcessFault) return Status.E_BAD_ADDRESS;
      throw error;
    }
  }
}

/** Where a waiter's word is now, or -1 when its page is no longer mapped. */
function whereNow(waiter: FutexWaiter): number {
  const mapping = waiter.process.space.mapping(waiter.address);
  return mapping === null ? -1 : mapping.frame * PAGE_SIZE + (waiter.address % PAGE_SIZE);
}
