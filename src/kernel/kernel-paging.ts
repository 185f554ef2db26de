import type { Machine } from "../machine/machine.ts";
import type { MemoryObject } from "./caps/memory-object.ts";
import { PAGE_SIZE, WASM_PAGE_SIZE } from "./constants.ts";
import { ProcessFault } from "./fault.ts";
import type { FrameAllocator } from "./frame-allocator.ts";
import { type PageCipherFactory, PageSealer } from "./page-sealer.ts";
import { PageInRequired } from "./paging-hooks.ts";
import { type BackingStore, type PageAnswer, Paging, type PagingOptions } from "./paging.ts";
import type { Process } from "./process.ts";
import type { Scheduler } from "./scheduler.ts";

/** What the kernel's side of paging needs of the kernel. */
export interface KernelPagingParts {
  readonly machine: Machine;
  readonly frames: FrameAllocator;
  readonly scheduler: Scheduler;
  readonly rootMemory: MemoryObject;
  readonly processes: () => Iterable<Process>;
  readonly cipher: PageCipherFactory | undefined;
}

/**
 * Frames kept for pages the pager can take back, whatever the quotas: a sixteenth of the machine,
 * and never less than twice paging's reserve (what the pinned may take, and as much again for the
 * rest). Frames that cannot be paged out (the kernel's and its objects', pinned processes' pages)
 * are refused to unpinned processes past the rest (FrameAllocator wiredLimit), so that every
 * process can still fault its pages in. Small, so that a small machine still runs what its boot
 * leaves room for (an 8 MiB machine's boot holds most of its frames: memtest pages through the
 * rest, test/hosts/boot-cli).
 */
export function pageableFloor(frameCount: number, paging: Paging): number {
  return Math.max(2 * paging.reserve, frameCount >>> 4);
}

/**
 * The kernel's side of demand paging (docs/MEMORY.md "Paging"): turning it on, connecting each
 * process to it, bringing a process's page back while the process waits, and the residency a
 * kernel call asks for (`touch`). The policy and the store's bookkeeping are `Paging`'s.
 */
export class KernelPaging {
  /** Demand paging, once a backing store is attached (`enable`). */
  paging: Paging | null = null;
  /** Processes waiting for the store (page-ins, page-outs): the machine is not idle while there are any. */
  pendingPageIns = 0;
  private readonly parts: KernelPagingParts;

  constructor(parts: KernelPagingParts) {
    this.parts = parts;
  }

  /**
   * Turns demand paging on with `store` as the pager's storage: from now on free frames running
   * low make the kernel evict pages, sealed under a key made now from the machine's entropy.
   */
  enable(store: BackingStore, options: PagingOptions = {}): Paging {
    const { machine, frames, rootMemory, processes, cipher } = this.parts;
    const paging = new Paging(new PageSealer(machine.entropy, cipher), store, frames, processes, () => this.stopAtNextSafePoint(), options);
    this.paging = paging;
    frames.wiredLimit = frames.frameCount - pageableFloor(frames.frameCount, paging);
    rootMemory.extendRoot(options.storePages ?? 0);
    for (const process of processes()) this.attach(process);
    return paging;
  }

  /** Connects a process to paging, once it is on: its frames count, its page-ins come here. */
  attach(process: Process): void {
    if (!this.paging) return;
    process.space.pressure = this.paging;
    // A page brought back for a retried access is held until that access completes (as a kernel
    // call's are, resident-call.ts): a bulk operation needs every page of its range resident at
    // once, and without the hold each page-in could evict another page of the same range, the
    // retry meeting a paged-out page again for ever.
    process.faultHandler.pageIn = (request) =>
      this.pageIn(process, request.address!, request).then(() => process.faultHandler.hold(process.space.hold(request.address!, 1)));
    process.faultHandler.release = (pages) => process.space.release(pages);
    // A process blocked in a receive or a call since before paging was on made no record of the
    // buffer its message will be written to (Kernel.touch records nothing without paging): keep
    // it resident until its next call, or pressure takes it and the delivery fails (E_BAD_ADDRESS;
    // redteam2's finding 8: services that blocked at boot, before init turned paging on).
    const awaited = process.awaitedBuffer;
    if (awaited !== null && awaited.inbox === undefined && process.state === "blocked") process.space.callRanges.push(awaited.ptr, awaited.capacity);
  }

  /**
   * Brings `process`'s paged-out page at `address` back: the process blocks (others run) until the
   * pager answers; a page that fails authentication ends it with a `page-integrity` fault.
   */
  pageIn(process: Process, address: number, request: ProcessFault | null = null): Promise<void> {
    const page = address >>> 12;
    // Not paged out: the access needs a frame (FramesRequired). Then it runs again.
    if (process.space.pagedVersion(page) === null) return this.frameFor(process, address);
    process.pageIns++;
    const fetched = this.paging!.fetch(process, page).catch((error: unknown) => (error instanceof ProcessFault ? error : new ProcessFault("page-integrity", address, String(error))));
    return this.blockUntil(process, fetched).then((value) => {
      // The record names the instruction that touched the page: the request's stack has it.
      if (value instanceof ProcessFault) throw request ? request.retold(value.message, value.kind) : value;
      // (null: another fetch brought it back meanwhile; the access runs again and sees.)
      if (value !== null) return this.land(process, page, value, address);
    });
  }

