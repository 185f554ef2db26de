import { PAGE_SIZE } from "./constants.ts";
import type { SealedPage } from "./page-sealer.ts";
import { SwapSlots } from "./swap-slots.ts";

/** Where a paged-out page is: its store slot, and what of its seal the kernel keeps. */
export interface StoredPage {
  /** The page (its space and virtual page) and its slot. */
  readonly space: number;
  readonly page: number;
  readonly slot: number;
  /** Its seal's nonce and tag (empty while the seal is being made). */
  nonce: Uint8Array;
  tag: Uint8Array;
  /** The whole sealed blob while the store has not acknowledged its write (null after). */
  inKernel: SealedPage | null;
  /** The page's bytes while an asynchronous cipher makes its seal (they never left the kernel); null after. */
  plain: Uint8Array | null;
  /** A write to the slot is outstanding: the slot cannot be reused until it settles. */
  writing: boolean;
  /** The page came back (or its process ended): the slot is free once no write is outstanding. */
  released: boolean;
  /** Writes of it the store failed: after WRITE_ATTEMPTS it stays in the kernel until it comes back. */
  failures: number;
  /** While kept (`StoredPages.keep`): the version the page came back with, which the slot holds. */
  keptVersion: number;
}

/**
 * A page's key in the kernel's maps: its space (pid) and virtual page in one number (a page
 * number has 20 bits; pids stay far below 2^33), so that looking a page up makes no string.
 */
export type PageKey = number;
const PAGES_PER_SPACE = 0x10_0000;
export const pageKey = (space: number, page: number): PageKey => space * PAGES_PER_SPACE + page;
export const spaceOf = (key: PageKey): number => Math.floor(key / PAGES_PER_SPACE);

/** Times a page-out is sent before the kernel keeps it (a pager that fails every one denies service, no more). */
export const WRITE_ATTEMPTS = 4;

/**
 * The kernel's map of the backing store: which slot each paged-out page occupies, and the nonce
 * and tag of its seal. The kernel chooses the slots, like a Unix swap map, so the pager keeps no
 * table of its own: a pager that is restarted serves the same slots of the same file, and a pager
 * holds nothing but ciphertext it cannot check or forge. Keeping the tag means a store is only ever
 * asked for 4 KiB of ciphertext per slot.
 *
 * A page that came back from the store keeps its slot (`keep`) while it is resident and clean:
 * evicted again before any write, it goes back to the slot with nothing sealed or written
 * (`reinstate`; a swap cache, as Unix kernels keep). The version is not bumped then, and needs
 * not be: the slot holds exactly the page's bytes under that version's seal, so a pager that
 * answers with it answers right; a page written since is sealed anew at a newer version, and the
 * kept slot released first. Kept slots are given up, oldest first, when the store runs out.
 *
 * Invariants: a slot is free, or named by exactly one StoredPage that is in `pages`, in `kept` or
 * still `writing`; a slot goes back to the free list only when its page is released and no write
 * to it is outstanding, so a late write can never land on a slot that was given to another page.
 */
export class StoredPages {
  private readonly pages = new Map<PageKey, StoredPage>();
  /** Pages back in the process whose slot still holds their contents (`keep`), oldest first. */
  private readonly kept = new Map<PageKey, StoredPage>();
  /** The keys in `pages` of each space: a process's end releases its own, walking no other's. */
  private readonly bySpace = new Map<number, Set<PageKey>>();
  private readonly free: SwapSlots;
  private inKernelCount = 0;
  private readonly heldWaiters: Array<{ readonly pages: number; readonly resolve: () => void }> = [];
  /** Pages whose write the store failed, oldest first (some may have come back since). */
  private readonly unwritten: StoredPage[] = [];

  /** The store's size in slots. */
  readonly capacity: number;

  constructor(slots: number) {
    this.capacity = slots;
    this.free = new SwapSlots(slots);
  }

  /**
   * The page came back from the store (its slot written and acknowledged, nothing of it in the
   * kernel) at `version`: its slot stays its own while it is resident (`keptAt`, `reinstate`,
   * `release`). False (nothing kept) when the store did not hold it (`release` it instead).
   */
  keep(key: PageKey, version: number): boolean {
    if (!this.keepable(key)) return false;
    const page = this.pages.get(key)!;
    this.pages.delete(key);
    page.keptVersion = version;
    this.kept.set(key, page);
    return true;
  }

  /** Whether `keep` would keep `key`'s slot: the page's copy is in the store, written and not in the kernel. */
  keepable(key: PageKey): boolean {
    const page = this.pages.get(key);
    return page !== undefined && !page.writing && page.inKernel === null && page.plain === null;
  }

  /** The kept slot of a resident page (`keep`), or undefined. */
  keptAt(key: PageKey): StoredPage | undefined {
    return this.kept.get(key);
  }

  /** A kept page is out again, unchanged (`AddressSpace.evictClean`): its slot holds it as before. */
  reinstate(key: PageKey): void {
    const page = this.kept.get(key);
    if (!page) throw new Error("kernel bug: a clean page went out with no slot kept");
    this.kept.delete(key);
    this.pages.set(key, page);
  }

