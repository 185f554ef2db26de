// Every device's register page (docs/DEVICES.md "The header"), as a driver reaches it: loads read
// what the device last wrote; aligned 32-bit stores reach the device at once, and ERROR then says
// what became of the store. Each driver adds its device's own register indices.

export const DEVICE_MAGIC: u32 = 0x6d676f64; // "dogm"

// Device kinds (KIND).
export const KIND_CONSOLE: u32 = 1;
export const KIND_BLOCK: u32 = 2;
export const KIND_TIMER: u32 = 3;
export const KIND_SHARE: u32 = 4;
export const KIND_POWER: u32 = 5;
export const KIND_PANEL: u32 = 7;

// The header.
export const MAGIC: i32 = 0;
export const KIND: i32 = 1;
export const IRQ_STATUS: i32 = 3;
export const IRQ_ENABLE: i32 = 4;
export const DMA_SIZE: i32 = 5;
export const ERROR: i32 = 6;

/** The register page, mapped at `base` (DEVICE_MAP's address). */
export class Registers {
  constructor(readonly base: usize) {}

  @inline get(index: i32): u32 {
    return load<u32>(this.base + (<usize>index << 2));
  }

  /** Stores `value` to register `index`; the device's ERROR for it (0: acted on). */
  @inline set(index: i32, value: u32): u32 {
    store<u32>(this.base + (<usize>index << 2), value);
    return this.get(ERROR);
  }

  /** Whether this is a device of `kind` (the magic and kind words match). */
  isKind(kind: u32): bool {
    return this.get(MAGIC) == DEVICE_MAGIC && this.get(KIND) == kind;
  }

  /** A 64-bit register pair, read high, low, high so that an update between the loads is seen. */
  get64(index: i32): u64 {
    let high = this.get(index + 1);
    let low = this.get(index);
    let again = this.get(index + 1);
    while (again != high) {
      high = again;
      low = this.get(index);
      again = this.get(index + 1);
    }
    return (<u64>high << 32) | <u64>low;
  }
}