  /** Maps the page's answer into a fresh frame, evicting (its own pages too) or waiting for page-outs while that gives one. */
  private land(process: Process, page: number, answer: PageAnswer, address: number): void | Promise<void> {
    if (this.paging!.land(process, page, answer)) return;
    return this.frameFor(process, address).then(() => this.land(process, page, answer, address));
  }

  /**
   * Makes a frame free for `process`, at the kernel boundary (nothing of it is being translated, so
   * its own pages may go): waits for the pager while write-behind is full, else evicts now; a
   * fault when there is nothing left to evict.
   */
  private frameFor(process: Process, address: number): Promise<void> {
    const paging = this.paging!;
    if (paging.throttled()) return this.waitForPageOuts(process);
    if (paging.reclaim(null, process.space.usesFrameReserve) > 0) return Promise.resolve();
    return Promise.reject(new ProcessFault("out-of-memory", address, "no free physical frame for this page, and no page left to evict"));
  }

  /**
   * The process waits until the store takes a page the kernel holds for it, then the kernel
   * evicts: its own pages too, as nothing of it is being translated now (the access that needed
   * a frame has done nothing, and runs again after this).
   */
  private waitForPageOuts(process: Process): Promise<void> {
    const paging = this.paging!;
    // Until a quarter of write-behind is free again: then a batch of evictions, not one per page.
    const room = paging.stored.whenHeldAtMost((paging.writeBehind * 3) >> 2);
    // What the store failed before goes again now: nobody else may be running to reclaim.
    paging.writeAgain();
    return this.blockUntil(process, room).then(() => {
      paging.reclaim(null);
    });
  }

  /**
   * Brings every paged-out page of `process` (or those of `pages`) back while `waiter` (the process
   * asking, in a kernel call) blocks: for a copy that needs all of it resident (PROCESS_CLONE), or a
   * debugger's access to it (PROCESS_DEBUG_READ). False when a page could
   * not be had (the pager lost it, or no frame for it): it stays out, and `process` meets the
   * fault, if any, when it touches the page itself.
   */
  bringBackAll(process: Process, waiter: Process, pages: readonly number[] = process.space.pagedOutList()): Promise<boolean> {
    const paging = this.paging!;
    const fetchAll = async (): Promise<boolean> => {
      for (const page of pages) {
        if (!process.alive || !waiter.alive) return false;
        if (process.space.pagedVersion(page) === null) continue;
        const answer = await paging.fetch(process, page).catch(() => false as const);
        if (answer === null) continue; // another fetch brought it back meanwhile (the caller looks again)
        if (!answer || !paging.land(process, page, answer)) return false;
      }
      return true;
    };
    return this.blockUntil(waiter, fetchAll());
  }

  /**
   * Blocks `process` (in a kernel call; others run) until `work` settles, with what it gave.
   * Until then the machine is not idle (`run` must not end); once it has, the scheduler, which
   * may be waiting for an interrupt, must look at its run queue again.
   */
  private blockUntil<T>(process: Process, work: Promise<T>): Promise<T> {
    const { scheduler, machine } = this.parts;
    this.pendingPageIns++;
    work.then((value) => {
      this.pendingPageIns--;
      if (process.alive) scheduler.makeReady(process, value);
      machine.interrupts.poke();
    });
    return scheduler.block<T>(process);
  }

  /**
   * Makes `[address, address + length)` of `process` stay resident until its next kernel call
   * begins; throws PageInRequired for a page that is paged out, which the call's wrapper answers
   * by paging it in and calling again (resident-call.ts). A call touches what it will write after
   * a side effect before that side effect, so that calling again repeats nothing.
   */
  touch(process: Process, address: number, length: number): void {
    if (!this.paging || length <= 0) return;
    // Only private pages are ever paged out; the rest of the range is the access's own business.
    const end = Math.min(address + length, process.space.wasmPages * WASM_PAGE_SIZE);
    if (address >= end) return;
    const paged = process.space.firstPagedOut(address, end - address);
    if (paged >= 0) throw new PageInRequired(paged * PAGE_SIZE);
    if (process.inCall) process.space.callRanges.push(address, end - address);
  }

  /** The running process calls the kernel at its next safe point (`safePoint`), where paging can reclaim. */
  private stopAtNextSafePoint(): void {
    const fuel = this.parts.scheduler.current?.fuel;
    if (fuel) fuel.value = 0;
  }
}
