import type { ByteWriter } from "./wasm/byte-writer.ts";

/**
 * Every `if` the loader's own sequences write into one function body, with the branch it is likely
 * to take, for the branch-hint section (write-module.ts): V8 then lays the unlikely branches (slow
 * paths) out of line, and keeps there the register spills their calls force.
 */
export class SequenceMarks {
  /** For each `if`: the writer it is in (the body's header or its code), its position, and 1 (then) or 0 (else). */
  readonly ifWriters: ByteWriter[] = [];
  readonly ifPositions: number[] = [];
  readonly ifLikely: number[] = [];

  clear(): void {
    this.ifWriters.length = 0;
    this.ifPositions.length = 0;
    this.ifLikely.length = 0;
  }

  /** Writes `if` (its block type follows) and notes it: `likely` 1 if the then branch is the one usually taken. */
  putIf(w: ByteWriter, likely: 0 | 1): void {
    this.ifWriters.push(w);
    this.ifPositions.push(w.length);
    this.ifLikely.push(likely);
    w.put(0x04);
  }
}
