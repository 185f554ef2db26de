import { BodyCursor, skipLeb } from "./wasm/body-cursor.ts";
import { ACCEPTED_GC, Imm, Misc, immediates, refusedSimd, simdImmediateBytes } from "./wasm/opcodes.ts";

/**
 * Steps over one instruction at a time, for loop outlining's scans and copies (outline-plan.ts,
 * outline-bodies.ts). Only the instructions the rewriter accepts are understood; anything else
 * makes `step` answer -1, and the caller outlines nothing there (the rewriter then refuses the
 * function by name, as it always did).
 */
export class InstructionWalker extends BodyCursor {
  /** The opcode of the instruction `step` last read. */
  op = 0;
  /** Its first immediate where that is an index (a local, a callee, a label), else 0. */
  index = 0;
  /** Where its immediates start. */
  immediate = 0;

  constructor(bytes: Uint8Array) {
    super(bytes);
  }

  /** Reads the local declarations at `at`: each local's type byte appended to `types`; -1 for a type of more than one byte. Returns where the code starts. */
  locals(at: number, end: number, types: number[]): number {
    const groups = this.u32At(at, end);
    at = this.next;
    for (let i = 0; i < groups; i++) {
      const count = this.u32At(at, end);
      at = this.next;
      const byte = this.bytes[at]!;
      if (types.length + count > 50_000) throw new RangeError("too many locals");
      for (let k = 0; k < count; k++) types.push(byte === 0x63 || byte === 0x64 ? -1 : byte);
      at = this.skipBlockType(at, end);
    }
    return at;
  }

  /** The local declarations at `at`: how many groups, where they end (the code starts), how many locals they declare. */
  declarations(at: number, end: number): { groups: number; start: number; end: number; count: number } {
    const groups = this.u32At(at, end);
    const start = (at = this.next);
    let count = 0;
    for (let i = 0; i < groups; i++) {
      count += this.u32At(at, end);
      at = this.skipBlockType(this.next, end);
    }
    return { groups, start, end: at, count };
  }

  /** Past the instruction at `at`, or -1 for one the rewriter does not accept. */
  step(at: number, end: number): number {
    const bytes = this.bytes;
    const op = bytes[at]!;
    this.op = op;
    this.index = 0;
    at++;
    this.immediate = at;
    const kind = immediates[op]!;
    switch (kind) {
      case Imm.none:
        return at;
      case Imm.blockType:
      case Imm.loop:
        return this.skipBlockType(at, end);
      case Imm.u32:
      case Imm.functionIndex:
        this.index = this.u32At(at, end);
        return this.next;
      case Imm.twoU32:
        return skipLeb(bytes, skipLeb(bytes, at, end), end);
      case Imm.memorySize:
      case Imm.memoryGrow:
        return skipLeb(bytes, at, end);
      case Imm.prefixMisc: {
        const sub = this.u32At(at, end);
        at = this.next;
        if (sub <= 7) return at;
        if (sub === Misc.memoryInit || sub === Misc.memoryCopy) return skipLeb(bytes, skipLeb(bytes, at, end), end);
        if (sub === Misc.dataDrop || sub === Misc.memoryFill || sub === Misc.tableGrow || sub === Misc.tableSize) return skipLeb(bytes, at, end);
        return -1;
      }
      case Imm.prefixSimd: {
        const sub = this.u32At(at, end);
        if (refusedSimd(sub) !== null) return -1;
        return this.next + simdImmediateBytes(sub);
      }
      case Imm.prefixGc: {
        const sub = this.u32At(at, end);
        return ACCEPTED_GC.has(sub) ? this.next : -1;
      }
      case Imm.refused:
        return -1;
      default:
        return this.skipPlain(kind, at, end);
    }
  }

  /** A block type at `at`: its first byte, or, for a type index, -(index + 1). */
  blockTypeAt(at: number, end: number): number {
    const byte = this.bytes[at]!;
    if (byte === 0x40 || singleByteType(byte) || byte === 0x63 || byte === 0x64) return byte;
    const index = this.s32At(at, end);
    return index >= 0 ? -(index + 1) : 0x63;
  }
}

/** A value type written in one byte: a number or vector type, or a nullable abstract reference (defaultable, so a local of it needs no value). */
export function singleByteType(byte: number): boolean {
  return (byte >= 0x7b && byte <= 0x7f) || (byte >= 0x69 && byte <= 0x74);
}
