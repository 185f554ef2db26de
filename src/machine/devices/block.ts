import type { InterruptSink } from "../devices.ts";
import type { DmaWindow } from "../mmio.ts";
import { type BlockBackend, BlockError } from "./block-backend.ts";
import { type Completion, type Descriptor, QueueDevice } from "./queue-device.ts";
import { DeviceKind } from "./registers.ts";
import { RequestStatus } from "./request-status.ts";

/** The block device's own registers (the queue's are in queue-device.ts). */
export const Block = {
  SECTOR_SIZE: 8,
  /** Sectors on the disk, a 64-bit pair (low word first). */
  CAPACITY: 9,
  /** BlockFlags bits. */
  FLAGS: 11,
  /** Grant slots (DEVICE_GRANT): a descriptor's word 6 names one (slot + 1), or 0 for the window. */
  GRANTS: 12,
} as const;

/** Regions a driver may lend the device at once: one per call in flight in the block driver. */
export const BLOCK_GRANT_SLOTS = 32;

export const BlockFlags = { READ_ONLY: 1 } as const;

export const SECTOR_SIZE = 512;

export const BlockOp = { READ: 1, WRITE: 2, FLUSH: 3 } as const;

/**
 * A disk behind a request queue. A descriptor is: op, id, sector (low, high), sector count,
 * buffer offset, and where that offset is: 0 the DMA window, k + 1 grant k (a Region the driver
 * lent for the request, DEVICE_GRANT; a grant of a view is read only: a READ into it fails
 * E_BUFFER). Reads land in the buffer before their completion is written; a write's data is
 * taken when it is and has reached the backend before it completes; a flush completes once every
 * write taken before it is durable. A grant taken away before its request is done fails it
 * E_BUFFER: the device reaches nothing through it then.
 */
export class BlockDevice extends QueueDevice {
  readonly name = "block";
  readonly grantSlots = BLOCK_GRANT_SLOTS;
  private readonly backend: BlockBackend;
  private readonly capacity: number;
  private readonly grants: Array<DmaWindow | null> = new Array<DmaWindow | null>(BLOCK_GRANT_SLOTS).fill(null);

  constructor(line: number, interrupts: InterruptSink, backend: BlockBackend) {
    super(DeviceKind.BLOCK, line, interrupts);
    this.backend = backend;
    this.capacity = Math.floor(backend.size / SECTOR_SIZE);
    this.describe();
  }

  attachGrant(slot: number, window: DmaWindow | null): void {
    if (slot >= 0 && slot < BLOCK_GRANT_SLOTS) this.grants[slot] = window;
  }

  protected override powerOn(): void {
    super.powerOn();
    this.grants.fill(null);
    this.describe();
  }

  protected start(descriptor: Descriptor, window: DmaWindow): Completion | Promise<Completion> {
    const op = descriptor[0]!;
    if (op === BlockOp.FLUSH) return this.backend.flush().then(() => ({ status: RequestStatus.OK }), failed);
    if (op !== BlockOp.READ && op !== BlockOp.WRITE) return { status: RequestStatus.E_OP };
    const sector = descriptor[3]! * 2 ** 32 + descriptor[2]!;
    const count = descriptor[4]!;
    const buffer = descriptor[5]!;
    const where = descriptor[6]!;
    if (sector + count > this.capacity) return { status: RequestStatus.E_RANGE };
    const length = count * SECTOR_SIZE;
    const dma = where === 0 ? window : where <= BLOCK_GRANT_SLOTS ? this.grants[where - 1] : null;
    if (!dma || buffer + length > dma.size || (op === BlockOp.READ && dma.readOnly)) return { status: RequestStatus.E_BUFFER };
    const offset = sector * SECTOR_SIZE;
    if (op === BlockOp.WRITE) {
      if (this.backend.readOnly) return { status: RequestStatus.E_READ_ONLY };
      // A backend that takes the bytes at once is lent the window's memory: no copy.
      const written = this.backend.writeGathered
        ? this.backend.writeGathered(offset, dma.lendPieces(buffer, length))
        : this.backend.write(offset, this.backend.takesWritesAtOnce ? dma.lend(buffer, length) : dma.read(buffer, length));
      return written.then(() => ({ status: RequestStatus.OK, length }), failed);
    }
    if (this.backend.readScattered) return this.backend.readScattered(offset, dma.lendPieces(buffer, length)).then(() => ({ status: RequestStatus.OK, length }), failed);
    return this.backend.read(offset, length).then((data) => {
      if (where === 0) return { status: RequestStatus.OK, length, output: { offset: buffer, data: fitted(data, length) } };
      // Into the grant now, not the window: a grant taken away meanwhile throws, and fails the request.
      try {
        dma.write(buffer, fitted(data, length));
      } catch {
        return { status: RequestStatus.E_BUFFER };
      }
      return { status: RequestStatus.OK, length };
    }, failed);
  }

  private describe(): void {
    this.registers.set(Block.SECTOR_SIZE, SECTOR_SIZE);
    this.registers.set64(Block.CAPACITY, this.capacity);
    this.registers.set(Block.FLAGS, this.backend.readOnly ? BlockFlags.READ_ONLY : 0);
    this.registers.set(Block.GRANTS, BLOCK_GRANT_SLOTS);
  }
}

/** A backend's failure as the request's status: out of space and write-protected say so; the rest is E_IO. */
function failed(error: unknown): Completion {
  if (!(error instanceof BlockError)) return { status: RequestStatus.E_IO };
  const statuses = { "no-space": RequestStatus.E_NO_SPACE, "read-only": RequestStatus.E_READ_ONLY, io: RequestStatus.E_IO } as const;
  return { status: statuses[error.failure] };
}

/** Exactly `length` bytes: a backend that returned fewer (a short file) reads as zeros past them. */
function fitted(data: Uint8Array, length: number): Uint8Array {
  if (data.length === length) return data;
  const out = new Uint8Array(length);
  out.set(data.subarray(0, length));
  return out;
}
