import { functionTable } from "../debug-functions.ts";
import type { DebugSession } from "../debugging.ts";
import { Status } from "../errors.ts";
import { FAULT_KINDS } from "../fault.ts";
import { printable } from "../printable.ts";
import type { Process } from "../process.ts";
import { packWords, readGlobals, readTarget, writeGlobal, writeTarget } from "./debug-memory.ts";
import { type Invocation, answer, takeCaps, word } from "./invocation.ts";
import { DebugAttachFlag, ObjectKind, Op, Rights } from "./object-abi.ts";
import type { ObjectKernel } from "./object-kernel.ts";

/**
 * The debugging operations on a Process capability with PROCESS_DEBUG (docs/DEBUGGING.md; the
 * rights were checked by process-control.ts). Reading what a process is (INFO, FUNCTION, FAULT)
 * works on any, ended ones too; its memory and globals only while it holds still
 * (debug-memory.ts); stopping, stepping, breakpoints and watchpoints only for the process attached
 * to it as its debugger (E_NOT_READY for anyone else, or before ATTACH).
 */
export const DEBUG_OPS: ReadonlySet<number> = new Set([
  Op.PROCESS_DEBUG_ATTACH, Op.PROCESS_DEBUG_DETACH, Op.PROCESS_DEBUG_STOP, Op.PROCESS_DEBUG_CONTINUE, Op.PROCESS_DEBUG_STEP,
  Op.PROCESS_DEBUG_BREAK, Op.PROCESS_DEBUG_WATCH, Op.PROCESS_DEBUG_CLEAR, Op.PROCESS_DEBUG_READ, Op.PROCESS_DEBUG_WRITE,
  Op.PROCESS_DEBUG_GLOBALS, Op.PROCESS_DEBUG_SET_GLOBAL, Op.PROCESS_DEBUG_INFO, Op.PROCESS_DEBUG_BACKTRACE,
  Op.PROCESS_DEBUG_FUNCTION, Op.PROCESS_DEBUG_FAULT, Op.PROCESS_DEBUG_GLOBAL_NAME,
]);

const NONE = 0xffff_ffff;
/** Frames one PROCESS_DEBUG_BACKTRACE answers: 2 words each after 2. */
const FRAMES_PER_ANSWER = 31;
/** A name in a request or an answer: at most this many bytes. */
const MAX_NAME_BYTES = 240;
const MAX_FAULT_NAME_BYTES = 64;
const MAX_FAULT_MESSAGE_BYTES = 176;

const utf8 = new TextDecoder("utf-8", { fatal: true });
const encoder = new TextEncoder();

export function invokeDebug(k: ObjectKernel, inv: Invocation, target: Process): number | Promise<number> {
  switch (inv.message.label) {
    case Op.PROCESS_DEBUG_INFO:
      return info(inv, target);
    case Op.PROCESS_DEBUG_FUNCTION:
      return functionInfo(inv, target);
    case Op.PROCESS_DEBUG_FAULT:
      return faultInfo(inv, target);
    case Op.PROCESS_DEBUG_GLOBAL_NAME: {
      const name = functionTable(target.image).globalName(word(inv, 0));
      if (name === null) return Status.E_INVALID_ARGUMENT;
      const bytes = cutUtf8(encoder.encode(printable(name)), MAX_NAME_BYTES);
      return answer(inv, [bytes.length, ...packWords(bytes)]);
    }
  }
  if (!target.alive) return Status.E_PEER_DEAD;
  switch (inv.message.label) {
    case Op.PROCESS_DEBUG_ATTACH:
      return attach(k, inv, target);
    case Op.PROCESS_DEBUG_READ:
      return readTarget(k, inv, target);
    case Op.PROCESS_DEBUG_WRITE:
      return writeTarget(k, inv, target);
    case Op.PROCESS_DEBUG_GLOBALS:
      return readGlobals(inv, target);
    case Op.PROCESS_DEBUG_SET_GLOBAL:
      return writeGlobal(inv, target);
  }
  const session = target.debug;
  if (!session || session.holder !== inv.caller) return Status.E_NOT_READY;
  switch (inv.message.label) {
    case Op.PROCESS_DEBUG_DETACH:
      k.debugging.detach(session);
      return Status.OK;
    case Op.PROCESS_DEBUG_STOP:
      session.stopNow();
      return Status.OK;
    case Op.PROCESS_DEBUG_CONTINUE:
      return session.continue();
    case Op.PROCESS_DEBUG_STEP:
      return session.step();
    case Op.PROCESS_DEBUG_BREAK:
      return addBreakpoint(inv, session);
    case Op.PROCESS_DEBUG_WATCH: {
      const id = session.addWatchpoint(word(inv, 0), word(inv, 1), word(inv, 2));
      return id < 0 ? id : answer(inv, [id]);
    }
    case Op.PROCESS_DEBUG_CLEAR:
      return session.clear(word(inv, 0));
    case Op.PROCESS_DEBUG_BACKTRACE:
      return backtrace(inv, session);
    default:
      return Status.E_INVALID_ARGUMENT;
  }
}

