// The block device's registers (docs/DEVICES.md "Request queues", "Block"); the header and the
// register page itself are common/device-registers.ts.

export { Registers, DEVICE_MAGIC, KIND_BLOCK, MAGIC, KIND, IRQ_STATUS, IRQ_ENABLE, DMA_SIZE, ERROR } from "../common/device-registers";

// Block.
export const SECTOR_SIZE: i32 = 8;
export const CAPACITY: i32 = 9; // and 10: low, high
export const FLAGS: i32 = 11;
/** Grant slots the device takes (DEVICE_GRANT); a descriptor's word 6 names one (slot + 1), 0 the window. */
export const GRANTS: i32 = 12;
/** FLAGS: the disk is write-protected (`dogma boot --read-only`). */
export const FLAG_READ_ONLY: u32 = 1;

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
