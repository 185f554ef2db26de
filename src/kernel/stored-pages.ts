import { PAGE_SIZE } from "./constants.ts";
import type { SealedPage } from "./page-sealer.ts";

/** Where a paged-out page is: its store slot, and what of its seal the kernel keeps. */
export interface StoredPage {
  /** The page (its space and virtual page) and its slot. */
  readonly space: number;
  readonly page: number;
  readonly slot: number;
  readonly nonce: Uint8Array;
  readonly tag: Uint8Array;
  /** The whole sealed blob while the store has not acknowledged its write (null after). */
  inKernel: SealedPage | null;
  /** A write to the slot is outstanding: the slot cannot be reused until it settles. */
  writing: boolean;
  /** The page came back (or its process ended): the slot is free once no write is outstanding. */
  released: boolean;
}

/**
 * The kernel's map of the backing store: which slot each paged-out page occupies, and the nonce
 * and tag of its seal. The kernel chooses the slots, like a Unix swap map, so the pager keeps no
 * table of its own: a pager that is restarted serves the same slots of the same file, and a pager
 * holds nothing but ciphertext it cannot check or forge. Keeping the tag means a store is only ever
 * asked for 4 KiB of ciphertext per slot.
 *
 * Invariants: a slot is free, or named by exactly one StoredPage that is in `pages` or still
 * `writing`; a slot goes back to the free list only when its page is released and no write to it
 * is outstanding, so a late write can never land on a slot that was given to another page.
 */
export class StoredPages {
  private readonly pages = new Map<string, StoredPage>();
  private readonly free: number[] = [];
  /** Pages whose write the store failed, oldest first (some may have come back since). */
  private readonly unwritten: StoredPage[] = [];

  /** The store's size in slots. */
  readonly capacity: number;

  constructor(slots: number) {
    this.capacity = slots;
    for (let slot = slots - 1; slot >= 0; slot--) this.free.push(slot);
  }

  get freeSlots(): number {
    return this.free.length;
  }

  get usedSlots(): number {
    return this.pages.size;
  }

  /** A slot for a page just sealed, or null when the store is full. */
  place(key: string, space: number, page: number, sealed: SealedPage): StoredPage | null {
    const slot = this.free.pop();
    if (slot === undefined) return null;
    const stored: StoredPage = { space, page, slot, nonce: sealed.nonce, tag: sealed.data.slice(PAGE_SIZE), inKernel: sealed, writing: true, released: false };
    this.pages.set(key, stored);
    return stored;
  }

  get(key: string): StoredPage | undefined {
    return this.pages.get(key);
  }

  /**
   * The store acknowledged the write (`stored`: it holds the blob; else the blob stays in the
   * kernel, and the page waits in `unwritten` to be written again).
   */
  written(page: StoredPage, stored: boolean): void {
    page.writing = false;
    if (stored) page.inKernel = null;
    else if (!page.released) this.unwritten.push(page);
    if (page.released) this.free.push(page.slot);
  }

  /** Up to `count` pages whose write failed and that are still out: to write again, now marked writing. */
  toWriteAgain(count: number): StoredPage[] {
    const again: StoredPage[] = [];
    while (again.length < count && this.unwritten.length > 0) {
      const page = this.unwritten.shift()!;
      if (page.released || page.writing || page.inKernel === null) continue;
      page.writing = true;
      again.push(page);
    }
    return again;
  }

  /** Pages whose ciphertext only the kernel holds (writes outstanding or failed). */
  get inKernelPages(): number {
    let count = 0;
    for (const page of this.pages.values()) if (page.inKernel) count++;
    return count;
  }

  /** The page is no longer paged out (it came back, or its process ended). */
  release(key: string): void {
    const page = this.pages.get(key);
    if (!page) return;
    this.pages.delete(key);
    page.released = true;
    if (!page.writing) this.free.push(page.slot);
  }

  /** Every page of space `pid` goes (the process ended). */
  forget(pid: number): void {
    const prefix = `${pid}:`;
    for (const key of [...this.pages.keys()]) if (key.startsWith(prefix)) this.release(key);
  }
}
