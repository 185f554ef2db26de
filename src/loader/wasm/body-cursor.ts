import { DecodeError } from "./byte-reader.ts";
import { Imm } from "./opcodes.ts";

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

  /**
   * Reads a signed 32-bit LEB128 at `at`; leaves where it ended in `this.next`. A one-byte value
   * (most of them) is read here, small enough for the engine to inline at every call site of
   * the walks; a longer one in s32Long.
   */
  protected s32At(at: number, end: number): number {
    const byte = this.bytes[at]!;
    if (byte < 0x80 && at < end) {
      this.next = at + 1;
      return byte & 0x40 ? byte - 0x80 : byte;
    }
    return this.s32Long(at, end);
  }

  private s32Long(at: number, end: number): number {
    const bytes = this.bytes;
    if (at + 5 <= end) {
      // Two to five bytes inside the body, as u32Long (most i32.const of real code are one or two,
      // generated code's addresses and hashes five); each sign-extended from its last bit. A fifth
      // byte with its high bit set is left to the loop below, which refuses it.
      let byte = bytes[at + 1]!;
      let result = (bytes[at]! & 0x7f) | ((byte & 0x7f) << 7);
      if (byte < 0x80) {
        this.next = at + 2;
        return (result << 18) >> 18;
      }
      byte = bytes[at + 2]!;
      result |= (byte & 0x7f) << 14;
      if (byte < 0x80) {
        this.next = at + 3;
        return (result << 11) >> 11;
      }
      byte = bytes[at + 3]!;
      result |= (byte & 0x7f) << 21;
      if (byte < 0x80) {
        this.next = at + 4;
        return (result << 4) >> 4;
      }
      byte = bytes[at + 4]!;
      if (byte < 0x80) {
        this.next = at + 5;
        return result | (byte << 28);
      }
    }
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

  /** Reads an unsigned LEB128 at `at`; leaves where it ended in `this.next` (a long one: u32Long, as s32At). */
  protected u32At(at: number, end: number): number {
    const byte = this.bytes[at]!;
    if (byte < 0x80 && at < end) {
      this.next = at + 1;
      return byte;
    }
    return this.u32Long(at, end);
  }

  private u32Long(at: number, end: number): number {
    const bytes = this.bytes;
    if (at + 5 <= end) {
      // Two to five bytes inside the body, in 32-bit arithmetic (a fifth byte of 16 or more, too
      // large or too long, is left to the loop below, which says which).
      let byte = bytes[at + 1]!;
      let result = (bytes[at]! & 0x7f) | ((byte & 0x7f) << 7);
      if (byte < 0x80) {
        this.next = at + 2;
        return result;
      }
      byte = bytes[at + 2]!;
      result |= (byte & 0x7f) << 14;
      if (byte < 0x80) {
        this.next = at + 3;
        return result;
      }
      byte = bytes[at + 3]!;
      result |= (byte & 0x7f) << 21;
      if (byte < 0x80) {
        this.next = at + 4;
        return result;
      }
      byte = bytes[at + 4]!;
      if (byte < 0x10) {
        this.next = at + 5;
        return (result | (byte << 28)) >>> 0;
      }
    }
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (at >= end) throw new DecodeError(at, "unexpected end of a function body");
      const byte = bytes[at++]!;
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) {
        if (result > 0xffffffff) break;
        this.next = at;
        return result;
      }
    }
    throw new DecodeError(at, "an unsigned 32-bit integer is too long or too large");
  }

  /** Past a block type at `at` (a value type, an indexed reference type or a type index). */
  protected skipBlockType(at: number, end: number): number {
    const byte = this.bytes[at];
    if (byte === 0x63 || byte === 0x64) return skipLeb(this.bytes, at + 1, end);
    return skipLeb(this.bytes, at, end);
  }

  /**
   * Past the immediates of an instruction of kind `kind` at `at` for the kinds a planning walk
   * only steps over (indices, constants, br_table's labels, select's types, a memarg), or -1 for
   * any other kind: the walk decides those itself.
   */
  protected skipPlain(kind: number, at: number, end: number): number {
    const bytes = this.bytes;
    switch (kind) {
      case Imm.u32:
      case Imm.globalIndex:
      case Imm.tableSet:
      case Imm.heapType:
      case Imm.i64Const:
      case Imm.i32Const:
        return skipLeb(bytes, at, end);
      case Imm.f32Const:
        return at + 4;
      case Imm.f64Const:
        return at + 8;
      case Imm.brTable: {
        const labels = this.u32At(at, end);
        at = this.next;
        for (let i = 0; i <= labels; i++) at = skipLeb(bytes, at, end);
        return at;
      }
      case Imm.selectTypes: {
        const types = this.u32At(at, end);
        at = this.next;
        for (let i = 0; i < types; i++) at = this.skipBlockType(at, end);
        return at;
      }
      case Imm.load:
      case Imm.store: {
        const flags = this.u32At(at, end);
        at = this.next;
        if (flags & 0x40) at = skipLeb(bytes, at, end);
        return skipLeb(bytes, at, end);
      }
      default:
        return -1;
    }
  }
}

/** Skips one LEB128 (at most 10 bytes) starting at `at` (a one-byte one without a loop, as s32At). */
export function skipLeb(bytes: Uint8Array, at: number, end: number): number {
  if (bytes[at]! < 0x80 && at < end) return at + 1;
  return skipLongLeb(bytes, at, end);
}

function skipLongLeb(bytes: Uint8Array, at: number, end: number): number {
  const start = at;
  while (at < end && bytes[at]! & 0x80) at++;
  if (at >= end || at - start >= 10) throw new DecodeError(start, "an integer runs past the end of its function body or is too long");
  return at + 1;
}
