/**
 * Hands out 4 KiB frames of physical memory and remembers who holds each.
 *
 * Invariants: frame 0 is never handed out; a frame is free exactly when its bit is clear and its
 * owner is FREE; `freeCount` equals the number of clear bits; a frame marked clean is free and
 * has not been handed out since the block it belongs to was released clean.
 */
export const FRAME_FREE = 0;
/** Owner tag for the kernel's own tables (TLBs, page tables, descriptors, images). */
export const FRAME_KERNEL = -1;
/**
 * Blocks released clean remembered per size: the most recent ones (a spawn takes the last). The
 * frames are free all the while; this bounds only the list, and a batch of spawns after a batch
 * of exits (a pipeline, make -j, a test's 250) reuses them all.
 */
const CLEAN_BLOCKS = 1024;
/**
 * Frames released most recently, handed out first (as Linux's per-CPU lists of hot pages): their
 * bytes are likely still in the CPU's caches, and the host has backed them since their first use.
 * A frame the next-fit scan finds instead may never have been touched: on Node the first write to
 * each host page of the machine's memory is a host page fault, about 6 µs against 0.6 µs to zero a
 * frame written before (a 16 MiB Region made on a fresh machine: 25 ms against 3).
 */
const RECENT_FRAMES = 16384;
/** Bitmap words `homeStart` reads at most per call: 128 MiB of frames. */
const HOME_SCAN_WORDS = 1024;

export class FrameAllocator {
  readonly frameCount: number;
  /**
   * The bitmap, a bit a frame. Signed words: the optimizing compilers read an element of a
   * Uint32Array with bit 31 set as a number past int32, and Maglev then deoptimized `homeStart`
   * at every spawn that met such a word (540 bailouts in 10,000 spawns: the scan ran unoptimized,
   * about 20% of a spawn's CPU). Whole words are compared with -1 (all used), not 0xffffffff.
   */
  private readonly used: Int32Array;
  private readonly owners: Int32Array;
  private hint = 1;
  /** The bitmap word where the last aligned block was found (next fit). */
  private blockHint = 0;
  private free: number;
  /** 1 for a free frame of a block released clean that nobody was handed since (`takeClean`). */
  private readonly clean: Uint8Array;
  /** The first frame of blocks released clean, by block size, oldest first (some may be stale). */
  private readonly cleanBlocks = new Map<number, number[]>();
  /** Frames released lately, a ring (RECENT_FRAMES), the last at `recentTop - 1`; some may be taken since. */
  private readonly recent = new Int32Array(RECENT_FRAMES);
  private recentTop = 0;
  private recentCount = 0;
  /** Where `homeStart`'s next window starts, on a machine of more than HOME_SCAN_WORDS words. */
  private homeWord = 0;
  /** Frames held by the kernel and its objects (an owner below 0): none of them can be paged out. */
  private wired = 0;
  /**
   * The most frames `mayWire` lets the kernel and its objects hold for what unprivileged processes
   * ask (their TLBs, Regions, Pages); set when paging turns on (kernel-paging.ts), so that a quota
   * larger than the machine, safe for pages the pager can take back, cannot fill it with frames
   * it cannot (redteam18: 294 spinners' TLBs left the shell no frame to fault in).
   */
  wiredLimit = Number.POSITIVE_INFINITY;
  /** The address spaces of pinned processes (a handful: the pager and the servers on its path). */
  private readonly pinned = new Set<{ readonly residentPages: number }>();

  /** Told of every frame handed out (PhysicalMemory.handOut: whether it still holds power-on's zeros). */
  private readonly memory: { handOut(frame: number): void } | null;

  constructor(frameCount: number, memory: { handOut(frame: number): void } | null = null) {
    this.frameCount = frameCount;
    this.memory = memory;
    this.used = new Int32Array(Math.ceil(frameCount / 32));
    this.owners = new Int32Array(frameCount);
    this.clean = new Uint8Array(frameCount);
    this.free = frameCount;
    this.mark(0, FRAME_KERNEL);
  }

  get freeCount(): number {
    return this.free;
  }

  owner(frame: number): number {
    return this.owners[frame]!;
  }

  /** Frames held by the kernel and its objects (an owner below 0); `mayWire` adds pinned processes' pages to them. */
  get wiredCount(): number {
    return this.wired;
  }

  /**
   * Whether `count` more frames that cannot be paged out may be taken for a process that is not
   * pinned. `headroom`: frames past the limit this kind may still take (a page table for a page
   * of a process that exists, so that one made before the limit was reached can go on).
   */
  mayWire(count: number, headroom = 0): boolean {
    let wired = this.wired + count;
    for (const space of this.pinned) wired += space.residentPages;
    return wired <= this.wiredLimit + headroom;
  }

