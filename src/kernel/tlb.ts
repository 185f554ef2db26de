import type { PhysicalMemory } from "../machine/physical-memory.ts";
import { PAGE_SHIFT, PAGE_SIZE, TLB_BYTES, TLB_ENTRIES, TLB_INDEX_MASK } from "./constants.ts";

/**
 * A process's software TLBs: direct-mapped arrays in kernel frames that rewritten code reads
 * directly. Layout from `base`: the read TLB, then the write TLB; each entry is a tag (the page's
 * address, low 12 bits clear) and an addend (frame address minus page address, wrapping).
 *
 * Invariant: an entry whose tag matches maps its page to a frame the process may access with that
 * TLB's right. An invalid tag has bit 11 set, which no masked address can match, whatever the
 * access size (rewritten code only ever sets bits 0-3 of what it compares).
 */
export const TLB_INVALID_TAG = 0x800;
export const TLB_FRAMES = (2 * TLB_BYTES) / PAGE_SIZE;

export class SoftwareTlb {
  private readonly words: Int32Array;
  /** Physical byte address of the read TLB; the write TLB follows it. */
  readonly base: number;

  constructor(memory: PhysicalMemory, base: number) {
    this.words = memory.words;
    this.base = base;
    this.flushAll();
  }

  fill(write: boolean, address: number, frame: number): void {
    const pageAddress = (address & ~(PAGE_SIZE - 1)) | 0;
    const slot = this.slot(write, address);
    this.words[slot] = pageAddress;
    this.words[slot + 1] = ((frame << PAGE_SHIFT) - pageAddress) | 0;
  }

  /** The physical address of `address` if the TLB holds its page for this access, else -1. */
  hit(write: boolean, address: number): number {
    const slot = this.slot(write, address);
    if (this.words[slot] !== ((address & ~(PAGE_SIZE - 1)) | 0)) return -1;
    return (address + this.words[slot + 1]!) >>> 0;
  }

  /** Drops any entry for the page holding `address`, in both TLBs. */
  flushPage(address: number): void {
    for (const write of [false, true]) {
      const slot = this.slot(write, address);
      if (this.words[slot] === ((address & ~(PAGE_SIZE - 1)) | 0)) this.words[slot] = TLB_INVALID_TAG;
    }
  }

  flushAll(): void {
    // Every word, addends too: an invalid entry's addend is never read, and one fill is fastest.
    const first = this.base >>> 2;
    this.words.fill(TLB_INVALID_TAG, first, first + ((2 * TLB_BYTES) >>> 2));
  }

  /** Every valid entry: its page's address and the frame it names (for the invariant checker). */
  *entries(): IterableIterator<{ write: boolean; address: number; frame: number }> {
    for (const write of [false, true]) {
      const first = (this.base + (write ? TLB_BYTES : 0)) >>> 2;
      for (let i = 0; i < TLB_ENTRIES; i++) {
        const tag = this.words[first + i * 2]!;
        if (tag === TLB_INVALID_TAG) continue;
        yield { write, address: tag >>> 0, frame: ((tag + this.words[first + i * 2 + 1]!) >>> 0) >>> PAGE_SHIFT };
      }
    }
  }

  private slot(write: boolean, address: number): number {
    const offset = ((address >>> (PAGE_SHIFT - 3)) & TLB_INDEX_MASK) + (write ? TLB_BYTES : 0);
    return (this.base + offset) >>> 2;
  }
}

