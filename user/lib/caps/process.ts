// A Process capability: control, state and capabilities in. A creator holds all rights; a
// process's own slot 1 (SLOT_SELF) only PROCESS_INFO, PROCESS_LISTEN and PROCESS_MEMORY.
import {
  OP_PROCESS_START, OP_PROCESS_SUSPEND, OP_PROCESS_RESUME, OP_PROCESS_KILL, OP_PROCESS_STATE,
  OP_PROCESS_SET_PRIORITY, OP_PROCESS_GIVE, OP_PROCESS_MONITOR, OP_PROCESS_WAIT, OP_PROCESS_HOLDS,
  OP_PROCESS_LISTEN, OP_PROCESS_SET_ARGS, OP_PROCESS_PROTECT, OP_PROCESS_SET_FAULT_HANDLER, OP_PROCESS_COPY_PAGES,
  OP_PROCESS_CLONE, OP_PROCESS_SERVE, OP_PROCESS_DISCARD, FOREVER, SLOT_SELF,
} from "../abi";
import { E_INVALID_ARGUMENT } from "../errors";
import { msgBegin, msgAddWord, msgAddCap, msgInvoke, msgWord, msgBuffer, MAX_DATA_WORDS, MESSAGE_CAPACITY } from "../message";
import { answeredCap, operation, operation1, operation2, operation3, operation4, operationWithCap, operationWithTimeout } from "./operation";

// PROCESS_STATE's state codes (docs/ABI.md "Process states and fault kinds").
export const STATE_READY: u32 = 0;
export const STATE_RUNNING: u32 = 1;
export const STATE_BLOCKED: u32 = 2;
export const STATE_EXITED: u32 = 3;
export const STATE_FAULTED: u32 = 4;
export const STATE_CREATED: u32 = 5;
export const STATE_SUSPENDED: u32 = 6;

/** The exit code of a killed process. */
export const KILLED_EXIT_CODE: i32 = 137;

const STATE_NAMES: StaticArray<string> = ["ready", "running", "blocked", "exited", "faulted", "created", "suspended"];
const FAULT_NAMES: StaticArray<string> = [
  "null-page", "unmapped", "out-of-bounds", "read-only", "out-of-memory", "unreachable", "divide-by-zero",
  "integer-overflow", "invalid-conversion", "stack-exhausted", "indirect-call", "abort", "trap", "no-access", "page-integrity",
];

/** "exited", "faulted"...; "state N" for a code the table does not list. */
export function stateName(state: u32): string {
  return state < <u32>STATE_NAMES.length ? STATE_NAMES[state] : "state " + state.toString();
}

/** "null-page", "read-only"...; "none" for -1 (no fault). */
export function faultKindName(kind: i32): string {
  if (kind == -1) return "none";
  return <u32>kind < <u32>FAULT_NAMES.length ? FAULT_NAMES[kind] : "fault " + kind.toString();
}

/** Bytes of arguments that fit in one message (the words after PROCESS_SET_ARGS' two). */
export const ARGS_IN_MESSAGE_BYTES: i32 = (MAX_DATA_WORDS - 2) * 4;

/**
 * PROCESS_SET_ARGS' block: each string as UTF-8 followed by a zero byte, the arguments (program
 * name first) then the environment ("KEY=VALUE"). Allocates.
 */
export function packArgs(args: string[], env: string[] = []): Uint8Array {
  let length = 0;
  for (let i = 0; i < args.length; i++) length += String.UTF8.byteLength(args[i]) + 1;
  for (let i = 0; i < env.length; i++) length += String.UTF8.byteLength(env[i]) + 1;
  const out = new Uint8Array(length);
  let at = 0;
  for (let i = 0; i < args.length + env.length; i++) {
    const s = i < args.length ? args[i] : env[i - args.length];
    const bytes = Uint8Array.wrap(String.UTF8.encode(s));
    out.set(bytes, at);
    at += bytes.length + 1;
  }
  return out;
}

/** Appends a packed block to the message: PROCESS_SET_ARGS' words (length, argc, bytes). */
export function msgAddArgsBlock(block: Uint8Array, argc: u32): void {
  msgAddWord(<u32>block.length);
  msgAddWord(argc);
  for (let i = 0; i < block.length; i += 4) {
    let w: u32 = 0;
    for (let b = 0; b < 4 && i + b < block.length; b++) w |= <u32>block[i + b] << (8 * b);
    msgAddWord(w);
  }
}

