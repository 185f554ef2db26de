import { emptyCaches, type CacheLocals } from "./cache-sequences.ts";
import type { SequenceMarks } from "./sequence-marks.ts";
import { ByteWriter } from "./wasm/byte-writer.ts";
import { I32, I64 } from "./wasm/value-types.ts";

/**
 * The page caches of one function body (docs/LOADER.md "Page caches"): a cache per base (the local,
 * global or constant an address is computed from: operand-tracker.ts) and kind (loads, stores),
 * for accesses inside loops, made on first use up to a limit.
 *
 * A cache is a copy of a TLB entry, and the kernel changes TLB entries only while the process is
 * in a call. So every cache is emptied right after each call that may enter the kernel inside a
 * loop (program calls, the loader's helpers and slow paths, a safe point's call, a refill that
 * missed) and before each outermost loop: code outside loops does not use caches, so a cache is
 * always refilled from the TLB after the kernel last ran. Which caches exist is only known once
 * the body is written, so the emptying code is spliced in afterwards at the places noted
 * (SequenceMarks.cacheBarriers).
 */
export class PageCaches {
  private readonly byKey = new Map<number, number>();
  private readonly pages: number[] = [];
  private readonly addends: number[] = [];
  private address = -1;
  private readonly spliced = new ByteWriter(1 << 16);
  private readonly empty = new ByteWriter(64);

  reset(): void {
    this.byKey.clear();
    this.pages.length = 0;
    this.addends.length = 0;
    this.address = -1;
  }

  get count(): number {
    return this.pages.length;
  }

  /**
   * The cache for accesses of one kind off `base`, made on first use with locals from `newLocal`;
   * null once the body has `limit` caches.
   */
  cacheFor(base: number, store: boolean, limit: number, newLocal: (type: number) => number): CacheLocals | null {
    const key = base * 2 + (store ? 1 : 0);
    let n = this.byKey.get(key);
    if (n === undefined) {
      if (this.pages.length >= limit) return null;
      n = this.pages.length;
      this.byKey.set(key, n);
      this.pages.push(newLocal(I64));
      this.addends.push(newLocal(I32));
      if (this.address < 0) this.address = newLocal(I64);
    }
    return { page: this.pages[n]!, addend: this.addends[n]!, address: this.address };
  }

  /**
   * `code` with the emptying of every cache inserted at each of marks' cache barriers, and the
   * positions of marks' `if`s in it moved to match. The result is valid until the next call.
   */
  splice(code: ByteWriter, marks: SequenceMarks): ByteWriter {
    const barriers = marks.cacheBarriers;
    const empty = this.empty;
    empty.length = 0;
    emptyCaches(empty, this.pages);
    const insert = empty.view();
    const out = this.spliced;
    out.length = 0;
    out.reserve(code.length + barriers.length * insert.length);
    let from = 0;
    for (const at of barriers) {
      out.copy(code.buffer, from, at);
      out.bytes(insert);
      from = at;
    }
    out.copy(code.buffer, from, code.length);
    // Each `if` in the code moves by the insertions at or before it (both lists ascend).
    let passed = 0;
    for (let i = 0; i < marks.ifPositions.length; i++) {
      if (marks.ifWriters[i] !== code) continue;
      const position = marks.ifPositions[i]!;
      while (passed < barriers.length && barriers[passed]! <= position) passed++;
      marks.ifPositions[i] = position + passed * insert.length;
      marks.ifWriters[i] = out;
    }
    return out;
  }
}
