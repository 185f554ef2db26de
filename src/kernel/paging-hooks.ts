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

/** What eviction needs to know about the frames it may take (set by the kernel when paging is on). */
export interface FramePressure {
  /** A frame was just allocated for a page: free frames may be running low. */
  allocated(): void;
  /** No frame is left: free some if it can without touching this space; whether it did. */
  exhausted(space: AddressSpace): boolean;
}
