// One debugging session: the commands dbg understands, each a few kernel operations on the target's
// Process capability (lib/caps/debug.ts), and how stops are told to the user.
import { Job, procKill, procInspect } from "../../lib/proc-client";
import {
  print, eprint, errorName, msgWord, msgLabel, msgBadge, Receiver, Process, faultKindName, stateName,
  Debuggee, DebugInfo, BREAK_AT_ENTRY, BREAK_AT_LOOPS, BREAK_AT_OFFSET, WATCH_WRITES, WATCH_ACCESSES, DEBUG_NONE,
  DEBUG_STOP_REQUEST, DEBUG_STOP_BREAKPOINT, DEBUG_STOP_WATCHPOINT, DEBUG_STOP_STEP, DEBUG_STOP_FAULT,
  DEBUG_OVERRIDE_RIGHTS, FUNCTION_IMPORTED, FUNCTION_HAS_SAFE_POINT, MSG_DEBUG_STOPPED, MSG_PROCESS_ENDED, STATE_FAULTED,
  OP_KERNEL_CAPS, capsNext, capsEntries,
} from "../../lib";

export const HELP = `commands:
  break FUNC            stop at FUNC's entry (a name, its end after a /, or #INDEX)
  break FUNC loop       stop at each of FUNC's loop headers
  break FUNC@0xOFFSET   stop at FUNC's safe point at that code offset (as bt shows them)
  watch ADDR [PAGES] [w|rw]  stop when the program writes (w) or touches (rw) those pages
  delete ID             remove a breakpoint or watchpoint
  continue, c           let it run to the next stop
  step, s               run to its next safe point (a function entry or a loop header)
  x[/N] ADDR            show N words (default 4) of its memory
  set [-f] ADDR VALUE   write a 32-bit word (-f: even to a page it made read-only)
  globals               its mutable globals
  setg GLOBAL VALUE     set one (by its index or name)
  bt                    the stack where it stopped
  info                  its state, pages, and why it stopped
  funcs [TEXT]          its functions (those whose name holds TEXT)
  detach                let it run on without the debugger, and quit
  kill                  end it, and quit
  quit                  quit (a program dbg started is killed; an attached one runs on)`;

/** Badges of the two notices that come to the events Receiver. */
export const STOPPED_BADGE: u32 = 1;
export const ENDED_BADGE: u32 = 2;

export class Session {
  readonly target: Debuggee;
  /** Set when the target has ended (its PROCESS_ENDED came): the session is over. */
  ended: bool = false;
  constructor(
    readonly cap: i32,
    readonly pid: u32,
    readonly events: Receiver,
    /** Its job capability when dbg started it (its debug capability cannot kill), else 0. */
    readonly job: i32,
    /** The process manager with dbg's session: it kills an attached job of the session. */
    readonly proc: i32,
  ) {
    this.target = new Debuggee(cap);
  }

  /** Waits for the next stop or the end, and says what it was (`quiet`: only the end). */
  waitForStop(quiet: bool = false): void {
    for (;;) {
      const status = this.events.receive();
      if (status < 0) {
        eprint("dbg: waiting for the program: " + errorName(status));
        this.ended = true;
        return;
      }
      if (msgLabel() == MSG_PROCESS_ENDED && msgBadge() == ENDED_BADGE) {
        const state = msgWord(1);
        const code = <i32>msgWord(2);
        print("dbg: pid " + this.pid.toString() + (state == STATE_FAULTED ? " faulted" : " exited with code " + code.toString()));
        this.ended = true;
        return;
      }
      if (msgLabel() == MSG_DEBUG_STOPPED && msgBadge() == STOPPED_BADGE) {
        if (quiet) return;
        this.tellStop(msgWord(1), msgWord(2), msgWord(3), msgWord(4), msgWord(5), msgWord(6));
        return;
      }
    }
  }