  /** Gives up to `count` kept slots back, oldest first (the store is full): their pages are sealed anew when evicted. The number freed. */
  dropKept(count: number): number {
    let dropped = 0;
    for (const key of this.kept.keys()) {
      if (dropped === count) break;
      this.release(key);
      dropped++;
    }
    return dropped;
  }

  /** Slots kept for pages that are back (`keep`). */
  get keptSlots(): number {
    return this.kept.size;
  }

  get freeSlots(): number {
    return this.free.free;
  }

  /** Slots in use: pages out, and pages back whose slot is kept. */
  get usedSlots(): number {
    return this.pages.size + this.kept.size;
  }

  /**
   * A slot for a page just sealed, or null when the store is full. `sealed` may be the page's
   * bytes instead, while its seal is being made (`sealed` below): the slot is held meanwhile as if a
   * write were outstanding, and a page-in takes the bytes as they are.
   */
  place(key: PageKey, space: number, page: number, sealed: SealedPage | Uint8Array): StoredPage | null {
    const slot = this.free.take();
    if (slot === null) return null;
    const stored: StoredPage = { space, page, slot, nonce: new Uint8Array(0), tag: new Uint8Array(0), inKernel: null, plain: null, writing: true, released: false, failures: 0, keptVersion: 0 };
    if (sealed instanceof Uint8Array) stored.plain = sealed;
    else this.setSeal(stored, sealed);
    this.pages.set(key, stored);
    const keys = this.bySpace.get(spaceOf(key));
    if (keys) keys.add(key);
    else this.bySpace.set(spaceOf(key), new Set([key]));
    this.inKernelCount++;
    return stored;
  }

  /** A page placed while sealing has its seal: false when it came back (or its process ended) meanwhile, and its slot is free again. */
  sealed(stored: StoredPage, sealed: SealedPage): boolean {
    stored.plain = null;
    if (stored.released) {
      stored.writing = false;
      this.free.give(stored.slot);
      return false;
    }
    this.setSeal(stored, sealed);
    return true;
  }

  private setSeal(stored: StoredPage, sealed: SealedPage): void {
    stored.nonce = sealed.nonce;
    stored.tag = sealed.data.slice(PAGE_SIZE);
    stored.inKernel = sealed;
  }

  /** The pages of space `pid` that hold a slot (for the invariants: each paged out, or resident with its slot kept). */
  pagesOf(pid: number): number[] {
    return [...(this.bySpace.get(pid) ?? [])].map((key) => key - pid * PAGES_PER_SPACE);
  }

  get(key: PageKey): StoredPage | undefined {
    return this.pages.get(key);
  }

  /**
   * The store acknowledged the write (`stored`: it holds the blob; else the blob stays in the
   * kernel, and the page waits in `unwritten` to be written again).
   */
  written(page: StoredPage, stored: boolean): void {
    page.writing = false;
    if (stored) this.dropBlob(page);
    else if (!page.released && ++page.failures < WRITE_ATTEMPTS) this.unwritten.push(page);
    if (page.released) this.free.give(page.slot);
  }

  /**
   * Resolves once the kernel holds at most `pages` pages' ciphertext for the store (the store
   * took enough of them): waiting for a batch, not for each page, so that evictions go in batches.
   */
  whenHeldAtMost(pages: number): Promise<void> {
    if (this.inKernelCount <= pages) return Promise.resolve();
    return new Promise((resolve) => this.heldWaiters.push({ pages, resolve }));
  }

  private wakeWaiters(): void {
    if (this.heldWaiters.length === 0) return;
    const still = this.heldWaiters.filter((waiter) => waiter.pages < this.inKernelCount);
    for (const waiter of this.heldWaiters) if (waiter.pages >= this.inKernelCount) waiter.resolve();
    this.heldWaiters.length = 0;
    this.heldWaiters.push(...still);
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
    return this.inKernelCount;
  }

  /** The kernel's copy goes (the store took it, or the page is back): waiters may go on. A failed write keeps it, so it wakes nobody. */
  private dropBlob(page: StoredPage): void {
    if (page.inKernel === null && page.plain === null) return;
    page.inKernel = null;
    page.plain = null;
    this.inKernelCount--;
    this.wakeWaiters();
  }

  /** The page is no longer paged out, nor its slot kept (it came back, was written, or its process ended). */
  release(key: PageKey): void {
    const page = this.pages.get(key) ?? this.kept.get(key);
    if (!page) return;
    this.pages.delete(key);
    this.kept.delete(key);
    const keys = this.bySpace.get(spaceOf(key));
    keys?.delete(key);
    if (keys?.size === 0) this.bySpace.delete(spaceOf(key));
    page.released = true;
    // A write still out holds its own view of the bytes (or, still queued, is skipped as no longer
    // wanted): the kernel's copy can go. A seal still being made counts as a write outstanding:
    // `sealed` frees the slot when it is done.
    this.dropBlob(page);
    if (!page.writing) this.free.give(page.slot);
  }

  /** Every page of space `pid` goes (the process ended). */
  forget(pid: number): void {
    const keys = this.bySpace.get(pid);
    if (keys) for (const key of [...keys]) this.release(key);
  }
}
