/**
 * Reads the WebAssembly binary format: bytes, LEB128 integers and names, every read checked
 * against the end of what is being read. A malformed encoding (a read past the end, an LEB128
 * longer than its type allows, bad UTF-8) throws a DecodeError that names the byte offset.
 */
export class DecodeError extends Error {
  /** Byte offset in the binary where decoding failed. */
  readonly offset: number;
  constructor(offset: number, message: string) {
    super(message);
    this.offset = offset;
  }
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

export class ByteReader {
  readonly bytes: Uint8Array;
  /** Next byte to read. */
  at: number;
  /** One past the last byte this reader may read. */
  end: number;

  constructor(bytes: Uint8Array, at = 0, end = bytes.length) {
    this.bytes = bytes;
    this.at = at;
    this.end = end;
  }

  get done(): boolean {
    return this.at >= this.end;
  }

  fail(message: string, offset = this.at): never {
    throw new DecodeError(offset, message);
  }

  u8(): number {
    if (this.at >= this.end) this.fail("unexpected end");
    return this.bytes[this.at++]!;
  }

  /**
   * An unsigned LEB128 of at most 32 bits (5 bytes). In 32-bit arithmetic: a sum of `byte * 2 **
   * shift` is a floating-point number to the engine, so every offset and index read (and every
   * one computed from them: the bodies' bounds a loader worker's chunk carries) was a heap number
   * rather than a small integer, and a loader worker's optimized rewriter, which had seen small
   * integers in its warm-up, was thrown away and optimized again at its first chunk.
   */
  u32(): number {
    const start = this.at;
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const byte = this.u8();
      if (shift === 28 && byte > 0x0f) this.fail("an unsigned 32-bit integer is too long or too large", start);
      result |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result >>> 0;
    }
    return this.fail("an unsigned 32-bit integer is too long", start);
  }

  /** A signed LEB128 of at most 32 bits. */
  s32(): number {
    const start = this.at;
    let result = 0;
    let shift = 0;
    let byte: number;
    do {
      if (shift >= 35) this.fail("a signed 32-bit integer is too long", start);
      byte = this.u8();
      if (shift === 28) {
        // The last byte holds bits 28-31; the rest must repeat the sign bit.
        const high = byte & 0x70;
        if ((byte & 0x80) !== 0 || (high !== 0 && high !== 0x70) || (high === 0x70) !== ((byte & 0x08) !== 0)) {
          this.fail("a signed 32-bit integer is too long or too large", start);
        }
      }
      result |= (byte & 0x7f) << shift;
      shift += 7;
    } while (byte & 0x80);
    if (shift < 32 && byte & 0x40) result |= -1 << shift;
    return result | 0;
  }

  /** Skips a signed LEB128 of at most `bits` bits (33 for type indices in block types, 64 for i64.const). */
  skipSigned(bits: number): void {
    const start = this.at;
    const most = Math.ceil(bits / 7);
    for (let i = 0; i < most; i++) if ((this.u8() & 0x80) === 0) return;
    this.fail(`a signed ${bits}-bit integer is too long`, start);
  }

  /** A signed 33-bit LEB128 (a block type or heap type that is a type index), as a number. */
  s33(): number {
    const start = this.at;
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const byte = this.u8();
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return byte & 0x40 ? result - 2 ** (shift + 7) : result;
    }
    return this.fail("a signed 33-bit integer is too long", start);
  }

  skip(count: number): void {
    if (count > this.end - this.at) this.fail(`${count} bytes run past the end`);
    this.at += count;
  }

  /** `count` bytes as a view (no copy). */
  view(count: number): Uint8Array {
    const start = this.at;
    this.skip(count);
    return this.bytes.subarray(start, start + count);
  }

  /** A name: its length, then that many bytes of UTF-8. */
  name(): string {
    const length = this.u32();
    const start = this.at;
    const bytes = this.view(length);
    try {
      return utf8.decode(bytes);
    } catch {
      return this.fail("a name is not valid UTF-8", start);
    }
  }

  /** A vector's length, checked against the bytes left (each item takes at least `minItemBytes`). */
  count(minItemBytes = 1): number {
    const start = this.at;
    const n = this.u32();
    if (n * minItemBytes > this.end - this.at) this.fail(`a count of ${n} runs past the end`, start);
    return n;
  }
}
