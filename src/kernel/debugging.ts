import type { Capability } from "./caps/capability.ts";
import type { Ipc } from "./caps/ipc.ts";
import { BreakAt, DebugStop, KernelMessage, WatchOn } from "./caps/object-abi.ts";
import { GLOBAL_SPACE_BASE, PAGE_SIZE } from "./constants.ts";
import { Activations } from "./debug-activations.ts";
import { type Frame, captureFrames, framesOfError } from "./debug-frames.ts";
import { type FunctionTable, functionTable } from "./debug-functions.ts";
import { Status } from "./errors.ts";
import type { FaultRecord } from "./fault.ts";
import type { Process } from "./process.ts";
import type { Scheduler } from "./scheduler.ts";
import { PageWatches, WATCH_ACCESSES, WATCH_WRITES, type WatchHit } from "./watchpoints.ts";

/**
 * Debugging a sealed process through a capability (docs/DEBUGGING.md). A debugger holding a
 * Process capability with PROCESS_DEBUG attaches (caps/debug-control.ts) and gets a DebugSession;
 * the target stops and the debugger is told through its event Receiver (DEBUG_STOPPED).
 *
 * How it stops:
 * - **Breakpoints and steps** at safe points (function entries and loop headers, where the loader
 *   put one). While one is armed the target's fuel stays at -1, so every safe point calls the
 *   kernel (`Kernel.safePoint`), which runs on the target's own stack: a stack trace there
 *   (debug-frames.ts) says which function and which safe point it is at; which safe point is a
 *   function's entry is learned from the traces (debug-activations.ts).
 * - **Watchpoints** in the software MMU (watchpoints.ts): the access waits in the fault path.
 * - **A request** (attach, PROCESS_DEBUG_STOP): the target is suspended wherever it is (between
 *   two slices, or in a kernel call); its stack is then unknown until it reaches a safe point.
 * - **A fault**: the target is held, faulted, its memory intact, until the debugger lets it go.
 *
 * A process with no debugger pays one null check in the safe point's slow path (once per 10 000
 * units of fuel), one in the TLB-miss path, one in each memory slow path and a flag cleared in it:
 * nothing on any fast path.
 *
 * Invariants: `target.debug` is this session exactly while it is attached; a session's debugger is
 * alive (its end detaches or kills, as chosen at attach); `stop` is set exactly while the target is
 * stopped by this session (suspended, or holding a fault); watched pages have no TLB entry of the
 * kinds they withhold (invariants.ts).
 */

/** What a session needs of the kernel. */
export interface DebugKernel {
  readonly scheduler: Scheduler;
  readonly ipc: Ipc;
  terminate(process: Process): void;
  /** Ends a process held faulted with its fault, as if the debugger had not held it. */
  endFaulted(process: Process, fault: FaultRecord): void;
}

export interface Breakpoint {
  readonly id: number;
  /** The program's own function index (as its name section numbers it). */
  readonly function: number;
  readonly at: number;
  readonly offset: number;
}

export interface Watchpoint {
  readonly id: number;
  readonly address: number;
  readonly pages: number;
  readonly on: number;
}

/** Why and where the target stopped. */
export interface StopRecord {
  readonly reason: number;
  /** The breakpoint or watchpoint, else 0. */
  readonly id: number;
  /** The program's frames, innermost first, as (function, offset); null when not known. */
  readonly frames: Frame[] | null;
  /** A watchpoint's or a fault's address, else 0. */
  readonly address: number;
  /** A watchpoint's access: 1 read, 2 write; else 0. */
  readonly access: number;
}

export const MAX_BREAKPOINTS = 64;
export const MAX_WATCHPOINTS = 64;
/** Pages one watchpoint covers at most (1 MiB): the kernel keeps a count per watched page. */
export const MAX_WATCH_PAGES = 256;
/** A fuel value that sends every safe point to the kernel (fuel.ts). */
const EVERY_SAFE_POINT = -1;
const NO_FUNCTION = 0xffff_ffff;

export class DebugSession {
  readonly breakpoints = new Map<number, Breakpoint>();
  readonly watchpoints = new Map<number, Watchpoint>();
  readonly functions: FunctionTable;
  private record: StopRecord | null = null;
  /** The fault it holds the target in, with the frames the fault unwound. */
  heldFault: FaultRecord | null = null;
  private stepping = false;
  /** The stop is in `fault_handle` at a watchpoint: the access runs again when it goes on. */
  private stoppedInWatch = false;
  /** The target was suspended by someone else when this session began: detaching leaves it so. */
  private readonly suspendedBefore: boolean;
  private nextId = 1;
  /** Which safe point is an entry, learned from the traces (debug-activations.ts). */
  private readonly activations = new Activations();

