import type { AddressSpace } from "./address-space.ts";
import type { FramePressure } from "./paging-hooks.ts";
import { PAGE_SIZE } from "./constants.ts";
import { ProcessFault, hex } from "./fault.ts";
import type { FrameAllocator } from "./frame-allocator.ts";
import type { PageSealer, SealedPage, SealedParts } from "./page-sealer.ts";
import { type StoredPage, StoredPages, pageKey } from "./stored-pages.ts";

/**
 * Demand paging: when free frames run low the kernel evicts private pages to a backing store (the
 * pager) and pages them back in when they are touched. Pages leave sealed (page-sealer.ts); a page
 * that comes back altered, swapped or stale fails authentication and its process is torn down with
 * a `page-integrity` fault, never given wrong bytes.
 *
 * When: `allocated` (every frame a process takes) notices free frames below `lowWater` and asks the
 * kernel to stop the running process at its next safe point, where no translation is in flight;
 * there `reclaim` evicts until `highWater` frames are free, from any process. When no frame is left
 * at all (`exhausted`), pages of the other processes are evicted at once: none of them is in the
 * middle of an access.
 *
 * Policies (set by process 1): CLOCK, second chance over every candidate page of every process; and
 * AGING, an LRU approximation: each reclaim shifts every page's age right and sets its top bit when
 * the page was referenced since, then evicts the lowest ages. Both read the reference bit the MMU
 * keeps (`AddressSpace.sample`).
 *
 * Invariants: a page is paged out exactly when its entry has PTE_PAGED, and then `stored` names its
 * slot and the nonce and tag of its seal (made with the version its space holds), and its
 * ciphertext is in the kernel (until the store acknowledges the write, so a page-in never waits
 * for one) or in the store at that slot.
 */
export interface StoreSlot {
  /** The page's identity, for a store's own checks or statistics: the slot alone locates it. */
  readonly space: number;
  readonly page: number;
  /** Where it goes, chosen by the kernel: 0 to the store's size in pages, exclusive. */
  readonly slot: number;
}

/** The pager's side: a user-space pager answers these over IPC; tests use a host object. */
export interface BackingStore {
  /**
   * Stores a page's ciphertext (4 KiB) at the slot. `wanted` says whether it still must be: a
   * store that queues writes skips one whose page came back meanwhile (and resolves it).
   */
  write(at: StoreSlot, ciphertext: Uint8Array, wanted: () => boolean): Promise<void>;
  /**
   * The writes asked for so far are to go now: a store that gathers them (several pages to a
   * message) may wait for this. The kernel calls it after each burst of evictions.
   */
  flush?(): void;
  /**
   * What was last written at each slot: entry i for `at[i]`, null (or missing) where it cannot say.
   * `at[0]` is the page a process waits for; the rest are neighbours read with it, and a store may
   * answer fewer of them (at least the first, or nothing: an empty answer is a failed read).
   */
  read(at: readonly StoreSlot[]): Promise<ReadonlyArray<Uint8Array | null>>;
  /** The most slots one `read` takes (its answer is one round trip); 1 when not said. */
  readonly batch?: number;
}

/** Times a page-in asks the store before giving up (a pager restarted meanwhile answers the next). */
const READ_ATTEMPTS = 3;
/** How far past a touched page read-ahead looks for paged-out neighbours. */
const READ_AHEAD_SPAN = 32;
/** Kept slots (clean pages' copies) given up at once when the store is full. */
const KEPT_DROPPED_WHEN_FULL = 64;
/** Failed page-outs sent again at each reclaim. */
const WRITE_AGAIN_PER_RECLAIM = 16;

export const EvictionPolicy = { CLOCK: 0, AGING: 1 } as const;
export type EvictionPolicyCode = (typeof EvictionPolicy)[keyof typeof EvictionPolicy];

/** A process as paging sees it. */
export interface PagedProcess {
  readonly pid: number;
  readonly alive: boolean;
  readonly space: AddressSpace;
  /** PIN_LEVELS: how reluctantly its pages are evicted (set by process 1). */
  readonly pinLevel: number;
}

/**
 * Pin levels: 0 pageable; 1 evicted only when no page of level 0 can be (a shell, a server others
 * wait on); 2 never evicted (the pager and the drivers it needs, process 1: paging them out could
 * deadlock the page-in that needs them).
 */
export const PinLevel = { PAGEABLE: 0, RELUCTANT: 1, PINNED: 2 } as const;

