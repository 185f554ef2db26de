import { GLOBAL_SPACE_BASE, PAGE_SIZE } from "../constants.ts";
import { chargeBulk, chargeFuel } from "../fuel.ts";
import { ProcessFault } from "../fault.ts";
import { PageInRequired } from "../paging-hooks.ts";
import type { Process } from "../process.ts";
import { Status } from "../errors.ts";
import { Capability } from "./capability.ts";
import { canWrite } from "../message.ts";
import { type Invocation, answer, argumentObject, word } from "./invocation.ts";
import type { MemoryObject } from "./memory-object.ts";
import { KernelObject } from "./kernel-object.ts";
import { ObjectKind, Op, RegionFlag, Rights } from "./object-abi.ts";
import type { ObjectKernel } from "./object-kernel.ts";
import type { ObjectServices } from "./object-services.ts";
import type { MayWire } from "./shared-frames.ts";

interface Holding {
  owner: number;
  views: number;
  /** The access the range is mapped with in full in this process (UNMAPPED after a page table could not be had). */
  mapped: Access;
  /** Pages charged to the process for keeping the freed range reserved (reserveFor); 0: none. */
  reserved: number;
}

/** Pages of the global space, `[GLOBAL_SPACE_BASE, 2^32)`. */
const GLOBAL_SPACE_PAGES = (2 ** 32 - GLOBAL_SPACE_BASE) / PAGE_SIZE;

/** How a process may reach the range: what its capabilities give it. */
const Access = { UNMAPPED: -1, NONE: 0, READ: 1, WRITE: 2 } as const;
type Access = (typeof Access)[keyof typeof Access];

/**
 * DogmaOS' memory capability: a page-aligned range of the global space with exactly one owner,
 * which has it mapped read-write, and read-only views. The range is mapped by the MMU according
 * to the capabilities each table holds, so moving the owner capability to another process takes
 * the sender's access away in the same step: nothing is trusted, nothing is copied.
 *
 * Invariants: at most one owner capability exists (it cannot be copied); a process has the range
 * mapped read-write iff its table holds the owner capability and the Region is not freed, and
 * read-only iff it holds only views; once freed with ZERO_ON_FREE its frames are back with the
 * allocator and views read the zero frame.
 *
 * The range of a freed Region stays reserved in the global space (one address, the same in every
 * process) until its last capability goes, so whoever keeps it pays for it: once its frames went
 * back, each process holding a view is charged `reservedCost` pages (to its own account, as its
 * private pages are) until it holds none. When one cannot pay, the Region's own Memory keeps
 * `reservedCost` of its charge until the last view goes (a view held is never taken away: a server
 * would fault on, or read another Region at, the address it kept).
 * A newcomer that cannot pay is refused the view at install. So the views a process keeps of freed
 * Regions are bounded by its quota, or by the Region's, and all the quotas of a machine cannot
 * fill the global space. Capabilities outside tables (in a Cappage, in a queued message) pay
 * nothing, so they do not keep the range: once no table holds the freed Region it is destroyed,
 * and they are stale. Nor does its Memory's destruction take a Region from a process that holds
 * it elsewhere: it lives on, charged to the nearest Memory that lives, until the last table
 * drops it (`outlivesPayer`).
 *
 * Copy-on-write clones (REGION_CLONE): both Regions hold the same frames (one SharedFrames holder
 * each) and list those pages in `cow`; a `cow` page is mapped read-only even for the owner, marked
 * PTE_COW, and the owner's first write to it (`splitPage`) gives this Region a frame of its own
 * (or, when it is the frame's last holder, keeps it) and remaps it in every holder. A Region with a
 * device DMA-ing into it is never cloned, and one that is cloned splits every page before a device
 * gets it: devices write frames directly, past the MMU.
 *
 * Fillers (REGION_FILLER): the owner may let another process write into the range without
 * mapping it there, as a device's DMA does: a filler capability (REGION_FILL) has the kernel copy
 * bytes from its holder's memory into the frames (REGION_FILL). The range stays mapped writable in
 * one process only, the owner's, so no two processes ever share a writable mapping; what the
 * owner grants is that its own pages may change under it, by whoever holds the filler. A filler
 * works only while the process that made it holds the owner capability: an owner that moves on
 * (or is freed) takes every filler's right with it, so whoever receives a Region owner can be
 * written only by fillers it makes itself. REGION_REVOKE_FILLERS ends the fillers made so far.
 * (Moving back to the process that made them revives them: that process granted them.)
 */
