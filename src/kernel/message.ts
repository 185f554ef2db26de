import { PAGE_SIZE } from "./constants.ts";
import { Status } from "./errors.ts";
import { ProcessFault } from "./fault.ts";
import type { Process } from "./process.ts";

/** A message as `invoke` reads it from its caller's buffer; layout in docs/ABI.md. */
export interface Message {
  readonly label: number;
  readonly words: Uint32Array;
  /** Capability indices as written, CAP_MOVE bit included. */
  readonly caps: Uint32Array;
  /** Header word 3 on input: the Receiver of a reply-and-receive, else 0. */
  readonly recv: number;
}

/** Where an invoke's answer goes: the caller's buffer and its capacity in bytes. */
export interface MessageBuffer {
  readonly ptr: number;
  readonly capacity: number;
}

export const MAX_MESSAGE_WORDS = 64;
export const MAX_MESSAGE_CAPS = 4;
export const HEADER_WORDS = 5;
const HEADER_BYTES = 4 * HEADER_WORDS;
export const MIN_MESSAGE_BYTES = HEADER_BYTES;
export const MAX_MESSAGE_BYTES = HEADER_BYTES + 4 * (MAX_MESSAGE_WORDS + MAX_MESSAGE_CAPS);

/** Bytes an answer of `n` words and `c` capabilities takes. */
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
  const words = wordsAt(process, buffer.ptr, HEADER_WORDS);
  if (words === null) return Status.E_BAD_ADDRESS;
  const [label, n, c, recv] = [words[0]!, words[1]!, words[2]!, words[3]!];
  if (n > MAX_MESSAGE_WORDS || c > MAX_MESSAGE_CAPS || messageBytes(n, c) > buffer.capacity) return Status.E_BAD_MESSAGE;
  if (n + c === 0) return { label, words: EMPTY, caps: EMPTY, recv };
  const body = wordsAt(process, buffer.ptr + HEADER_BYTES, n + c);
  if (body === null) return Status.E_BAD_ADDRESS;
  return { label, words: body.subarray(0, n), caps: body.subarray(n), recv };
}

const EMPTY = new Uint32Array(0);

function wordsAt(process: Process, ptr: number, count: number): Uint32Array | null {
  const address = ptr >>> 0;
  const length = 4 * count;
  try {
    if ((address & 3) === 0 && (address & (PAGE_SIZE - 1)) + length <= PAGE_SIZE) {
      const physical = process.space.translate(address, false);
      return process.space.physicalWords.slice(physical >>> 2, (physical >>> 2) + count);
    }
    const bytes = process.space.read(address, length);
    return new Uint32Array(bytes.buffer, bytes.byteOffset, count);
  } catch (error) {
    if (error instanceof ProcessFault) return null;
    throw error;
  }
}

/**
 * Writes an answer into a buffer: header, words, capability indices. The caller has checked with
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
  const n = words.length;
  const c = caps.length;
  const out = new Uint32Array(HEADER_WORDS + n + c);
  out[0] = label;
  out[1] = n;
  out[2] = c;
  out[3] = badge;
  out[4] = reply;
  for (let i = 0; i < n; i++) out[HEADER_WORDS + i] = words[i]!;
  for (let i = 0; i < c; i++) out[HEADER_WORDS + n + i] = caps[i]!;
  const address = buffer.ptr >>> 0;
  if ((address & 3) === 0 && (address & (PAGE_SIZE - 1)) + out.byteLength <= PAGE_SIZE) {
    process.space.physicalWords.set(out, process.space.translate(address, true) >>> 2);
  } else {
    process.space.write(address, new Uint8Array(out.buffer));
  }
}

/** Whether an answer of `n` words and `c` capabilities fits the buffer and may be written there. */
export function canWrite(process: Process, buffer: MessageBuffer, n: number, c: number): number {
  if (messageBytes(n, c) > buffer.capacity) return Status.E_BAD_MESSAGE;
  try {
    process.space.pieces(buffer.ptr >>> 0, messageBytes(n, c), true);
    return Status.OK;
  } catch (error) {
    if (error instanceof ProcessFault) return Status.E_BAD_ADDRESS;
    throw error;
  }
}
