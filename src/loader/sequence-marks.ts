import type { ByteWriter } from "./wasm/byte-writer.ts";

/**
 * What the rewriter notes about the code it writes into one function body, besides the bytes:
 * - every `if` the loader's own sequences write, with the branch it is likely to take, for the
 *   branch-hint section (write-module.ts): V8 then lays slow paths out of line, and keeps the
 *   register spills a call forces on them, instead of on the fast path;
 * - the cache barriers: every place inside a loop right after a call that may enter the kernel,
 *   and the start of every outermost loop, where the page caches must be emptied (page-caches.ts).
 */
export class SequenceMarks {
  /** For each `if`: the writer it is in (the body's header or its code), its position, and 1 (then) or 0 (else). */
  readonly ifWriters: ByteWriter[] = [];
  readonly ifPositions: number[] = [];
  readonly ifLikely: number[] = [];
  /** Positions in `code` where the page caches must be emptied, ascending. */
  readonly cacheBarriers: number[] = [];
  /** The function's code writer: kernel entries are noted there only. */
  code: ByteWriter | null = null;
  /** Whether the rewriter is inside a loop (kernel entries outside loops need no note). */
  inLoop = false;

  clear(code: ByteWriter): void {
    this.ifWriters.length = 0;
    this.ifPositions.length = 0;
    this.ifLikely.length = 0;
    this.cacheBarriers.length = 0;
    this.code = code;
    this.inLoop = false;
  }

  /** Writes `if` (its block type follows) and notes it: `likely` 1 if the then branch is the one usually taken. */
  putIf(w: ByteWriter, likely: 0 | 1): void {
    this.ifWriters.push(w);
    this.ifPositions.push(w.length);
    this.ifLikely.push(likely);
    w.put(0x04);
  }

  /** Notes that the kernel may have run by the current position of `w` (after a call). */
  kernelEntry(w: ByteWriter): void {
    if (this.inLoop && w === this.code) this.cacheBarriers.push(w.length);
  }

  /** Notes that an outermost loop starts at `position` in the code. */
  outermostLoop(position: number): void {
    this.cacheBarriers.push(position);
  }
}
