import { GLOBAL_SPACE_BASE, PAGE_SIZE, WASM_PAGE_SIZE } from "./constants.ts";
import { Status } from "./errors.ts";
import { FAULT_KINDS, type FaultKind, ProcessFault } from "./fault.ts";
import type { Process } from "./process.ts";
import { PageInRequired } from "./paging-hooks.ts";
import { WatchHit } from "./watchpoints.ts";

/**
 * A process's fault handler: an exported function `(kind, address, stack_top) -> i32` that the
 * kernel calls when one of its memory instructions faults in a way a mapping can repair, instead
 * of tearing it down. It returns 0 to run the faulting instruction again, anything else to be torn
 * down with the fault's record.
 *
 * How it resumes: a rewritten instruction's slow path is a plain kernel import called from the
 * loader's wrapper (src/loader/rewrite-helpers.ts). On a fault the handler will take, the slow path
 * records it here, sets the process's fault flag and returns a dummy; the wrapper sees the flag
 * and calls `fault_handle` (a suspending import), which runs the handler as its own JSPI stack
 * on the same instance and suspends the faulting stack until the handler returns; the wrapper then
 * calls the slow path again with the same operands. The handler runs as an ordinary function: it
 * may invoke, block, be preempted. Because the faulting stack is suspended inside the kernel call,
 * the faulting instruction has done nothing yet (slow paths check the whole access first).
 *
 * A page the kernel paged out takes the same path: the slow path records a PageInRequired, and
 * `fault_handle` waits for the kernel's page-in instead of calling the handler. So does a
 * debugger's watchpoint (watchpoints.ts): `fault_handle` waits while the process is stopped, and
 * the access runs again once the debugger lets it go, passing the watch that one time.
 *
 * Invariants: `pending` is set exactly while the fault flag is 1 (between a slow path's fault and
 * the wrapper's `fault_handle`); `depth` is 1 while the handler runs, else 0, and any fault at
 * depth 1 tears the process down (no recursion); a retry that faults again with the same kind
 * at the same address tears it down (the handler did not repair it, and would be called for ever).
 */
export interface FaultHandlerRegistration {
  readonly name: string;
  readonly run: (kind: number, address: number, stackTop: number) => unknown;
  /** The handler's stack `[base, base + bytes)` in the private window; bytes 0: none of its own. */
  readonly stackBase: number;
  readonly stackBytes: number;
  /** The module's exported `__stack_pointer`, pointed at the handler's stack while it runs. */
  readonly stackPointer: WebAssembly.Global | null;
}

/** Faults a mapping can repair; the others (page 0, out of memory, traps) always tear down. */
const REPAIRABLE = new Set<FaultKind>(["unmapped", "out-of-bounds", "read-only", "no-access"]);

export class FaultHandler {
  /**
   * The process's fault flag, its module's own global exported as FAULT_EXPORT (set once it is
   * instantiated: a Global object made per process for an import cost each spawn about 2 µs).
   */
  flag: WebAssembly.Global | null = null;
  registration: FaultHandlerRegistration | null = null;
  /** Brings a paged-out page back (the kernel's paging); settles when the access may retry. */
  pageIn: ((request: PageInRequired) => Promise<void>) | null = null;
  /** Lets go of pages `hold` kept (the address space's release); set with pageIn. */
  release: ((pages: readonly number[]) => void) | null = null;
  /** Pages brought back for the access being retried, held from eviction until it completes. */
  private heldPages: number[] | null = null;
  /** Stops the process at a watchpoint (its debugger's, debugging.ts); settles when it may retry. */
  watchStop: ((hit: WatchHit) => Promise<void>) | null = null;
  /** The access a watchpoint stopped runs again: it passes every watch until a slow path completes. */
  watchPassed = false;
  private pending: ProcessFault | WatchHit | null = null;
  private depth = 0;
  /** The fault the handler last said it repaired, until the retried access completes. */
  private retried: { kind: FaultKind; address: number | null } | null = null;

  /** Its process ended: nothing of the instance is kept (see forgetInstance). */
  private gone = false;

  /**
   * Its process ended: lets go of its instance's exports (the flag, the handler and its stack
   * pointer), which keep the whole instance reachable while the Process object lives (redteam13).
   */
  forgetInstance(): void {
    this.gone = true;
    this.flag = null;
    this.registration = null;
    this.pending = null;
  }

  get running(): boolean {
    return this.depth > 0;
  }

  /** A slow path completed: whatever was retried is repaired, and the pages paged in for it may go. */
  completed(): void {
    this.retried = null;
    this.watchPassed = false;
    if (this.heldPages !== null) {
      this.release?.(this.heldPages);
      this.heldPages = null;
    }
  }

  /** Keeps `pages` (already held by the address space) until the retried access completes. */
  hold(pages: readonly number[]): void {
    (this.heldPages ??= []).push(...pages);
  }

