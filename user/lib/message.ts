// The message buffer and `invoke`, laid out as docs/ABI.md "Messages" says: a header of five u32
// words (label, n, c, recv/badge, reply), then n data words, then c capability indices.
//
// `invoke` blocks, so a process has one message in flight at a time and one static buffer will
// do. Build a message in it (msgBegin, msgAddWord, msgAddCap), send it (msgInvoke), and read the
// answer from the same buffer (msgLabel, msgWord, msgCap, msgBadge, msgReply) before the next
// invoke overwrites it. Nothing here allocates, so a call/reply loop can run for ever on the stub
// runtime. `invoke(cap, label, words, caps)` is the convenience form that takes arrays.
import { invoke as sysInvoke } from "./sys";
import { E_BAD_MESSAGE } from "./errors";
import { RECV_TIMEOUT } from "./abi";

export const HEADER_WORDS: i32 = 5;
export const MAX_DATA_WORDS: i32 = 64;
export const MAX_CAPS: i32 = 4;
/** The buffer's capacity in bytes, passed on every invoke so that any answer fits: 292. */
export const MESSAGE_CAPACITY: i32 = 4 * (HEADER_WORDS + MAX_DATA_WORDS + MAX_CAPS);

const LABEL: usize = 0;
const WORD_COUNT: usize = 4;
const CAP_COUNT: usize = 8;
const RECV_OR_BADGE: usize = 12;
const REPLY: usize = 16;
const BODY: usize = 20;

// 512 bytes aligned to 512: it never crosses a 4 KiB page, so the kernel reads and writes it in
// one frame (its fast path) and the buffer can never be half mapped.
const msg: usize = memory.data(512, 512);

/** The buffer's address, for code that lays out a message by hand and calls sys.invoke. */
export function msgBuffer(): usize {
  return msg;
}

// ---- Building a message -------------------------------------------------------------------

/** Starts a message: `label`, no words, no capabilities, no receiver to wait on. */
@inline export function msgBegin(label: u32): void {
  store<u32>(msg, label, LABEL);
  store<u32>(msg, 0, WORD_COUNT);
  store<u32>(msg, 0, CAP_COUNT);
  store<u32>(msg, 0, RECV_OR_BADGE);
  store<u32>(msg, 0, REPLY);
}

/** Changes the label only: a server replying with the request's words in place uses this. */
@inline export function msgSetLabel(label: u32): void {
  store<u32>(msg, label, LABEL);
}

/**
 * Appends a data word. Capabilities already added move up one word, since they follow the data.
 * A 65th word is counted but not stored, so invoke refuses the message (E_BAD_MESSAGE) instead of
 * this writing past the buffer.
 */
export function msgAddWord(value: u32): void {
  const n = load<u32>(msg, WORD_COUNT);
  store<u32>(msg, n + 1, WORD_COUNT);
  if (n >= <u32>MAX_DATA_WORDS) return;
  const at = msg + BODY + (<usize>n << 2);
  const c = <usize>min(load<u32>(msg, CAP_COUNT), <u32>MAX_CAPS);
  if (c != 0) memory.copy(at + 4, at, c << 2);
  store<u32>(at, value);
}

/** Appends a timeout as the ABI's two words (low, high); FOREVER is both all ones. */
export function msgAddTimeout(ns: u64): void {
  msgAddWord(<u32>ns);
  msgAddWord(<u32>(ns >>> 32));
}

/** Sets data word `i` (already counted) in place; ignored past the words the message has. */
@inline export function msgSetWord(i: i32, value: u32): void {
  if (<u32>i < min(load<u32>(msg, WORD_COUNT), <u32>MAX_DATA_WORDS)) store<u32>(msg + BODY + (<usize>i << 2), value);
}

/** Appends a capability index; `cap | CAP_MOVE` moves it out of this process's table. */
export function msgAddCap(cap: u32): void {
  const n = <usize>load<u32>(msg, WORD_COUNT);
  const c = load<u32>(msg, CAP_COUNT);
  store<u32>(msg, c + 1, CAP_COUNT);
  if (c >= <u32>MAX_CAPS || n > <usize>MAX_DATA_WORDS) return; // refused by invoke, not stored
  store<u32>(msg + BODY + ((n + <usize>c) << 2), cap);
}

