// The driver's side of the block device's request queue (docs/DEVICES.md "Request queues"): the
// rings and data buffers in the DMA window, request ids, submission and completions.
//
// Layout of the window: the descriptor ring at 0 (RING_SLOTS × 32 bytes), the used ring after it
// (RING_SLOTS × 16), then from DATA_AT a number of data buffers of CHUNK_BYTES each, side by side.
// A device request takes a run of neighbouring free buffers (`takeBuffers`), so a 1 MiB call is
// one device request — one host write, one completion — when the buffers are free. A device
// request's id is its index in `requests`; at most RING_SLOTS are in flight, so the descriptor
// slot a new request takes was always taken by the device already, and the used ring never fills.
//
// Invariants: a data buffer belongs to at most one device request; a read's buffers are held until
// its completion has been copied out; a write's buffers are free once the device has taken the
// descriptor (it copies the data then), which `releaseTakenWrites` notices.
import { Registers, RING_OFFSET, RING_ENTRIES, USED_OFFSET, NOTIFY, TAKEN, USED_INDEX, USED_CONSUMER, IRQ_ENABLE, IRQ_STATUS, IRQ_COMPLETE, DESCRIPTOR_BYTES, USED_ENTRY_BYTES, OP_WRITE } from "./registers";

export const RING_SLOTS: u32 = 64;
export const USED_AT: u32 = RING_SLOTS * DESCRIPTOR_BYTES;
export const DATA_AT: u32 = 4096;
export const CHUNK_SECTORS: u32 = 128;
export const CHUNK_BYTES: u32 = CHUNK_SECTORS * 512;
export const CHUNK_PAGES: u32 = CHUNK_BYTES >> 12;
/** Data buffers a queue can have at most. */
export const MAX_DATA_BUFFERS: i32 = 64;
/** Pages of the window before the data buffers. */
export const RING_PAGES: u32 = DATA_AT >> 12;

/** One request given to the device: the client request it serves and which part of it. */
export class DeviceRequest {
  busy: bool = false;
  /** The client request (its index in the RequestTable). */
  owner: i32 = 0;
  /** Where its bytes are within the client request, and how many. */
  at: u32 = 0;
  bytes: u32 = 0;
  op: u32 = 0;
  /** The first of the data buffers it holds, and how many; -1: none (a flush, or a write the device has copied). */
  buffer: i32 = -1;
  bufferCount: i32 = 0;
  /** Its producer index: the device has taken it once TAKEN has passed this. */
  ring: u32 = 0;
  /** The device refused the NOTIFY that carried it: it will never complete. */
  refused: bool = false;
}

export class BlockQueue {
  readonly requests: StaticArray<DeviceRequest> = new StaticArray<DeviceRequest>(RING_SLOTS);
  private readonly freeIds: StaticArray<i32> = new StaticArray<i32>(RING_SLOTS);
  private freeIdCount: i32 = 0;
  /** Bit i: data buffer i is free. */
  private freeBuffers: u64 = 0;
  private producer: u32 = 0;
  private consumer: u32 = 0;
  /** The producer index the device accepted last. */
  private sent: u32 = 0;
  /** How many buffers the last `takeBuffers` took. */
  takenBuffers: i32 = 0;
  /** The completion `nextCompletion` found: its id, RequestStatus and length. */
  doneId: u32 = 0;
  doneStatus: u32 = 0;
  doneLength: u32 = 0;

  /** `buffers` (1 to MAX_DATA_BUFFERS) data buffers follow the rings in the window at `window`. */
  constructor(readonly registers: Registers, readonly window: usize, readonly buffers: i32) {
    for (let i: u32 = 0; i < RING_SLOTS; i++) {
      unchecked((this.requests[i] = new DeviceRequest()));
      unchecked((this.freeIds[this.freeIdCount++] = <i32>(RING_SLOTS - 1 - i)));
    }
    this.freeBuffers = buffers == 64 ? <u64>-1 : (<u64>1 << <u64>buffers) - 1;
  }

  /** Window pages for `buffers` data buffers. */
  static pagesFor(buffers: i32): u32 {
    return RING_PAGES + <u32>buffers * CHUNK_PAGES;
  }

  /** Places the rings and enables the completion interrupt: 0, or the device's ERROR for the store that failed. */
  configure(): u32 {
    const r = this.registers;
    let error = r.set(RING_OFFSET, 0);
    if (error == 0) error = r.set(RING_ENTRIES, RING_SLOTS);
    if (error == 0) error = r.set(USED_OFFSET, USED_AT);
    if (error == 0) error = r.set(IRQ_ENABLE, IRQ_COMPLETE);
    return error;
  }

  /** Whether a request (one that needs a data buffer, or not) can be submitted now. */
  @inline canSubmit(needsBuffer: bool): bool {
    return this.freeIdCount > 0 && (!needsBuffer || this.freeBuffers != 0);
  }

  /**
   * Takes neighbouring free data buffers (canSubmit said there is one): the first run of `want`,
   * else the longest run there is. Answers the first one's index; `takenBuffers` says how many.
   */
  takeBuffers(want: i32): i32 {
    let bestFirst = -1;
    let bestCount = 0;
    let i = 0;
    while (i < this.buffers) {
      if (((this.freeBuffers >> <u64>i) & 1) == 0) {
        i++;
        continue;
      }
      let count = 1;
      while (count < want && i + count < this.buffers && ((this.freeBuffers >> <u64>(i + count)) & 1) != 0) count++;
      if (count > bestCount) {
        bestFirst = i;
        bestCount = count;
        if (count == want) break;
      }
      i += count;
    }
    for (let b = bestFirst; b < bestFirst + bestCount; b++) this.freeBuffers &= ~(<u64>1 << <u64>b);
    this.takenBuffers = bestCount;
    return bestFirst;
  }

