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
 * paged-out page (`translate` throws PageInRequired); the call then pages it in, holds it resident
 * and runs again from the start, until it completes with every page it needs held, and releases
 * them. Running again is safe because a call reaches process memory either before anything it does
 * is visible, or, for memory it writes after a side effect (bytes taken from a stream, a file
 * opened), through `Kernel.touch` before that side effect, which throws at the same early point.
 * Only a blocking call can wait for a page: the others must not touch process memory.
 */
export function residentCall(kernel: ResidentCallKernel, name: string, call: Call, blocks: boolean): Call {
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
  return ((...args: never[]) => {
    if (!kernel.pagingOn) return call(...args);
    const process = kernel.current();
    const paged: number[] = [];
    const finish = (holds: number[]): void => {
      process.space.release(holds);
      if (process.callHolds === holds) process.callHolds = null;
    };
    const attempt = (): unknown => {
      const holds: number[] = [];
      process.callHolds = holds;
      const failed = (error: unknown): unknown => {
        finish(holds);
        if (!(error instanceof PageInRequired) || !process.alive) {
          process.space.release(paged.splice(0));
          throw error;
        }
        // The page stays held across the next attempt, so others' pressure cannot take it again.
        return kernel.pageIn(process, error.address!).then(() => {
          paged.push(...process.space.hold(error.address!, 1));
          return attempt();
        }, (fault: unknown) => {
          process.space.release(paged.splice(0));
          throw fault;
        });
      };
      let result: unknown;
      try {
        result = call(...args);
      } catch (error) {
        return failed(error);
      }
      const done = (value: unknown): unknown => {
        finish(holds);
        process.space.release(paged.splice(0));
        return value;
      };
      return result instanceof Promise ? result.then(done, failed) : done(result);
    };
    return attempt();
  }) as Call;
}