  /** A pinned process's space (its pages are never evicted: they count as wired for `mayWire`), or no longer. */
  pinSpace(space: { readonly residentPages: number }, pinned: boolean): void {
    if (pinned) this.pinned.add(space);
    else this.pinned.delete(space);
  }

  /** Page tables' headroom past `wiredLimit` (mayWire): a quarter of the frames kept for pages. */
  get tableHeadroom(): number {
    return (this.frameCount - this.wiredLimit) >>> 2;
  }

  /** Whether `frame` is free and still as a block released clean left it (`takeClean`). */
  isClean(frame: number): boolean {
    return this.clean[frame] === 1;
  }

  isUsed(frame: number): boolean {
    return (this.used[frame >>> 5]! & (1 << (frame & 31))) !== 0;
  }

  /** One frame for `owner`, or null when memory is exhausted. The frame is not zeroed. */
  allocate(owner: number): number | null {
    while (this.recentCount > 0) {
      this.recentTop = this.recentTop === 0 ? RECENT_FRAMES - 1 : this.recentTop - 1;
      this.recentCount--;
      const frame = this.recent[this.recentTop]!;
      // Taken since (by a block, or the scan), or kept clean for a block: not this one.
      if (this.isUsed(frame) || this.clean[frame] === 1) continue;
      this.mark(frame, owner);
      return frame;
    }
    const words = this.used.length;
    let word = this.hint >>> 5;
    for (let scanned = 0; scanned <= words; scanned++, word = (word + 1) % words) {
      const bits = this.used[word]!;
      if (bits === -1) continue;
      const lowestClearBit = 31 - Math.clz32(~bits & ((bits + 1) | 0));
      const chosen = word * 32 + lowestClearBit;
      if (chosen >= this.frameCount) continue;
      this.mark(chosen, owner);
      this.hint = chosen + 1 < this.frameCount ? chosen + 1 : 1;
      return chosen;
    }
    return null;
  }

  /**
   * `frame` for `owner` when it is free (and not kept clean for a TLB), else any frame as
   * `allocate` gives it: an address space asks for its page's home frame (tlb.ts), whose TLB entry
   * then spares rewritten code the addend's load. Placement is only ever a preference.
   */
  allocatePreferring(frame: number, owner: number): number | null {
    if (frame > 0 && frame < this.frameCount && !this.isUsed(frame) && this.clean[frame] === 0) {
      this.mark(frame, owner);
      return frame;
    }
    return this.allocate(owner);
  }