  readonly target: Process;
  /** The debugger. */
  readonly holder: Process;
  /** Where DEBUG_STOPPED goes: a send capability the kernel keeps while the session lasts. */
  private readonly events: Capability;
  /** What the debugger's end does: kill the target, or (false) detach. */
  readonly killOnEnd: boolean;
  private readonly k: DebugKernel;

  constructor(target: Process, holder: Process, events: Capability, killOnEnd: boolean, k: DebugKernel) {
    this.target = target;
    this.holder = holder;
    this.events = events;
    this.killOnEnd = killOnEnd;
    this.k = k;
    this.functions = functionTable(target.image);
    this.suspendedBefore = target.suspended;
  }

  /**
   * Why and where the target is stopped, while it is; null once it runs again (continued, or
   * resumed by another holder of PROCESS_CONTROL).
   */
  get stop(): StopRecord | null {
    if (this.record !== null && this.heldFault === null && !this.target.suspended) {
      this.record = null;
      this.stoppedInWatch = false;
    }
    return this.record;
  }

  /** Whether every safe point must call the kernel. */
  get observing(): boolean {
    return this.stepping || this.breakpoints.size > 0;
  }

  /** Stops the target where it is: between two slices, in a kernel call, or never started. */
  stopNow(): void {
    if (this.stop !== null) return;
    this.k.scheduler.suspend(this.target);
    this.stopped({ reason: DebugStop.REQUEST, id: 0, frames: this.target.started ? null : [], address: 0, access: 0 });
  }

  /**
   * Lets a stopped target go on: from a safe point, from a watched access (which then completes,
   * passing its watch), from a kernel call, or from its start. A held fault ends it as faulted.
   */
  continue(): number {
    if (this.heldFault) {
      this.releaseFault();
      return Status.OK;
    }
    if (this.stop === null) return Status.E_NOT_READY;
    this.record = null;
    if (this.stoppedInWatch) this.target.faultHandler.watchPassed = true;
    this.stoppedInWatch = false;
    if (this.target.state === "created") this.k.scheduler.makeReady(this.target);
    this.k.scheduler.resume(this.target);
    return Status.OK;
  }

  /** Goes on to the next safe point of the program's code, and stops there. */
  step(): number {
    if (this.stop === null || this.heldFault) return Status.E_NOT_READY;
    this.arm();
    this.stepping = true;
    return this.continue();
  }

  /** PROCESS_DEBUG_BREAK: the breakpoint's id, or a status. */
  addBreakpoint(fn: number, at: number, offset: number): number {
    if (fn < this.functions.imports || fn >= this.functions.count || !this.functions.hasSafePoints(fn)) return Status.E_INVALID_ARGUMENT;
    if (at !== BreakAt.ENTRY && at !== BreakAt.LOOPS && at !== BreakAt.OFFSET) return Status.E_INVALID_ARGUMENT;
    if (this.breakpoints.size >= MAX_BREAKPOINTS) return Status.E_QUOTA;
    this.arm();
    const id = this.nextId++;
    this.breakpoints.set(id, { id, function: fn, at, offset: at === BreakAt.OFFSET ? offset : 0 });
    return id;
  }

  /** PROCESS_DEBUG_WATCH: pages `[first, first + pages)` of the private window; the id, or a status. */
  addWatchpoint(address: number, pages: number, on: number): number {
    if (on !== WatchOn.WRITE && on !== WatchOn.ACCESS) return Status.E_INVALID_ARGUMENT;
    const first = Math.floor(address / PAGE_SIZE);
    if (pages > MAX_WATCH_PAGES) return Status.E_INVALID_ARGUMENT;
    if (pages < 1 || (first + pages) * PAGE_SIZE > GLOBAL_SPACE_BASE) return Status.E_BAD_ADDRESS;
    if (this.watchpoints.size >= MAX_WATCHPOINTS) return Status.E_QUOTA;
    const space = this.target.space;
    const watches = space.watches ?? new PageWatches();
    watches.passing = () => this.target.faultHandler.watchPassed;
    space.watches = watches;
    watches.add(first, pages, on === WatchOn.ACCESS ? WATCH_ACCESSES : WATCH_WRITES);
    // Every entry the watch withholds leaves the TLBs now; the next access misses and is seen.
    for (let page = first; page < first + pages; page++) space.tlb.flushPage(page * PAGE_SIZE);
    const id = this.nextId++;
    this.watchpoints.set(id, { id, address: first * PAGE_SIZE, pages, on });
    return id;
  }