/** ATTACH: `flags`; cap: a Receiver with RECEIVER_SEND, where DEBUG_STOPPED goes (the kernel keeps it). */
function attach(k: ObjectKernel, inv: Invocation, target: Process): number {
  const flags = word(inv, 0);
  if ((flags & ~DebugAttachFlag.KILL_ON_END) !== 0) return Status.E_INVALID_ARGUMENT;
  const raw = inv.message.caps.subarray(0, 1);
  const cap = raw.length > 0 ? inv.caller.caps.get(raw[0]! & 0x7fff_ffff) : null;
  if (!cap) return Status.E_INVALID_CAP;
  if (cap.object.kind !== ObjectKind.RECEIVER) return Status.E_WRONG_TYPE;
  if (!cap.has(Rights.RECEIVER_SEND)) return Status.E_MISSING_RIGHT;
  if (target === inv.caller) return Status.E_INVALID_ARGUMENT;
  if (target.debug !== null) return Status.E_NOT_READY;
  const taken = takeCaps(inv.caller, raw);
  if (typeof taken === "number") return taken;
  return k.debugging.attach(inv.caller, target, taken[0]!, (flags & DebugAttachFlag.KILL_ON_END) !== 0);
}

/**
 * BREAK: `function, at, offset`, where `function` is the program's own index, or NONE followed
 * by a name's byte length and its UTF-8 bytes. Answers `id, function`.
 */
function addBreakpoint(inv: Invocation, session: DebugSession): number {
  let fn = word(inv, 0);
  if (fn === NONE) {
    const name = nameFrom(inv, 3);
    if (name === null) return Status.E_INVALID_ARGUMENT;
    fn = session.functions.find(name);
    if (fn < 0) return Status.E_INVALID_ARGUMENT;
  }
  const id = session.addBreakpoint(fn, word(inv, 1), word(inv, 2));
  return id < 0 ? id : answer(inv, [id, fn]);
}

/** A name in the request: its byte length at word `at`, then its UTF-8 bytes; null when malformed. */
function nameFrom(inv: Invocation, at: number): string | null {
  const words = inv.message.words;
  const length = word(inv, at);
  if (length === 0 || length > MAX_NAME_BYTES || length > (words.length - at - 1) * 4) return null;
  try {
    return utf8.decode(new Uint8Array(words.buffer, words.byteOffset + (at + 1) * 4, length));
  } catch {
    return null;
  }
}

/**
 * INFO: `stopped, reason, id, function, offset, address, access, frames, breakpoints, watchpoints,
 * attached, functions, imported functions, image base, image size`. `attached` is 0 (no
 * debugger), 1 (another process) or 2 (the caller); `frames` is NONE when the stack is not known.
 */
function info(inv: Invocation, target: Process): number {
  const session = target.debug;
  const stop = session?.stop ?? null;
  const top = stop?.frames?.[0];
  const table = functionTable(target.image);
  return answer(inv, [
    stop ? 1 : 0,
    stop?.reason ?? 0,
    stop?.id ?? 0,
    top ? top.function : NONE,
    top ? top.offset : 0,
    stop?.address ?? 0,
    stop?.access ?? 0,
    stop?.frames ? stop.frames.length : NONE,
    session?.breakpoints.size ?? 0,
    session?.watchpoints.size ?? 0,
    session ? (session.holder === inv.caller ? 2 : 1) : 0,
    table.count,
    table.imports,
    target.imageBase,
    target.image.bytes.length,
  ]);
}

/** FUNCTION: `index`, or NONE then a name (as BREAK's). Answers `index, flags, name length`, then the name's bytes. */
function functionInfo(inv: Invocation, target: Process): number {
  const table = functionTable(target.image);
  let fn = word(inv, 0);
  if (fn === NONE) {
    const name = nameFrom(inv, 1);
    fn = name === null ? -1 : table.find(name);
  }
  if (fn < 0 || fn >= table.count) return Status.E_INVALID_ARGUMENT;
  // The binary's words, which a debugger prints on a person's terminal: written out (redteam9).
  const name = cutUtf8(encoder.encode(printable(table.name(fn))), MAX_NAME_BYTES);
  const flags = (fn < table.imports ? 1 : 0) | (table.hasSafePoints(fn) ? 2 : 0);
  return answer(inv, [fn, flags, name.length, ...packWords(name)]);
}

/** FAULT: `kind, address, name length, message length`, then the function's name and the message (NONE kind: none). */
function faultInfo(inv: Invocation, target: Process): number {
  const fault = target.fault;
  if (!fault) return answer(inv, [NONE, NONE, 0, 0]);
  const name = cutUtf8(encoder.encode(fault.functionName ?? ""), MAX_FAULT_NAME_BYTES);
  const message = cutUtf8(encoder.encode(fault.message), MAX_FAULT_MESSAGE_BYTES);
  return answer(inv, [FAULT_KINDS.indexOf(fault.kind), fault.address === null ? NONE : fault.address >>> 0, name.length, message.length, ...packWords(name), ...packWords(message)]);
}

/** BACKTRACE: `from`. Answers `total, count`, then `function, offset` of each frame from `from` (0: the innermost). */
function backtrace(inv: Invocation, session: DebugSession): number {
  const frames = session.frames;
  if (frames === null) return Status.E_NOT_READY;
  const from = word(inv, 0);
  const shown = frames.slice(from, from + FRAMES_PER_ANSWER);
  return answer(inv, [frames.length, shown.length, ...shown.flatMap((frame) => [frame.function, frame.offset])]);
}

/** At most `max` bytes of UTF-8, never cutting a character. */
function cutUtf8(bytes: Uint8Array, max: number): Uint8Array {
  if (bytes.length <= max) return bytes;
  let end = max;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end);
}