export class RegionObject extends KernelObject {
  readonly kind = ObjectKind.REGION;
  readonly address: number;
  readonly pages: number;
  readonly flags: number;
  freed = false;
  /** Its Memory was destroyed while other processes held it: it lives until the last table drops it. */
  private orphaned = false;
  /** Freed with ZERO_ON_FREE while a view holder could not pay: its Memory keeps paying for the range (releaseFrames). */
  private payerReserves = false;
  private frames: number[];
  /** Pages whose frame another Region may share (copy-on-write). */
  private readonly cow = new Set<number>();
  private readonly holdings = new Map<Process, Holding>();
  /**
   * The process its owner capability was first installed in (its maker: MEMORY_CREATE_REGION's,
   * REGION_CLONE's caller, the process the kernel made it for), the only one that may make views
   * and fillers of it (`mayShare`).
   */
  private home: WeakRef<Process> | null = null;
  /** Fillers are valid while their badge is `fillEpoch` and `fillGrantor` owns the range. */
  private fillEpoch = 0;
  private fillGrantor: Process | null = null;
  /** Told when the owner's access ends, before the frames can go back (a device DMA-ing must stop). */
  readonly beforeRelease = new Set<() => void>();
  /**
   * Told when a process gives up its owner capability (`owns` false) or stops holding it at all
   * (`holds` false): a device grant it made through what it gave up ends.
   */
  readonly whenLessHeld = new Set<(process: Process, owns: boolean, holds: boolean) => void>();
  private readonly services: ObjectServices;

  constructor(services: ObjectServices, address: number, frames: number[], flags: number) {
    super();
    this.services = services;
    this.address = address;
    this.pages = frames.length;
    this.frames = frames;
    this.flags = flags & RegionFlag.ZERO_ON_FREE;
  }

  /** The frames behind the range; empty once they went back (freed with ZERO_ON_FREE). */
  get frameList(): readonly number[] {
    return this.frames;
  }

