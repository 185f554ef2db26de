// Debugging another process through a Process capability with RIGHT_PROCESS_DEBUG (docs/DEBUGGING.md,
// docs/ABI.md): attach with an event Receiver's send capability, set breakpoints and watchpoints,
// continue and step, read and write its memory and globals while it is stopped, read its stack,
// functions and fault. Answers are read from the message buffer, as everywhere in libdogma.
import {
  OP_PROCESS_DEBUG_ATTACH, OP_PROCESS_DEBUG_DETACH, OP_PROCESS_DEBUG_STOP, OP_PROCESS_DEBUG_CONTINUE, OP_PROCESS_DEBUG_STEP,
  OP_PROCESS_DEBUG_BREAK, OP_PROCESS_DEBUG_WATCH, OP_PROCESS_DEBUG_CLEAR, OP_PROCESS_DEBUG_READ, OP_PROCESS_DEBUG_WRITE,
  OP_PROCESS_DEBUG_GLOBALS, OP_PROCESS_DEBUG_SET_GLOBAL, OP_PROCESS_DEBUG_INFO, OP_PROCESS_DEBUG_BACKTRACE,
  OP_PROCESS_DEBUG_FUNCTION, OP_PROCESS_DEBUG_FAULT, OP_PROCESS_DEBUG_GLOBAL_NAME,
} from "../abi";
import { E_INVALID_ARGUMENT } from "../errors";
import { msgBegin, msgAddWord, msgAddCap, msgInvoke, msgWord, msgWordCount, msgBuffer } from "../message";
import { operation, operation1, operation3 } from "./operation";

// Why a debugged process stopped (DEBUG_STOPPED's reason, PROCESS_DEBUG_INFO's).
export const DEBUG_STOP_REQUEST: u32 = 1;
export const DEBUG_STOP_BREAKPOINT: u32 = 2;
export const DEBUG_STOP_WATCHPOINT: u32 = 3;
export const DEBUG_STOP_STEP: u32 = 4;
export const DEBUG_STOP_FAULT: u32 = 5;
// Where a breakpoint stops in its function.
export const BREAK_AT_ENTRY: u32 = 0;
export const BREAK_AT_LOOPS: u32 = 1;
export const BREAK_AT_OFFSET: u32 = 2;
// What a watchpoint stops on.
export const WATCH_WRITES: u32 = 1;
export const WATCH_ACCESSES: u32 = 2;
/** ATTACH's flag: the debugger's end kills the target (else the target runs on). */
export const DEBUG_KILL_ON_END: u32 = 1;
/** READ and WRITE's flag: the rights the target gave its private pages are set aside. */
export const DEBUG_OVERRIDE_RIGHTS: u32 = 1;
/** No function, no frame count, no more globals: all ones. */
export const DEBUG_NONE: u32 = 0xffffffff;
/** PROCESS_DEBUG_FUNCTION's flags. */
export const FUNCTION_IMPORTED: u32 = 1;
export const FUNCTION_HAS_SAFE_POINT: u32 = 2;
/** Bytes one read answers, and one write carries, at most. */
export const DEBUG_READ_MAX: u32 = 256;
export const DEBUG_WRITE_MAX: u32 = 244;

/** PROCESS_DEBUG_INFO's answer. */
export class DebugInfo {
  status: i32 = 0;
  stopped: bool = false;
  reason: u32 = 0;
  id: u32 = 0;
  /** DEBUG_NONE when not known. */
  func: u32 = DEBUG_NONE;
  offset: u32 = 0;
  address: u32 = 0;
  /** 1 read, 2 write (a watchpoint's stop). */
  access: u32 = 0;
  /** DEBUG_NONE when the stack is not known. */
  frames: u32 = DEBUG_NONE;
  breakpoints: u32 = 0;
  watchpoints: u32 = 0;
  /** 0 none, 1 another process, 2 the caller. */
  attached: u32 = 0;
  functions: u32 = 0;
  importedFunctions: u32 = 0;
  imageBase: u32 = 0;
  imageSize: u32 = 0;
}

/** PROCESS_DEBUG_FAULT's answer (kind -1: no fault). */
export class DebugFault {
  status: i32 = 0;
  kind: i32 = -1;
  address: u32 = DEBUG_NONE;
  func: string = "";
  message: string = "";
}

