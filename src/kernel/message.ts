import { PAGE_SIZE } from "./constants.ts";
import { Status } from "./errors.ts";
import { ProcessFault } from "./fault.ts";
import { PageInRequired } from "./paging-hooks.ts";
import type { Process } from "./process.ts";

/**
 * A message as `invoke` reads it from its caller's buffer; layout in docs/ABI.md. `words` and
 * `caps` may be views of the caller's memory: valid only until the handler returns.
 */
export interface Message {
  readonly label: number;
  readonly words: Uint32Array;
  /** Capability indices as written, CAP_MOVE bit included. */
  readonly caps: Uint32Array;
  /** Header word 3 on input: the Receiver of a reply-and-receive (bit 31: RECV_TIMEOUT), else 0. */
  readonly recv: number;
  /** Header word 4 on input: with RECV_TIMEOUT in `recv`, the receive's timeout in µs. */
  readonly timeoutUs: number;
}

/** Where an invoke's answer goes: the caller's buffer and its capacity in bytes. */
export interface MessageBuffer {
  readonly ptr: number;
  readonly capacity: number;
  /**
   * A buffer the kernel holds for a process (a personality's call made for it): the message is
   * handed here instead of being written into the process's memory.
   */
  readonly inbox?: (message: DeliveredMessage) => void;
}

/** A message as delivered into a kernel-held buffer: capabilities are indices in the process's table. */
export interface DeliveredMessage {
  readonly label: number;
  readonly words: readonly number[];
  readonly caps: readonly number[];
  readonly badge: number;
}

export const MAX_MESSAGE_WORDS = 64;
export const MAX_MESSAGE_CAPS = 4;
export const HEADER_WORDS = 5;
const HEADER_BYTES = 4 * HEADER_WORDS;
export const MIN_MESSAGE_BYTES = HEADER_BYTES;
export const MAX_MESSAGE_BYTES = HEADER_BYTES + 4 * (MAX_MESSAGE_WORDS + MAX_MESSAGE_CAPS);

/** Bytes an answer of `n` words and `c` capabilities takes. */
/**
 * `values` as a plain array, by index: Array.from (and Uint32Array.from) of an array-like goes
 * through its iterator, an object per element, and every call a personality makes for a program
 * (a WASI fd_read, fd_write) passes through here and `uint32Words` (some 400 bytes of garbage a call).
 */
export function plainArray(values: ArrayLike<number>): number[] {
  const out = new Array<number>(values.length);
  for (let i = 0; i < values.length; i++) out[i] = values[i]!;
  return out;
}

/** `values` as message words (each taken as a u32, as Uint32Array.from would), by index: see plainArray. */
export function uint32Words(values: ArrayLike<number>): Uint32Array {
  const out = new Uint32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = values[i]!;
  return out;
}

export function messageBytes(n: number, c: number): number {
  return HEADER_BYTES + 4 * (n + c);
}

/** Checks a buffer's capacity; a status when it cannot be a message buffer. */
export function checkBuffer(capacity: number): number {
  if (capacity < MIN_MESSAGE_BYTES || capacity > MAX_MESSAGE_BYTES || capacity % 4 !== 0) return Status.E_BAD_MESSAGE;
  return Status.OK;
}

/**
 * Reads and checks the message in a buffer; a status code when it is malformed or unreadable.
 * A buffer within one page (libdogma aligns its own) is read straight from its frame.
 */
export function readMessage(process: Process, buffer: MessageBuffer): Message | number {
  const checked = checkBuffer(buffer.capacity);
  if (checked !== Status.OK) return checked;
  const address = buffer.ptr >>> 0;
  const physical = onePage(process, address, buffer.capacity, false);
  if (physical === FAULTED) return Status.E_BAD_ADDRESS;
  // The common case reads the frame in place; a buffer across pages is copied out first.
  const source = physical >= 0 ? process.space.physicalWords : copyOut(process, address);
  if (typeof source === "number") return source;
  const at = physical >= 0 ? physical >>> 2 : 0;
  const n = source[at + 1]!;
  const c = source[at + 2]!;
  if (n > MAX_MESSAGE_WORDS || c > MAX_MESSAGE_CAPS || messageBytes(n, c) > buffer.capacity) return Status.E_BAD_MESSAGE;
  const first = at + HEADER_WORDS;
  // Views, not copies: handlers use them before they return, and IPC copies only what it queues.
  // Each view is an object, so an empty part gets none.
  return {
    label: source[at]!,
    words: n === 0 ? EMPTY : source.subarray(first, first + n),
    caps: c === 0 ? EMPTY : source.subarray(first + n, first + n + c),
    recv: source[at + 3]!,
    timeoutUs: source[at + 4]!,
  };
}

