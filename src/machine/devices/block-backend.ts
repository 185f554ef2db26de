/**
 * Where a block device's sectors live: a disk image file on Node, memory in tests or a browser.
 * Operations may complete in any order; the device issues them in the order drivers submit.
 */
export interface BlockBackend {
  /** Bytes of storage; the device offers floor(size / SECTOR_SIZE) sectors. */
  readonly size: number;
  /** Write-protected (`dogma boot --read-only`): the device refuses writes without calling `write`. */
  readonly readOnly?: boolean;
  /** `length` bytes at `offset` (inside `size`); bytes never written read as zero. */
  read(offset: number, length: number): Promise<Uint8Array>;
  /** Resolves once the bytes are in the backing store (not necessarily durable yet). */
  write(offset: number, data: Uint8Array): Promise<void>;
  /**
   * `write` has taken every byte of `data` (written or copied it) before it returns: the device may
   * then hand it the DMA window's own memory instead of a copy (DmaWindow.lend).
   */
  readonly takesWritesAtOnce?: boolean;
  /**
   * Optional: as `write` of the pieces one after another from `offset`, taking every byte before it
   * returns (as `takesWritesAtOnce` says). The device hands it the DMA window's own memory, a piece
   * per run of side-by-side frames (DmaWindow.lendPieces): a 1 MiB request is one host call and no
   * copy, however its frames lie.
   */
  writeGathered?(offset: number, pieces: readonly Uint8Array[]): Promise<void>;
  /**
   * Optional: reads the bytes from `offset` into the pieces one after another (zeros past the end
   * of what is stored), every byte in place before it returns. The device hands it the DMA
   * window's own memory, so a read lands where the driver reads it, with no buffer between.
   */
  readScattered?(offset: number, pieces: readonly Uint8Array[]): Promise<void>;
  /** Resolves once every write started before this call is durable (fdatasync on a file). */
  flush(): Promise<void>;
}

/** Why a backend failed, as the device reports it: the host is out of space, refuses writes, or failed. */
export type BlockFailure = "no-space" | "read-only" | "io";

/** What a backend rejects with to say why (any other rejection is an I/O error). */
export class BlockError extends Error {
  readonly failure: BlockFailure;
  constructor(failure: BlockFailure, message: string) {
    super(message);
    this.failure = failure;
  }
}

/** A disk in memory: for tests, and a browser host without storage. */
export class MemoryBlockBackend implements BlockBackend {
  readonly bytes: Uint8Array;
  /** `write` copies before its first await. */
  readonly takesWritesAtOnce = true;

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

  // Straight from the disk's bytes into the DMA window's: no buffer of the request's size between
  // (the pager's 256 KiB reads each made one, fresh host memory, then copied it into the window).
  // Writes are lent the window already (takesWritesAtOnce).
  async readScattered(offset: number, pieces: readonly Uint8Array[]): Promise<void> {
    let at = offset;
    for (const piece of pieces) {
      piece.set(this.bytes.subarray(at, at + piece.length));
      at += piece.length;
    }
  }

  async flush(): Promise<void> {}
}
