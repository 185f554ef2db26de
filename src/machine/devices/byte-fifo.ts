/** A bounded queue of bytes (a UART's receive FIFO). */
export class ByteFifo {
  private readonly buffer: Uint8Array;
  private head = 0;
  private count = 0;

  constructor(capacity: number) {
    this.buffer = new Uint8Array(capacity);
  }

  get length(): number {
    return this.count;
  }

  get room(): number {
    return this.buffer.length - this.count;
  }

  /** Appends as much of `data` as fits; returns how many bytes that was. */
  push(data: Uint8Array): number {
    const taken = Math.min(data.length, this.room);
    for (let i = 0; i < taken; i++) this.buffer[(this.head + this.count + i) % this.buffer.length] = data[i]!;
    this.count += taken;
    return taken;
  }

  /** Removes and returns up to `max` bytes, oldest first. */
  shift(max: number): Uint8Array {
    const out = new Uint8Array(Math.min(max, this.count));
    for (let i = 0; i < out.length; i++) out[i] = this.buffer[(this.head + i) % this.buffer.length]!;
    this.head = (this.head + out.length) % this.buffer.length;
    this.count -= out.length;
    return out;
  }
}
