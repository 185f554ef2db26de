import type { BlockBackend } from "../../src/machine/devices/block-backend.ts";
import { BlockError, MemoryBlockBackend } from "../../src/machine/devices/block-backend.ts";

/** A write not flushed yet: where, and its bytes. */
export interface PendingWrite {
  readonly offset: number;
  readonly data: Uint8Array;
}

/** What a power cut may keep of one write: pieces of this many bytes, each kept or lost on its own. */
const PIECE = 4096;

/**
 * A disk with a volatile write cache, as real disks have: a write is seen by every later read at
 * once, but is durable only after a flush. `cut(random)` is a power cut: the disk as it would be
 * found afterwards — everything flushed, and of each write since the last flush each 4 KiB piece
 * kept or lost at random, independently and in any order (a later write can survive an earlier
 * one that did not). A SIGKILL of the host never loses what the device answered; this does.
 */
export class VolatileCacheBackend implements BlockBackend {
  readonly takesWritesAtOnce = true;
  /** What every read sees: the durable bytes with every write since applied. */
  private readonly current: Uint8Array;
  /** What survives any power cut. */
  private readonly durable: Uint8Array;
  /** The writes since the last flush, in the order they came. */
  private pending: PendingWrite[] = [];
  flushes = 0;
  /** For each flush so far, where the writes it made durable began. */
  readonly flushLog: number[][] = [];

  constructor(size: number) {
    this.current = new Uint8Array(size);
    this.durable = new Uint8Array(size);
  }

  get size(): number {
    return this.current.length;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    const data = this.current.slice(offset, offset + length);
    if (this.failReadWhen !== null && this.failReadWhen(offset, data)) {
      this.failReadWhen = null;
      throw new BlockError("io", `read at ${offset} failed (the test asked)`);
    }
    return data;
  }

  async write(offset: number, data: Uint8Array): Promise<void> {
    if (this.failIf !== null && this.failIf(offset, data)) {
      this.failIf = null;
      throw new BlockError("io", `write at ${offset} failed (the test asked)`);
    }
    const copy = data.slice();
    this.current.set(copy, offset);
    this.pending.push({ offset, data: copy });
  }

  /** The pieces the device lends (the DMA window's own memory, as the disk image is given them): one write. */
  async writeGathered(offset: number, pieces: readonly Uint8Array[]): Promise<void> {
    const data = new Uint8Array(pieces.reduce((sum, piece) => sum + piece.length, 0));
    let at = 0;
    for (const piece of pieces) {
      data.set(piece, at);
      at += piece.length;
    }
    await this.write(offset, data);
  }

  async flush(): Promise<void> {
    if (this.cutIf !== null && this.cutIf.when(this.pending)) {
      // The power goes as this flush is asked for, keeping of what is at risk only what `keep` says.
      const keep = this.cutIf.keep;
      this.lastCut = this.cut(() => 0, keep);
      this.lastCutAtRisk = this.pending.length;
      this.cutIf = null;
    }
    if (this.cutAt !== null && this.flushes + 1 >= this.cutAt.flush) {
      // The power goes just as this flush is asked for: everything since the last one is at risk.
      this.lastCut = this.cut(this.cutAt.random);
      this.lastCutAtRisk = this.pending.length;
      this.cutAt.then();
      this.cutAt = null;
    }
    this.flushLog.push(this.pending.map((w) => w.offset));
    for (const { offset, data } of this.pending) this.durable.set(data, offset);
    this.pending = [];
    this.flushes++;
  }

  private cutAt: { flush: number; random: () => number; then: () => void } | null = null;
  /** The disk as a power cut left it (cutBeforeFlush), once it came, and how many writes were at risk. */
  lastCut: MemoryBlockBackend | null = null;
  lastCutAtRisk = 0;

  /**
   * Cuts the power when the `flush`th flush (counting from the first) is asked for, before it is
   * done; `then` runs at that moment (to note what the machine had said by then).
   */
  cutBeforeFlush(flush: number, random: () => number, then: () => void): void {
    this.cutAt = { flush, random, then };
  }

  private cutIf: { when: (pending: readonly PendingWrite[]) => boolean; keep: (offset: number) => boolean } | null = null;

  /**
   * Cuts the power at the first flush asked for while `when` holds of the writes not yet flushed,
   * keeping of them only the 4 KiB pieces at the offsets `keep` says (the worst order for what the
   * test checks, every time).
   */
  cutBeforeFlushIf(when: (pending: readonly PendingWrite[]) => boolean, keep: (offset: number) => boolean): void {
    this.cutIf = { when, keep };
  }

  private failIf: ((offset: number, data: Uint8Array) => boolean) | null = null;

  /** The first write `when` says fails (by where it goes and what it holds), an I/O error, once (nothing of it is written). */
  failWriteIf(when: (offset: number, data: Uint8Array) => boolean): void {
    this.failIf = when;
  }

  private failReadWhen: ((offset: number, data: Uint8Array) => boolean) | null = null;

  /** The first read `when` says fails (by where it reads and what is there), an I/O error, once. */
  failReadIf(when: (offset: number, data: Uint8Array) => boolean): void {
    this.failReadWhen = when;
  }

  /** Writes not yet flushed. */
  get unflushed(): number {
    return this.pending.length;
  }

  /** The disk after a power cut now: a new backend holding what survived (each piece kept at random, or as `keep` says). */
  cut(random: () => number, keep?: (offset: number) => boolean): MemoryBlockBackend {
    const after = new MemoryBlockBackend(this.size);
    after.bytes.set(this.durable);
    for (const { offset, data } of this.pending) {
      for (let at = 0; at < data.length; at += PIECE) {
        if (keep ? keep(offset + at) : random() < 0.5) after.bytes.set(data.subarray(at, Math.min(at + PIECE, data.length)), offset + at);
      }
    }
    return after;
  }
}
