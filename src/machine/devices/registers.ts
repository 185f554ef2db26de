import { REGISTER_WORDS } from "../mmio.ts";

/**
 * A device's register page. Before the kernel attaches the real frame the device keeps its
 * registers in a private array (so a device works on its own, in tests); attaching copies them
 * over, and from then on every register a driver reads is a word of that frame.
 */
export class RegisterFile {
  private words: Uint32Array = new Uint32Array(REGISTER_WORDS);

  attach(frame: Uint32Array): void {
    if (frame.length < REGISTER_WORDS) throw new RangeError(`a register frame has ${REGISTER_WORDS} words, not ${frame.length}`);
    frame.set(this.words);
    this.words = frame;
  }

  get(index: number): number {
    return this.words[index]!;
  }

  set(index: number, value: number): void {
    this.words[index] = value >>> 0;
  }

  /** A 64-bit register pair, low word first; values past 2^53 lose their low bits (none do). */
  set64(index: number, value: number | bigint): void {
    const wide = BigInt(value);
    this.set(index, Number(wide & 0xffff_ffffn));
    this.set(index + 1, Number((wide >> 32n) & 0xffff_ffffn));
  }

  get64(index: number): number {
    return this.get(index + 1) * 2 ** 32 + this.get(index);
  }

  /** Zeroes words `from` to the end of the page (the device-specific part, at reset). */
  clearFrom(from: number): void {
    this.words.fill(0, from);
  }
}

/** Word 0 of every device: "dogm" in little-endian bytes, so a driver can check it found one. */
export const DEVICE_MAGIC = 0x6d676f64;
export const DEVICE_VERSION = 1;

/** Word 1: what kind of device the page belongs to. */
export const DeviceKind = { CONSOLE: 1, BLOCK: 2, TIMER: 3, SHARE: 4, POWER: 5, FOLDER: 6 } as const;

/** The header every device shares (words 0 to 7); device registers start at HEADER_WORDS. */
export const Header = {
  MAGIC: 0,
  KIND: 1,
  VERSION: 2,
  /** Read: causes pending. Store: the causes to acknowledge (write 1 to clear). */
  IRQ_STATUS: 3,
  /** Read/store: the causes that raise the line. */
  IRQ_ENABLE: 4,
  /** Read: bytes in the DMA window (0: none attached). */
  DMA_SIZE: 5,
  /** Read: the outcome of the last store (a RegisterError; 0 when it was acted on). */
  ERROR: 6,
} as const;
export const HEADER_WORDS = 8;

/** Why a store was not acted on, in the ERROR register. */
export const RegisterError = {
  NONE: 0,
  /** The command needs a DMA window and the device has none. */
  NO_DMA: 1,
  /** An offset or length reaches outside the DMA window, or is not aligned as it must be. */
  DMA_RANGE: 2,
  /** The value is not one this register takes. */
  BAD_VALUE: 3,
  /** A ring index runs ahead of what the ring holds or back before what was taken. */
  BAD_INDEX: 4,
  /** The register cannot be stored to. */
  READ_ONLY: 5,
  /** There is no register at that word. */
  NO_REGISTER: 6,
  /** The register cannot change while the device is working (a ring in use): reset first. */
  BUSY: 7,
} as const;