  /** One line on why and where it stopped. */
  tellStop(reason: u32, id: u32, func: u32, offset: u32, address: u32, access: u32): void {
    const where = func == DEBUG_NONE ? "" : " in " + this.describe(func, offset);
    if (reason == DEBUG_STOP_BREAKPOINT) print("breakpoint " + id.toString() + where);
    else if (reason == DEBUG_STOP_WATCHPOINT) print("watchpoint " + id.toString() + ": " + (access == 2 ? "write" : "read") + " at " + hex(address) + where + " (before the access)");
    else if (reason == DEBUG_STOP_STEP) print("stepped" + where);
    else if (reason == DEBUG_STOP_FAULT) {
      const fault = this.target.fault();
      print("faulted: " + faultKindName(fault.kind) + (fault.address != DEBUG_NONE ? " at " + hex(fault.address) : "") + where + ": " + fault.message);
      print("(the program is held for you to look at; continue, kill or detach ends it)");
    } else if (reason == DEBUG_STOP_REQUEST) print("stopped" + (where.length > 0 ? where : " (between two slices or in a kernel call: step to see where)"));
    else print("stopped (reason " + reason.toString() + ")" + where);
  }

  /** `name (#index) @0xoffset`. */
  describe(func: u32, offset: u32): string {
    const name = this.target.functionName(func);
    return (name.length > 0 ? name : "function") + " (#" + func.toString() + ") @" + hex(offset);
  }

  /** Runs one command line; false when dbg should end. */
  run(line: string): bool {
    const words = split(line);
    if (words.length == 0) return true;
    const command = words[0];
    if (command == "help" || command == "h" || command == "?") print(HELP);
    else if (command == "break" || command == "b") this.breakCommand(words);
    else if (command == "watch" || command == "w") this.watchCommand(words);
    else if (command == "delete" || command == "d") this.deleteCommand(words);
    else if (command == "continue" || command == "c") this.resume(this.target.cont());
    else if (command == "step" || command == "s") this.resume(this.target.step());
    else if (command.startsWith("x")) this.examine(command, words);
    else if (command == "set") this.setCommand(words);
    else if (command == "globals" || command == "g") this.globalsCommand();
    else if (command == "setg") this.setGlobalCommand(words);
    else if (command == "bt" || command == "backtrace") this.backtrace();
    else if (command == "info" || command == "i") this.info();
    else if (command == "funcs") this.functions(words.length > 1 ? words[1] : "");
    else if (command == "detach") {
      report("detach", this.target.detach());
      return false;
    } else if (command == "kill") {
      report("kill", this.job > 0 ? new Job(this.job).kill() : procKill(this.proc, this.pid));
      return false;
    } else if (command == "quit" || command == "q") return false;
    else eprint("dbg: " + command + ": no such command (try help)");
    return !this.ended;
  }

  private resume(status: i32): void {
    if (status < 0) {
      eprint("dbg: " + errorName(status) + (status == -12 ? ": it is not stopped" : ""));
      return;
    }
    this.waitForStop();
  }

  /** The function a command names: `#N`, its exact name, or the one name that ends in `/NAME` (or `.NAME`); -1 after saying why not. */
  private functionNamed(text: string): i32 {
    if (text.startsWith("#")) {
      const n = parseNumber(text.slice(1));
      if (n < 0 || this.target.functionName(<u32>n).length == 0) return notFound(text);
      return <i32>n;
    }
    const exact = this.target.findFunction(text);
    if (exact >= 0) return exact;
    const count = this.target.info().functions;
    let found = -1;
    let matches = 0;
    for (let i: u32 = 0; i < count; i++) {
      const name = this.target.functionName(i);
      if (name.endsWith("/" + text) || name.endsWith("." + text) || name.endsWith(":" + text)) {
        found = <i32>i;
        matches++;
      }
    }
    if (matches > 1) {
      eprint("dbg: " + text + " names " + matches.toString() + " functions: say which (funcs " + text + ")");
      return -1;
    }
    return matches == 1 ? found : notFound(text);
  }