/** Appends a name as the debugging operations take it: its byte length, then its UTF-8, four bytes a word. */
function msgAddName(name: string): bool {
  const bytes = Uint8Array.wrap(String.UTF8.encode(name));
  if (bytes.length == 0 || bytes.length > 240) return false;
  msgAddWord(<u32>bytes.length);
  for (let i = 0; i < bytes.length; i += 4) {
    let w: u32 = 0;
    for (let b = 0; b < 4 && i + b < bytes.length; b++) w |= <u32>bytes[i + b] << (8 * b);
    msgAddWord(w);
  }
  return true;
}

/** `length` bytes of the answer's words from word `first`, as UTF-8 text. */
function msgText(first: i32, length: u32): string {
  const available = <u32>max(0, (msgWordCount() - first) * 4);
  return String.UTF8.decodeUnsafe(msgBuffer() + 20 + (<usize>first << 2), <usize>min(length, available));
}

/** A process seen through a capability with RIGHT_PROCESS_DEBUG. */
export class Debuggee {
  constructor(readonly cap: i32) {}

  /**
   * Becomes its debugger: it stops, and DEBUG_STOPPED messages come through `events` (a send
   * capability; `| CAP_MOVE` to hand it over). `flags`: DEBUG_KILL_ON_END.
   */
  attach(events: u32, flags: u32 = 0): i32 {
    msgBegin(OP_PROCESS_DEBUG_ATTACH);
    msgAddWord(flags);
    msgAddCap(events);
    return msgInvoke(this.cap);
  }

  /** Lets it go: breakpoints and watchpoints removed, and it runs on. */
  detach(): i32 {
    return operation(this.cap, OP_PROCESS_DEBUG_DETACH);
  }

  /** Stops it where it is (its stack is known once it reaches a safe point: step). */
  stop(): i32 {
    return operation(this.cap, OP_PROCESS_DEBUG_STOP);
  }

  /** Lets a stopped process go on (starts one never started; ends one holding a fault). */
  cont(): i32 {
    return operation(this.cap, OP_PROCESS_DEBUG_CONTINUE);
  }

  /** Runs it to its next safe point. */
  step(): i32 {
    return operation(this.cap, OP_PROCESS_DEBUG_STEP);
  }

  /** A breakpoint in function `index` (BREAK_AT_ENTRY, _LOOPS, or _OFFSET with `offset`): its id, or a status. */
  breakAt(index: u32, at: u32 = BREAK_AT_ENTRY, offset: u32 = 0): i32 {
    const status = operation3(this.cap, OP_PROCESS_DEBUG_BREAK, index, at, offset);
    return status < 0 ? status : <i32>msgWord(0);
  }

  /** A breakpoint in the function of that name (the name section's): its id, or a status. */
  breakAtName(name: string, at: u32 = BREAK_AT_ENTRY, offset: u32 = 0): i32 {
    msgBegin(OP_PROCESS_DEBUG_BREAK);
    msgAddWord(DEBUG_NONE);
    msgAddWord(at);
    msgAddWord(offset);
    if (!msgAddName(name)) return E_INVALID_ARGUMENT;
    const status = msgInvoke(this.cap);
    return status < 0 ? status : <i32>msgWord(0);
  }

  /** A watchpoint on `pages` pages from `address` (WATCH_WRITES or WATCH_ACCESSES): its id, or a status. */
  watch(address: u32, pages: u32, on: u32): i32 {
    const status = operation3(this.cap, OP_PROCESS_DEBUG_WATCH, address, pages, on);
    return status < 0 ? status : <i32>msgWord(0);
  }

  /** Removes a breakpoint or watchpoint. */
  clear(id: u32): i32 {
    return operation1(this.cap, OP_PROCESS_DEBUG_CLEAR, id);
  }

  /** Copies `length` (at most DEBUG_READ_MAX) bytes of its memory at `address` to `into`: the status. */
  read(address: u32, length: u32, into: usize, flags: u32 = 0): i32 {
    const status = operation3(this.cap, OP_PROCESS_DEBUG_READ, address, length, flags);
    if (status >= 0) memory.copy(into, msgBuffer() + 20, <usize>length);
    return status;
  }

