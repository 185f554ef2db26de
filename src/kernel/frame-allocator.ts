/**
 * Hands out 4 KiB frames of physical memory and remembers who holds each.
 *
 * Invariants: frame 0 is never handed out; a frame is free exactly when its bit is clear and its
 * owner is FREE; `freeCount` equals the number of clear bits.
 */
export const FRAME_FREE = 0;
/** Owner tag for the kernel's own tables (TLBs, page tables, descriptors, images). */
export const FRAME_KERNEL = -1;

export class FrameAllocator {
  readonly frameCount: number;
  private readonly used: Uint32Array;
  private readonly owners: Int32Array;
  private hint = 1;
  /** The bitmap word where the last aligned block was found (next fit). */
  private blockHint = 0;
  private free: number;

  constructor(frameCount: number) {
    this.frameCount = frameCount;
    this.used = new Uint32Array(Math.ceil(frameCount / 32));
    this.owners = new Int32Array(frameCount);
    this.free = frameCount;
    this.mark(0, FRAME_KERNEL);
  }

  get freeCount(): number {
    return this.free;
  }

  owner(frame: number): number {
    return this.owners[frame]!;
  }

  isUsed(frame: number): boolean {
    return (this.used[frame >>> 5]! & (1 << (frame & 31))) !== 0;
  }

  /** One frame for `owner`, or null when memory is exhausted. The frame is not zeroed. */
  allocate(owner: number): number | null {
    const words = this.used.length;
    let word = this.hint >>> 5;
    for (let scanned = 0; scanned <= words; scanned++, word = (word + 1) % words) {
      const bits = this.used[word]!;
      if (bits === 0xffffffff) continue;
      const lowestClearBit = 31 - Math.clz32(~bits & (bits + 1));
      const chosen = word * 32 + lowestClearBit;
      if (chosen >= this.frameCount) continue;
      this.mark(chosen, owner);
      this.hint = chosen + 1 < this.frameCount ? chosen + 1 : 1;
      return chosen;
    }
    return null;
  }

  /** `count` consecutive frames (first-fit), or null. Used for TLBs, which rewritten code indexes linearly. */
  allocateContiguous(count: number, owner: number): number | null {
    let runStart = 1;
    let runLength = 0;
    for (let frame = 1; frame < this.frameCount; frame++) {
      if (this.isUsed(frame)) {
        runLength = 0;
        runStart = frame + 1;
        continue;
      }
      if (++runLength === count) {
        for (let f = runStart; f < runStart + count; f++) this.mark(f, owner);
        return runStart;
      }
    }
    return null;
  }

  /**
   * `count` consecutive frames starting at a multiple of `count` (a power of two, at most 32), or
   * null. Searched a bitmap word at a time from where the last search ended, so that its cost does
   * not grow with how many blocks are taken (a process's TLBs are one; a first-fit search from
   * frame 1 made each spawn slower by the number of live processes).
   */
  allocateAligned(count: number, owner: number): number | null {
    if (count < 1 || count > 32 || (count & (count - 1)) !== 0) throw new Error(`kernel bug: aligned block of ${count} frames`);
    const mask = count === 32 ? 0xffff_ffff : (1 << count) - 1;
    const words = this.used.length;
    for (let scanned = 0, word = this.blockHint; scanned < words; scanned++, word = word + 1 === words ? 0 : word + 1) {
      const bits = this.used[word]!;
      if (bits === 0xffff_ffff) continue;
      for (let shift = 0; shift < 32; shift += count) {
        if (((bits >>> shift) & mask) !== 0) continue;
        const first = word * 32 + shift;
        if (first + count > this.frameCount) break;
        for (let f = first; f < first + count; f++) this.mark(f, owner);
        this.blockHint = word;
        return first;
      }
    }
    // Fragmented into no aligned block: any run will do.
    return this.allocateContiguous(count, owner);
  }

  release(frame: number): void {
    if (frame <= 0 || frame >= this.frameCount || !this.isUsed(frame)) {
      throw new Error(`kernel bug: release of frame ${frame}, which is not allocated`);
    }
    this.used[frame >>> 5]! &= ~(1 << (frame & 31));
    this.owners[frame] = FRAME_FREE;
    this.free++;
  }

  /** An allocated frame changes hands (a private frame becomes shared copy-on-write, or back). */
  retag(frame: number, owner: number): void {
    if (!this.isUsed(frame)) throw new Error(`kernel bug: retag of frame ${frame}, which is not allocated`);
    this.owners[frame] = owner;
  }

  /** Frames held by each owner: the basis of `mem`. */
  usage(): Map<number, number> {
    const counts = new Map<number, number>();
    for (let frame = 0; frame < this.frameCount; frame++) {
      if (!this.isUsed(frame)) continue;
      const owner = this.owners[frame]!;
      counts.set(owner, (counts.get(owner) ?? 0) + 1);
    }
    return counts;
  }

  private mark(frame: number, owner: number): void {
    this.used[frame >>> 5]! |= 1 << (frame & 31);
    this.owners[frame] = owner;
    this.free--;
  }
}