  /**
   * A copy of `length` bytes from the start of the range (zeros where the frames went back), for
   * the kernel operations that take their input from a Region. The caller checks the bounds.
   */
  read(length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let i = 0; i * PAGE_SIZE < length && this.frames.length > 0; i++) {
      const start = this.frames[i]! * PAGE_SIZE;
      out.set(this.services.memory.bytes.subarray(start, start + Math.min(PAGE_SIZE, length - i * PAGE_SIZE)), i * PAGE_SIZE);
    }
    return out;
  }

  override ownsFrame(frame: number, address: number): boolean {
    const index = this.pageOf(address);
    if (this.destroyed || index === null) return false;
    return frame === (this.frames.length > 0 ? this.frames[index] : this.services.zeroFrame);
  }

  /** Whether `process` holds the owner capability now. */
  ownedBy(process: Process): boolean {
    return !this.freed && (this.holdings.get(process)?.owner ?? 0) > 0;
  }

  /**
   * Whether `process` may make what maps the range elsewhere — views (REGION_VIEW), fillers that
   * read (REGION_FILLER; another owner's fill only) — : only its maker. Such a capability outlives
   * the owner's moving on, and is never taken away; so a server a client lends its buffer to for
   * one call (a READ's Region, the buffer a block client moves to its driver) must not be able to
   * make one, or it would read whatever the client puts there after, for itself and for every other
   * server (redteam8). A process given a Region for good that wants to share it shares a
   * REGION_CLONE of it.
   */
  mayShare(process: Process): boolean {
    return this.home?.deref() === process;
  }

  override installedIn(process: Process, cap: Capability): void {
    // A destroyed Region's range may belong to another Region now: stale capabilities map nothing.
    // A filler alone maps nothing either: its holder reaches the range only through the kernel.
    if (this.destroyed || !mapsRange(cap)) return;
    const holding = this.holdings.get(process) ?? { owner: 0, views: 0, mapped: Access.NONE, reserved: 0 };
    // Weakly: a Region that outlives its maker must not keep the ended process's objects alive.
    if (cap.has(Rights.REGION_OWNER) && this.home === null) this.home = new WeakRef(process);
    if (cap.has(Rights.REGION_OWNER)) holding.owner++;
    else holding.views++;
    this.holdings.set(process, holding);
    // A view of a range whose frames went back (passed on, or copied): the newcomer pays for it too.
    if (this.holdsNoFrames && process.alive && !this.reserveFor(process, holding)) return this.refuse(process, cap);
    this.remapIfChanged(process, holding);
  }

  override removedFrom(process: Process, cap: Capability): void {
    const holding = this.holdings.get(process);
    if (!holding || this.destroyed || !mapsRange(cap)) return;
    if (cap.has(Rights.REGION_OWNER)) holding.owner--;
    else holding.views--;
    this.remapIfChanged(process, holding);
    const holds = holding.owner + holding.views > 0;
    if (!holds || (cap.has(Rights.REGION_OWNER) && holding.owner === 0)) {
      for (const told of [...this.whenLessHeld]) told(process, holding.owner > 0, holds);
    }
    if (!holds) {
      this.holdings.delete(process);
      if (holding.reserved > 0) process.space.unchargeReserved(holding.reserved);
      if (this.orphaned && this.holdings.size === 0) this.destroy();
      else this.dropIfUnpaid();
    }
  }

  /**
   * A Region in the table of a process that lives on outlives its Memory (charged to the nearest
   * Memory that lives), frames, mappings and all, until the last table drops it: its range is never
   * unmapped under a holder, nor given to another Region while a holder may still use the address
   * (redteam5: a client destroyed the Memory of a buffer the file system kept a view of, and the
   * server's next WRITE from it read a Region of its own that had taken the range).
   */
  override outlivesPayer(): boolean {
    return !this.destroyed && this.holdings.size > 0;
  }

  /**
   * Its Memory was destroyed: once no owner is left (freed now or later), its frames go back and
   * the views that keep it read zeros, as after a ZERO_ON_FREE free, so that the Memory above pays
   * for its range at most, not for frames nobody may write (a job that left a big buffer viewed by
   * a server would otherwise have its parent pay for it until the server let go).
   */
  override handedDown(): void {
    this.orphaned = true;
    if (this.freed) this.releaseForViews();
  }

  /** Whether a device DMAs into it now. */
  get dmaAttached(): boolean {
    return this.beforeRelease.size > 0;
  }

  /**
   * What a device may do in the range for `process`, who holds it (DEVICE_GRANT) through a
   * capability that is its owner (`asOwner`) or a view: "write" for the owner, "read" for a view
   * of frames still there, null when it holds nothing that maps the range
   * or the frames went back; false when the frames cannot be unshared. Either way every page gets a
   * frame of its own first, as for a window: a frame shared copy-on-write would be split under the
   * device, which would go on reading (or writing) the one this Region no longer has.
   */
  grantableBy(process: Process, asOwner: boolean, mayWire: MayWire): "write" | "read" | null | false {
    const holding = this.holdings.get(process);
    if (this.destroyed || !holding || holding.owner + holding.views === 0 || this.frames.length === 0) return null;
    if (!this.unshareAll(mayWire)) return false;
    return asOwner && this.ownedBy(process) ? "write" : "read";
  }

  /**
   * A copy-on-write clone at a global address of its own, charged to `memory` in full (so a split
   * never fails for quota): a status when it cannot be had.
   */
  cloneInto(memory: MemoryObject): RegionObject | number {
    if (this.freed || this.frames.length === 0) return Status.E_PEER_DEAD;
    if (this.dmaAttached) return Status.E_NOT_READY;
    if (this.pages > memory.available) return Status.E_QUOTA;
    const address = this.services.globalSpace.allocate(this.pages);
    if (address === null) return Status.E_QUOTA;
    for (const frame of this.frames) this.services.sharedFrames.share(frame);
    const clone = new RegionObject(this.services, address, [...this.frames], this.flags);
    memory.adopt(clone, this.pages);
    for (let i = 0; i < this.pages; i++) {
      this.cow.add(i);
      clone.cow.add(i);
    }
    for (const process of this.holdings.keys()) this.remap(process);
    return clone;
  }

  /**
   * The owner wrote to copy-on-write page `index`: it gets a frame of this Region's own. False when
   * none is left, or `mayWire` refuses it: clones cost no frame until they split, so that check is
   * here (redteam19: clones of one 16-page Region, each page written, took every frame of the
   * machine as frames paging cannot take back, charged to a quota larger than the machine).
   */
  splitPage(index: number, mayWire: MayWire): boolean {
    if (!this.cow.has(index)) return true;
    const frame = this.frames[index]!;
    const shared = this.services.sharedFrames;
    if (shared.holders(frame) > 1) {
      if (!mayWire(1)) return false;
      const fresh = shared.allocate();
      if (fresh === null) return false;
      const bytes = this.services.memory.bytes;
      bytes.copyWithin(fresh * PAGE_SIZE, frame * PAGE_SIZE, (frame + 1) * PAGE_SIZE);
      shared.release(frame);
      this.frames[index] = fresh;
    }
    this.cow.delete(index);
    // That page alone changed: remapping the whole range here made a fill (or a device's unshare)
    // over n shared pages n² page-table updates in one kernel call (redteam6).
    for (const process of this.holdings.keys()) this.remapPage(process, index);
    return true;
  }

  /**
   * A filler for the owner `grantor` (REGION_FILLER): a view that may also fill the range; fill
   * only (mapping nothing) when the grantor is not the Region's maker (`mayShare`). The fillers of
   * an earlier owner stop working (a new epoch).
   */
  filler(grantor: Process): Capability {
    if (this.fillGrantor !== grantor) {
      this.fillGrantor = grantor;
      this.fillEpoch++;
    }
    return new Capability(this, this.mayShare(grantor) ? Rights.REGION_READ | Rights.REGION_FILL : Rights.REGION_FILL, this.fillEpoch);
  }

  /** Every filler made so far stops working (REGION_REVOKE_FILLERS). */
  revokeFillers(): void {
    this.fillEpoch++;
  }

  /**
   * REGION_FILL and REGION_FILL_GATHER through `filler`: the pieces of `from`'s memory that
   * `sources` names (address, length), one after another, are copied into the range from `offset`,
   * frame to frame. A status; nothing is written unless every piece can be read and the whole fits.
   * PageInRequired (a source page paged out) goes up before anything is written: invoke runs again.
   */
  fill(filler: Capability, from: Process, offset: number, sources: ReadonlyArray<readonly [number, number]>, mayWire: MayWire): number {
    const grantor = this.fillGrantor;
    if (this.freed || filler.badge !== this.fillEpoch || grantor === null || !this.ownedBy(grantor)) return Status.E_PEER_DEAD;
    let length = 0;
    for (const [, size] of sources) length += size;
    if (offset + length > this.pages * PAGE_SIZE) return Status.E_INVALID_ARGUMENT;
    if (length === 0) return Status.OK;
    const physical: Array<[number, number]> = [];
    try {
      for (const [address, size] of sources) if (size > 0) physical.push(...from.space.pieces(address, size, false));
    } catch (error) {
      if (error instanceof PageInRequired) throw error;
      if (error instanceof ProcessFault) return Status.E_BAD_ADDRESS;
      throw error;
    }
    const first = Math.floor(offset / PAGE_SIZE);
    const last = Math.floor((offset + length - 1) / PAGE_SIZE);
    for (let page = first; page <= last; page++) if (this.cow.has(page) && !this.splitPage(page, mayWire)) return Status.E_QUOTA;
    const bytes = this.services.memory.bytes;
    let at = offset;
    for (const [source, size] of physical) {
      let done = 0;
      while (done < size) {
        // One host copy over as many neighbouring frames as lie in order.
        const page = Math.floor(at / PAGE_SIZE);
        const within = at % PAGE_SIZE;
        let run = Math.min(size - done, PAGE_SIZE - within);
        let next = page + 1;
        while (run < size - done && this.frames[next] === this.frames[next - 1]! + 1) {
          run = Math.min(size - done, run + PAGE_SIZE);
          next++;
        }
        const to = this.frames[page]! * PAGE_SIZE + within;
        bytes.copyWithin(to, source + done, source + done + run);
        done += run;
        at += run;
      }
    }
    chargeBulk(from, length);
    return Status.OK;
  }

  /** Gives every copy-on-write page a frame of its own (before a device may DMA into it). */
  unshareAll(mayWire: MayWire): boolean {
    for (const index of [...this.cow]) if (!this.splitPage(index, mayWire)) return false;
    return true;
  }

  /** The page of this Region holding `address`, if it is in its range. */
  pageOf(address: number): number | null {
    const index = Math.floor((address - this.address) / PAGE_SIZE);
    return index >= 0 && index < this.pages ? index : null;
  }

  /**
   * The owner's access ends; views keep the last contents, or zeros with ZERO_ON_FREE — and then
   * each process holding one pays for the range it keeps reserved, or loses its views.
   */
  free(): void {
    if (this.freed) return;
    this.freed = true;
    this.stopDevices();
    if (this.flags & RegionFlag.ZERO_ON_FREE || this.orphaned) this.releaseForViews();
    else {
      for (const process of this.holdings.keys()) this.remap(process);
      this.dropIfUnpaid();
    }
  }

  /** A freed Region's frames go back, its views read zeros, and the range is paid for (holdersPay). */
  private releaseForViews(): void {
    if (this.frames.length > 0) {
      this.payerReserves = !this.holdersPay();
      this.releaseFrames();
    }
    for (const process of this.holdings.keys()) this.remap(process);
    this.dropIfUnpaid();
  }

  /**
   * Charges each process holding a view for the range it keeps reserved once the frames go back;
   * false when one could not pay (the others have paid). The Region's own Memory then keeps paying
   * for the range (`payerReserves`): a holder never loses a view it holds for want of quota
   * (redteam5: the file system, its quota full of its page cache, lost the view of a client's
   * buffer that client freed, and its next WRITE from it read the Region that took the range).
   */
  private holdersPay(): boolean {
    let all = true;
    for (const [process, holding] of this.holdings) {
      if (holding.views > 0 && process.alive && !this.reserveFor(process, holding)) all = false;
    }
    return all;
  }

  /**
   * A freed Region whose frames went back, held by no process table, is destroyed and its range
   * given back, though capabilities to it may be left in a Cappage or a queued message: only a
   * table's holder pays for the range (reserveFor), so those would keep it reserved for free (256
   * views of 2048-page Regions in one Cappage filled the global space). They are stale from then on,
   * as a destroyed object's are; what they gave was a view of zeros.
   */
  private dropIfUnpaid(): void {
    if (this.holdsNoFrames && this.holdings.size === 0) this.destroy();
  }

  /**
   * Quota pages a process pays for keeping this Region's range (its guard page with it) reserved
   * once its frames went back: the range's share of the global space at the rate at which the
   * machine's frames would fill it (on a 128 MiB machine, one page for every 16 of range, so a
   * 16 MiB file map costs 257). At that rate all the quotas of a machine together cannot reserve
   * more of the global space than there is.
   */
  get reservedCost(): number {
    return Math.ceil(((this.pages + 1) * this.services.memory.frameCount) / GLOBAL_SPACE_PAGES);
  }

  /** Freed, with its frames back with the allocator: what holds its range is its views alone. */
  private get holdsNoFrames(): boolean {
    return this.freed && this.frames.length === 0 && !this.destroyed;
  }

  // Charges `process` for the reserved range, once: false when its quota cannot pay.
  private reserveFor(process: Process, holding: Holding): boolean {
    if (holding.reserved > 0) return true;
    const cost = this.reservedCost;
    if (!process.space.chargeReserved(cost)) return false;
    holding.reserved = cost;
    return true;
  }

  // Takes `arriving`, a view being installed in a process that cannot pay for the range, back out
  // of its table: its installer disposes of it (CapTable.install answers 0, as for a full table).
  // (A process holding one already has paid, or the Region's Memory pays for the range.)
  private refuse(process: Process, arriving: Capability): void {
    for (const [index, cap] of [...process.caps.entries()]) if (cap === arriving) process.caps.take(index);
  }

  protected override disposed(cap: Capability): void {
    if (cap.has(Rights.REGION_OWNER)) this.free();
  }

  protected teardown(): void {
    for (const [process, holding] of [...this.holdings]) {
      this.unmapFrom(process);
      if (holding.reserved > 0) process.space.unchargeReserved(holding.reserved);
    }
    this.holdings.clear();
    this.releaseFrames();
    this.services.globalSpace.release(this.address, this.pages);
  }

  /** The access `holding` gives now. */
  private accessOf(holding: Holding | undefined): Access {
    if (!holding || this.destroyed) return Access.NONE;
    if (!this.freed && holding.owner > 0) return Access.WRITE;
    return holding.owner + holding.views > 0 ? Access.READ : Access.NONE;
  }

  /**
   * A capability came or went: remaps only when the access it gives changed. A Region that moves
   * between two processes — a view sent with a call and back with its reply, its owner staying — is
   * then mapped and unmapped once in the receiver, and left as it is in the sender (each of the
   * 256 pages of a 1 MiB buffer costs a page-table update, and it was remapped on every move).
   */
  private remapIfChanged(process: Process, holding: Holding): void {
    if (this.accessOf(holding) !== holding.mapped) this.remap(process);
  }

  private remap(process: Process): void {
    if (!process.alive) return;
    const holding = this.holdings.get(process);
    const access = this.accessOf(holding);
    if (access === Access.NONE) {
      this.unmapFrom(process);
      if (holding) holding.mapped = Access.NONE;
      return;
    }
    const writable = access === Access.WRITE;
    let whole = true;
    for (let i = 0; i < this.pages; i++) {
      const frame = this.frames.length > 0 ? this.frames[i]! : this.services.zeroFrame;
      // A page table that cannot be had leaves the page unmapped: touching it faults, nothing else.
      const cow = this.cow.has(i) && this.frames.length > 0;
      if (!process.space.mapFrame(this.address + i * PAGE_SIZE, frame, this, writable && !cow, writable && cow)) whole = false;
    }
    // (A range left in part unmapped is mapped again at the next capability that comes or goes.)
    if (holding) holding.mapped = whole ? access : Access.UNMAPPED;
  }

  /** As `remap`, for page `index` alone, in a holder that has the range mapped in full (else the whole range). */
  private remapPage(process: Process, index: number): void {
    if (!process.alive) return;
    const holding = this.holdings.get(process);
    const access = this.accessOf(holding);
    if (!holding || access === Access.NONE || holding.mapped !== access) return this.remap(process);
    const writable = access === Access.WRITE;
    const cow = this.cow.has(index) && this.frames.length > 0;
    const frame = this.frames.length > 0 ? this.frames[index]! : this.services.zeroFrame;
    if (!process.space.mapFrame(this.address + index * PAGE_SIZE, frame, this, writable && !cow, writable && cow)) holding.mapped = Access.UNMAPPED;
  }

  private unmapFrom(process: Process): void {
    if (!process.alive) return;
    for (let i = 0; i < this.pages; i++) process.space.unmap(this.address + i * PAGE_SIZE);
  }

  /**
   * REGION_INFO's check: whether the range is mapped in full in `process` now, remapped first when
   * a page table could not be had before. OK; E_MISSING_RIGHT when no capability it holds maps the
   * range (a filler narrowed to REGION_FILL, one with no rights left); E_QUOTA when its page
   * tables still cannot be had. A server that reads at the address REGION_INFO answers never
   * faults on it (redteam6: the fs and the block driver read such a client's range and faulted).
   */
  mappedIn(process: Process): number {
    const holding = this.holdings.get(process);
    const access = this.accessOf(holding);
    if (!holding || access === Access.NONE) return Status.E_MISSING_RIGHT;
    if (holding.mapped !== access) this.remap(process);
    return holding.mapped === access ? Status.OK : Status.E_QUOTA;
  }

  /** Devices stop DMA-ing into the range once its owner no longer has it. */
  private stopDevices(): void {
    for (const stop of [...this.beforeRelease]) stop();
    this.beforeRelease.clear();
  }

  private releaseFrames(): void {
    this.stopDevices();
    if (this.frames.length === 0) return;
    // Last page first: the allocator hands out the frames released last first, so the next
    // Region gets these in their order again, and its bulk copies stay a few runs of frames.
    for (let i = this.frames.length - 1; i >= 0; i--) this.services.sharedFrames.release(this.frames[i]!);
    this.frames = [];
    this.cow.clear();
    if (this.payer) {
      // The range's share of the global space stays charged while a holder that could not pay keeps it.
      const kept = this.payerReserves && !this.destroyed ? Math.min(this.chargedPages, this.reservedCost) : 0;
      this.payer.uncharge(this.chargedPages - kept);
      this.chargedPages = kept;
    }
  }
}