  private breakCommand(words: string[]): void {
    if (words.length < 2) return usage("break FUNC [loop] | break FUNC@0xOFFSET");
    let text = words[1];
    let at = words.length > 2 && words[2] == "loop" ? BREAK_AT_LOOPS : BREAK_AT_ENTRY;
    let offset: u32 = 0;
    const sign = text.indexOf("@");
    if (sign > 0) {
      const n = parseNumber(text.slice(sign + 1));
      if (n < 0) return usage("break FUNC@0xOFFSET");
      offset = <u32>n;
      at = BREAK_AT_OFFSET;
      text = text.slice(0, sign);
    }
    const func = this.functionNamed(text);
    if (func < 0) return;
    const flags = this.target.functionFlags(<u32>func);
    if (flags >= 0 && (flags & FUNCTION_IMPORTED) != 0) {
      eprint("dbg: " + text + " is imported: it is the kernel's, not code of the program");
      return;
    }
    if (flags >= 0 && (flags & FUNCTION_HAS_SAFE_POINT) == 0) {
      eprint("dbg: " + text + " is a small leaf with no safe point: it cannot be broken on (break on its caller)");
      return;
    }
    const id = this.target.breakAt(<u32>func, at, offset);
    if (id < 0) return report("break", id);
    const kind = at == BREAK_AT_LOOPS ? ", at each loop header" : at == BREAK_AT_OFFSET ? ", at " + hex(offset) : "";
    print("breakpoint " + id.toString() + ": " + this.target.functionName(<u32>func) + " (#" + func.toString() + ")" + kind);
  }

  private watchCommand(words: string[]): void {
    if (words.length < 2) return usage("watch ADDR [PAGES] [w|rw]");
    const address = parseNumber(words[1]);
    let pages: i64 = 1;
    let on = WATCH_WRITES;
    for (let i = 2; i < words.length; i++) {
      if (words[i] == "rw" || words[i] == "r") on = WATCH_ACCESSES;
      else if (words[i] != "w") pages = parseNumber(words[i]);
    }
    if (address < 0 || pages <= 0) return usage("watch ADDR [PAGES] [w|rw]");
    const id = this.target.watch(<u32>address, <u32>pages, on);
    if (id < 0) return report("watch", id);
    const first = <u32>address & ~0xfff;
    print("watchpoint " + id.toString() + ": " + hex(first) + "-" + hex(first + (<u32>pages << 12) - 1) + (on == WATCH_WRITES ? " (writes)" : " (reads and writes)"));
  }

  private deleteCommand(words: string[]): void {
    const id = words.length > 1 ? parseNumber(words[1]) : -1;
    if (id < 0) return usage("delete ID");
    report("delete", this.target.clear(<u32>id));
  }

  private examine(command: string, words: string[]): void {
    let count: i64 = 4;
    let at = 1;
    if (command.startsWith("x/")) count = parseNumber(command.slice(2).replace("x", ""));
    else if (command != "x") {
      eprint("dbg: " + command + ": no such command (try help)");
      return;
    }
    if (words.length > 2) count = parseNumber(words[2]);
    const address = words.length > at ? parseNumber(words[at]) : -1;
    if (address < 0 || count <= 0 || count > 64) return usage("x[/N] ADDR (N at most 64)");
    const bytes = new StaticArray<u8>(<i32>count * 4);
    const status = this.target.read(<u32>address, <u32>count * 4, changetype<usize>(bytes));
    if (status < 0) return report("x", status, <u32>address);
    for (let row = 0; row < <i32>count; row += 4) {
      let line = hex(<u32>address + <u32>row * 4) + ":";
      for (let i = row; i < min(row + 4, <i32>count); i++) line += " " + hex8(load<u32>(changetype<usize>(bytes) + <usize>i * 4));
      print(line);
    }
  }

