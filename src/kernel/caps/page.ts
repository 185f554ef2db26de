import { PAGE_SIZE, WASM_PAGE_SIZE } from "../constants.ts";
import { Status } from "../errors.ts";
import { chargeFuel } from "../fuel.ts";
import { canWrite } from "../message.ts";
import type { Process } from "../process.ts";
import { type Invocation, answer, argumentObject, word } from "./invocation.ts";
import { KernelObject } from "./kernel-object.ts";
import { ObjectKind, Op, PageFlag, Rights } from "./object-abi.ts";
import type { ObjectKernel } from "./object-kernel.ts";
import type { ObjectServices } from "./object-services.ts";
import type { MayWire } from "./shared-frames.ts";

interface PageMapping {
  readonly process: Process;
  readonly address: number;
  writable: boolean;
}

/**
 * Iris' Page: one frame that can be mapped into private windows or at its own global address.
 * Copying shares the frame until someone maps either Page writable; moving hands the frame over.
 *
 * Invariants: a frame shared by more than one Page is never mapped writable; `mappings` lists
 * exactly the page-table entries that name this Page's frame (for live processes).
 */
export class PageObject extends KernelObject {
  readonly kind = ObjectKind.PAGE;
  frame: number;
  flags = 0;
  globalAddress = 0;
  private mappings: PageMapping[] = [];
  private readonly services: ObjectServices;

  constructor(services: ObjectServices, frame: number) {
    super();
    this.services = services;
    this.frame = frame;
  }

  get mappingCount(): number {
    return this.live().length;
  }

  /** The mappings its operations walk (those of ended processes too, until the next walk drops them). */
  get mappingWork(): number {
    return this.mappings.length;
  }

  override ownsFrame(frame: number): boolean {
    return !this.destroyed && frame === this.frame;
  }

  /** Maps the page at `address` in `process`; a status-like reason string when it cannot. */
  map(process: Process, address: number, writable: boolean, mayWire: MayWire): "ok" | "not-shared" | "read-only" | "no-memory" {
    if (writable && this.flags & PageFlag.READ_ONLY) return "read-only";
    const others = this.live().filter((m) => m.process !== process);
    if (others.length > 0 && (this.flags & PageFlag.SHARED) === 0) return "not-shared";
    if (writable && !this.ownFrame(mayWire)) return "no-memory";
    if (!process.space.mapFrame(address, this.frame, this, writable)) return "no-memory";
    const previous = process.pageAt?.get(address);
    if (previous && previous !== this) {
      chargeFuel(process, previous.mappingWork);
      previous.forget(process, address);
    }
    (process.pageAt ??= new Map()).set(address, this);
    this.mappings = this.live().filter((m) => !(m.process === process && m.address === address));
    this.mappings.push({ process, address, writable });
    return "ok";
  }

  /** Removes this Page's mapping at `address` in `process`; false if it is not mapped there. */
  unmap(process: Process, address: number): boolean {
    const at = this.mappings.findIndex((m) => m.process === process && m.address === address);
    if (at < 0) return false;
    this.mappings.splice(at, 1);
    process.pageAt?.delete(address);
    if (process.alive) process.space.unmap(address);
    return true;
  }

  /** Another Page was mapped over this one at `address`: the entry is no longer ours. */
  forget(process: Process, address: number): void {
    this.mappings = this.mappings.filter((m) => !(m.process === process && m.address === address));
  }

  /** The global address, allocated on first use; null when the global space is full. */
  ensureGlobalAddress(): number | null {
    if (this.globalAddress === 0) this.globalAddress = this.services.globalSpace.allocate(1) ?? 0;
    return this.globalAddress === 0 ? null : this.globalAddress;
  }

  setFlags(flags: number): void {
    this.flags = flags & (PageFlag.READ_ONLY | PageFlag.SHARED);
    if (this.flags & PageFlag.READ_ONLY) this.remapAll(false);
  }

  /** Makes `target` hold these bytes: shares the frame unless either side is mapped writable. */
  copyTo(target: PageObject, mayWire: MayWire): boolean {
    if (target === this) return true;
    const writableHere = this.live().some((m) => m.writable);
    const writableThere = target.live().some((m) => m.writable);
    if (writableHere || writableThere) {
      if (!target.ownFrame(mayWire)) return false;
      const bytes = this.services.memory.bytes;
      bytes.copyWithin(target.frame * PAGE_SIZE, this.frame * PAGE_SIZE, (this.frame + 1) * PAGE_SIZE);
      return true;
    }
    this.services.sharedFrames.share(this.frame);
    target.replaceFrame(this.frame);
    return true;
  }

  /** Hands this Page's frame to `target` without copying; this Page gets a fresh zero frame. */
  moveTo(target: PageObject, mayWire: MayWire): boolean {
    if (target === this) return true;
    // The fresh frame is one more unless the target's goes back (it shares it with no other Page).
    if (this.services.sharedFrames.holders(target.frame) > 1 && !mayWire(1)) return false;
    const fresh = this.services.sharedFrames.allocate();
    if (fresh === null) return false;
    this.services.memory.zeroFrame(fresh);
    this.unmapAll();
    const frame = this.frame;
    this.frame = fresh;
    target.replaceFrame(frame);
    return true;
  }

  protected teardown(): void {
    this.unmapAll();
    this.services.sharedFrames.release(this.frame);
    if (this.globalAddress !== 0) this.services.globalSpace.release(this.globalAddress, 1);
  }

  /** Takes `frame` (already counted for this Page) in place of the current one, remapping. */
  private replaceFrame(frame: number): void {
    this.services.sharedFrames.release(this.frame);
    this.frame = frame;
    const shared = this.services.sharedFrames.holders(frame) > 1;
    for (const mapping of this.live()) {
      if (shared) mapping.writable = false;
      mapping.process.space.mapFrame(mapping.address, frame, this, mapping.writable);
    }
  }