  /**
   * Where a new process's home frames should start (tlb.ts): half-way into the longest run of free
   * frames, at least `slack` frames in (so that the kernel's next-fit allocations from the run's
   * start meet them late), or 1 when memory has no free frame. A scan of the bitmap a word at a
   * time: the whole of it up to HOME_SCAN_WORDS (128 MiB of frames); past that, a window of that
   * many words from where the last one ended, so that a spawn on a 4 GiB machine does not walk
   * 32,768 words (250 µs a spawn: bench "kernel.spawn with N live"). The choice is only where
   * accesses are fastest, never what is correct (a page away from home takes the second tier).
   */
  homeStart(slack: number): number {
    let bestStart = 1;
    let bestLength = 0;
    const first = this.used.length <= HOME_SCAN_WORDS ? 0 : this.homeWord;
    const words = Math.min(this.used.length, first + HOME_SCAN_WORDS);
    this.homeWord = words === this.used.length ? 0 : words;
    let runStart = first * 32;
    let runLength = 0;
    for (let word = first; word < words; word++) {
      const bits = this.used[word]!;
      if (bits === 0) {
        if (runLength === 0) runStart = word * 32;
        runLength += 32;
        continue;
      }
      // A word partly used: the run so far ends at its lowest used bit, the next starts past its
      // highest; the short runs between are left out (a home run of under 32 frames is no use).
      runLength += 31 - Math.clz32(bits & (-bits | 0));
      if (runLength > bestLength) {
        bestStart = runStart;
        bestLength = runLength;
      }
      runLength = Math.clz32(bits);
      runStart = word * 32 + 32 - runLength;
    }
    if (runLength > bestLength) {
      bestStart = runStart;
      bestLength = Math.min(runLength, this.frameCount - runStart);
    }
    return bestLength === 0 ? 1 : bestStart + Math.max(slack, bestLength >>> 1);
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
   * `count` consecutive frames (at most 32), or null: a power of two at a multiple of itself, any
   * other count (a TLB of 16 frames and its victims' frame: 17) wherever it fits, so that such
   * blocks pack end to end (at a multiple of 32 each took a word, and single frames filled the 15
   * left too slowly: 300 spawns at once ran out of 17-frame runs on 32 MiB). Searched a bitmap word
   * at a time from where the last search ended, so that its cost does not grow with how many
   * blocks are taken (a process's TLBs are one; a first-fit search from frame 1 made each spawn
   * slower by the number of live processes).
   */
  allocateAligned(count: number, owner: number): number | null {
    if (count < 1 || count > 32) throw new Error(`kernel bug: aligned block of ${count} frames`);
    if ((count & (count - 1)) !== 0) return this.nextFitRun(count, owner);
    const mask = count === 32 ? -1 : (1 << count) - 1;
    const words = this.used.length;
    for (let scanned = 0, word = this.blockHint; scanned < words; scanned++, word = word + 1 === words ? 0 : word + 1) {
      const bits = this.used[word]!;
      if (bits === -1) continue;
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
    return this.nextFitRun(count, owner);
  }

  /** `count` consecutive frames anywhere, next fit from `blockHint` (then from the start), or null. */
  private nextFitRun(count: number, owner: number): number | null {
    const words = this.used.length;
    for (const from of [this.blockHint, 0]) {
      let runStart = 0;
      let runLength = 0;
      for (let word = from; word < words; word++) {
        const bits = this.used[word]!;
        if (bits === -1) {
          runLength = 0;
          continue;
        }
        for (let bit = 0; bit < 32; bit++) {
          if ((bits & (1 << bit)) !== 0) {
            runLength = 0;
            continue;
          }
          if (runLength++ === 0) runStart = word * 32 + bit;
          if (runLength < count) continue;
          if (runStart + count > this.frameCount) return null;
          for (let f = runStart; f < runStart + count; f++) this.mark(f, owner);
          this.blockHint = (runStart + count) >>> 5;
          return runStart;
        }
      }
    }
    return null;
  }

  release(frame: number): void {
    if (frame <= 0 || frame >= this.frameCount || !this.isUsed(frame)) {
      throw new Error(`kernel bug: release of frame ${frame}, which is not allocated`);
    }
    this.used[frame >>> 5]! &= ~(1 << (frame & 31));
    if (this.owners[frame]! < 0) this.wired--;
    this.owners[frame] = FRAME_FREE;
    this.free++;
    this.recent[this.recentTop] = frame;
    this.recentTop = this.recentTop + 1 === RECENT_FRAMES ? 0 : this.recentTop + 1;
    if (this.recentCount < RECENT_FRAMES) this.recentCount++;
  }

  /**
   * Frees `count` frames from `first` whose contents the caller knows (a TLB whose every entry it
   * has invalidated): while nobody is handed any of them, `takeClean` gives the block back as it
   * is, so that the caller need not write it again. They are free frames like any other meanwhile.
   */
  releaseClean(first: number, count: number): void {
    for (let f = first; f < first + count; f++) {
      this.release(f);
      this.clean[f] = 1;
    }
    let blocks = this.cleanBlocks.get(count);
    if (!blocks) this.cleanBlocks.set(count, (blocks = []));
    // The older half goes at once, so that forgetting costs nothing per release.
    if (blocks.length === CLEAN_BLOCKS) blocks.splice(0, CLEAN_BLOCKS / 2);
    blocks.push(first);
  }

  /**
   * A block of `count` frames released clean (`releaseClean`) none of whose frames was handed out
   * since, for `owner`; null when there is none. Its contents are what its releaser left.
   */
  takeClean(count: number, owner: number): number | null {
    const blocks = this.cleanBlocks.get(count);
    while (blocks && blocks.length > 0) {
      const first = blocks.pop()!;
      let whole = true;
      for (let f = first; f < first + count && whole; f++) whole = this.clean[f] === 1;
      if (!whole) continue;
      for (let f = first; f < first + count; f++) this.mark(f, owner);
      return first;
    }
    return null;
  }

  /** The blocks `takeClean` could give now (every frame still clean), as [first, count] (for the invariant checker). */
  *cleanBlocksLeft(): IterableIterator<[number, number]> {
    for (const [count, blocks] of this.cleanBlocks) {
      for (const first of new Set(blocks)) {
        let whole = true;
        for (let f = first; f < first + count && whole; f++) whole = this.clean[f] === 1;
        if (whole) yield [first, count];
      }
    }
  }

  /** An allocated frame changes hands (a private frame becomes shared copy-on-write, or back). */
  retag(frame: number, owner: number): void {
    if (!this.isUsed(frame)) throw new Error(`kernel bug: retag of frame ${frame}, which is not allocated`);
    this.wired += (owner < 0 ? 1 : 0) - (this.owners[frame]! < 0 ? 1 : 0);
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
    // Whoever is handed a frame may write anything into it: it is clean no more.
    this.clean[frame] = 0;
    this.memory?.handOut(frame);
    this.used[frame >>> 5]! |= 1 << (frame & 31);
    this.owners[frame] = owner;
    if (owner < 0) this.wired++;
    this.free--;
  }
}