/** A message that spans pages, copied out: header first, then as many words as it says it has. */
function copyOut(process: Process, address: number): Uint32Array | number {
  const header = wordsAt(process, address, HEADER_WORDS);
  if (header === null) return Status.E_BAD_ADDRESS;
  const count = header[1]! + header[2]!;
  if (header[1]! > MAX_MESSAGE_WORDS || header[2]! > MAX_MESSAGE_CAPS) return Status.E_BAD_MESSAGE;
  const body = count === 0 ? EMPTY : wordsAt(process, address + HEADER_BYTES, count);
  if (body === null) return Status.E_BAD_ADDRESS;
  const whole = new Uint32Array(HEADER_WORDS + count);
  whole.set(header);
  whole.set(body, HEADER_WORDS);
  return whole;
}

const FAULTED = -1;
const SPLIT = -2;

/**
 * The physical address of a buffer that lies in one page and may be accessed (`write`: for
 * writing); SPLIT when it spans pages or is unaligned (the slow path decides), FAULTED when its
 * first page may not be accessed.
 */
function onePage(process: Process, address: number, length: number, write: boolean): number {
  if ((address & 3) !== 0 || (address & (PAGE_SIZE - 1)) + length > PAGE_SIZE) return SPLIT;
  try {
    return process.space.translate(address, write);
  } catch (error) {
    // A paged-out page is no fault: whoever asked pages it in (or, for another's buffer, ipc.ts).
    if (error instanceof PageInRequired) throw error;
    if (error instanceof ProcessFault) return FAULTED;
    throw error;
  }
}

const EMPTY = new Uint32Array(0);

function wordsAt(process: Process, address: number, count: number): Uint32Array | null {
  try {
    const bytes = process.space.read(address, 4 * count);
    return new Uint32Array(bytes.buffer, bytes.byteOffset, count);
  } catch (error) {
    if (error instanceof PageInRequired) throw error;
    if (error instanceof ProcessFault) return null;
    throw error;
  }
}

/**
 * Writes a message into a buffer: header, words, capability indices. The caller has checked with
 * `canWrite` first, so a failure here is a kernel bug.
 */
export function writeMessage(
  process: Process,
  buffer: MessageBuffer,
  label: number,
  words: ArrayLike<number>,
  caps: ArrayLike<number>,
  badge: number,
  reply: number,
): void {
  if (buffer.inbox) {
    buffer.inbox({ label, words: plainArray(words), caps: plainArray(caps), badge });
    return;
  }
  const n = words.length;
  const c = caps.length;
  const address = buffer.ptr >>> 0;
  const physical = onePage(process, address, messageBytes(n, c), true);
  const direct = physical >= 0;
  const out = direct ? process.space.physicalWords : new Uint32Array(HEADER_WORDS + n + c);
  const at = direct ? physical >>> 2 : 0;
  // Words first: they may be a view of the sender's buffer, which may overlap this one (a shared
  // Page), and `set` copies overlapping ranges correctly only if nothing was written over them yet.
  if (words instanceof Uint32Array) out.set(words, at + HEADER_WORDS);
  else for (let i = 0; i < n; i++) out[at + HEADER_WORDS + i] = words[i]!;
  for (let i = 0; i < c; i++) out[at + HEADER_WORDS + n + i] = caps[i]!;
  out[at] = label;
  out[at + 1] = n;
  out[at + 2] = c;
  out[at + 3] = badge;
  out[at + 4] = reply;
  if (!direct) process.space.write(address, new Uint8Array(out.buffer));
}

/** Whether a message of `n` words and `c` capabilities fits the buffer and may be written there. */
export function canWrite(process: Process, buffer: MessageBuffer, n: number, c: number): number {
  const length = messageBytes(n, c);
  if (length > buffer.capacity) return Status.E_BAD_MESSAGE;
  if (buffer.inbox) return Status.OK;
  const physical = onePage(process, buffer.ptr >>> 0, length, true);
  if (physical >= 0) return Status.OK;
  if (physical === FAULTED) return Status.E_BAD_ADDRESS;
  try {
    process.space.pieces(buffer.ptr >>> 0, length, true);
    return Status.OK;
  } catch (error) {
    if (error instanceof PageInRequired) throw error;
    if (error instanceof ProcessFault) return Status.E_BAD_ADDRESS;
    throw error;
  }
}