  /** Where data buffer `buffer` is mapped here. */
  @inline bufferAddress(buffer: i32): usize {
    return this.window + <usize>DATA_AT + <usize>buffer * <usize>CHUNK_BYTES;
  }

  /**
   * Writes the descriptor of a new device request (canSubmit said there is room) and answers its
   * id; it goes to the device with the next `notify`. A write's data is in its buffers already
   * (`bufferCount` of them from `buffer`, or none: -1).
   */
  submit(op: u32, owner: i32, sector: u64, at: u32, bytes: u32, buffer: i32, bufferCount: i32 = 0): i32 {
    const id = unchecked(this.freeIds[--this.freeIdCount]);
    const request = unchecked(this.requests[id]);
    request.busy = true;
    request.owner = owner;
    request.at = at;
    request.bytes = bytes;
    request.op = op;
    request.buffer = buffer;
    request.bufferCount = buffer < 0 ? 0 : bufferCount;
    request.ring = this.producer;
    request.refused = false;
    const d = this.window + <usize>((this.producer % RING_SLOTS) * DESCRIPTOR_BYTES);
    store<u32>(d, op, 0);
    store<u32>(d, <u32>id, 4);
    store<u32>(d, <u32>sector, 8);
    store<u32>(d, <u32>(sector >>> 32), 12);
    store<u32>(d, bytes >> 9, 16);
    store<u32>(d, buffer < 0 ? 0 : DATA_AT + <u32>buffer * CHUNK_BYTES, 20);
    store<u32>(d, 0, 24);
    store<u32>(d, 0, 28);
    this.producer++;
    return id;
  }

  /**
   * As `submit`, for a request whose bytes are in grant `slot` (a Region its client lent, which the
   * device reads or writes itself: no data buffer, no copy here), at byte `offset` in it.
   */
  submitGranted(op: u32, owner: i32, sector: u64, bytes: u32, slot: u32, offset: u32): i32 {
    const id = this.submit(op, owner, sector, 0, bytes, -1);
    const d = this.window + <usize>(((this.producer - 1) % RING_SLOTS) * DESCRIPTOR_BYTES);
    store<u32>(d, offset, 20);
    store<u32>(d, slot + 1, 24);
    return id;
  }

  /**
   * Hands what was submitted to the device: 0, or its ERROR. Refused requests (a driver bug: the
   * device found the ring bad) are marked `refused` and the producer index goes back to what the
   * device accepted last; the caller completes them as failed.
   */
  notify(): u32 {
    if (this.producer == this.sent) return 0;
    const error = this.registers.set(NOTIFY, this.producer);
    if (error == 0) {
      this.sent = this.producer;
      this.releaseTakenWrites();
      return 0;
    }
    for (let i: u32 = 0; i < RING_SLOTS; i++) {
      const request = unchecked(this.requests[i]);
      if (request.busy && request.ring - this.sent < this.producer - this.sent) request.refused = true;
    }
    this.producer = this.sent;
    return error;
  }

  /** Frees the buffers of writes the device has taken (it copied their data when it took them). */
  releaseTakenWrites(): void {
    const taken = this.registers.get(TAKEN);
    for (let i: u32 = 0; i < RING_SLOTS; i++) {
      const request = unchecked(this.requests[i]);
      if (!request.busy || request.op != OP_WRITE || request.buffer < 0) continue;
      if (<i32>(taken - request.ring) > 0) this.releaseBuffer(request);
    }
  }

  /** Acknowledges the completion interrupt; call before reading completions, so none is missed. */
  acknowledge(): void {
    this.registers.set(IRQ_STATUS, IRQ_COMPLETE);
  }

  /** Reads the next used entry into doneId, doneStatus, doneLength; false when there is none. */
  nextCompletion(): bool {
    if (this.consumer == this.registers.get(USED_INDEX)) return false;
    const u = this.window + <usize>(USED_AT + (this.consumer % RING_SLOTS) * USED_ENTRY_BYTES);
    this.doneId = load<u32>(u, 0);
    this.doneStatus = load<u32>(u, 4);
    this.doneLength = load<u32>(u, 8);
    this.consumer++;
    return true;
  }

  /** Tells the device how far completions were read. */
  consumed(): void {
    this.registers.set(USED_CONSUMER, this.consumer);
    this.releaseTakenWrites();
  }

  /** The device request `id` names if it is in flight, else null (a stale or corrupt id). */
  inFlight(id: u32): DeviceRequest | null {
    if (id >= RING_SLOTS) return null;
    const request = unchecked(this.requests[id]);
    return request.busy ? request : null;
  }

  /** The request is over: its id and buffer are free again. */
  finish(request: DeviceRequest, id: u32): void {
    this.releaseBuffer(request);
    request.busy = false;
    unchecked((this.freeIds[this.freeIdCount++] = <i32>id));
  }

  private releaseBuffer(request: DeviceRequest): void {
    if (request.buffer < 0) return;
    for (let b = request.buffer; b < request.buffer + request.bufferCount; b++) this.freeBuffers |= <u64>1 << <u64>b;
    request.buffer = -1;
    request.bufferCount = 0;
  }
}
