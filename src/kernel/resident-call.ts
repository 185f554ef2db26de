import { PageInRequired } from "./paging-hooks.ts";
import type { Process } from "./process.ts";

/** What a kernel call needs from the kernel to wait for its process's pages. */
export interface ResidentCallKernel {
  current(): Process;
  /** Whether demand paging is on: without it no page is ever paged out and calls run bare. */
  readonly pagingOn: boolean;
  /** Brings the page at `address` back (the process blocks; others run); rejects with its fault. */
  pageIn(process: Process, address: number): Promise<void>;
}

type Call = (...args: never[]) => unknown;

/**
 * A kernel call under demand paging. A call that reads or writes its process's memory may meet a
 * paged-out page (`translate` throws PageInRequired); the call then pages it in and runs again
 * from the start, until it completes. Running again is safe because a call reaches process memory
 * either before anything it does is visible, or, for memory it writes after a side effect (bytes
 * taken from a stream, a file opened), through `Kernel.touch` before that side effect, which
 * throws at the same early point. Only a blocking call can wait for a page: the others must not
 * touch process memory.
 *
 * What a call touched stays resident (`AddressSpace.callRanges`) until its next call, which is
 * what a call that blocks needs: others run meanwhile, and the pages it still uses (a receive's
 * buffer) must stay. A page brought back for a retry is held until the call completes, so that
 * others' pressure cannot take it again before the retry runs. The common case, no page out,
 * costs a reset and a flag: no allocation, no extra promise in the call's way.
 */
export function residentCall(kernel: ResidentCallKernel, name: string, call: Call, blocks: boolean, promisesNeedPages = false): Call {
  if (!blocks) {
    return ((...args: never[]) => {
      try {
        return call(...args);
      } catch (error) {
        if (error instanceof PageInRequired) throw new Error(`kernel bug: ${name} touched a paged-out page but cannot block`);
        throw error;
      }
    }) as Call;
  }
  // An async function rejects with what it threw, PageInRequired included, and so may the promises
  // of a module that says so (ImportModuleSpec.promisesNeedPages); the kernel's own blocking
  // promises never do (they page in before they block).
  const rejectsForPages = promisesNeedPages || call.constructor.name === "AsyncFunction";
  const attempt = (process: Process, args: never[], pinned: number[] | null): unknown => {
    const ranges = process.space.callRanges;
    ranges.length = 0;
    process.inCall = true;
    let result: unknown;
    try {
      result = call(...args);
    } catch (error) {
      return retried(process, args, pinned, error);
    } finally {
      process.inCall = false;
    }
    if (!(result instanceof Promise)) {
      ranges.length = 0;
      if (pinned) process.space.release(pinned);
      return result;
    }
    if (!rejectsForPages && !pinned) return result;
    return result.then(
      (value: unknown) => {
        if (pinned) process.space.release(pinned);
        return value;
      },
      (error: unknown) => retried(process, args, pinned, error),
    );
  };
  const retried = (process: Process, args: never[], pinned: number[] | null, error: unknown): unknown => {
    if (!(error instanceof PageInRequired) || !process.alive) {
      if (pinned) process.space.release(pinned);
      throw error;
    }
    const address = error.address!;
    return kernel.pageIn(process, address).then(
      () => {
        const pages = pinned ?? [];
        pages.push(...process.space.hold(address, 1));
        return attempt(process, args, pages);
      },
      (fault: unknown) => {
        if (pinned) process.space.release(pinned);
        throw fault;
      },
    );
  };
  return ((...args: never[]) => (kernel.pagingOn ? attempt(kernel.current(), args, null) : call(...args))) as Call;
}