  /** Writes `length` (at most DEBUG_WRITE_MAX) bytes from `from` into its memory at `address`. */
  write(address: u32, from: usize, length: u32, flags: u32 = 0): i32 {
    if (length > DEBUG_WRITE_MAX) return E_INVALID_ARGUMENT;
    msgBegin(OP_PROCESS_DEBUG_WRITE);
    msgAddWord(address);
    msgAddWord(length);
    msgAddWord(flags);
    for (let i: u32 = 0; i < length; i += 4) {
      let w: u32 = 0;
      for (let b: u32 = 0; b < 4 && i + b < length; b++) w |= <u32>load<u8>(from + i + b) << (8 * b);
      msgAddWord(w);
    }
    return msgInvoke(this.cap);
  }

  /**
   * Its mutable globals from index `from`: the status; the answer is `next` (DEBUG_NONE: no more),
   * `count`, then `index, type (0 i32, 1 i64, 2 f32, 3 f64), low, high` each (msgWord).
   */
  globals(from: u32): i32 {
    return operation1(this.cap, OP_PROCESS_DEBUG_GLOBALS, from);
  }

  /** Global `index`'s name from the binary's name section, or "" when it has none. */
  globalName(index: u32): string {
    const status = operation1(this.cap, OP_PROCESS_DEBUG_GLOBAL_NAME, index);
    return status < 0 ? "" : msgText(1, msgWord(0));
  }

  setGlobal(index: u32, low: u32, high: u32): i32 {
    return operation3(this.cap, OP_PROCESS_DEBUG_SET_GLOBAL, index, low, high);
  }

  info(): DebugInfo {
    const info = new DebugInfo();
    info.status = operation(this.cap, OP_PROCESS_DEBUG_INFO);
    if (info.status < 0) return info;
    info.stopped = msgWord(0) != 0;
    info.reason = msgWord(1);
    info.id = msgWord(2);
    info.func = msgWord(3);
    info.offset = msgWord(4);
    info.address = msgWord(5);
    info.access = msgWord(6);
    info.frames = msgWord(7);
    info.breakpoints = msgWord(8);
    info.watchpoints = msgWord(9);
    info.attached = msgWord(10);
    info.functions = msgWord(11);
    info.importedFunctions = msgWord(12);
    info.imageBase = msgWord(13);
    info.imageSize = msgWord(14);
    return info;
  }

  /** Its frames from `from` (0: innermost): the status; the answer is `total, count`, then `function, offset` each. */
  backtrace(from: u32): i32 {
    return operation1(this.cap, OP_PROCESS_DEBUG_BACKTRACE, from);
  }

  /** Function `index`'s name, or "" when there is no such function. */
  functionName(index: u32): string {
    const status = operation1(this.cap, OP_PROCESS_DEBUG_FUNCTION, index);
    return status < 0 ? "" : msgText(3, msgWord(2));
  }

  /** Function `index`'s flags (FUNCTION_IMPORTED, FUNCTION_HAS_SAFE_POINT), or a status. */
  functionFlags(index: u32): i32 {
    const status = operation1(this.cap, OP_PROCESS_DEBUG_FUNCTION, index);
    return status < 0 ? status : <i32>msgWord(1);
  }

  /** The index of the function named `name` exactly, or a status. */
  findFunction(name: string): i32 {
    msgBegin(OP_PROCESS_DEBUG_FUNCTION);
    msgAddWord(DEBUG_NONE);
    if (!msgAddName(name)) return E_INVALID_ARGUMENT;
    const status = msgInvoke(this.cap);
    return status < 0 ? status : <i32>msgWord(0);
  }

  fault(): DebugFault {
    const fault = new DebugFault();
    fault.status = operation(this.cap, OP_PROCESS_DEBUG_FAULT);
    if (fault.status < 0) return fault;
    fault.kind = <i32>msgWord(0);
    fault.address = msgWord(1);
    const nameLength = msgWord(2);
    const messageLength = msgWord(3);
    fault.func = msgText(4, nameLength);
    fault.message = msgText(4 + <i32>((nameLength + 3) >> 2), messageLength);
    return fault;
  }
}
