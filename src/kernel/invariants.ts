import type { MemoryObject } from "./caps/memory-object.ts";
import { Receiver } from "./caps/receiver.ts";
import { FRAME_OBJECT } from "./caps/shared-frames.ts";
import { ObjectKind } from "./caps/object-abi.ts";
import { PAGE_SHIFT, PAGE_SIZE } from "./constants.ts";
import { hex } from "./fault.ts";
import type { Kernel } from "./kernel.ts";
import { PTE_CLEAN, PTE_COW, PTE_PAGED, PTE_READ, PTE_SHARED, PTE_WRITE } from "./page-table.ts";
import type { Process } from "./process.ts";
import { pageKey } from "./stored-pages.ts";
import { TLB_INVALID_TAG } from "./tlb.ts";

/**
 * The kernel's memory invariants, checked from the outside after any step (the fuzzers call it
 * after every one; the adversarial tests after each attack). Returns what is broken, one line each;
 * an empty list means all hold:
 *
 * - a page of a live process that is out holds a slot in the kernel's map of the store, and a slot
 *   is held only by a page that is out or kept for a resident page back from it (clean pages): a
 *   slot kept for an entry that went was never freed; a page-in's answer waited for the process's
 *   next turn with its slot already freed (redteam17);
 * - every frame a page table maps is allocated; a shared mapping's owner is live and owns the frame
 *   (so no mapping outlives what it maps: issue 16's first finding);
 * - a private frame belongs to its process and is mapped exactly once; a copy-on-write frame is
 *   counted in SharedFrames at least once per entry naming it;
 * - page 0 is in no TLB while it is checked, and nothing is mapped below a space's null limit;
 * - every TLB entry agrees with the page table (same frame, a right the entry allows; never a
 *   write entry for a copy-on-write page, nor an entry a debugger's watchpoint withholds), in
 *   every table the TLB has had (code entered before it grew still reads the older ones);
 * - every frame tagged with a pid belongs to a live process that maps it; the allocator's count of
 *   frames that cannot be paged out (the kernel's and its objects', which bound what unpinned
 *   processes may have made: FrameAllocator wiredLimit) is what the tags say;
 * - a TLB's frames released clean, which the next TLB takes as they are, hold no valid entry;
 * - quotas add up: each Memory's `used` is what its objects, its processes' pages and its
 *   children use, and no more than its quota;
 * - a Receiver with a contract (one a live process holds) counts its queue right: no endpoint
 *   beyond its bound, the unreserved messages within its capacity;
 * - a process waiting for the deadline of a reply given with REPLY_AT is blocked, and the process
 *   that gave it lives (its end ends the wait).
 *
 * Cost is linear in the mapped pages and TLB entries of all processes: for tests, not for the
 * running system.
 */
export function checkInvariants(kernel: Kernel): string[] {
  const broken: string[] = [];
  const privateFrames = new Map<number, number>();
  const cowEntries = new Map<number, number>();
  for (const process of kernel.processes.values()) {
    if (!process.alive) continue;
    checkPageTable(kernel, process, broken, privateFrames, cowEntries);
    checkTlb(process, broken);
    checkDeferredAnswer(process, broken);
  }
  for (const [frame, entries] of cowEntries) {
    const holders = kernel.services.sharedFrames.holders(frame);
    if (holders < entries) broken.push(`frame ${frame} is named by ${entries} copy-on-write entries but counted for ${holders} holders`);
  }
  let wired = 1; // frame 0, the kernel's
  for (let frame = 1; frame < kernel.frames.frameCount; frame++) {
    if (!kernel.frames.isUsed(frame)) continue;
    const owner = kernel.frames.owner(frame);
    if (owner < 0) wired++;
    if (owner > 0 && privateFrames.get(frame) !== owner) broken.push(`frame ${frame} is tagged for pid ${owner}, which does not map it privately`);
    if (owner === FRAME_OBJECT && kernel.services.sharedFrames.holders(frame) === 0) broken.push(`frame ${frame} is an object's frame that no holder counts`);
  }
  if (wired !== kernel.frames.wiredCount) broken.push(`${wired} frames are the kernel's or its objects', but the allocator counts ${kernel.frames.wiredCount} wired`);
  checkCleanTlbs(kernel, broken);
  checkQuotas(kernel.rootMemory, broken);
  checkContractQueues(kernel, broken);
  return broken;
}

