import type { AddressSpace } from "./address-space.ts";
import type { Capability } from "./caps/capability.ts";
import { CapTable, type CapabilityHolder } from "./caps/cap-table.ts";
import type { ContractRefusal } from "./caps/contract-endpoint.ts";
import { KernelObject } from "./caps/kernel-object.ts";
import type { MemoryObject } from "./caps/memory-object.ts";
import { ObjectKind } from "./caps/object-abi.ts";
import type { PageObject } from "./caps/page.ts";
import type { DebugSession } from "./debugging.ts";
import type { FaultRecord } from "./fault.ts";
import type { MessageBuffer } from "./message.ts";
import type { Envelope } from "./caps/envelope.ts";
import { FaultHandler } from "./fault-handler.ts";
import type { LoadedImage } from "./image.ts";
import type { ImageObject } from "./caps/image-object.ts";
import type { ProcessDescriptor, ProcessState } from "./process-descriptor.ts";
import type { ServeRegistration } from "./serving.ts";

/** A dropped data segment's bytes (none): shared, since an empty array cannot change. */
export const NO_SEGMENT = new Uint8Array(0);

/** What a process ended with: an exit code, or a fault record. */
export type ProcessOutcome =
  | { readonly kind: "exited"; readonly code: number }
  | { readonly kind: "faulted"; readonly fault: FaultRecord };

/** What the kernel does for a process object: end it when its Memory goes, wake it from a wait. */
export interface ProcessHooks {
  /** The process object is being destroyed (its Memory was): end it if alive, free what it holds. */
  teardown(process: Process): void;
  /** Ends the process's current wait with `value` (it becomes ready, or runs at once). */
  wake(process: Process, value: unknown): void;
  /** Capabilities entering and leaving its table. */
  installed(process: Process, cap: Capability): void;
  removed(process: Process, cap: Capability): void;
}

/**
 * A process (Iris' Thread; there are no threads): one instance of a loaded image over its own
 * address space, with its capability table. Its stack is either running, ready, or suspended (by
 * JSPI) in a kernel call.
 *
 * Invariants: `resume` is set exactly when the process is suspended in a blocking kernel call
 * (or was preempted at a safe point) and has not been resumed since; `waitCancel` is set exactly
 * while it is blocked in a wait that someone else can end (receive, call, futex, process wait).
 */
export class Process extends KernelObject implements CapabilityHolder {
  readonly kind = ObjectKind.PROCESS;
  readonly memory: MemoryObject;
  readonly caps: CapTable;
  /** Whether capabilities in messages it receives are installed (PROCESS_LISTEN). */
  listening = false;
  /** PROCESS_SUSPEND: not scheduled until resumed. */
  suspended = false;
  /** A wake-up that arrived while suspended, delivered on resume. */
  parkedReady = false;
  /** Why a contract last refused one of its messages, or its table (PROCESS_CONTRACT_REFUSAL). */
  contractRefusal: ContractRefusal | null = null;
  /**
   * The buffer of the last receive or call it waited in (ipc.ts, reply.ts): a process blocked when
   * paging is turned on keeps it resident (kernel-paging.ts attach), as a call made under paging
   * does through Kernel.touch.
   */
  awaitedBuffer: MessageBuffer | null = null;
  /** An answer to its call that found its buffer paged out, until it has paged it in and taken it (ipc.ts). */
  heldReply: Envelope | null = null;
  /** Undoes the registration of the current wait (waiter lists, futex queues). */
  waitCancel: (() => void) | null = null;
  /** Send capabilities to notify when it ends (PROCESS_MONITOR). */
  readonly monitors: Capability[] = [];
  /** Processes blocked in PROCESS_WAIT on this one. */
  readonly endWaiters: Process[] = [];
  /** Pages mapped in its address space, by address (made on the first: most processes map none). */
  pageAt: Map<number, PageObject> | null = null;
  /** When the current stretch on the CPU began (CPU time accounting). */
  runStartNs = 0;
  private readonly hooks: ProcessHooks;
  readonly descriptor: ProcessDescriptor;
  /** Its loaded image; once it ended, only a record of its name and hash (image.ts endedImage). */
  image: LoadedImage;
  readonly space: AddressSpace;
  /** Set at creation, or by PROCESS_SET_ARGS before it starts. */
  args: readonly string[];
  env: readonly string[];
  /**
   * Live bytes of each data segment: memory.init reads them, data.drop empties them. An active
   * segment is dropped once written in (NO_SEGMENT, one shared empty array: a Go program has up to
   * 100,000 of them), and one past the end of the array too: the loader merges the active segments
   * of a module without passive ones (data-runs.ts), so its indices count fewer than the program's.
   */
  readonly segments: Uint8Array[];
  /** Global address of the read-only image, or 0 when it is not mapped. */
  imageBase = 0;
  /** The Image it was made from, which it holds while it lives; null for the machine's own processes. */
  imageObject: ImageObject | null = null;
  instance: WebAssembly.Instance | null = null;
  /** Its safe points' fuel counter (the loader's `__dogma_fuel` export; fuel.ts), once instantiated. */
  fuel: WebAssembly.Global | null = null;
  /** Why its last MEMORY_CREATE_IMAGE was refused, for MEMORY_LOAD_ERROR ("" after one that was not). */
  loadError = "";
  fault: FaultRecord | null = null;
  /**
   * What its entry returned, once it exited (tests and benchmarks read it). Kept on the process,
   * not in a kernel table by pid, so it goes when the last holder of the record lets it go.
   */
  returnValue: unknown = undefined;
  /** Pages brought back from the pager for it so far. */
  pageIns = 0;
  private pin = 0;
  /** Its serve registration (PROCESS_SERVE; serving.ts), if it made one. */
  serving: ServeRegistration | null = null;
  /** Waiting in its serve loop's receive: with `waitCancel` set, it is quiescent (no frames). */
  servingIdle = false;
  /** A clone of a serving process: it starts in the serve loop, not at its entry. */
  resumesServing = false;
  /** Inside a kernel call (resident-call.ts): what it touches goes to `space.callRanges`. */
  inCall = false;
  /** Its fault handler, if it registered one (PROCESS_SET_FAULT_HANDLER), and the fault flag. */
  readonly faultHandler = new FaultHandler();
  /** Its debugger's session, while one is attached (debugging.ts). */
  debug: DebugSession | null = null;

