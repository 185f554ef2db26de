import { GLOBAL_SPACE_BASE, MAX_PRIVATE_WASM_PAGES, PAGE_SIZE, tlbEntriesFor } from "../constants.ts";
import { Status } from "../errors.ts";
import { chargeBulk } from "../fuel.ts";
import { PRIORITY_LEVELS } from "../scheduler.ts";
import { tlbFrames } from "../tlb.ts";
import { Capability } from "./capability.ts";
import { CAPPAGE_PAGES, Cappage } from "./cappage.ts";
import { createImage, loadErrorAnswer } from "./image-create.ts";
import { createImageBuilder } from "./image-builder.ts";
import type { ImageObject } from "./image-object.ts";
import { type Invocation, answer, argumentObject, word } from "./invocation.ts";
import { KernelObject } from "./kernel-object.ts";
import { ALL_RIGHTS, DEFAULT_RECEIVER_CAPACITY, MAX_RECEIVER_CAPACITY, ObjectKind, Op, Rights } from "./object-abi.ts";
import type { ObjectKernel } from "./object-kernel.ts";
import type { ObjectServices } from "./object-services.ts";
import { PageObject } from "./page.ts";
import { Receiver, receiverPages } from "./receiver.ts";
import { RegionObject } from "./region.ts";
import type { Process } from "../process.ts";

/** Kinds counted by MEMORY_LIST, in its order. */
export const LISTED_KINDS = [ObjectKind.MEMORY, ObjectKind.PROCESS, ObjectKind.RECEIVER, ObjectKind.PAGE, ObjectKind.CAPPAGE, ObjectKind.REGION, ObjectKind.INTERRUPT] as const;

/** Pages a Memory object itself costs its parent: kernel state is not free. */
export const MEMORY_OBJECT_PAGES = 1;

/**
 * How deep Memories nest at most (the root is 0). Every charge walks a Memory's ancestors, so a
 * Memory 16,000 deep made each page fault and object in it cost the kernel 16,000 steps (its chain
 * took 13 s of kernel time to make, redteam13); no tree of jobs needs more.
 */
export const MAX_MEMORY_DEPTH = 256;

/**
 * Iris' Memory: a container and accounting unit with a page quota. Every object it creates is
 * charged to it, and through it to each ancestor, so a child can never use more than any
 * ancestor allows. Destroying a Memory destroys everything in it.
 *
 * Invariants: `used` is the sum of `chargedPages` over owned objects plus what child Memories use;
 * `used <= quota` for this Memory and every ancestor.
 */
export class MemoryObject extends KernelObject {
  readonly kind = ObjectKind.MEMORY;
  readonly parent: MemoryObject | null;
  private quotaPages: number;
  used = 0;
  /** Its number for introspection (KERNEL_MEMORY): 1 for a root, then in order of creation. */
  readonly id: number;
  /** Live Memories of this tree by id, kept by the root (for KERNEL_MEMORY). */
  private readonly tree: Map<number, MemoryObject>;
  private nextId = 1;
  /** Internal holds that keep it alive without capabilities (the processes living in it). */
  private holds = 0;
  private readonly owned = new Set<KernelObject>();

  /** How many ancestors it has (MAX_MEMORY_DEPTH at most). */
  readonly depth: number;

  constructor(parent: MemoryObject | null, quota: number) {
    super();
    this.parent = parent;
    this.depth = parent ? parent.depth + 1 : 0;
    this.quotaPages = quota;
    const root = parent ? parent.root : this;
    this.tree = parent ? root.tree : new Map();
    this.id = root.nextId++;
    this.tree.set(this.id, this);
  }

  private get root(): MemoryObject {
    let m: MemoryObject = this;
    while (m.parent) m = m.parent;
    return m;
  }

  /** The live Memory of this tree with the lowest id at or above `id`, or null. */
  memoryFrom(id: number): MemoryObject | null {
    let found: MemoryObject | null = null;
    for (const [key, memory] of this.tree) if (key >= id && (!found || key < found.id)) found = memory;
    return found;
  }

  /** The objects charged to it (not its children's), for the invariant checker. */
  ownedObjects(): IterableIterator<KernelObject> {
    return this.owned.values();
  }