  /** PROCESS_DEBUG_CLEAR: a breakpoint or watchpoint goes. */
  clear(id: number): number {
    if (this.breakpoints.delete(id)) return Status.OK;
    const watch = this.watchpoints.get(id);
    if (!watch) return Status.E_INVALID_ARGUMENT;
    this.watchpoints.delete(id);
    this.unwatch(watch);
    return Status.OK;
  }

  /**
   * The safe point's slow path while `observing`, on the target's stack: a promise of the fuel
   * to go on with when it stops here (settled when the debugger lets it go), else null.
   */
  atSafePoint(): Promise<number> | null {
    const captured = captureFrames();
    // The slow path runs in the loader's helper; the safe point is in the frame below it.
    const trace = captured.frames.length > 0 && this.functions.safePointHelper(captured.frames[0]!.function) ? { ...captured, frames: captured.frames.slice(1) } : captured;
    const top = trace.frames[0];
    if (!top) return null;
    const fresh = this.activations.observe(trace);
    // An outlined loop (docs/LOADER.md "Loops moved out of functions called once") is its
    // function's code: its entry's safe point is no place in that code (its loop's header follows).
    if (fresh && this.functions.outlined(top.function)) return null;
    const fn = this.functions.original(top.function);
    // A safe point in the loader's own code (a helper) is no place in the program.
    if (fn < 0) return null;
    let reason = 0;
    let id = 0;
    if (this.stepping) reason = DebugStop.STEP;
    else {
      for (const breakpoint of this.breakpoints.values()) {
        if (breakpoint.function !== fn || !hits(breakpoint, top.offset, fresh)) continue;
        reason = DebugStop.BREAKPOINT;
        id = breakpoint.id;
        break;
      }
    }
    if (reason === 0) return null;
    this.stepping = false;
    return this.stopHere<number>({ reason, id, frames: this.programFrames(trace.frames), address: 0, access: 0 }, EVERY_SAFE_POINT);
  }

  /** A watched access (fault-handler.ts `fault_handle`, on the target's stack): settles when it may run again. */
  atWatchpoint(hit: WatchHit): Promise<void> {
    const trace = captureFrames();
    const page = Math.floor(hit.address / PAGE_SIZE);
    let id = 0;
    for (const watch of this.watchpoints.values()) {
      const first = watch.address / PAGE_SIZE;
      if (page >= first && page < first + watch.pages && (hit.write || watch.on === WatchOn.ACCESS)) {
        id = watch.id;
        break;
      }
    }
    this.stoppedInWatch = true;
    return this.stopHere<void>({ reason: DebugStop.WATCHPOINT, id, frames: this.programFrames(trace.frames), address: hit.address, access: hit.write ? 2 : 1 }, undefined);
  }

  /**
   * The target's stack ended in a fault (`error` unwound it): it stays, faulted, with its memory,
   * until the debugger lets it go (continue, detach) or kills it. Its stack is gone.
   */
  holdFault(fault: FaultRecord, error: unknown): void {
    this.heldFault = fault;
    const target = this.target;
    target.fault = fault;
    target.descriptor.state = "faulted";
    target.descriptor.exitCode = -1;
    target.descriptor.faultAddress = fault.address ?? -1;
    this.stopped({ reason: DebugStop.FAULT, id: 0, frames: this.programFrames(framesOfError(error)), address: fault.address === null ? 0 : fault.address >>> 0, access: 0 });
  }

  /** The debugger lets go: breakpoints and watchpoints removed, the target runs on (or ends, holding a fault). */
  detach(): void {
    this.breakpoints.clear();
    this.stepping = false;
    for (const watch of this.watchpoints.values()) this.unwatch(watch);
    this.watchpoints.clear();
    this.end();
    if (this.heldFault) return this.releaseFault();
    if (this.stop === null) return;
    if (!this.suspendedBefore) this.continue();
    else if (this.stoppedInWatch) this.target.faultHandler.watchPassed = true;
    this.record = null;
  }

