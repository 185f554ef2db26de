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

/** Bytes that take the place of `[at, at + length)` of the code written (CodeOutput.frame). */
export interface Replacement {
  readonly at: number;
  readonly length: number;
  readonly bytes: Uint8Array;
}

/** Reserved address space per byte of original code: the rewrite's output is at most a few times its input. */
const RESERVE_PER_CODE_BYTE = 16;
const RESERVE_EXTRA = 64 << 20;
/** How far the buffer grows past what is needed at each growth (resizing is cheap, not free). */
const GROWTH_STEP = 16 << 20;

export class CodeOutput {
  private buffer: ArrayBuffer;
  /** Bytes of code appended so far, from offset 0. */
  length = 0;
  /** A view of the whole buffer, made once (bodyEnd). */
  private whole: Uint8Array | null = null;

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

  /** Where the body appended at `at` (its size first, as LEB128) ends. */
  bodyEnd(at: number): number {
    const bytes = (this.whole ??= new Uint8Array(this.buffer)); // tracks the buffer's length
    let size = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = bytes[at++];
      if (byte === undefined || shift > 28) throw new Error(`loader bug: no body's size at ${at - 1} of the code written`);
      size += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) break;
    }
    if (at > this.length || at + size > this.length) throw new Error(`loader bug: a body of the code written ends past it`);
    return at + size;
  }

  /**
   * The finished module: `head`, the code appended, then `tail`, in this one buffer (the code
   * moved up in place by the head's length), sized to exactly that; each of `replaced` (in order
   * of place, none overlapping) puts its bytes where `[at, at + length)` of the code was, in the
   * same move (loop outlining's functions, rewritten again once every body was: rewrite-module.ts).
   * The CodeOutput is spent.
   */
  frame(head: readonly Uint8Array[], tail: readonly Uint8Array[], replaced: readonly Replacement[] = []): Uint8Array {
    const headBytes = head.reduce((n, p) => n + p.length, 0);
    const codeBytes = replaced.reduce((n, r) => n + r.bytes.length - r.length, this.length);
    const total = headBytes + codeBytes + tail.reduce((n, p) => n + p.length, 0);
    this.room(total);
    const out = new Uint8Array(this.buffer, 0, this.buffer.byteLength);
    // The code kept between replacements, each piece moved by the head's size and the growth of the replacements before it.
    const kept: Array<{ readonly from: number; readonly to: number; readonly shift: number }> = [];
    let from = 0;
    let shift = headBytes;
    for (const r of replaced) {
      if (r.at < from || r.at + r.length > this.length) throw new Error("loader bug: replaced code out of order or past the code written");
      kept.push({ from, to: r.at, shift });
      shift += r.bytes.length - r.length;
      from = r.at + r.length;
    }
    kept.push({ from, to: this.length, shift });
    // Pieces moving down from the first, then those moving up from the last: none is written over
    // before it moved (a piece's new place lies past every earlier piece's old place when it moves
    // down, and before every later one's old place when it moves up).
    for (const k of kept) if (k.shift < 0) out.copyWithin(k.from + k.shift, k.from, k.to);
    for (let i = kept.length - 1; i >= 0; i--) {
      const k = kept[i]!;
      if (k.shift > 0) out.copyWithin(k.from + k.shift, k.from, k.to);
    }
    replaced.forEach((r, i) => out.set(r.bytes, kept[i]!.to + kept[i]!.shift));
    let at = 0;
    for (const piece of [...head, null, ...tail]) {
      if (piece === null) at += codeBytes;
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
      this.whole = null;
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
 * copies a cold load makes and frees by the MB (the binary for its validation, a chunk's bodies
 * and its code on their way to and from a worker; what the rewriter itself reads and writes is in
 * `rewriterBuffer`s). From the C allocator
 * (glibc's malloc), one freed copy of up to 32 MB raises the size below which later allocations
 * come from its arenas to the copy's size, and what its arenas have held they keep: after a cold
 * load of yosys, 29 MB in the main thread's arena (its validation's copy) and 60-100 MB in the
 * workers' threads' arenas.
 */
export function pageCopy(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const copy = pageBuffer(bytes.length);
  copy.set(bytes);
  return copy;
}

/** `length` zero bytes in memory of their own, as pageCopy's: `releaseBytes` gives them back at once. */
export function pageBuffer(length: number): Uint8Array<ArrayBuffer> {
  return new Uint8Array(new ArrayBuffer(length, { maxByteLength: length }));
}

/**
 * `length` zero bytes for the rewriter to read or write byte by byte (a loader worker's copy of
 * each chunk's input and its writer, loader-worker.ts): a plain ArrayBuffer, never a resizable
 * one. The engine's optimized code reaches a typed array over a resizable buffer about four times
 * slower per element (its length may change under it), and a rewriter that sees both kinds is
 * optimized again for the second (a worker's warm-up is plain).
 */
export function rewriterBuffer(length: number): ArrayBuffer {
  return new ArrayBuffer(length);
}
