import type { Process } from "../../kernel/process.ts";
import type { KernelServices } from "../../kernel/services.ts";
import type { IoVec } from "./guest-memory.ts";
import { MAP_FAULT, MAP_MISS } from "./file-map.ts";

/**
 * Reading ahead of a file's small sequential reads (docs/HOSTFS.md "Reading ahead"): a READ
 * through an attached handle whose server keeps a change word (the host folder server) asks for
 * READ_AHEAD_BYTES where the program asked for less, and the reads that follow are copied out of
 * the read buffer with no call while the change word reads what that READ answered. The server
 * moves the word on before any change of the file's bytes or size through any of its handles (this
 * process's other fds, other processes), so such a change is never read around; a change the host
 * makes (not through the server) is seen at the next READ, as a libc buffer of that size would.
 */

/** A sequential read of at most this much through the server reads ahead. */
export const READ_AHEAD_CALL_MAX = 16 * 1024;
/** How much it reads (at most the read buffer's bytes). */
export const READ_AHEAD_BYTES = 64 * 1024;

/** What a file's last READ ahead left in its attached handle's read buffer. */
export interface AheadWindow {
  /** The file offset of the buffer's first byte, and how many bytes it holds from there. */
  base: number;
  count: number;
  /** The READ met the file's end: a read past `base + count` is answered short from here. */
  end: boolean;
  /** The change word's value the READ answered. */
  stamp: number;
  /** Where the bytes and the change word lie in the process's memory (a view of the server's read buffer). */
  readonly address: number;
  readonly changeAt: number;
}

/** Offsets below this are exact as Numbers. */
const EXACT = 2n ** 52n;
/** Where the change word is read to (every use synchronous). */
const scratch = new Uint8Array(4);

/** The offset as a Number, or -1 past where Numbers are exact (never read ahead there). */
export function offsetNumber(offset: bigint): number {
  return offset < EXACT ? Number(offset) : -1;
}

/**
 * A read of `length` bytes at `offset` answered from `window` with no call: the count (short only
 * at the file's end as the READ found it), MAP_MISS (ask the server), or MAP_FAULT. Synchronous:
 * nothing runs between the change word's check and the copy, and the server changes the word
 * before a change is made, so bytes copied while it reads the same are the file's.
 */
export function readAhead(k: KernelServices, process: Process, window: AheadWindow, offset: number, length: number, buffers: readonly IoVec[]): number {
  if (offset < window.base) return MAP_MISS;
  const from = offset - window.base;
  // At or past the end of what was read ahead: the server's (a read at the file's end asks it, so a
  // program waiting there for more sees what the host appends).
  if (from >= window.count) return MAP_MISS;
  const n = Math.min(length, window.count - from);
  if (n < length && !window.end) return MAP_MISS;
  if (!k.readInto(process, window.changeAt, scratch, 4)) return MAP_MISS;
  const word = (scratch[0]! | (scratch[1]! << 8) | (scratch[2]! << 16) | (scratch[3]! << 24)) >>> 0;
  if (word !== window.stamp) return MAP_MISS;
  let at = 0;
  for (const [address, room] of buffers) {
    if (at >= n) break;
    const piece = Math.min(room, n - at);
    if (!k.copyWithin(process, address, window.address + from + at, piece)) return MAP_FAULT;
    at += piece;
  }
  return n;
}
