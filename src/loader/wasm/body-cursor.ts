import { DecodeError } from "./byte-reader.ts";

/**
 * LEB128 reads at an offset in a function body, for the loops that walk whole bodies (the
 * rewriter, src/loader/rewrite-body.ts, and its access planner, access-groups.ts) without a reader
 * object or a result object per read: a read returns the value and leaves where it ended in `next`.
 */
export class BodyCursor {
  protected readonly bytes: Uint8Array;
  /** Where the last LEB128 read ended. */
  protected next = 0;

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }

  /** Reads a signed 32-bit LEB128 at `at`; leaves where it ended in `this.next`. */
  protected s32At(at: number, end: number): number {
    const bytes = this.bytes;
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (at >= end) throw new DecodeError(at, "unexpected end of a function body");
      const byte = bytes[at++]!;
      result |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) {
        this.next = at;
        return shift < 25 && byte & 0x40 ? result | (-1 << (shift + 7)) : result;
      }
    }
    throw new DecodeError(at, "a signed 32-bit integer is too long");
  }

  /** Reads an unsigned LEB128 at `at`; leaves where it ended in `this.next`. */
  protected u32At(at: number, end: number): number {
    const bytes = this.bytes;
    let byte = bytes[at]!;
    if (byte < 0x80 && at < end) {
      this.next = at + 1;
      return byte;
    }
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (at >= end) throw new DecodeError(at, "unexpected end of a function body");
      byte = bytes[at++]!;
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) {
        if (result > 0xffffffff) break;
        this.next = at;
        return result;
      }
    }
    throw new DecodeError(at, "an unsigned 32-bit integer is too long or too large");
  }
}

/** Skips one LEB128 (at most 10 bytes) starting at `at`. */
export function skipLeb(bytes: Uint8Array, at: number, end: number): number {
  const start = at;
  while (at < end && bytes[at]! & 0x80) at++;
  if (at >= end || at - start >= 10) throw new DecodeError(start, "an integer runs past the end of its function body or is too long");
  return at + 1;
}