  private setCommand(words: string[]): void {
    const force = words.length > 1 && words[1] == "-f";
    const from = force ? 2 : 1;
    if (words.length < from + 2) return usage("set [-f] ADDR VALUE");
    const address = parseNumber(words[from]);
    const value = parseNumber(words[from + 1]);
    if (address < 0 || value < 0) return usage("set [-f] ADDR VALUE");
    const word = new StaticArray<u32>(1);
    word[0] = <u32>value;
    const status = this.target.write(<u32>address, changetype<usize>(word), 4, force ? DEBUG_OVERRIDE_RIGHTS : 0);
    if (status < 0) return report("set", status, <u32>address);
    print(hex(<u32>address) + " = " + hex8(<u32>value));
  }

  private globalsCommand(): void {
    let from: u32 = 0;
    let shown = 0;
    for (;;) {
      const status = this.target.globals(from);
      if (status < 0) return report("globals", status);
      const next = msgWord(0);
      const count = <i32>msgWord(1);
      const lines = new Array<string>();
      const indices = new Array<u32>();
      for (let i = 0; i < count; i++) {
        const index = msgWord(2 + i * 4);
        const type = msgWord(3 + i * 4);
        const low = msgWord(4 + i * 4);
        const high = msgWord(5 + i * 4);
        lines.push(" " + typeName(type) + " = " + valueText(type, low, high));
        indices.push(index);
      }
      // Names after the words are read: each name is an operation of its own.
      for (let i = 0; i < lines.length; i++) {
        const name = this.target.globalName(indices[i]);
        print("global " + indices[i].toString() + (name.length > 0 ? " " + name : "") + lines[i]);
      }
      shown += count;
      if (next == DEBUG_NONE) break;
      from = next;
    }
    if (shown == 0) print("(no mutable globals)");
  }

  private setGlobalCommand(words: string[]): void {
    const index = words.length > 2 ? this.globalNamed(words[1]) : -1;
    const value = words.length > 2 ? parseNumber(words[2]) : -1;
    if (index < 0 || value < 0) return usage("setg INDEX VALUE");
    report("setg", this.target.setGlobal(<u32>index, <u32>value, <u32>(value >> 32)));
  }

  /** A global by its index, its name, or the end of its name after a /; -1 when none. */
  private globalNamed(text: string): i64 {
    const n = parseNumber(text);
    if (n >= 0) return n;
    for (let from: u32 = 0; ; ) {
      if (this.target.globals(from) < 0) return -1;
      const next = msgWord(0);
      const count = <i32>msgWord(1);
      const indices = new Array<u32>();
      for (let i = 0; i < count; i++) indices.push(msgWord(2 + i * 4));
      for (let i = 0; i < count; i++) {
        const name = this.target.globalName(indices[i]);
        if (name.length > 0 && (name == text || name.endsWith("/" + text))) return indices[i];
      }
      if (next == DEBUG_NONE) return -1;
      from = next;
    }
    return -1;
  }

  private backtrace(): void {
    const status = this.target.backtrace(0);
    if (status == -12) {
      print("no stack: it stopped outside a safe point (between two slices or in a kernel call); step, and bt then");
      return;
    }
    if (status < 0) return report("bt", status);
    const total = msgWord(0);
    const count = <i32>msgWord(1);
    const funcs = new Array<u32>();
    const offsets = new Array<u32>();
    for (let i = 0; i < count; i++) {
      funcs.push(msgWord(2 + i * 2));
      offsets.push(msgWord(3 + i * 2));
    }
    for (let i = 0; i < count; i++) print("#" + i.toString() + " " + this.describe(funcs[i], offsets[i]));
    if (<u32>count < total) print("(" + (total - <u32>count).toString() + " more frames)");
  }