  /** Continues the suspended stack with the kernel call's result. */
  resume: ((value: unknown) => void) | null = null;
  /**
   * Unwinds the suspended stack instead (set with `resume`): the kernel call throws, and with no
   * exception handling in a loaded module the throw leaves every Wasm frame at once, running none.
   * V8 keeps a suspended JSPI stack, and all it reaches (the instance, the kernel), for as long as
   * it stays suspended, collectable or not: a process ended while blocked must be unwound.
   */
  unwind: ((reason: unknown) => void) | null = null;
  /**
   * The promise `unwind` rejects (set with it). Only an unwind marks it handled, just before it
   * rejects it: a process can end before its kernel call hands the promise to the engine (killed by
   * what the call itself set going, e.g. a load that settles at once), and then nobody awaits it,
   * which must not be reported as an unhandled rejection. (A handler on every blocked call's
   * promise was a promise, a reaction and a job more on each switch's way.)
   */
  blockedCall: Promise<unknown> | null = null;
  /** The value the next resume delivers. */
  wakeValue: unknown = undefined;
  /** Hands the CPU back to the scheduler when this process stops running. */
  switchOut: (() => void) | null = null;
  started = false;
  sliceStartNs = 0;
  /** Monotonic deadline while sleeping. */
  sleepUntilNs = Infinity;
  /** Where the scheduler's SleeperHeap keeps it (-1: not sleeping). */
  sleeperAt = -1;
  /** What the wait returns when its deadline comes (a reply given with REPLY_AT: its result). */
  deadlineWakeValue: unknown = undefined;
  /** Who gave the REPLY_AT reply it waits for the deadline of (null: none): its end ends the wait. */
  deferredBy: Process | null = null;
  /** When it last blocked (the scheduler wakes one that waited long at the front of its queue). */
  blockedAtNs = 0;

  private readonly exitWaiters: Array<(outcome: ProcessOutcome) => void> = [];
  private outcomeValue: ProcessOutcome | null = null;

  constructor(
    descriptor: ProcessDescriptor,
    image: LoadedImage,
    space: AddressSpace,
    args: readonly string[],
    env: readonly string[],
    memory: MemoryObject,
    hooks: ProcessHooks,
  ) {
    super();
    this.memory = memory;
    this.hooks = hooks;
    this.caps = new CapTable(this);
    this.descriptor = descriptor;
    this.image = image;
    this.space = space;
    this.args = args;
    this.env = env;
    this.segments = image.segments.map((segment) => (segment.offset === null ? segment.data : NO_SEGMENT));
  }

  /** How reluctantly paging evicts its pages (paging.ts PinLevel; KERNEL_SET_PIN). */
  get pinLevel(): number {
    return this.pin;
  }

  /** Level 2 (never evicted) also lets it take the frames paging keeps for the page-out path. */
  set pinLevel(level: number) {
    this.pin = level;
    this.space.usesFrameReserve = level >= 2;
  }

  get pid(): number {
    return this.descriptor.pid;
  }

  get state(): ProcessState {
    return this.descriptor.state;
  }

  get alive(): boolean {
    return this.outcomeValue === null;
  }

  get outcome(): ProcessOutcome | null {
    return this.outcomeValue;
  }

  installed(cap: Capability): void {
    this.hooks.installed(this, cap);
  }

  removed(cap: Capability): void {
    this.hooks.removed(this, cap);
  }

  /** Ends a wait someone else can end (no effect when it is not waiting). */
  wakeFromWait(value: unknown): void {
    if (this.waitCancel) this.hooks.wake(this, value);
  }

  /** A process lives until it ends or its Memory is destroyed, not until its last capability goes. */
  protected override persists(): boolean {
    return true;
  }

  protected teardown(): void {
    this.hooks.teardown(this);
  }

  /** Resolves once the process has exited or faulted. */
  wait(): Promise<ProcessOutcome> {
    if (this.outcomeValue) return Promise.resolve(this.outcomeValue);
    return new Promise((resolve) => this.exitWaiters.push(resolve));
  }

  /** Records the end; the caller releases resources. Only the first end counts. */
  end(outcome: ProcessOutcome): boolean {
    if (this.outcomeValue) return false;
    this.outcomeValue = outcome;
    if (outcome.kind === "exited") {
      this.descriptor.state = "exited";
      this.descriptor.exitCode = outcome.code;
    } else {
      this.fault = outcome.fault;
      this.descriptor.state = "faulted";
      this.descriptor.exitCode = -1;
      this.descriptor.faultAddress = outcome.fault.address ?? -1;
    }
    for (const waiter of this.exitWaiters.splice(0)) waiter(outcome);
    return true;
  }
}
