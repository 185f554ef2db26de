import type { DmaWindow } from "../../machine/mmio.ts";
import type { PhysicalMemory } from "../../machine/physical-memory.ts";
import { PAGE_SIZE } from "../constants.ts";

/**
 * A device's view of a Region it may DMA into: offsets in the window, frames behind them. The
 * device never learns a physical address, and can reach nothing but these frames (an IOMMU).
 * A grant's window (DEVICE_GRANT) may be read-only (the driver held a view), and is revoked when
 * the grant ends: from then on every access throws, so a device holding on to it past the grant
 * (a request completing late) reaches nothing.
 */
export class RegionDmaWindow implements DmaWindow {
  readonly size: number;
  readonly readOnly: boolean;
  private readonly frames: readonly number[];
  private readonly memory: PhysicalMemory;
  private revoked = false;

  constructor(memory: PhysicalMemory, frames: readonly number[], readOnly = false) {
    this.memory = memory;
    this.frames = [...frames];
    this.size = frames.length * PAGE_SIZE;
    this.readOnly = readOnly;
  }

  /** The grant ended: every access from now on throws. */
  revoke(): void {
    this.revoked = true;
  }

  read(offset: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    this.walk(offset, length, (physical, at, chunk) => out.set(this.memory.bytes.subarray(physical, physical + chunk), at));
    return out;
  }

  lend(offset: number, length: number): Uint8Array {
    this.check(offset, length);
    if (length === 0) return new Uint8Array(0);
    const first = this.physical(offset);
    const last = this.physical(offset + length - 1);
    // Frames side by side in physical memory (a window allocated at once usually is): no copy.
    if (last - first === length - 1 && this.contiguous(offset, length)) return this.memory.bytes.subarray(first, first + length);
    return this.read(offset, length);
  }

  lendPieces(offset: number, length: number): Uint8Array[] {
    const pieces: Uint8Array[] = [];
    let start = -1;
    let end = -1;
    this.walk(offset, length, (physical, _at, chunk) => {
      if (physical === end) {
        end += chunk;
        return;
      }
      if (start >= 0) pieces.push(this.memory.bytes.subarray(start, end));
      start = physical;
      end = physical + chunk;
    });
    if (start >= 0) pieces.push(this.memory.bytes.subarray(start, end));
    return pieces;
  }

  write(offset: number, data: Uint8Array): void {
    this.checkWritable();
    this.walk(offset, data.length, (physical, at, chunk) => this.memory.bytes.set(data.subarray(at, at + chunk), physical));
  }

  /** Whether every frame behind `length` bytes at `offset` follows the one before it. */
  private contiguous(offset: number, length: number): boolean {
    const from = Math.floor(offset / PAGE_SIZE);
    const to = Math.floor((offset + length - 1) / PAGE_SIZE);
    for (let i = from + 1; i <= to; i++) if (this.frames[i] !== this.frames[i - 1]! + 1) return false;
    return true;
  }

  readWord(offset: number): number {
    this.check(offset, 4);
    if (offset % 4 !== 0) throw new RangeError(`DMA word at ${offset} is not aligned`);
    return this.memory.unsignedWords[this.physical(offset) >>> 2]!;
  }

  writeWord(offset: number, value: number): void {
    this.checkWritable();
    this.check(offset, 4);
    if (offset % 4 !== 0) throw new RangeError(`DMA word at ${offset} is not aligned`);
    this.memory.unsignedWords[this.physical(offset) >>> 2] = value >>> 0;
  }

  private physical(offset: number): number {
    return this.frames[Math.floor(offset / PAGE_SIZE)]! * PAGE_SIZE + (offset % PAGE_SIZE);
  }

  private checkWritable(): void {
    if (this.readOnly) throw new RangeError("the DMA window is read-only (a grant of a view)");
  }

  private check(offset: number, length: number): void {
    if (this.revoked) throw new RangeError("the DMA grant was taken away");
    if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0 || offset + length > this.size) {
      throw new RangeError(`DMA of ${length} bytes at ${offset} is outside the ${this.size}-byte window`);
    }
  }

  private walk(offset: number, length: number, each: (physical: number, at: number, chunk: number) => void): void {
    this.check(offset, length);
    let at = 0;
    while (at < length) {
      const cursor = offset + at;
      const chunk = Math.min(length - at, PAGE_SIZE - (cursor % PAGE_SIZE));
      each(this.physical(cursor), at, chunk);
      at += chunk;
    }
  }
}
