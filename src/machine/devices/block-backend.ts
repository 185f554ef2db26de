/**
 * Where a block device's sectors live: a disk image file on Node, memory in tests or a browser.
 * Operations may complete in any order; the device issues them in the order drivers submit.
 */
export interface BlockBackend {
  /** Bytes of storage; the device offers floor(size / SECTOR_SIZE) sectors. */
  readonly size: number;
  /** `length` bytes at `offset` (inside `size`); bytes never written read as zero. */
  read(offset: number, length: number): Promise<Uint8Array>;
  /** Resolves once the bytes are in the backing store (not necessarily durable yet). */
  write(offset: number, data: Uint8Array): Promise<void>;
  /** Resolves once every write started before this call is durable (fdatasync on a file). */
  flush(): Promise<void>;
}

/** A disk in memory: for tests, and a browser host without storage. */
export class MemoryBlockBackend implements BlockBackend {
  readonly bytes: Uint8Array;

  constructor(size: number) {
    this.bytes = new Uint8Array(size);
  }

  get size(): number {
    return this.bytes.length;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    return this.bytes.slice(offset, offset + length);
  }

  async write(offset: number, data: Uint8Array): Promise<void> {
    this.bytes.set(data, offset);
  }

  async flush(): Promise<void> {}
}