  /** Live processes created in it (not in its children). */
  get processCount(): number {
    let n = 0;
    for (const object of this.owned) if (object.kind === ObjectKind.PROCESS && !object.destroyed) n++;
    return n;
  }

  get quota(): number {
    return this.quotaPages;
  }

  /**
   * The root Memory's quota grows by `pages` when a backing store joins physical memory (paging):
   * pages are charged whether resident or with the pager. Only the root's: a child's quota is what
   * its creator gave it.
   */
  extendRoot(pages: number): void {
    if (this.parent !== null) throw new Error("kernel bug: only the root Memory's quota grows with a backing store");
    this.quotaPages += pages;
  }

  /**
   * KERNEL_SET_PAGER: the Memory that pays for the pager's Regions (process 1's own) and every
   * Memory between it and the root grow by the store's `pages` too, so that what process 1 hands
   * out can be larger than physical memory. (The root's own growth is extendRoot's.)
   */
  extendToRoot(pages: number): void {
    for (let m: MemoryObject | null = this; m && m.parent; m = m.parent) m.quotaPages += pages;
  }

  /** Pages that can still be charged here, counting every ancestor's limit. */
  get available(): number {
    let room = Infinity;
    for (let m: MemoryObject | null = this; m; m = m.parent) room = Math.min(room, m.quota - m.used);
    return Math.max(0, room);
  }

  /** Charges `pages` here and to every ancestor; false (nothing charged) when a quota says no. */
  charge(pages: number): boolean {
    if (this.destroyed || pages > this.available) return false;
    for (let m: MemoryObject | null = this; m; m = m.parent) m.used += pages;
    return true;
  }

  uncharge(pages: number): void {
    for (let m: MemoryObject | null = this; m; m = m.parent) m.used -= pages;
  }

  /** Records `object` as created here, charging `pages`; false when the quota is exhausted. */
  adopt(object: KernelObject, pages: number): boolean {
    if (!this.charge(pages)) return false;
    object.payer = this;
    object.chargedPages = pages;
    this.owned.add(object);
    return true;
  }

  /** Called by an object being destroyed: its pages come back. */
  forget(object: KernelObject): void {
    if (!this.owned.delete(object)) return;
    this.uncharge(object.chargedPages);
    object.chargedPages = 0;
  }

  hold(): void {
    this.holds++;
  }

  unhold(): void {
    if (--this.holds === 0 && this.refs === 0 && !this.destroyed) this.destroy();
  }

  protected override persists(): boolean {
    return this.holds > 0;
  }

  /** Counts for MEMORY_LIST: objects of each listed kind, then pages used. */
  list(): number[] {
    const counts = LISTED_KINDS.map((kind) => {
      let n = 0;
      for (const object of this.owned) if (object.kind === kind && !object.destroyed) n++;
      return n;
    });
    return [...counts, this.used];
  }

  protected teardown(): void {
    // Children first, so that processes die before the Memories they live in are gone. What the
    // host still holds for work in flight goes on being paid for, by the nearest Memory that lives.
    for (const object of [...this.owned]) if (!(object.outlivesPayer() && this.handDown(object))) object.destroy();
    this.tree.delete(this.id);
  }

  /**
   * Moves `object`'s charge to the nearest ancestor not destroyed (false: none). Its pages are
   * already counted there and above; only the Memories being destroyed between stop counting them.
   */
  private handDown(object: KernelObject): boolean {
    let heir = this.parent;
    while (heir && heir.destroyed) heir = heir.parent;
    if (!heir) return false;
    for (let m: MemoryObject | null = this; m && m !== heir; m = m.parent) m.used -= object.chargedPages;
    this.owned.delete(object);
    object.payer = heir;
    heir.owned.add(object);
    object.handedDown();
    return true;
  }
}

/** Pages a process costs besides its own memory and its TLB: its page directory (its descriptor is a 32-byte slot of the kernel's process table). */
export const PROCESS_FIXED_PAGES = 1;

/**
 * What a process of `image` costs its Memory besides its own memory: the kernel's frames for it
 * (its TLB sized by its declared maximum memory: src/kernel/tlb.ts) and the host memory its
 * instance may take (tables at their capped maximum, globals; see src/loader/host-cost.ts), so
 * that no program can make the host allocate what no quota pays for.
 */
