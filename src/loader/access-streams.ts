import { BodyCursor, skipLeb } from "./wasm/body-cursor.ts";
import { Imm, Misc, immediates } from "./wasm/opcodes.ts";

/**
 * Access streams (docs/LOADER.md "Access streams"): a load or store inside a loop that keeps the
 * page it reached last in two locals, so that while its address stays in that page (`*s++`,
 * `in[i]`, `code[pc]`) it is checked by one compare instead of a TLB lookup
 * (mmu-sequences.ts emitStreamAccess). An outermost loop takes stream slots at its header, for
 * the first accesses of its nest (nested loops included: a short inner loop keeps its pages from
 * one entry to the next); the slots' page locals are made invalid before the loop and at every way
 * into the kernel inside it (its slow paths and safe points: a nest that calls anything, or uses
 * memory.size, memory.grow or bulk memory, takes none, since each call would empty its streams
 * every time round).
 *
 * This scan only chooses how many slots a loop takes. What the seal rests on is in the emitted
 * code: a stream's locals are set only by a full TLB check of its own access, and its page is made
 * invalid by every way into the kernel while its loop runs (rewrite-body.ts kernelClears).
 */

/** At most this many streams a loop nest (two locals each). */
export const STREAM_LOCALS = 8;

export class LoopScan extends BodyCursor {
  /** Bytes of the function body scans may still read (a loop's scan reads its nested loops too). */
  budget = 0;

  /**
   * How many loads and stores the loop whose body starts at `from` (after its block type) has,
   * nested loops included; 0 when it calls anything (or uses memory.size, memory.grow, bulk
   * memory), when an instruction is one the scan does not know, or when the budget is spent.
   */
  accesses(from: number, end: number): number {
    if (this.budget <= 0) return 0;
    const bytes = this.bytes;
    let depth = 0;
    let accesses = 0;
    let at = from;
    try {
      for (;;) {
        if (at >= end || at - from > this.budget) return 0;
        const op = bytes[at++]!;
        const kind = immediates[op]!;
        switch (kind) {
          case Imm.none:
            if (op === 0x0b) {
              if (depth === 0) return accesses;
              depth--;
            }
            continue;
          case Imm.blockType:
          case Imm.loop:
            at = this.skipBlockType(at, end);
            depth++;
            continue;
          case Imm.functionIndex:
            if (op !== 0xd2) return 0; // call, return_call (ref.func is no call)
            at = skipLeb(bytes, at, end);
            continue;
          case Imm.load:
          case Imm.store:
            accesses++;
            at = this.skipPlain(kind, at, end);
            continue;
          case Imm.prefixMisc: {
            const sub = this.u32At(at, end);
            at = this.next;
            if (sub <= 7) continue;
            if (sub === Misc.tableGrow || sub === Misc.tableSize) {
              at = skipLeb(bytes, at, end);
              continue;
            }
            return 0; // bulk memory (a helper that may enter the kernel) and the rest
          }
          default: {
            const next = this.skipPlain(kind, at, end);
            if (next < 0) return 0; // calls through a table, memory.size and memory.grow, SIMD and the rest
            at = next;
            continue;
          }
        }
      }
    } finally {
      this.budget -= at - from;
    }
  }
  /**
   * Whether the loop whose body starts at `from` (after its block type) ends within `limit` bytes
   * of it, nested loops included, with only instructions the scan knows (a huge function's small
   * loop nests are inline: rewrite-body.ts). Reads at most `limit` bytes, from the same budget.
   */
  fits(from: number, end: number, limit: number): boolean {
    if (this.budget <= 0) return false;
    const bytes = this.bytes;
    const stop = Math.min(end, from + limit);
    let depth = 0;
    let at = from;
    try {
      while (at < stop) {
        const op = bytes[at++]!;
        const kind = immediates[op]!;
        switch (kind) {
          case Imm.none:
            if (op === 0x0b) {
              if (depth === 0) return true;
              depth--;
            }
            continue;
          case Imm.blockType:
          case Imm.loop:
            at = this.skipBlockType(at, end);
            depth++;
            continue;
          case Imm.functionIndex:
          case Imm.memorySize:
          case Imm.memoryGrow:
            at = skipLeb(bytes, at, end);
            continue;
          case Imm.twoU32:
            at = skipLeb(bytes, skipLeb(bytes, at, end), end);
            continue;
          case Imm.prefixMisc:
            if (this.u32At(at, end) > 7) return false; // bulk memory and tables: not such a loop
            at = this.next; // the saturating truncations
            continue;
          default: {
            const next = this.skipPlain(kind, at, end);
            if (next < 0) return false; // bulk memory, SIMD and the rest: not such a loop
            at = next;
            continue;
          }
        }
      }
      return false;
    } finally {
      this.budget -= at - from;
    }
  }
}