/** PROCESS_STATE's answer. */
export class ProcessState {
  status: i32 = 0;
  pid: u32 = 0;
  state: u32 = 0;
  exitCode: i32 = 0;
  /** -1 when it has not faulted. */
  faultKind: i32 = -1;
  /** 0xffffffff when the fault was not about an address. */
  faultAddress: u32 = 0;
  priority: u32 = 0;
  cpuMicros: u32 = 0;
  pages: u32 = 0;
}

/** PROCESS_WAIT's answer: how it ended (status E_TIMEOUT if it did not in time). */
export class ProcessEnd {
  status: i32 = 0;
  state: u32 = 0;
  exitCode: i32 = 0;
}

export class Process {
  constructor(readonly cap: i32) {}

  /** The calling process, through slot 1. */
  static self(): Process {
    return new Process(SLOT_SELF);
  }

  /**
   * Gives the private pages [address, address + pages * 4096) the rights PAGE_RIGHTS_NONE,
   * PAGE_RIGHTS_READ or PAGE_RIGHTS_READ_WRITE (needs PROCESS_MEMORY; slot 1 has it).
   */
  protect(address: u32, pages: u32, rights: u32): i32 {
    return operation3(this.cap, OP_PROCESS_PROTECT, address, pages, rights);
  }

  /**
   * Gives the frames of its own private pages [address, address + pages * 4096) back (madvise's
   * DONTNEED): they read zeros at their next access, keeping their rights. Only on the caller's
   * own capability (slot 1); E_BAD_ADDRESS unless every page is a private page of its window.
   */
  discard(address: u32, pages: u32): i32 {
    return operation2(this.cap, OP_PROCESS_DISCARD, address, pages);
  }

  /**
   * Names its exported function `name`, of type (kind: i32, address: i32, stackTop: i32) => i32,
   * as its fault handler, with the stack [stackBase, stackBase + stackBytes) (0 bytes: none of
   * its own); "" removes it. The handler returns 0 to retry the faulting access, else the process
   * is torn down. Needs PROCESS_MEMORY.
   */
  setFaultHandler(name: string, stackBase: u32 = 0, stackBytes: u32 = 0): i32 {
    const bytes = String.UTF8.encode(name);
    return operation4(this.cap, OP_PROCESS_SET_FAULT_HANDLER, <u32>changetype<usize>(bytes), <u32>bytes.byteLength, stackBase, stackBytes);
  }

  /**
   * Its private pages at `to` become copies of `source`'s at `from` (`pages` of 4 KiB), sharing
   * frames copy-on-write until either side writes. Needs PROCESS_MEMORY on both.
   */
  copyPages(source: Process, from: u32, to: u32, pages: u32): i32 {
    msgBegin(OP_PROCESS_COPY_PAGES);
    msgAddWord(from);
    msgAddWord(to);
    msgAddWord(pages);
    msgAddCap(<u32>source.cap);
    return msgInvoke(this.cap);
  }

  /**
   * Makes this process (its own capability only) a server: once its entry returns, the kernel
   * receives on `receiver` into libdogma's message buffer and calls its exported function
   * `handler(status: i32): i32` for each message (msgLabel, msgWord, msgReply read it); the
   * handler returns 0 to go on, anything else to end with that exit code. Between two messages the
   * process is quiescent, and may be cloned. (libdogma's `serve` loop is the other way: it runs in
   * the program, which then always has frames on its stack.)
   */
  serveThroughKernel(handler: string, receiver: i32): i32 {
    const bytes = String.UTF8.encode(handler);
    msgBegin(OP_PROCESS_SERVE);
    msgAddWord(<u32>changetype<usize>(bytes));
    msgAddWord(<u32>bytes.byteLength);
    msgAddWord(<u32>receiver);
    msgAddWord(<u32>msgBuffer());
    msgAddWord(<u32>MESSAGE_CAPACITY);
    return msgInvoke(this.cap);
  }

  /**
   * A copy-on-write clone of this process, paid by `memory` (a Memory capability with
   * MEMORY_CREATE): the new process's capability (all rights), or a negative status. The process
   * must be quiescent: `created`, or a server (serveThroughKernel) waiting for a message, whose clone starts
   * serving the same Receiver with the same memory and globals.
   */
  clone(memory: i32): i32 {
    return answeredCap(operationWithCap(this.cap, OP_PROCESS_CLONE, <u32>memory));
  }