export function processFixedPages(image: { readonly instanceBytes: number; readonly maximumPages: number }): number {
  return processKernelFrames(image) + Math.ceil(image.instanceBytes / PAGE_SIZE);
}

/** The kernel frames a process of `image` takes when it is made: its TLB and page directory (and a descriptor slot). */
export function processKernelFrames(image: { readonly maximumPages: number }): number {
  return PROCESS_FIXED_PAGES + tlbFrames(tlbEntriesFor(Math.min(image.maximumPages, MAX_PRIVATE_WASM_PAGES)));
}

/** MEMORY_* operations. */
export function invokeMemory(k: ObjectKernel, inv: Invocation, memory: MemoryObject): number | Promise<number> {
  const op = inv.message.label;
  // The caller's own last load error is not the Memory's to guard.
  if (op === Op.MEMORY_LOAD_ERROR) return loadErrorAnswer(inv);
  const need = op === Op.MEMORY_INFO || op === Op.MEMORY_LIST ? Rights.MEMORY_INFO : op === Op.MEMORY_DESTROY ? Rights.MEMORY_DESTROY : Rights.MEMORY_CREATE;
  if (!inv.cap.has(need)) return Status.E_MISSING_RIGHT;
  switch (op) {
    case Op.MEMORY_INFO:
      return answer(inv, [memory.quota, memory.used, memory.available]);
    case Op.MEMORY_LIST:
      return answer(inv, memory.list());
    case Op.MEMORY_DESTROY:
      memory.destroy();
      return Status.OK;
    case Op.MEMORY_CREATE_MEMORY: {
      if (memory.depth >= MAX_MEMORY_DEPTH) return Status.E_QUOTA;
      const child = new MemoryObject(memory, word(inv, 0));
      // A Memory joins its tree's table (KERNEL_MEMORY) as it is made: one its parent cannot pay
      // for must leave it (redteam13: a Memory with no quota left asked 1,000,000 times, and kept
      // 1,000,000 Memories in the table, 329 MB of the host's memory in 5 s).
      if (!memory.adopt(child, MEMORY_OBJECT_PAGES)) {
        child.destroy();
        return Status.E_QUOTA;
      }
      return answer(inv, [], [new Capability(child, ALL_RIGHTS)]);
    }
    case Op.MEMORY_CREATE_RECEIVER: {
      const asked = word(inv, 0);
      if (asked > MAX_RECEIVER_CAPACITY) return Status.E_INVALID_ARGUMENT;
      const receiver = new Receiver(asked === 0 ? DEFAULT_RECEIVER_CAPACITY : asked);
      if (!memory.adopt(receiver, receiverPages(receiver.capacity))) return Status.E_QUOTA;
      return answer(inv, [], [new Capability(receiver, Rights.RECEIVER_RECEIVE | Rights.RECEIVER_MINT)]);
    }
    case Op.MEMORY_CREATE_PROCESS: {
      const image = argumentObject<ImageObject>(inv, 0, ObjectKind.IMAGE, Rights.IMAGE_SPAWN);
      if (typeof image === "number") return image;
      const priority = inv.message.words.length > 0 ? word(inv, 0) : inv.caller.descriptor.priority;
      if (priority < inv.caller.descriptor.priority || priority >= PRIORITY_LEVELS) return Status.E_INVALID_ARGUMENT;
      if (image.image === null) return createProcessWhenLoaded(k, inv, image, memory, priority);
      return answerProcess(k, inv, k.createProcess(image, memory, inv.caller, priority));
    }
    case Op.MEMORY_CREATE_PAGE: {
      if (!k.mayWireFor(inv.caller.pid, 1)) return Status.E_QUOTA;
      if (!memory.charge(1)) return Status.E_QUOTA;
      const frame = k.services.sharedFrames.allocate();
      memory.uncharge(1);
      if (frame === null) return Status.E_QUOTA;
      k.services.memory.zeroFrame(frame);
      const page = new PageObject(k.services, frame);
      memory.adopt(page, 1);
      return answer(inv, [], [new Capability(page, ALL_RIGHTS)]);
    }
    case Op.MEMORY_CREATE_CAPPAGE: {
      const cappage = new Cappage();
      if (!memory.adopt(cappage, CAPPAGE_PAGES)) return Status.E_QUOTA;
      return answer(inv, [], [new Capability(cappage, ALL_RIGHTS)]);
    }
    case Op.MEMORY_CREATE_REGION:
      return createRegion(k, inv, memory);
    case Op.MEMORY_CREATE_IMAGE:
      return createImage(k, inv, memory);
    case Op.MEMORY_CREATE_IMAGE_BUILDER:
      return createImageBuilder(k, inv, memory);
    default:
      return Status.E_INVALID_ARGUMENT;
  }
}