export interface PagingOptions {
  /** Pages the store can hold (its slots; default 8192); the root Memory's quota grows by this. */
  readonly storePages?: number;
  readonly lowWater?: number;
  readonly highWater?: number;
  /**
   * At most this many evicted pages' ciphertext in the kernel, waiting for the store to take it
   * (default 4096, 16 MiB): beyond, eviction waits for the pager, and so does a process that needs a frame.
   */
  readonly writeBehind?: number;
  readonly policy?: EvictionPolicyCode;
}

/**
 * A page-in's checked bytes, to be mapped (`Paging.land`): until then the page stays out in its
 * slot, so that it is never out with no slot (redteam17: the slot was freed when the answer came,
 * and the bytes mapped at the process's next turn; a debugger's or cloner's fetch meanwhile met
 * "kernel bug: ... paged out but has no slot").
 */
export interface PageAnswer {
  readonly bytes: Uint8Array;
  readonly version: number;
  readonly stored: StoredPage;
}

/** A neighbour asked for with a page-in: what it must still be when the answer comes. */
interface ReadAhead {
  readonly page: number;
  readonly version: number;
  readonly stored: StoredPage;
}


export class Paging implements FramePressure {
  policy: EvictionPolicyCode;
  readonly lowWater: number;
  readonly highWater: number;
  readonly writeBehind: number;
  /** Free frames only pinned processes may take. */
  readonly reserve: number;
  /** A reclaim is due at the running process's next safe point. */
  pending = false;
  evictions = 0;
  pageIns = 0;
  /** Pages mapped because they were read with a neighbour (counted in `pageIns` too). */
  readAheadPages = 0;
  /** Evictions of clean pages (back from the store, unwritten since): nothing sealed or written (counted in `evictions` too). */
  cleanEvictions = 0;
  /** Page-ins the store failed: a page given back altered, stale or another's, or not at all (the pager's misbehaviour). */
  refusals = 0;
  /** Where each paged-out page is in the store. */
  readonly stored: StoredPages;
  private ring: Array<[PagedProcess, number]> = [];
  private hand = 0;
  /**
   * How many entries of the ring are each live process's, and how many are of processes that
   * ended since it was filled: those are skipped, and dropped once they are half of it. A
   * process's end walks only what is its own, here and in `ages` and `stored` (each end walked
   * all three whole: 4.4 s in one call to end 1,000 processes beside 21,000 pages out, redteam14).
   */
  private readonly ringCounts = new Map<number, number>();
  private ringDead = 0;
  /** The aging policy's age of each page it scored, by process. */
  private readonly ages = new Map<number, Map<number, number>>();
  private readonly sealer: PageSealer;
  private readonly store: BackingStore;
  private readonly frames: FrameAllocator;
  private readonly processes: () => Iterable<PagedProcess>;
  /** Makes the running process call the kernel at its next safe point. */
  private readonly stopSoon: () => void;

  constructor(sealer: PageSealer, store: BackingStore, frames: FrameAllocator, processes: () => Iterable<PagedProcess>, stopSoon: () => void, options: PagingOptions = {}) {
    this.sealer = sealer;
    this.store = store;
    this.frames = frames;
    this.processes = processes;
    this.stopSoon = stopSoon;
    this.lowWater = options.lowWater ?? 256;
    this.highWater = options.highWater ?? 2 * this.lowWater;
    this.policy = options.policy ?? EvictionPolicy.CLOCK;
    this.writeBehind = options.writeBehind ?? 4096;
    this.reserve = Math.min(64, this.lowWater >> 1);
    this.stored = new StoredPages(options.storePages ?? 8192);
  }

  allocated(): void {
    if (this.pending || this.frames.freeCount >= this.lowWater) return;
    this.pending = true;
    this.stopSoon();
  }

  exhausted(space: AddressSpace): boolean {
    return this.reclaim(space, space.usesFrameReserve) > 0;
  }

  throttled(): boolean {
    return this.stored.inKernelPages >= this.writeBehind;
  }

  mayAllocate(space: AddressSpace): boolean {
    return space.usesFrameReserve || this.frames.freeCount > this.reserve;
  }

  dropped(pid: number, page: number): void {
    this.stored.release(pageKey(pid, page));
  }

  /** Sends again up to WRITE_AGAIN_PER_RECLAIM page-outs the store failed. */
  writeAgain(): void {
    for (const stored of this.stored.toWriteAgain(WRITE_AGAIN_PER_RECLAIM)) this.writeOut(stored);
    // The end of every burst of evictions (reclaim ends here): what it wrote goes together.
    this.store.flush?.();
  }

