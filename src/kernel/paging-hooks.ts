import type { AddressSpace } from "./address-space.ts";
import { PAGE_SIZE } from "./constants.ts";
import { ProcessFault, hex } from "./fault.ts";

/**
 * What an address space and paging (paging.ts) tell each other, kept apart from both so that
 * neither imports the other: the non-fault an access to a paged-out page raises, and the
 * callbacks through which frame allocation reaches the eviction policy.
 */

/** An access to a page whose bytes are with the pager: not a fault, the kernel pages it in and retries. */
export class PageInRequired extends ProcessFault {
  constructor(address: number) {
    super("unmapped", address, `page ${hex(address & ~(PAGE_SIZE - 1))} is paged out`);
  }
}

/**
 * No frame is free for an access, and evicting other processes' pages found none: at the kernel
 * boundary, where nothing of the process is being translated, the kernel evicts its own pages too
 * (after waiting for the pager, when write-behind is full), and the access runs again. It takes
 * the page-in path (PageInRequired), for a page that is not paged out.
 */
export class FramesRequired extends PageInRequired {}

/** What eviction needs to know about the frames it may take (set by the kernel when paging is on). */
export interface FramePressure {
  /** A frame was just allocated for a page: free frames may be running low. */
  allocated(): void;
  /** No frame is left: free some if it can without touching this space; whether it did. */
  exhausted(space: AddressSpace): boolean;
  /** Eviction waits for the store (write-behind full): a frame will come after a write settles. */
  throttled(): boolean;
  /**
   * Whether `space` may take a free frame now: the last few are a reserve for the pinned (the
   * pager and the servers a page-out goes through), which must never wait for a page-out.
   */
  mayAllocate(space: AddressSpace): boolean;
  /**
   * A paged-out page of `space`'s process `pid` is no longer: its entry went (a Page mapped over
   * it). Its store slot is free (once no write to it is outstanding).
   */
  dropped(pid: number, page: number): void;
}