  /**
   * Gives this Page a frame no other Page shares (copying the bytes); false when out of memory or
   * `mayWire` refuses the frame: Pages made under the limit, then copies of one (PAGE_COPY: their
   * own frames went back), each made its own by a writable mapping, took every frame of the
   * machine as frames paging cannot take back (redteam19).
   */
  private ownFrame(mayWire: MayWire): boolean {
    if (this.services.sharedFrames.holders(this.frame) <= 1) return true;
    if (!mayWire(1)) return false;
    const fresh = this.services.sharedFrames.allocate();
    if (fresh === null) return false;
    const bytes = this.services.memory.bytes;
    bytes.copyWithin(fresh * PAGE_SIZE, this.frame * PAGE_SIZE, (this.frame + 1) * PAGE_SIZE);
    this.services.sharedFrames.release(this.frame);
    this.frame = fresh;
    for (const mapping of this.live()) mapping.process.space.mapFrame(mapping.address, fresh, this, mapping.writable);
    return true;
  }

  private unmapAll(): void {
    for (const mapping of this.live()) {
      mapping.process.space.unmap(mapping.address);
      mapping.process.pageAt?.delete(mapping.address);
    }
    this.mappings = [];
  }

  private remapAll(writable: boolean): void {
    for (const mapping of this.live()) {
      mapping.writable = mapping.writable && writable;
      mapping.process.space.mapFrame(mapping.address, this.frame, this, mapping.writable);
    }
  }

  /** Mappings of processes still alive (an ended process's table is gone already). */
  private live(): PageMapping[] {
    if (this.mappings.some((m) => !m.process.alive)) this.mappings = this.mappings.filter((m) => m.process.alive);
    return this.mappings;
  }
}

/** PAGE_* operations. */
export function invokePage(k: ObjectKernel, inv: Invocation, page: PageObject): number {
  const status = pageOperation(k, inv, page);
  // Its operations walk its mappings, a unit of fuel each, so that a loop of them looks at the
  // clock: a Page mapped at 40,000 addresses took 1.8 ms a PAGE_MAP for a unit or two, and a loop
  // of them kept every other process waiting for seconds between two looks (redteam13).
  chargeFuel(inv.caller, page.mappingWork);
  return status;
}

function pageOperation(k: ObjectKernel, inv: Invocation, page: PageObject): number {
  const op = inv.message.label;
  const mayWire: MayWire = (frames) => k.mayWireFor(inv.caller.pid, frames);
  const writable = word(inv, op === Op.PAGE_MAP ? 1 : 0) !== 0;
  switch (op) {
    case Op.PAGE_MAP: {
      const address = word(inv, 0);
      if (!inv.cap.has(Rights.PAGE_READ) || (writable && !inv.cap.has(Rights.PAGE_WRITE))) return Status.E_MISSING_RIGHT;
      if (address % PAGE_SIZE !== 0 || address < PAGE_SIZE || address >= inv.caller.space.wasmPages * WASM_PAGE_SIZE) {
        return Status.E_BAD_ADDRESS;
      }
      return mapStatus(page.map(inv.caller, address, writable, mayWire));
    }
    case Op.PAGE_UNMAP:
      return page.unmap(inv.caller, word(inv, 0)) ? Status.OK : Status.E_BAD_ADDRESS;
    case Op.PAGE_MAP_GLOBAL: {
      if (!inv.cap.has(Rights.PAGE_READ) || (writable && !inv.cap.has(Rights.PAGE_WRITE))) return Status.E_MISSING_RIGHT;
      // Checked first: a refused answer must leave nothing mapped.
      const answerable = canWrite(inv.caller, inv.buffer, 1, 0);
      if (answerable !== Status.OK) return answerable;
      const address = page.ensureGlobalAddress();
      if (address === null) return Status.E_QUOTA;
      const status = mapStatus(page.map(inv.caller, address, writable, mayWire));
      return status === Status.OK ? answer(inv, [address]) : status;
    }
    case Op.PAGE_COPY:
    case Op.PAGE_MOVE: {
      const need = op === Op.PAGE_COPY ? Rights.PAGE_READ : Rights.PAGE_WRITE;
      if (!inv.cap.has(need)) return Status.E_MISSING_RIGHT;
      const target = argumentObject<PageObject>(inv, 0, ObjectKind.PAGE, Rights.PAGE_WRITE);
      if (typeof target === "number") return target;
      if (target.flags & PageFlag.READ_ONLY) return Status.E_MISSING_RIGHT;
      chargeFuel(inv.caller, target.mappingWork);
      const done = op === Op.PAGE_COPY ? page.copyTo(target, mayWire) : page.moveTo(target, mayWire);
      return done ? Status.OK : Status.E_QUOTA;
    }
    case Op.PAGE_SET_FLAGS:
      if (!inv.cap.has(Rights.PAGE_WRITE)) return Status.E_MISSING_RIGHT;
      if (word(inv, 0) & ~(PageFlag.READ_ONLY | PageFlag.SHARED)) return Status.E_INVALID_ARGUMENT;
      page.setFlags(word(inv, 0));
      return Status.OK;
    case Op.PAGE_INFO:
      return answer(inv, [page.flags, page.globalAddress, page.mappingCount]);
    default:
      return Status.E_INVALID_ARGUMENT;
  }
}

function mapStatus(result: ReturnType<PageObject["map"]>): number {
  if (result === "ok") return Status.OK;
  if (result === "read-only") return Status.E_MISSING_RIGHT;
  if (result === "not-shared") return Status.E_NOT_READY;
  return Status.E_QUOTA;
}