  /**
   * Evicts until `highWater` frames are free or nothing is left to evict; never from `spare`. The
   * number evicted. `pinned`: for a pinned process (the pager, the servers a page-out goes
   * through), which must never wait for a page-out: eviction goes on past write-behind.
   */
  reclaim(spare: AddressSpace | null = null, pinned = false): number {
    this.pending = false;
    const want = Math.max(1, this.highWater - this.frames.freeCount);
    let evicted = 0;
    for (let level = PinLevel.PAGEABLE; level < PinLevel.PINNED && evicted < want; level++) {
      evicted += this.policy === EvictionPolicy.AGING ? this.reclaimByAge(want - evicted, spare, level, pinned) : this.reclaimByClock(want - evicted, spare, level, pinned);
    }
    this.evictions += evicted;
    // After the new page-outs, which the pager's queue takes first: what it had no room for
    // before goes again with whatever room is left.
    this.writeAgain();
    return evicted;
  }

  /**
   * The page's bytes from the pager, checked: resolves with them, or rejects with a
   * `page-integrity` fault when the blob is missing, altered, another page's or an older version.
   * The first read also asks for the page's paged-out neighbours (`readAheadOf`): those that come
   * back and open are mapped now, the others stay out, to be asked for when touched. Null when
   * another fetch brought the page back meanwhile: the caller looks at it again. The page stays
   * out, in its slot, until the caller maps the answer (`land`).
   */
  async fetch(process: PagedProcess, page: number): Promise<PageAnswer | null> {
    const version = process.space.pagedVersion(page);
    if (version === null) throw new Error(`kernel bug: page-in of page ${hex(page * PAGE_SIZE)}, which is not paged out`);
    const key = pageKey(process.pid, page);
    const stored = this.stored.get(key);
    if (!stored) throw new Error(`kernel bug: page ${hex(page * PAGE_SIZE)} of ${process.pid} is paged out but has no slot`);
    // Its seal still being made, the page never left the kernel: its bytes are as they were.
    if (stored.plain) return { bytes: stored.plain, version, stored };
    let sealed: SealedPage | SealedParts | null = stored.inKernel;
    // A store that cannot answer (a pager that ended, and is restarted) is asked again; one that
    // answers wrong bytes is caught below, at once.
    for (let attempt = 0; sealed === null && attempt < READ_ATTEMPTS && process.alive; attempt++) {
      const ahead = attempt === 0 ? this.readAheadOf(process, page) : [];
      const answer = await this.store.read([{ space: process.pid, page, slot: stored.slot }, ...ahead.map((neighbour) => neighbour.stored)]);
      const ciphertext = answer[0] ?? null;
      if (ciphertext) sealed = { nonce: stored.nonce, ciphertext, tag: stored.tag };
      if (ahead.length > 0) await this.mapReadAhead(process, ahead, answer);
    }
    const bytes = sealed && (await this.sealer.open(sealed, { space: process.pid, page, version }));
    // Another fetch of the same page (a second cloner's, a debugger's) brought it back while this
    // one waited, and it may be out again since, at a newer version in a slot of its own (maybe
    // the one read here): what was read is not the page now. Nothing to restore, nothing to
    // release (that would drop the newer version's entry and lose the page), and no fault (the
    // pager was honest): the caller looks again.
    if (this.stored.get(key) !== stored || process.space.pagedVersion(page) !== version) return null;
    if (!bytes) {
      if (process.alive) this.refusals++;
      throw new ProcessFault(
        "page-integrity",
        page * PAGE_SIZE,
        `the pager gave back page ${hex(page * PAGE_SIZE)} (version ${version}) ${sealed ? "altered, stale or another page's: it fails authentication" : "not at all"}`,
      );
    }
    return { bytes, version, stored };
  }

  /**
   * Maps a page-in's answer and frees the page's slot, in one step: true when the page is not out
   * as it was asked for any more (mapped now, or by another fetch meanwhile, or its process
   * ended: the caller looks again), false when no frame could be had (it stays out).
   */
  land(process: PagedProcess, page: number, answer: PageAnswer): boolean {
    const key = pageKey(process.pid, page);
    if (!process.alive || this.stored.get(key) !== answer.stored || process.space.pagedVersion(page) !== answer.version) return true;
    const clean = this.stored.keepable(key);
    if (!process.space.restore(page, answer.bytes, clean)) return false;
    this.pageIns++;
    // From the store: its slot keeps the page's copy while the page stays clean (`PTE_CLEAN`),
    // so that it goes back out without a seal.
    if (!(clean && this.stored.keep(key, answer.version))) this.stored.release(key);
    return true;
  }

