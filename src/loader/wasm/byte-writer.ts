/**
 * Writes the WebAssembly binary format into a buffer that grows as needed: bytes, LEB128
 * integers, names, and sections or vectors whose size is only known once their contents are
 * written.
 */
const utf8 = new TextEncoder();

export class ByteWriter {
  buffer: Uint8Array;
  /** Bytes written so far. */
  length = 0;

  constructor(capacity = 256) {
    this.buffer = new Uint8Array(Math.max(16, capacity));
  }

  /** Makes room for `count` more bytes. */
  reserve(count: number): void {
    const needed = this.length + count;
    if (needed <= this.buffer.length) return;
    let size = Math.max(16, this.buffer.length * 2); // a buffer given away (length 0) grows too
    while (size < needed) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.buffer.subarray(0, this.length));
    this.buffer = grown;
  }

  u8(byte: number): void {
    if (this.length >= this.buffer.length) this.reserve(1);
    this.buffer[this.length++] = byte;
  }

  /** An unsigned LEB128 of a value below 2^32. */
  u32(value: number): void {
    this.reserve(5);
    const b = this.buffer;
    let v = value >>> 0;
    while (v >= 0x80) {
      b[this.length++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    b[this.length++] = v;
  }

  /** A signed LEB128 of a 32-bit value. */
  s32(value: number): void {
    this.reserve(5);
    const b = this.buffer;
    let v = value | 0;
    for (;;) {
      const byte = v & 0x7f;
      v >>= 7;
      if ((v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0)) {
        b[this.length++] = byte;
        return;
      }
      b[this.length++] = byte | 0x80;
    }
  }

  /** A byte, into room made by an earlier `reserve`. */
  put(byte: number): void {
    this.buffer[this.length++] = byte;
  }

  /** An unsigned LEB128 into room made by an earlier `reserve` (at most 5 bytes). */
  putU32(value: number): void {
    const b = this.buffer;
    let v = value >>> 0;
    while (v >= 0x80) {
      b[this.length++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    b[this.length++] = v;
  }

  /** A signed LEB128 into room made by an earlier `reserve` (at most 5 bytes). */
  putS32(value: number): void {
    const b = this.buffer;
    let v = value | 0;
    for (;;) {
      const byte = v & 0x7f;
      v >>= 7;
      if ((v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0)) {
        b[this.length++] = byte;
        return;
      }
      b[this.length++] = byte | 0x80;
    }
  }

  bytes(data: Uint8Array): void {
    this.reserve(data.length);
    this.buffer.set(data, this.length);
    this.length += data.length;
  }

  /** Copies `source[start, end)`. */
  copy(source: Uint8Array, start: number, end: number): void {
    const count = end - start;
    this.reserve(count);
    // Byte by byte below 64: the rewriter copies many short runs between the instructions it
    // rewrites, for which a subarray (an object) and a set cost more than the loop.
    if (count < 64) {
      const b = this.buffer;
      let length = this.length;
      for (let i = start; i < end; i++) b[length++] = source[i]!;
      this.length = length;
      return;
    }
    this.buffer.set(source.subarray(start, end), this.length);
    this.length += count;
  }

  name(text: string): void {
    // Most names are ASCII: written a byte a character, without an encoder's allocation.
    const length = text.length;
    if (length < 128) {
      this.reserve(length + 1);
      const b = this.buffer;
      const start = this.length;
      b[start] = length;
      let i = 0;
      for (; i < length; i++) {
        const c = text.charCodeAt(i);
        if (c >= 0x80) break;
        b[start + 1 + i] = c;
      }
      if (i === length) {
        this.length = start + 1 + length;
        return;
      }
    }
    const encoded = utf8.encode(text);
    this.u32(encoded.length);
    this.bytes(encoded);
  }

  /** What has been written, as a view of the buffer (valid until the next write). */
  view(): Uint8Array {
    return this.buffer.subarray(0, this.length);
  }

  /** What has been written, as a copy of exactly its length. */
  take(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }

  /** Writes `contents` (through `write`) preceded by its size in bytes. */
  sized(write: (w: ByteWriter) => void): void {
    const inner = new ByteWriter(64);
    write(inner);
    this.u32(inner.length);
    this.bytes(inner.view());
  }

  /** A section: its id, its size, then what `write` writes. */
  section(id: number, write: (w: ByteWriter) => void): void {
    this.u8(id);
    this.sized(write);
  }
}
