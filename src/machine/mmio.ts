/**
 * Memory-mapped devices as the kernel sees them. A device has one page of registers and an
 * interrupt line; bulk data moves by DMA through a window the kernel gives it over frames the
 * driver owns (an IOMMU: the device names offsets in the window, never physical addresses).
 *
 * The register page is a real frame. The kernel maps it into a driver's address space readable,
 * so register reads are plain loads of what the device last wrote there; stores to it trap (the
 * page is never writable in the TLB) and reach the device as `write`, like MMIO on real hardware.
 * Only aligned 32-bit stores reach a device; anything else is a fault of the driver.
 *
 * Devices run on the host's event loop: they may complete work asynchronously (a disk write),
 * then update their registers and DMA window and raise their line. They never call the kernel.
 */

/** Words in a register page (4 KiB). */
export const REGISTER_WORDS = 1024;

/** A device's view of its driver's DMA buffer. Offsets outside it throw a RangeError. */
export interface DmaWindow {
  readonly size: number;
  /**
   * The device may only read it (a grant of a Region its driver holds as a view): `write` and
   * `writeWord` throw, and the device must not write into what `lend`/`lendPieces` give.
   */
  readonly readOnly?: boolean;
  read(offset: number, length: number): Uint8Array;
  /**
   * The bytes at `offset` for a request that only reads them before it completes (a block write
   * handed to a synchronous backend): the window's own memory when it lies in one run of memory,
   * else a copy, as `read`. The driver does not reuse a buffer before its request completes, so
   * the bytes stay as they are for that long; keep nothing of it past the completion.
   */
  lend(offset: number, length: number): Uint8Array;
  /**
   * As `lend`, never a copy: the window's own memory as one view per run of side-by-side frames,
   * in order, for a synchronous backend that writes a list of pieces in one call, or reads into
   * one (BlockBackend.writeGathered, readScattered) before the request completes.
   */
  lendPieces(offset: number, length: number): Uint8Array[];
  write(offset: number, data: Uint8Array): void;
  readWord(offset: number): number;
  writeWord(offset: number, value: number): void;
}

export interface MmioDevice {
  /** A short name: `console`, `block`, `timer`, `share`. */
  readonly name: string;
  /** The interrupt line it raises (`{ line: "irq", number: line }`), 2 and up. */
  readonly line: number;
  /** Called once by the kernel with the register frame (REGISTER_WORDS words) it keeps current. */
  attachRegisters(words: Uint32Array): void;
  /** A driver stored `value` at word `index` of the register page. */
  write(index: number, value: number): void;
  /** The DMA window its driver attached, or null when there is none (the driver died). */
  attachDma(window: DmaWindow | null): void;
  /** Forgets every request in flight and returns to the state after power-on (driver restart). */
  reset(): void;
  /**
   * Grant slots: besides its window, the device may work in up to this many Regions its driver
   * grants it one at a time (DEVICE_GRANT: a buffer of the driver's client, for the request that
   * brought it). Absent or 0: the device takes no grants.
   */
  readonly grantSlots?: number;
  /** Grant `slot` is now `window` (null: taken away; every later access to the old one throws). */
  attachGrant?(slot: number, window: DmaWindow | null): void;
}
