import { FRAME_SIZE as PAGE_SIZE, WASM_PAGE_SIZE } from "./frame-size.ts";

/**
 * The machine's RAM: one WebAssembly.Memory that every process instance imports. Its size is
 * fixed at power-on; nothing grows it after, so the typed views below never go stale.
 */
export class PhysicalMemory {
  readonly memory: WebAssembly.Memory;
  readonly bytes: Uint8Array;
  readonly view: DataView;
  readonly words: Int32Array;
  readonly unsignedWords: Uint32Array;
  /** As float64s (process descriptors keep CPU time so): one view for all, not one per process. */
  readonly floats: Float64Array;
  readonly size: number;
  readonly frameCount: number;
  /**
   * Per frame: 1 while it still holds the zeros it had at power-on (a new WebAssembly.Memory is
   * zero-filled) and nobody was handed it; 2 from its first `handOut` until the `zeroFrame` that
   * follows it; 0 after. See zeroFrame.
   */
  private readonly pristine: Uint8Array;

  /**
   * `unaccounted`: the memory is made one page long and grown to `size` at once (the same
   * memory, its maximum `size`), which V8 does not count as external memory: a new memory of
   * more than 64 MiB counted so makes V8 start a full collection of the heap soon after (a
   * tenth of a cached `dogma run`'s instructions, concurrent marking included). The engine is
   * then not pressed to collect the memory once unreachable either, so only for a host process
   * that makes one machine and holds it to its end (`dogma run`); a test's or a bench's many
   * machines are counted.
   */
  constructor(size: number, options: { unaccounted?: boolean } = {}) {
    if (!Number.isInteger(size) || size < 1 << 20 || size % WASM_PAGE_SIZE !== 0 || size > 2 ** 32) {
      throw new RangeError(`physical memory must be a whole number of 64 KiB pages between 1 MiB and 4 GiB, not ${size} bytes`);
    }
    const pages = size / WASM_PAGE_SIZE;
    if (options.unaccounted) {
      this.memory = new WebAssembly.Memory({ initial: 1, maximum: pages });
      if (pages > 1) this.memory.grow(pages - 1);
    } else this.memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
    this.size = size;
    this.frameCount = size / PAGE_SIZE;
    this.bytes = new Uint8Array(this.memory.buffer);
    this.view = new DataView(this.memory.buffer);
    this.words = new Int32Array(this.memory.buffer);
    this.unsignedWords = new Uint32Array(this.memory.buffer);
    this.floats = new Float64Array(this.memory.buffer);
    this.pristine = new Uint8Array(this.frameCount).fill(1);
  }

  /**
   * The frame allocator hands `frame` to someone (FrameAllocator.mark), who may write anything
   * into it from now on: a frame handed out for the first time since power-on still holds zeros,
   * which the `zeroFrame` that follows need not write again.
   */
  handOut(frame: number): void {
    this.pristine[frame] = this.pristine[frame] === 1 ? 2 : 0;
  }

  /**
   * Something wrote `frame` while nobody was handed it (a test's canaries in free memory,
   * test/fuzz/fuzz-host.ts): it holds power-on's zeros no more, and its next `zeroFrame` writes.
   */
  written(frame: number): void {
    this.pristine[frame] = 0;
  }

  /**
   * Zeros `frame`, which its holder has just been handed (every caller zeros a frame right after
   * allocating it, before anything writes it). Not a byte is written when the frame has never
   * been handed out before: it holds the zeros of power-on, and its host page is not touched
   * until a process writes it (a fresh host page costs a page fault at its first write, about
   * 12 µs in the bench's VM; a cold boot zeroed ~1,550 frames, 30-47 ms of the machine's thread,
   * nearly all of them never used before; issue 20's boot work).
   */
  zeroFrame(frame: number): void {
    const state = this.pristine[frame];
    this.pristine[frame] = 0;
    if (state === 2) return;
    this.bytes.fill(0, frame * PAGE_SIZE, (frame + 1) * PAGE_SIZE);
  }

  frameBytes(frame: number): Uint8Array {
    return this.bytes.subarray(frame * PAGE_SIZE, (frame + 1) * PAGE_SIZE);
  }
}

/** Parses sizes such as `16M`, `1G`, `65536`, `512K` into bytes. */
export function parseMemorySize(text: string): number {
  const match = /^(\d+)([KMG]i?B?)?$/i.exec(text.trim());
  if (!match) throw new RangeError(`cannot read memory size "${text}": write a number with an optional K, M or G suffix, such as 128M`);
  const unit = (match[2] ?? "").charAt(0).toUpperCase();
  const scale = unit === "K" ? 1 << 10 : unit === "M" ? 1 << 20 : unit === "G" ? 1 << 30 : 1;
  return Number(match[1]) * scale;
}