/** MEMORY_CREATE_PROCESS's answer: the new process's capability, or the status it failed with. */
function answerProcess(k: ObjectKernel, inv: Invocation, process: Process | number): number {
  if (typeof process === "number") return process;
  const status = answer(inv, [], [new Capability(process, ALL_RIGHTS)]);
  // A process outlives its capabilities: one nobody can ever start must not be left behind.
  if (status !== Status.OK) k.terminate(process);
  return status;
}

/**
 * MEMORY_CREATE_PROCESS of an Image still loading (a boot module nobody ran yet): the caller
 * blocks, every other process running, until the loader is done; then as for a loaded one. A
 * refusal is E_INVALID_ARGUMENT, its message waiting for MEMORY_LOAD_ERROR as after
 * MEMORY_CREATE_IMAGE.
 */
function createProcessWhenLoaded(k: ObjectKernel, inv: Invocation, image: ImageObject, memory: MemoryObject, priority: number): Promise<number> {
  const caller = inv.caller;
  caller.loadError = "";
  const done = k.scheduler.block<number>(caller);
  k.whenLoaded(image, (outcome) => {
    if (!caller.alive) return;
    if (outcome instanceof Error) {
      caller.loadError = outcome.message;
      k.scheduler.makeReady(caller, Status.E_INVALID_ARGUMENT);
      return;
    }
    // The Image or the Memory may have gone meanwhile: build says so.
    k.scheduler.makeReady(caller, answerProcess(k, inv, k.createProcess(image, memory, caller, priority)));
  });
  return done;
}

function createRegion(k: ObjectKernel, inv: Invocation, memory: MemoryObject): number {
  const region = makeRegion(k.services, memory, word(inv, 0), word(inv, 1), false, (pages) => k.mayWireFor(inv.caller.pid, pages));
  if (typeof region === "number") return region;
  // Zeroing the pages is work in proportion to them: charged like a fill of that size (fuel.ts).
  chargeBulk(inv.caller, region.pages * PAGE_SIZE);
  return answer(inv, [], [new Capability(region, Rights.REGION_OWNER | Rights.REGION_READ)]);
}

/**
 * A zeroed Region of `pages` in `memory`, charged to it; a status when it cannot be had.
 * `filled`: the caller writes every byte of every page before anyone sees it (the kernel's
 * page-outs), so the frames are not zeroed first. `mayWire`: whether the one it is made for may
 * have that many more frames paging cannot evict.
 */
export function makeRegion(services: ObjectServices, memory: MemoryObject, pages: number, flags: number, filled = false, mayWire: (pages: number) => boolean = () => true): RegionObject | number {
  if (pages === 0 || pages > GLOBAL_SPACE_BASE / PAGE_SIZE / 2) return Status.E_INVALID_ARGUMENT;
  // A Region's frames are never paged out: past the kernel's share of the machine, refused (Kernel.mayWireFor).
  if (pages > memory.available || !mayWire(pages)) return Status.E_QUOTA;
  const address = services.globalSpace.allocate(pages);
  if (address === null) return Status.E_QUOTA;
  const frames: number[] = [];
  for (let i = 0; i < pages; i++) {
    const frame = services.sharedFrames.allocate();
    if (frame === null) {
      for (const f of frames) services.sharedFrames.release(f);
      services.globalSpace.release(address, pages);
      return Status.E_QUOTA;
    }
    if (!filled) services.memory.zeroFrame(frame);
    frames.push(frame);
  }
  const region = new RegionObject(services, address, frames, flags);
  memory.adopt(region, pages);
  return region;
}