  /** A `created` process becomes ready (E_NOT_READY if it was started already). */
  start(): i32 {
    return operation(this.cap, OP_PROCESS_START);
  }

  /** It stops being scheduled until resume; a wake-up meanwhile is kept, not lost. */
  suspend(): i32 {
    return operation(this.cap, OP_PROCESS_SUSPEND);
  }

  resume(): i32 {
    return operation(this.cap, OP_PROCESS_RESUME);
  }

  /** Ends it with exit code 137; its capabilities are disposed, its monitors told. */
  kill(): i32 {
    return operation(this.cap, OP_PROCESS_KILL);
  }

  /** Works after it has ended too: that is how a fault's kind and address are read. */
  state(): ProcessState {
    const s = new ProcessState();
    s.status = operation(this.cap, OP_PROCESS_STATE);
    if (s.status >= 0) {
      s.pid = msgWord(0);
      s.state = msgWord(1);
      s.exitCode = <i32>msgWord(2);
      s.faultKind = <i32>msgWord(3);
      s.faultAddress = msgWord(4);
      s.priority = msgWord(5);
      s.cpuMicros = msgWord(6);
      s.pages = msgWord(7);
    }
    return s;
  }

  /** 0 runs first; a process cannot set a priority above (numerically below) its own. */
  setPriority(priority: u32): i32 {
    return operation1(this.cap, OP_PROCESS_SET_PRIORITY, priority);
  }

  /**
   * Installs a copy of `cap` in its table (`cap | CAP_MOVE`, or a Region owner, moves it): the
   * slot it got there, or a status. Slots are given in order, from 2 in a new process.
   */
  give(cap: u32): i32 {
    const status = operationWithCap(this.cap, OP_PROCESS_GIVE, cap);
    return status < 0 ? status : <i32>msgWord(0);
  }

  /**
   * When it ends the kernel sends MSG_PROCESS_ENDED (pid, state, exit code) through `sendCap`, a
   * send capability to a Receiver of yours (at once if it has ended already). The kernel keeps
   * the capability given, so pass `sendCap | CAP_MOVE` to not keep a copy yourself.
   */
  monitor(sendCap: u32): i32 {
    return operationWithCap(this.cap, OP_PROCESS_MONITOR, sendCap);
  }

  /** Blocks until it has ended (or `timeoutNs` passes: status E_TIMEOUT). */
  wait(timeoutNs: u64 = FOREVER): ProcessEnd {
    const end = new ProcessEnd();
    end.status = operationWithTimeout(this.cap, OP_PROCESS_WAIT, timeoutNs);
    if (end.status >= 0) {
      end.state = msgWord(0);
      end.exitCode = <i32>msgWord(1);
    }
    return end;
  }

  /** 1 if it holds a capability to the same object as `cap`, 0 if not, or a status. */
  holds(cap: i32): i32 {
    const status = operationWithCap(this.cap, OP_PROCESS_HOLDS, <u32>cap);
    return status < 0 ? status : <i32>msgWord(0);
  }

  /**
   * Gives a `created` process its arguments (args[0]: the program name) and environment, packed
   * in the message: at most ARGS_IN_MESSAGE_BYTES in all (else E_INVALID_ARGUMENT; use
   * setArgsFrom with a Region). E_NOT_READY once it has started.
   */
  setArgs(args: string[], env: string[] = []): i32 {
    const block = packArgs(args, env);
    if (block.length > ARGS_IN_MESSAGE_BYTES) return E_INVALID_ARGUMENT;
    msgBegin(OP_PROCESS_SET_ARGS);
    msgAddArgsBlock(block, <u32>args.length);
    return msgInvoke(this.cap);
  }

  /** As setArgs, the `length` bytes of the block (see packArgs) read from the start of `region` (owner or view). */
  setArgsFrom(region: i32, length: u32, argc: u32): i32 {
    msgBegin(OP_PROCESS_SET_ARGS);
    msgAddWord(length);
    msgAddWord(argc);
    msgAddCap(<u32>region);
    return msgInvoke(this.cap);
  }

  /** While listening, capabilities in messages it receives are installed; otherwise disposed. */
  listen(on: bool): i32 {
    return operation1(this.cap, OP_PROCESS_LISTEN, on ? 1 : 0);
  }
}