  /**
   * The pages after `page` that are out in the store (not in the kernel), to be read with it: up
   * to the store's batch less one, among the next READ_AHEAD_SPAN of them. A process mostly
   * touches its pages in order, and evicted in order they sit near each other in the store. No
   * more than the frames free above `lowWater` (less the page itself), which is all `mapReadAhead`
   * may take: under pressure the rest would be read, carried and opened only to be dropped (a sweep
   * larger than memory read five pages for every one it kept).
   */
  private readAheadOf(process: PagedProcess, page: number): ReadAhead[] {
    const want = Math.min((this.store.batch ?? 1) - 1, this.frames.freeCount - this.lowWater - 1);
    const ahead: ReadAhead[] = [];
    for (let next = page + 1; next <= page + READ_AHEAD_SPAN && ahead.length < want; next++) {
      const version = process.space.pagedVersion(next);
      if (version === null) continue;
      const stored = this.stored.get(pageKey(process.pid, next));
      if (stored && stored.inKernel === null && stored.plain === null) ahead.push({ page: next, version, stored });
    }
    return ahead;
  }

  /**
   * Maps the neighbours read with a page (`answer[i + 1]` for `ahead[i]`) that are still out as
   * they were asked for, and open: while frames are free above `lowWater` (read-ahead never makes
   * the kernel evict). One that fails authentication is counted as a refusal and stays out: it is
   * asked for again, alone, when touched, and ends its process then if the pager lies again.
   */
  private async mapReadAhead(process: PagedProcess, ahead: readonly ReadAhead[], answer: ReadonlyArray<Uint8Array | null>): Promise<void> {
    for (let i = 0; i < ahead.length; i++) {
      const ciphertext = answer[i + 1];
      if (!ciphertext) continue;
      const { page, version, stored } = ahead[i]!;
      const key = pageKey(process.pid, page);
      const still = () => process.alive && this.stored.get(key) === stored && stored.inKernel === null && process.space.pagedVersion(page) === version;
      if (!still()) continue;
      // A synchronous cipher (the Node host's) answers at once: no turn of the microtask queue a page.
      const opening = this.sealer.open({ nonce: stored.nonce, ciphertext, tag: stored.tag }, { space: process.pid, page, version });
      const bytes = opening instanceof Promise ? await opening : opening;
      if (!bytes) {
        this.refusals++;
        continue;
      }
      // Checked again: an asynchronous cipher let others run meanwhile.
      if (!still()) continue;
      if (this.frames.freeCount <= this.lowWater || !process.space.restore(page, bytes, true)) return;
      this.pageIns++;
      this.readAheadPages++;
      // Asked for only when out in the store (`readAheadOf`, and `still` since): kept. Were it not,
      // its PTE_CLEAN without a kept slot only means it is sealed anew when evicted.
      if (!this.stored.keep(key, version)) this.stored.release(key);
    }
  }

  /** A process ended: forget what the kernel still holds of its pages. */
  forget(pid: number): void {
    this.stored.forget(pid);
    this.ages.delete(pid);
    const entries = this.ringCounts.get(pid);
    if (entries === undefined) return;
    this.ringCounts.delete(pid);
    this.ringDead += entries;
    if (2 * this.ringDead > this.ring.length) this.dropEndedFromRing();
  }

  /** The ring without the entries of processes that ended, the hand where it was among the rest. */
  private dropEndedFromRing(): void {
    let kept = 0;
    let hand = 0;
    for (let i = 0; i < this.ring.length; i++) {
      if (i === this.hand) hand = kept;
      const entry = this.ring[i]!;
      if (this.ringCounts.has(entry[0].pid)) this.ring[kept++] = entry;
    }
    this.hand = this.hand >= this.ring.length ? kept : hand;
    this.ring.length = kept;
    this.ringDead = 0;
  }