/** Drops the capabilities from the message (a server echoing a request must not echo them). */
@inline export function msgClearCaps(): void {
  store<u32>(msg, 0, CAP_COUNT);
}

/** Invoking a Reply with this set replies, then waits on `receiver` (0: just reply). */
@inline export function msgSetRecv(receiver: i32): void {
  store<u32>(msg, <u32>receiver, RECV_OR_BADGE);
}

/**
 * As msgSetRecv, and the receive gives up after `ns` (E_TIMEOUT), rounded down to whole µs and
 * at most 2^32 - 1 µs (71 minutes): header word 4 holds it, RECV_TIMEOUT in word 3 says so.
 */
@inline export function msgSetRecvTimeout(receiver: i32, ns: u64): void {
  store<u32>(msg, <u32>receiver | RECV_TIMEOUT, RECV_OR_BADGE);
  store<u32>(msg, <u32>min(ns / 1000, <u64>0xffffffff), REPLY);
}

/**
 * Invokes `cap` with the message in the buffer; the answer (a reply, a received message, a
 * kernel object's results) replaces it. The result: a status, or the operation's own value.
 */
@inline export function msgInvoke(cap: i32): i32 {
  return sysInvoke(cap, <i32>msg, MESSAGE_CAPACITY);
}

// ---- Reading the answer ---------------------------------------------------------------------
// Valid after an invoke returned a non-negative result, until the next invoke. Kernel answers
// carry label 0; received messages and replies carry the sender's label.

@inline export function msgLabel(): u32 {
  return load<u32>(msg, LABEL);
}

@inline export function msgWordCount(): i32 {
  return <i32>load<u32>(msg, WORD_COUNT);
}

/** Data word `i`, or 0 past the words the message has. */
@inline export function msgWord(i: i32): u32 {
  return <u32>i < load<u32>(msg, WORD_COUNT) ? load<u32>(msg + BODY + (<usize>i << 2)) : 0;
}

/** Two data words from `i` as one u64, low word first (the ABI's timeout and 64-bit layout). */
export function msgWord64(i: i32): u64 {
  return <u64>msgWord(i) | (<u64>msgWord(i + 1) << 32);
}

@inline export function msgCapCount(): i32 {
  return <i32>load<u32>(msg, CAP_COUNT);
}

/** Capability `i` of the message, now installed in this process's table; 0 (no capability) past the end. */
@inline export function msgCap(i: i32): i32 {
  const n = <usize>load<u32>(msg, WORD_COUNT);
  return <u32>i < load<u32>(msg, CAP_COUNT) ? load<i32>(msg + BODY + ((n + <usize>i) << 2)) : 0;
}

/** The badge of the capability the message came through (0 for kernel answers and replies). */
@inline export function msgBadge(): u32 {
  return load<u32>(msg, RECV_OR_BADGE);
}

/** The one-shot Reply capability when the message is a call, else 0. */
@inline export function msgReply(): i32 {
  return load<i32>(msg, REPLY);
}

// ---- Convenience ----------------------------------------------------------------------------

/**
 * Sends `label` with data `words` and capability indices `caps` (CAP_MOVE allowed) through `cap`;
 * the answer is in the buffer. Allocates the arrays it is given, so keep it off hot paths.
 */
export function invoke(cap: i32, label: u32, words: u32[], caps: u32[] = []): i32 {
  const n = words.length;
  const c = caps.length;
  // Refused here rather than sent, since it would not fit the buffer.
  if (n > MAX_DATA_WORDS || c > MAX_CAPS) return E_BAD_MESSAGE;
  msgBegin(label);
  for (let i = 0; i < n; i++) msgAddWord(unchecked(words[i]));
  for (let i = 0; i < c; i++) msgAddCap(unchecked(caps[i]));
  return msgInvoke(cap);
}
