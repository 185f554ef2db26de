// The block device's register page (docs/DEVICES.md "The header", "Request queues", "Block"), as
// the driver reaches it: loads read what the device last wrote; aligned 32-bit stores reach the
// device at once, and ERROR then says what became of the store.

export const DEVICE_MAGIC: u32 = 0x6d676f64; // "dogm"
export const KIND_BLOCK: u32 = 2;

// Header (every device).
export const MAGIC: i32 = 0;
export const KIND: i32 = 1;
export const IRQ_STATUS: i32 = 3;
export const IRQ_ENABLE: i32 = 4;
export const DMA_SIZE: i32 = 5;
export const ERROR: i32 = 6;

// Block.
export const SECTOR_SIZE: i32 = 8;
export const CAPACITY: i32 = 9; // and 10: low, high

// The request queue.
export const RING_OFFSET: i32 = 16;
export const RING_ENTRIES: i32 = 17;
export const USED_OFFSET: i32 = 18;
export const NOTIFY: i32 = 19;
export const TAKEN: i32 = 20;
export const USED_INDEX: i32 = 21;
export const USED_CONSUMER: i32 = 22;
export const MAX_ENTRIES: i32 = 24;

/** The interrupt cause of a completion. */
export const IRQ_COMPLETE: u32 = 1;

// Descriptor operations.
export const OP_READ: u32 = 1;
export const OP_WRITE: u32 = 2;
export const OP_FLUSH: u32 = 3;

export const DESCRIPTOR_BYTES: u32 = 32;
export const USED_ENTRY_BYTES: u32 = 16;

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
