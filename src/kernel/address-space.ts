import type { PhysicalMemory } from "../machine/physical-memory.ts";
import { GLOBAL_SPACE_BASE, PAGE_SHIFT, PAGE_SIZE, WASM_PAGE_SIZE } from "./constants.ts";
import { ProcessFault, hex } from "./fault.ts";
import { FRAME_KERNEL, type FrameAllocator } from "./frame-allocator.ts";
import { PTE_READ, PTE_SHARED, PTE_WRITE, PageTable } from "./page-table.ts";
import { SoftwareTlb, TLB_FRAMES } from "./tlb.ts";

/**
 * One process's view of memory: the private window `[0, size)` laid out as its compiler expects,
 * allocated page by page on first touch, and read-only mappings in the global space above
 * 0x80000000. Every translation goes through `translate`, which walks the page table and fills
 * the software TLB that rewritten code reads.
 *
 * Invariants: page 0 is never mapped; a private page is mapped only below `size`; a TLB entry
 * exists only for a mapping the page table holds with that right.
 */
export class AddressSpace {
  readonly tlb: SoftwareTlb;
  private readonly memory: PhysicalMemory;
  private readonly frames: FrameAllocator;
  private readonly table: PageTable;
  private readonly owner: number;
  private readonly tlbFrame: number;
  private sizeBytes: number;
  readonly maxWasmPages: number;
  private privatePages = 0;

  /** Throws a RangeError when physical memory cannot hold the kernel tables. */
  constructor(memory: PhysicalMemory, frames: FrameAllocator, owner: number, initialWasmPages: number, maxWasmPages: number) {
    const tlbFrame = frames.allocateContiguous(TLB_FRAMES, FRAME_KERNEL);
    if (tlbFrame === null) throw new RangeError("out of physical memory for a TLB");
    this.memory = memory;
    this.frames = frames;
    this.owner = owner;
    this.tlbFrame = tlbFrame;
    this.tlb = new SoftwareTlb(memory, tlbFrame * PAGE_SIZE);
    try {
      this.table = new PageTable(memory, frames);
    } catch (error) {
      this.releaseTlb();
      throw new RangeError("out of physical memory for a page table", { cause: error });
    }
    this.sizeBytes = initialWasmPages * WASM_PAGE_SIZE;
    this.maxWasmPages = maxWasmPages;
  }

  get wasmPages(): number {
    return this.sizeBytes / WASM_PAGE_SIZE;
  }

  /** Frames this process holds privately. */
  get residentPages(): number {
    return this.privatePages;
  }

  /** memory.grow: the old size in 64 KiB pages, or -1 when over the limit. */
  grow(deltaWasmPages: number): number {
    const old = this.wasmPages;
    if (deltaWasmPages < 0 || old + deltaWasmPages > this.maxWasmPages) return -1;
    this.sizeBytes += deltaWasmPages * WASM_PAGE_SIZE;
    return old;
  }

  /**
   * Physical address of the byte at `address`, checked for `write`; fills the TLB for its page.
   * Throws ProcessFault when the access is not allowed.
   */
  translate(address: number, write: boolean): number {
    const page = address >>> PAGE_SHIFT;
    let entry = this.table.lookup(page);
    if (entry === 0) entry = this.mapOnFirstTouch(address);
    if (write && (entry & PTE_WRITE) === 0) throw new ProcessFault("read-only", address, `write to read-only page ${hex(address & ~(PAGE_SIZE - 1))}`);
    if (!write && (entry & PTE_READ) === 0) throw new ProcessFault("unmapped", address, `read of unreadable page`);
    const frame = entry >>> PAGE_SHIFT;
    if (entry & PTE_READ) this.tlb.fill(false, address, frame);
    if (entry & PTE_WRITE) this.tlb.fill(true, address, frame);
    return frame * PAGE_SIZE + (address & (PAGE_SIZE - 1));
  }

  /**
   * Checks that every byte of `[address, address + length)` may be accessed, mapping pages on
   * first touch, and returns the physical pieces. Nothing is written, so a caller that checks
   * first never leaves a partial write behind.
   */
  pieces(address: number, length: number, write: boolean): Array<[physical: number, length: number]> {
    if (address + length > 2 ** 32) {
      throw new ProcessFault("out-of-bounds", address + length - 1, `access of ${length} bytes at ${hex(address)} passes the end of the 32-bit address space`);
    }
    const result: Array<[number, number]> = [];
    let cursor = address;
    const end = address + length;
    while (cursor < end) {
      const chunk = Math.min(end - cursor, PAGE_SIZE - (cursor & (PAGE_SIZE - 1)));
      result.push([this.translate(cursor >>> 0, write), chunk]);
      cursor += chunk;
    }
    return result;
  }

  read(address: number, length: number): Uint8Array {
    // Check the range before allocating: a bad length must not cost the host memory.
    const pieces = this.pieces(address, length, false);
    const out = new Uint8Array(length);
    let at = 0;
    for (const [physical, chunk] of pieces) {
      out.set(this.memory.bytes.subarray(physical, physical + chunk), at);
      at += chunk;
    }
    return out;
  }

  write(address: number, data: Uint8Array): void {
    let at = 0;
    for (const [physical, chunk] of this.pieces(address, data.length, true)) {
      this.memory.bytes.set(data.subarray(at, at + chunk), physical);
      at += chunk;
    }
  }

  /** Maps frames of a shared object read-only at a global address. */
  mapShared(globalAddress: number, frames: readonly number[]): void {
    frames.forEach((frame, i) => {
      if (!this.table.map((globalAddress >>> PAGE_SHIFT) + i, frame, PTE_READ | PTE_SHARED)) {
        throw new RangeError("out of physical memory for a page table");
      }
    });
  }

  /** Releases every private frame, the page table and the TLB. */
  destroy(): void {
    this.table.forEach((_page, frame, flags) => {
      if ((flags & PTE_SHARED) === 0) this.frames.release(frame);
    });
    this.table.destroy();
    this.releaseTlb();
  }

  private mapOnFirstTouch(address: number): number {
    if (address < PAGE_SIZE) throw new ProcessFault("null-page", address, "access to page 0, which is never mapped");
    if (address >= GLOBAL_SPACE_BASE) throw new ProcessFault("unmapped", address, "nothing is mapped at this global address");
    if (address >= this.sizeBytes) {
      throw new ProcessFault("out-of-bounds", address, `beyond the end of memory (${this.wasmPages} pages of 64 KiB = ${hex(this.sizeBytes)})`);
    }
    const frame = this.frames.allocate(this.owner);
    if (frame === null) throw new ProcessFault("out-of-memory", address, "no free physical frame for this page");
    this.memory.zeroFrame(frame);
    if (!this.table.map(address >>> PAGE_SHIFT, frame, PTE_READ | PTE_WRITE)) {
      this.frames.release(frame);
      throw new ProcessFault("out-of-memory", address, "no free physical frame for a page table");
    }
    this.privatePages++;
    return this.table.lookup(address >>> PAGE_SHIFT);
  }

  private releaseTlb(): void {
    for (let i = 0; i < TLB_FRAMES; i++) this.frames.release(this.tlbFrame + i);
  }
}