  /** The session ends (the target ended, or detach): the kernel's hooks into the target go. */
  end(): void {
    const target = this.target;
    if (target.debug === this) target.debug = null;
    if (target.faultHandler.watchStop !== null) target.faultHandler.watchStop = null;
    target.space.watches = null;
    this.events.dispose();
  }

  /** The frames of the stop, or of the held fault; null when not known. */
  get frames(): Frame[] | null {
    return this.stop?.frames ?? null;
  }

  private stopHere<T>(record: StopRecord, wakeValue: T): Promise<T> {
    this.stopped(record);
    this.k.scheduler.suspend(this.target);
    return this.k.scheduler.yield<T>(this.target, wakeValue);
  }

  /** Records the stop and tells the debugger: DEBUG_STOPPED `pid, reason, id, function, offset, address, access`. */
  private stopped(record: StopRecord): void {
    this.record = record;
    const top = record.frames?.[0];
    this.k.ipc.kernelSend(this.events, KernelMessage.DEBUG_STOPPED, [this.target.pid, record.reason, record.id, top ? top.function : NO_FUNCTION, top ? top.offset : 0, record.address, record.access]);
  }

  private releaseFault(): void {
    const fault = this.heldFault!;
    this.heldFault = null;
    this.record = null;
    this.k.endFaulted(this.target, fault);
  }

  /** Observation begins: every safe point calls the kernel from now on. */
  private arm(): void {
    if (this.observing) return;
    // Safe points went unseen until now: the next trace cannot be compared with an old one.
    this.activations.lostSight(this.target.started);
    if (this.target.fuel) this.target.fuel.value = EVERY_SAFE_POINT;
  }

  private unwatch(watch: Watchpoint): void {
    const watches = this.target.space.watches;
    if (!watches) return;
    watches.remove(watch.address / PAGE_SIZE, watch.pages, watch.on === WatchOn.ACCESS ? WATCH_ACCESSES : WATCH_WRITES);
    if (watches.empty) this.target.space.watches = null;
  }

  /** Engine frames as the program's (original indices), the loader's helpers left out. */
  private programFrames(frames: readonly Frame[]): Frame[] {
    const out: Frame[] = [];
    for (const frame of frames) {
      const fn = this.functions.original(frame.function);
      if (fn >= 0) out.push({ function: fn, offset: frame.offset });
    }
    return out;
  }
}

/** Whether `breakpoint` stops at the safe point at `offset` of its function. */
function hits(breakpoint: Breakpoint, offset: number, entry: boolean): boolean {
  if (breakpoint.at === BreakAt.ENTRY) return entry;
  if (breakpoint.at === BreakAt.LOOPS) return !entry;
  return offset === breakpoint.offset;
}

/**
 * The sessions of the machine: which debugger holds which target, so that a debugger's end
 * detaches (or kills) what it debugged.
 */
export class Debugging {
  private readonly byDebugger = new Map<Process, Set<DebugSession>>();
  private readonly k: DebugKernel;

  constructor(k: DebugKernel) {
    this.k = k;
  }

  /** PROCESS_DEBUG_ATTACH: a status. The target stops; `events` (a send capability) is the kernel's now. */
  attach(holder: Process, target: Process, events: Capability, killOnEnd: boolean): number {
    if (target === holder) return Status.E_INVALID_ARGUMENT;
    if (target.debug !== null) return Status.E_NOT_READY;
    const session = new DebugSession(target, holder, events, killOnEnd, this.k);
    target.debug = session;
    target.faultHandler.watchStop = (hit) => session.atWatchpoint(hit);
    let sessions = this.byDebugger.get(holder);
    if (!sessions) this.byDebugger.set(holder, (sessions = new Set()));
    sessions.add(session);
    session.stopNow();
    return Status.OK;
  }

  detach(session: DebugSession): void {
    this.forget(session);
    session.detach();
  }

  /** A process ended: as a target, its session goes; as a debugger, each of its targets is let go or killed. */
  processEnded(process: Process): void {
    const own = process.debug;
    if (own) {
      this.forget(own);
      own.end();
    }
    const sessions = this.byDebugger.get(process);
    if (!sessions) return;
    this.byDebugger.delete(process);
    for (const session of sessions) {
      if (session.killOnEnd) {
        session.end();
        this.k.terminate(session.target);
      } else session.detach();
    }
  }

  private forget(session: DebugSession): void {
    const sessions = this.byDebugger.get(session.holder);
    sessions?.delete(session);
    if (sessions?.size === 0) this.byDebugger.delete(session.holder);
  }
}
