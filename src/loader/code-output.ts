/**
 * The rewritten module's bytes, written once: the chunks of rewritten bodies are appended as they
 * arrive (each freed at once), then the sections before the code are put in front and those after
 * it behind, in the same buffer. A cold load of an all-code module used to hold every chunk and
 * then a second, assembled copy of them all (bench/cold-load-memory.ts: +158 MB of 740 for the
 * generated 25 MB module).
 *
 * The buffer is a resizable ArrayBuffer: the engine reserves address space for its largest size
 * and the host's memory is only taken by the bytes written, so no guess of the output's size is
 * ever copied or wasted.
 */

/** Reserved address space per byte of original code: the rewrite's output is at most a few times its input. */
const RESERVE_PER_CODE_BYTE = 16;
const RESERVE_EXTRA = 64 << 20;
/** How far the buffer grows past what is needed at each growth (resizing is cheap, not free). */
const GROWTH_STEP = 16 << 20;

export class CodeOutput {
  private buffer: ArrayBuffer;
  /** Bytes of code appended so far, from offset 0. */
  length = 0;

  /**
   * `codeBytes`: the original's code section, from which the output's size is bounded;
   * `reserveBytes`, the address space to reserve instead (tests).
   */
  constructor(codeBytes: number, reserveBytes = codeBytes * RESERVE_PER_CODE_BYTE + RESERVE_EXTRA) {
    this.buffer = reserve(reserveBytes);
  }

  /** Appends `piece` after the code appended so far. */
  append(piece: Uint8Array): void {
    this.room(this.length + piece.length);
    new Uint8Array(this.buffer, this.length, piece.length).set(piece);
    this.length += piece.length;
  }

  /**
   * The finished module: `head`, the code appended, then `tail`, in this one buffer (the code
   * moved up in place by the head's length), sized to exactly that. The CodeOutput is spent.
   */
  frame(head: readonly Uint8Array[], tail: readonly Uint8Array[]): Uint8Array {
    const headBytes = head.reduce((n, p) => n + p.length, 0);
    const total = headBytes + this.length + tail.reduce((n, p) => n + p.length, 0);
    this.room(total);
    const out = new Uint8Array(this.buffer, 0, this.buffer.byteLength);
    out.copyWithin(headBytes, 0, this.length);
    let at = 0;
    for (const piece of [...head, null, ...tail]) {
      if (piece === null) at += this.length;
      else {
        out.set(piece, at);
        at += piece.length;
      }
    }
    this.buffer.resize(total);
    return new Uint8Array(this.buffer, 0, total);
  }

  private room(needed: number): void {
    if (needed <= this.buffer.byteLength) return;
    if (needed > this.buffer.maxByteLength) {
      // Past the reservation (a rewrite that grew its input more than ever measured): move once.
      const larger = reserve(needed * 2);
      larger.resize(this.length);
      new Uint8Array(larger).set(new Uint8Array(this.buffer, 0, this.length));
      releaseBytes(new Uint8Array(this.buffer));
      this.buffer = larger;
    }
    this.buffer.resize(Math.min(this.buffer.maxByteLength, needed + Math.min(GROWTH_STEP, needed)));
  }
}

/** A resizable buffer of length 0 that may grow to `maxBytes`, or as near as the engine can reserve. */
function reserve(maxBytes: number): ArrayBuffer {
  for (let max = maxBytes; ; max = Math.floor(max / 2)) {
    try {
      return new ArrayBuffer(0, { maxByteLength: max });
    } catch (error) {
      if (!(error instanceof RangeError) || max < 1 << 20) throw error;
    }
  }
}

/**
 * Gives the memory under `bytes` back to the host now, rather than at some later garbage
 * collection: for buffers of many MB the loader owns alone and is done with (a chunk once
 * appended, the output once the engine has its copy). Every view of the buffer becomes empty.
 */
export function releaseBytes(bytes: Uint8Array): void {
  const buffer = bytes.buffer;
  if (buffer instanceof SharedArrayBuffer || buffer.detached) return;
  if (buffer.resizable) buffer.resize(0);
  else buffer.transfer(0);
}

/**
 * A copy of `bytes` in memory the engine maps for this buffer alone (a resizable ArrayBuffer) and
 * not from the C allocator: `releaseBytes` then gives it back to the system at once. For the
 * copies a cold load makes and frees by the MB (the binary for its validation, a chunk's bodies,
 * a chunk's output). From the C allocator (glibc's malloc), one freed copy of up to 32 MB raises
 * the size below which later allocations come from its arenas to the copy's size, and what its
 * arenas have held they keep: after a cold load of yosys, 29 MB in the main thread's arena (its
 * validation's copy) and 60-100 MB in the workers' threads' arenas.
 */
export function pageCopy(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const copy = new Uint8Array(new ArrayBuffer(bytes.length, { maxByteLength: bytes.length }));
  copy.set(bytes);
  return copy;
}