function checkDeferredAnswer(process: Process, broken: string[]): void {
  const replier = process.deferredBy;
  if (replier === null) return;
  if (!replier.alive) broken.push(`pid ${process.pid} waits for the deadline of a reply from pid ${replier.pid}, which has ended`);
  if (process.state !== "blocked" && process.state !== "suspended") broken.push(`pid ${process.pid} waits for the deadline of a reply but is ${process.state}`);
}

function checkContractQueues(kernel: Kernel, broken: string[]): void {
  const seen = new Set<Receiver>();
  for (const process of kernel.processes.values()) {
    if (!process.alive) continue;
    for (const [, cap] of process.caps.entries()) {
      const object = cap.object;
      if (!(object instanceof Receiver) || object.contract === null || seen.has(object)) continue;
      seen.add(object);
      broken.push(...object.contractAccountingErrors());
    }
  }
}

function checkPageTable(kernel: Kernel, process: Process, broken: string[], privateFrames: Map<number, number>, cowEntries: Map<number, number>): void {
  const { space, pid } = process;
  const where = (page: number) => `pid ${pid}, page ${hex(page * PAGE_SIZE)}`;
  // Entries with a frame of this space's own (copy-on-write ones included): the space's end
  // releases that many and stops looking (AddressSpace.destroy), so the count must be exact.
  let withFrames = 0;
  const stored = kernel.paging?.stored;
  space.forEachEntry((page, frame, flags) => {
    const address = (page << PAGE_SHIFT) >>> 0;
    if (flags & PTE_PAGED) {
      if (frame !== 0) broken.push(`${where(page)}: paged out but names frame ${frame}`);
      if (stored && !stored.get(pageKey(pid, page))) broken.push(`${where(page)}: paged out with no store slot`);
      return;
    }
    if (frame === 0) return; // rights without a frame yet
    if (address < space.nullLimit && page === 0 && space.nullLimit >= PAGE_SIZE) broken.push(`${where(page)}: page 0 is mapped, below the null limit`);
    if (!kernel.frames.isUsed(frame)) {
      broken.push(`${where(page)}: maps frame ${frame}, which is free`);
      return;
    }
    if (flags & PTE_SHARED) {
      const owner = space.ownerAt(address);
      if (!owner) broken.push(`${where(page)}: a shared mapping with no owner`);
      else if (owner.destroyed) broken.push(`${where(page)}: maps frame ${frame} of ${owner.ownerName}, which is gone`);
      else if (!owner.ownsFrame(frame, address)) broken.push(`${where(page)}: maps frame ${frame}, which ${owner.ownerName} does not own there`);
      return;
    }
    if (space.ownerAt(address)) broken.push(`${where(page)}: a private page with an owner`);
    withFrames++;
    if (flags & PTE_COW) {
      cowEntries.set(frame, (cowEntries.get(frame) ?? 0) + 1);
      if (kernel.frames.owner(frame) !== FRAME_OBJECT) broken.push(`${where(page)}: copy-on-write frame ${frame} is not counted as shared`);
      return;
    }
    if (kernel.frames.owner(frame) !== pid) broken.push(`${where(page)}: private frame ${frame} is tagged for ${kernel.frames.owner(frame)}`);
    if (privateFrames.has(frame)) broken.push(`${where(page)}: private frame ${frame} is mapped twice`);
    privateFrames.set(frame, pid);
  });
  if (withFrames !== space.residentPages) broken.push(`pid ${pid}: ${withFrames} private pages have frames, it counts ${space.residentPages}`);
  // A slot is the copy of a page that is out, or one kept for a page back from it (clean pages: a
  // written one gives its slot up at its next eviction, or at its process's end).
  for (const page of stored?.pagesOf(pid) ?? []) {
    const kept = stored!.keptAt(pageKey(pid, page)) !== undefined;
    const out = space.pagedVersion(page) !== null;
    if (!out && !kept) broken.push(`${where(page)}: holds a store slot but is not paged out`);
    if (out && kept) broken.push(`${where(page)}: is paged out, but its slot is kept as a resident page's`);
  }
}