/** The most pieces one REGION_FILL_GATHER names: a 1 MiB read of single pages is 256. */
export const MAX_FILL_PIECES = 512;

/** REGION_FILL_GATHER's list: `count` pairs (address, length) of u32 at `list` in `process`'s memory. */
function readPieceList(process: Process, list: number, count: number): Array<[number, number]> | number {
  let bytes: Uint8Array;
  try {
    bytes = process.space.read(list, count * 8);
  } catch (error) {
    if (error instanceof PageInRequired) throw error;
    if (error instanceof ProcessFault) return Status.E_BAD_ADDRESS;
    throw error;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const pieces: Array<[number, number]> = [];
  for (let i = 0; i < count; i++) pieces.push([view.getUint32(8 * i, true), view.getUint32(8 * i + 4, true)]);
  return pieces;
}

/** Whether `cap` maps the range in its holder: an owner or a view (a filler alone does not). */
function mapsRange(cap: Capability): boolean {
  return (cap.rights & (Rights.REGION_OWNER | Rights.REGION_READ)) !== 0;
}

/** REGION_* operations. */
export function invokeRegion(k: ObjectKernel, inv: Invocation, region: RegionObject): number {
  const mayWire: MayWire = (frames) => k.mayWireFor(inv.caller.pid, frames);
  switch (inv.message.label) {
    case Op.REGION_INFO: {
      const mapped = region.mappedIn(inv.caller);
      if (mapped !== Status.OK) return mapped;
      return answer(inv, [region.address, region.pages, region.flags | (region.freed ? RegionFlag.FREED : 0), region.ownedBy(inv.caller) ? 1 : 0]);
    }
    case Op.REGION_VIEW:
      if (!inv.cap.has(Rights.REGION_OWNER) || !region.mayShare(inv.caller)) return Status.E_MISSING_RIGHT;
      if (region.freed) return Status.E_PEER_DEAD;
      return answer(inv, [], [new Capability(region, Rights.REGION_READ)]);
    case Op.REGION_FILLER:
      if (!inv.cap.has(Rights.REGION_OWNER)) return Status.E_MISSING_RIGHT;
      if (region.freed) return Status.E_PEER_DEAD;
      return answer(inv, [], [region.filler(inv.caller)]);
    case Op.REGION_REVOKE_FILLERS:
      if (!inv.cap.has(Rights.REGION_OWNER)) return Status.E_MISSING_RIGHT;
      region.revokeFillers();
      return Status.OK;
    case Op.REGION_FILL:
      if (!inv.cap.has(Rights.REGION_FILL)) return Status.E_MISSING_RIGHT;
      if (inv.message.words.length < 3) return Status.E_INVALID_ARGUMENT;
      return region.fill(inv.cap, inv.caller, word(inv, 0), [[word(inv, 1), word(inv, 2)]], mayWire);
    case Op.REGION_FILL_GATHER: {
      if (!inv.cap.has(Rights.REGION_FILL)) return Status.E_MISSING_RIGHT;
      const count = word(inv, 2);
      if (inv.message.words.length < 3 || count > MAX_FILL_PIECES) return Status.E_INVALID_ARGUMENT;
      const sources = readPieceList(inv.caller, word(inv, 1), count);
      return typeof sources === "number" ? sources : region.fill(inv.cap, inv.caller, word(inv, 0), sources, mayWire);
    }
    case Op.REGION_CLONE: {
      // A copy is read by its owner: only a capability that may read the range may make one.
      if (!mapsRange(inv.cap)) return Status.E_MISSING_RIGHT;
      const memory = argumentObject<MemoryObject>(inv, 0, ObjectKind.MEMORY, Rights.MEMORY_CREATE);
      if (typeof memory === "number") return memory;
      const answerable = canWrite(inv.caller, inv.buffer, 0, 1);
      if (answerable !== Status.OK) return answerable;
      const clone = region.cloneInto(memory);
      if (typeof clone === "number") return clone;
      chargeFuel(inv.caller, region.pages);
      return answer(inv, [], [new Capability(clone, Rights.REGION_OWNER | Rights.REGION_READ)]);
    }
    case Op.REGION_FREE:
      if (!inv.cap.has(Rights.REGION_OWNER)) return Status.E_MISSING_RIGHT;
      // The owner capability goes with the range: disposing it frees the Region.
      inv.caller.caps.take(inv.capIndex)?.dispose();
      return Status.OK;
    default:
      return Status.E_INVALID_ARGUMENT;
  }
}