  private info(): void {
    const state = new Process(this.cap).state();
    if (state.status < 0) return report("info", state.status);
    const caps = this.capabilities();
    print("pid " + this.pid.toString() + ": " + stateName(state.state) + ", " + state.pages.toString() + " pages, " + (state.cpuMicros / 1000).toString() + " ms of CPU" + (caps >= 0 ? ", " + caps.toString() + " capabilities (caps " + this.pid.toString() + " lists them)" : ""));
    const info: DebugInfo = this.target.info();
    if (info.status < 0) return report("info", info.status);
    print(info.breakpoints.toString() + " breakpoints, " + info.watchpoints.toString() + " watchpoints; " + info.functions.toString() + " functions (" + info.importedFunctions.toString() + " imported); binary of " + info.imageSize.toString() + " bytes at " + hex(info.imageBase));
    if (info.stopped) this.tellStop(info.reason, info.id, info.func, info.offset, info.address, info.access);
    else print("running");
  }

  /** How many capabilities its table holds (the kernel's table through the process manager), or a status. */
  private capabilities(): i32 {
    let count = 0;
    let slot: u32 = 0;
    do {
      const status = procInspect(this.proc, OP_KERNEL_CAPS, this.pid, slot);
      if (status < 0) return status;
      slot = capsNext();
      count += capsEntries();
    } while (slot != 0);
    return count;
  }

  private functions(text: string): void {
    const count = this.target.info().functions;
    for (let i: u32 = 0; i < count; i++) {
      const name = this.target.functionName(i);
      if (text.length > 0 && !name.includes(text)) continue;
      const flags = this.target.functionFlags(i);
      const note = (flags & FUNCTION_IMPORTED) != 0 ? " (imported)" : (flags & FUNCTION_HAS_SAFE_POINT) == 0 ? " (no safe point)" : "";
      print("#" + i.toString() + " " + name + note);
    }
  }
}

function notFound(text: string): i32 {
  eprint("dbg: " + text + ": no such function (try funcs)");
  return -1;
}

function usage(text: string): void {
  eprint("usage: " + text);
}

function report(what: string, status: i32, address: u32 = 0): void {
  if (status >= 0) return;
  let why = errorName(status);
  if (status == -9) why += ": " + hex(address) + " is out of the program's reach (not mapped, or not with that right)";
  if (status == -12) why += ": it must be stopped first";
  eprint("dbg: " + what + ": " + why);
}

/** Words of a command line, split on spaces. */
function split(line: string): string[] {
  const out = new Array<string>();
  const parts = line.trim().split(" ");
  for (let i = 0; i < parts.length; i++) if (parts[i].length > 0) out.push(parts[i]);
  return out;
}

/** A decimal or 0x hexadecimal number of up to 64 bits; -1 when it is not one. */
export function parseNumber(text: string): i64 {
  const hexadecimal = text.startsWith("0x") || text.startsWith("0X");
  const digits = hexadecimal ? text.slice(2) : text;
  if (digits.length == 0 || digits.length > 16) return -1;
  let value: u64 = 0;
  for (let i = 0; i < digits.length; i++) {
    const c = digits.charCodeAt(i);
    let d: i32 = -1;
    if (c >= 48 && c <= 57) d = c - 48;
    else if (hexadecimal && c >= 97 && c <= 102) d = c - 87;
    else if (hexadecimal && c >= 65 && c <= 70) d = c - 55;
    if (d < 0) return -1;
    value = value * (hexadecimal ? 16 : 10) + <u64>d;
  }
  return <i64>(value & 0x7fffffffffffffff);
}

export function hex(value: u32): string {
  return "0x" + value.toString(16);
}

function hex8(value: u32): string {
  const text = value.toString(16);
  return "00000000".slice(text.length) + text;
}

function typeName(type: u32): string {
  return type == 0 ? "i32" : type == 1 ? "i64" : type == 2 ? "f32" : "f64";
}

function valueText(type: u32, low: u32, high: u32): string {
  if (type == 0) return (<i32>low).toString() + " (" + hex(low) + ")";
  if (type == 1) return ((<i64>high << 32) | <i64>low).toString();
  if (type == 2) return reinterpret<f32>(low).toString();
  return reinterpret<f64>((<u64>high << 32) | <u64>low).toString();
}