function checkTlb(process: Process, broken: string[]): void {
  const { space, pid } = process;
  const entries = new Map<number, { frame: number; flags: number }>();
  space.forEachEntry((page, frame, flags) => entries.set(page, { frame, flags }));
  const tlb = space.tlb;
  /** The index of each victim entry's first valid half's page: its other valid half must have it too. */
  const victimIndex = new Map<number, number>();
  for (const entry of tlb.validEntries()) {
    const kind = entry.write ? "write" : "read";
    const mapped = entries.get(entry.address >>> PAGE_SHIFT);
    const victim = entry.entry >= tlb.entries;
    const where = `pid ${pid}: ${kind} TLB ${victim ? `victim entry ${entry.entry - tlb.entries}` : "entry"} for ${hex(entry.address)}`;
    // A compare at entry i holds only for an access inside one page because entry i holds only
    // pages of index i; a victim goes back to the entry of the page it is found for, with both
    // its halves (src/kernel/tlb.ts).
    const index = (entry.address >>> PAGE_SHIFT) & (tlb.entries - 1);
    if (!victim && index !== entry.entry) broken.push(`${where} is in entry ${entry.entry}, not its page's ${index}`);
    if (victim && (victimIndex.get(entry.entry) ?? index) !== index) broken.push(`${where}: its halves are pages of different entries`);
    if (victim) victimIndex.set(entry.entry, index);
    if (entry.address < PAGE_SIZE && !space.pageZeroUnchecked) broken.push(`${where}: page 0 never enters a TLB, or its null bytes would stop faulting`);
    if (!mapped || mapped.flags & PTE_PAGED || mapped.frame === 0) broken.push(`${where} has no page behind it`);
    else if (mapped.frame !== entry.frame) broken.push(`${where} names frame ${entry.frame}, the page table ${mapped.frame}`);
    else if ((mapped.flags & (entry.write ? PTE_WRITE : PTE_READ)) === 0) broken.push(`${where} grants a right the page does not have`);
    else if (entry.write && mapped.flags & PTE_COW) broken.push(`${where} lets a copy-on-write page be written`);
    // A write must reach translate to make a clean page dirty, or its eviction would drop the write.
    else if (entry.write && mapped.flags & PTE_CLEAN) broken.push(`${where} lets a clean page be written unseen`);
    // The loader's shared check for a group of loads and stores reads the write half alone
    // (src/loader/access-groups.ts): a page one may write through the TLB one may read through it.
    else if (entry.write && (mapped.flags & PTE_READ) === 0) broken.push(`${where} is for a page that may not be read`);
    // The fast path reads `a + home` for a plain tag without the addend (src/kernel/tlb.ts).
    else if (entry.home && (((entry.frame << PAGE_SHIFT) - entry.address) | 0) !== space.tlb.home) broken.push(`${where} says home, but frame ${entry.frame} is not its page plus the home addend`);
    const page = entry.address >>> PAGE_SHIFT;
    if (space.watches && (entry.write ? space.watches.withholdsWrite(page) || space.watches.withholdsRead(page) : space.watches.withholdsRead(page))) broken.push(`${where}: the page is watched, and the entry would let accesses pass unseen`);
  }
}

/** Every tag word of a block kept clean is invalid: a process given it must find no entry of another. */
function checkCleanTlbs(kernel: Kernel, broken: string[]): void {
  const words = kernel.machine.memory.words;
  for (const [first, count] of kernel.frames.cleanBlocksLeft()) {
    const start = (first * PAGE_SIZE) >>> 2;
    for (let at = start; at < start + ((count * PAGE_SIZE) >>> 2); at += 2) {
      if (words[at] !== TLB_INVALID_TAG) {
        broken.push(`frame ${first + Math.floor((at - start) / (PAGE_SIZE >>> 2))}, kept clean for a TLB, holds tag ${hex(words[at]! >>> 0)} at +${((at - start) * 4) % PAGE_SIZE}`);
        break;
      }
    }
  }
}

/** `used` of each Memory of the tree below `memory`, recomputed, against what it says. */
function checkQuotas(memory: MemoryObject, broken: string[]): number {
  let used = 0;
  for (const object of memory.ownedObjects()) {
    used += object.chargedPages;
    if (object.kind === ObjectKind.MEMORY) used += checkQuotas(object as MemoryObject, broken);
    if (object.kind === ObjectKind.PROCESS && (object as Process).alive) used += (object as Process).space.chargedPages;
  }
  if (used !== memory.used) broken.push(`Memory ${memory.id} says it uses ${memory.used} pages; what it holds adds up to ${used}`);
  if (memory.used > memory.quota) broken.push(`Memory ${memory.id} uses ${memory.used} pages of a quota of ${memory.quota}`);
  return memory.used;
}