  private raise(value: number): void {
    if (this.flag === null) throw new Error("kernel bug: a fault offered to a process that has no instance");
    this.flag.value = value;
  }

  /** Faults its handler was given so far (the inspection interface shows them). */
  handled = 0;

  /**
   * A slow path threw `error`. Rethrows it (tearing the process down) unless the handler will
   * take it: then records it, raises the flag and returns, and the slow path returns a dummy.
   */
  offer(error: unknown): void {
    if (this.gone) throw error; // its process ended: its stack only unwinds
    const retried = this.retried;
    this.retried = null;
    // Not a fault: the kernel pages the page in and the access retries, handler or not.
    if ((error instanceof PageInRequired && this.pageIn) || (error instanceof WatchHit && this.watchStop)) {
      this.pending = error;
      this.raise(1);
      return;
    }
    if (!(error instanceof ProcessFault) || !REPAIRABLE.has(error.kind) || this.registration === null) throw error;
    const { kind, address } = error;
    if (this.depth > 0) throw new ProcessFault(kind, address, `${error.message}, inside its fault handler ${this.registration.name}`);
    if (address === null || address >= 2 ** 32) throw error;
    if (retried && retried.kind === kind && retried.address === address) {
      throw new ProcessFault(kind, address, `${error.message}; its fault handler ${this.registration.name} resumed without repairing it`);
    }
    if (this.inHandlerStack(address)) throw new ProcessFault(kind, address, `${error.message}, in the stack of its fault handler`);
    this.pending = error;
    this.raise(1);
    this.handled++;
  }

  /** `fault_handle`: runs the handler for the pending fault; settles when the instruction may retry. */
  handle(): Promise<void> {
    const fault = this.pending;
    const registration = this.registration;
    this.pending = null;
    this.raise(0);
    if (fault instanceof PageInRequired && this.pageIn) return this.pageIn(fault);
    if (fault instanceof WatchHit && this.watchStop) return this.watchStop(fault);
    if (fault instanceof WatchHit) return Promise.resolve(); // its debugger went meanwhile: the access runs
    if (fault === null || registration === null) throw new Error("kernel bug: fault_handle with no pending fault");
    const stackTop = registration.stackBytes > 0 ? registration.stackBase + registration.stackBytes : 0;
    const pointer = registration.stackPointer;
    const saved = pointer?.value as number | undefined;
    if (pointer && stackTop !== 0) pointer.value = stackTop;
    this.depth++;
    const restore = () => {
      this.depth--;
      if (pointer && stackTop !== 0) pointer.value = saved;
    };
    const run = WebAssembly.promising(registration.run as (...args: number[]) => unknown);
    return run(FAULT_KINDS.indexOf(fault.kind), fault.address! >>> 0, stackTop).then(
      (result) => {
        restore();
        if (result !== 0) throw fault.retold(`${fault.message}; its fault handler ${registration.name} asked to be torn down`);
        this.retried = { kind: fault.kind, address: fault.address };
      },
      (error: unknown) => {
        restore();
        throw error;
      },
    );
  }

  private inHandlerStack(address: number): boolean {
    const r = this.registration!;
    return r.stackBytes > 0 && address >= r.stackBase && address < r.stackBase + r.stackBytes && address < GLOBAL_SPACE_BASE;
  }
}

/** Names the kernel's own exports use; no handler may be one of them. */
const LOADER_EXPORT_PREFIX = "__dogma";
export const MAX_HANDLER_NAME_BYTES = 64;

/**
 * PROCESS_SET_FAULT_HANDLER for `target`: the export `name` with the stack `[base, base + bytes)`
 * (bytes 0: none), or no handler when `name` is empty. A status: E_INVALID_ARGUMENT when the name
 * is no exported function of its own, E_BAD_ADDRESS when the stack is not in its private window.
 */
export function registerFaultHandler(target: Process, name: string, stackBase: number, stackBytes: number): number {
  if (name === "") {
    target.faultHandler.registration = null;
    return Status.OK;
  }
  const exports = target.instance?.exports ?? {};
  const run = Object.hasOwn(exports, name) ? exports[name] : undefined;
  if (typeof run !== "function" || name.startsWith(LOADER_EXPORT_PREFIX)) return Status.E_INVALID_ARGUMENT;
  if (stackBytes > 0 && (stackBase < PAGE_SIZE || stackBase + stackBytes > target.space.wasmPages * WASM_PAGE_SIZE)) return Status.E_BAD_ADDRESS;
  const pointer = exports["__stack_pointer"];
  target.faultHandler.registration = {
    name,
    run: run as FaultHandlerRegistration["run"],
    stackBase,
    stackBytes,
    stackPointer: pointer instanceof WebAssembly.Global && isMutableI32(pointer) ? pointer : null,
  };
  return Status.OK;
}

function isMutableI32(global: WebAssembly.Global): boolean {
  const value: unknown = global.value;
  if (typeof value !== "number") return false;
  try {
    global.value = value;
    return true;
  } catch {
    return false;
  }
}
