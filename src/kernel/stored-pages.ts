import { PAGE_SIZE } from "./constants.ts";
import type { SealedPage } from "./page-sealer.ts";

/** Where a paged-out page is: its store slot, and what of its seal the kernel keeps. */
export interface StoredPage {
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
  place(key: string, sealed: SealedPage): StoredPage | null {
    const slot = this.free.pop();
    if (slot === undefined) return null;
    const stored: StoredPage = { slot, nonce: sealed.nonce, tag: sealed.data.slice(PAGE_SIZE), inKernel: sealed, writing: true, released: false };
    this.pages.set(key, stored);
    return stored;
  }

  get(key: string): StoredPage | undefined {
    return this.pages.get(key);
  }

  /** The store acknowledged the write (`stored`: it holds the blob; else the blob stays in the kernel). */
  written(page: StoredPage, stored: boolean): void {
    page.writing = false;
    if (stored) page.inKernel = null;
    if (page.released) this.free.push(page.slot);
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