  /**
   * Evicts one page; false when the store has no slot left for it. A clean page (back from the
   * store and not written since) goes back to its kept slot: nothing to seal, nothing to write,
   * so not held back by write-behind either. A page written since gives its kept slot up first.
   */
  private evict(process: PagedProcess, page: number, pinned: boolean): boolean {
    const key = pageKey(process.pid, page);
    const kept = this.stored.keptAt(key);
    if (kept) {
      if (process.space.evictClean(page, kept.keptVersion)) {
        this.stored.reinstate(key);
        this.cleanEvictions++;
        this.ages.get(process.pid)?.delete(page);
        return true;
      }
      this.stored.release(key);
    }
    if (this.stored.freeSlots === 0) this.stored.dropKept(KEPT_DROPPED_WHEN_FULL);
    if (this.stored.freeSlots === 0 || (this.throttled() && !pinned)) return false;
    process.space.evict(page, (bytes, version) => {
      const sealing = this.sealer.seal(bytes, { space: process.pid, page, version });
      if (!(sealing instanceof Promise)) return this.writeOut(this.stored.place(key, process.pid, page, sealing)!);
      // An asynchronous cipher: the kernel keeps the bytes (the frame goes now) until the seal is made.
      const stored = this.stored.place(key, process.pid, page, bytes.slice())!;
      void sealing.then((sealed) => {
        if (!this.stored.sealed(stored, sealed)) return;
        this.writeOut(stored);
        this.store.flush?.();
      });
    });
    this.ages.get(process.pid)?.delete(page);
    return true;
  }

  /**
   * Sends a page's ciphertext to the store. One that fails leaves the blob in the kernel, where
   * page-ins find it, and is sent again at a later reclaim (a pager that was busy, or ended and was
   * restarted, takes it then): so the kernel does not hold pages for the pager for good.
   */
  private writeOut(stored: StoredPage): void {
    this.store.write({ space: stored.space, page: stored.page, slot: stored.slot }, stored.inKernel!.data.subarray(0, PAGE_SIZE), () => !stored.released).then(
      () => this.stored.written(stored, true),
      () => {
        this.stored.written(stored, false);
        // Sent again at once: a pager that ended takes it when it is back (the channel keeps it
        // until there is room), and nobody else may be running to reclaim.
        this.writeAgain();
      },
    );
  }

  /** Whether the policies may take `process`'s pages in the pass for pin level `level`. */
  private takesFrom(process: PagedProcess, spare: AddressSpace | null, level: number): boolean {
    return process.alive && process.space !== spare && process.pinLevel <= level && process.pinLevel < PinLevel.PINNED;
  }

  private reclaimByClock(want: number, spare: AddressSpace | null, level: number, pinned: boolean): number {
    let evicted = 0;
    // Two full turns: the first may only clear reference bits (second chance).
    for (let turn = 0; turn < 2 && evicted < want; turn++) {
      if (this.hand >= this.ring.length) this.refill();
      const length = this.ring.length;
      for (let seen = 0; seen < length && evicted < want; seen++) {
        if (this.hand >= this.ring.length) this.refill();
        const [process, page] = this.ring[this.hand++]!;
        if (!this.takesFrom(process, spare, level)) continue;
        if (process.space.sample(page) === 0) {
          if (!this.evict(process, page, pinned)) return evicted;
          evicted++;
        }
      }
    }
    return evicted;
  }

  private reclaimByAge(want: number, spare: AddressSpace | null, level: number, pinned: boolean): number {
    const scored: Array<[PagedProcess, number, number]> = [];
    for (const process of this.processes()) {
      if (!this.takesFrom(process, spare, level)) continue;
      let ages = this.ages.get(process.pid);
      if (!ages) this.ages.set(process.pid, (ages = new Map()));
      for (const page of process.space.candidates()) {
        // -1: not to be taken now (held, or under a kernel call that is still running: a blocked
        // receive's buffer). Taken for "not referenced", such pages went first.
        const sampled = process.space.sample(page);
        if (sampled < 0) continue;
        const age = ((ages.get(page) ?? 0) >>> 1) | (sampled === 1 ? 0x80 : 0);
        ages.set(page, age);
        scored.push([process, page, age]);
      }
    }
    scored.sort((a, b) => a[2] - b[2]);
    let evicted = 0;
    for (const [process, page] of scored.slice(0, want)) {
      if (!this.evict(process, page, pinned)) break;
      evicted++;
    }
    return evicted;
  }

  /** The clock's ring: every candidate page of every live process, in a fixed order. */
  private refill(): void {
    this.ring = [];
    this.hand = 0;
    this.ringCounts.clear();
    this.ringDead = 0;
    for (const process of this.processes()) {
      if (!process.alive) continue;
      const before = this.ring.length;
      for (const page of process.space.candidates()) this.ring.push([process, page]);
      this.ringCounts.set(process.pid, this.ring.length - before);
    }
  }
}
