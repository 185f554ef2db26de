import type { InterruptSink } from "../devices.ts";
import type { DmaWindow } from "../mmio.ts";
import { RegisterDevice } from "./device-base.ts";
import { RegisterError } from "./registers.ts";
import { RequestStatus } from "./request-status.ts";

/**
 * A device driven through a request ring in its DMA window, virtio-style (the block device and
 * the host share). The driver writes descriptors into the ring and stores its producer index to
 * NOTIFY; the device copies each descriptor at once (its slot is free again when TAKEN passes
 * it), starts the work, and as each request finishes — in any order — writes a used-ring entry,
 * advances USED_INDEX and raises its line. The driver stores how many used entries it has read
 * to USED_CONSUMER.
 *
 * Invariant: taken − consumed ≤ entries, so the used ring never holds more entries than it has
 * room for; descriptors beyond that wait in the ring until the driver consumes completions.
 * Every taken request completes exactly once unless the queue is restarted (device reset or a
 * new DMA window), which discards what is in flight. The ring's place and size are fixed from the
 * first accepted NOTIFY until the queue restarts.
 */
export const Queue = {
  RING_OFFSET: 16,
  RING_ENTRIES: 17,
  USED_OFFSET: 18,
  NOTIFY: 19,
  TAKEN: 20,
  USED_INDEX: 21,
  USED_CONSUMER: 22,
  IN_FLIGHT: 23,
  MAX_ENTRIES: 24,
} as const;

export const DESCRIPTOR_BYTES = 32;
export const USED_ENTRY_BYTES = 16;
export const MAX_RING_ENTRIES = 256;
/** The interrupt cause of a completion. */
export const IRQ_COMPLETE = 1;

/** How a request ended; `output` is written to the driver's buffer only if the request is still current. */
export interface Completion {
  readonly status: number;
  /** Word 2 of the used entry: bytes moved or produced. */
  readonly length?: number;
  /** Word 3 of the used entry: an operation's second result. */
  readonly extra?: number;
  readonly output?: { readonly offset: number; readonly data: Uint8Array };
}

/** A descriptor's 8 words, copied out of the ring. Word 0 is the operation, word 1 the driver's id. */
export type Descriptor = Uint32Array;

export abstract class QueueDevice extends RegisterDevice {
  /** Bumped by reset and a new window: completions of older requests are dropped. */
  private epoch = 0;
  private producer = 0;
  private taken = 0;
  private usedIndex = 0;
  private consumed = 0;
  private inFlight = 0;
  /** A NOTIFY was accepted: the ring's place and size are fixed until the queue restarts. */
  private running = false;

  constructor(kind: number, line: number, interrupts: InterruptSink) {
    super(kind, line, interrupts);
    this.registers.set(Queue.MAX_ENTRIES, MAX_RING_ENTRIES);
  }

  /**
   * Starts one request, synchronously: read what it needs from the window now (the driver may
   * reuse its slot at once). Errors are completions, never exceptions.
   */
  protected abstract start(descriptor: Descriptor, dma: DmaWindow): Completion | Promise<Completion>;

  /**
   * Whether a request `start` answers at once (not with a promise) completes before the NOTIFY
   * that took it returns, its used entry written and the line raised inside the driver's store,
   * rather than later from the event loop. A driver that looks at the used ring after its NOTIFY
   * then finds it done without waiting for the interrupt (the host folder device, whose Node
   * backend answers with synchronous calls). No by default.
   */
  protected completesAtOnce(): boolean {
    return false;
  }

  protected store(index: number, value: number): number {
    switch (index) {
      case Queue.RING_OFFSET:
      case Queue.USED_OFFSET:
        if (this.running) return RegisterError.BUSY;
        this.registers.set(index, value);
        return RegisterError.NONE;
      case Queue.RING_ENTRIES:
        if (this.running) return RegisterError.BUSY;
        if (value < 1 || value > MAX_RING_ENTRIES || (value & (value - 1)) !== 0) return RegisterError.BAD_VALUE;
        this.registers.set(index, value);
        return RegisterError.NONE;
      case Queue.NOTIFY:
        return this.notify(value);
      case Queue.USED_CONSUMER:
        return this.consume(value);
      default:
        // Words up to the queue's last are information the device writes.
        return index <= Queue.MAX_ENTRIES ? RegisterError.READ_ONLY : RegisterError.NO_REGISTER;
    }
  }

  protected powerOn(): void {
    this.restartQueue();
    this.registers.set(Queue.MAX_ENTRIES, MAX_RING_ENTRIES);
  }

  protected override windowChanged(): void {
    this.restartQueue();
  }

  private notify(producer: number): number {
    const entries = this.registers.get(Queue.RING_ENTRIES);
    if (((producer - this.taken) >>> 0) > entries || ((producer - this.producer) >>> 0) > entries) return RegisterError.BAD_INDEX;
    const geometry = this.checkGeometry();
    if (geometry !== RegisterError.NONE) return geometry;
    this.running = true;
    this.producer = producer;
    this.registers.set(Queue.NOTIFY, producer);
    this.take();
    return RegisterError.NONE;
  }

  private consume(consumed: number): number {
    if (((consumed - this.consumed) >>> 0) > ((this.usedIndex - this.consumed) >>> 0)) return RegisterError.BAD_INDEX;
    this.consumed = consumed;
    this.registers.set(Queue.USED_CONSUMER, consumed);
    // Room in the used ring: descriptors that waited for it can be taken now.
    if (this.checkGeometry() === RegisterError.NONE) this.take();
    return RegisterError.NONE;
  }

  private checkGeometry(): number {
    const dma = this.dma;
    if (!dma) return RegisterError.NO_DMA;
    const entries = this.registers.get(Queue.RING_ENTRIES);
    if (entries === 0) return RegisterError.BAD_VALUE;
    const fits = (offset: number, bytes: number) => offset % 4 === 0 && offset + bytes <= dma.size;
    if (!fits(this.registers.get(Queue.RING_OFFSET), entries * DESCRIPTOR_BYTES)) return RegisterError.DMA_RANGE;
    if (!fits(this.registers.get(Queue.USED_OFFSET), entries * USED_ENTRY_BYTES)) return RegisterError.DMA_RANGE;
    return RegisterError.NONE;
  }

  /** Takes descriptors up to the producer index while the used ring has room. Geometry is checked. */
  private take(): void {
    const dma = this.dma!;
    const entries = this.registers.get(Queue.RING_ENTRIES);
    const ring = this.registers.get(Queue.RING_OFFSET);
    while (this.taken !== this.producer && ((this.taken - this.consumed) >>> 0) < entries) {
      const at = ring + (this.taken % entries) * DESCRIPTOR_BYTES;
      const descriptor = new Uint32Array(DESCRIPTOR_BYTES / 4);
      for (let i = 0; i < descriptor.length; i++) descriptor[i] = dma.readWord(at + i * 4);
      this.taken = (this.taken + 1) >>> 0;
      this.inFlight++;
      this.begin(descriptor, dma);
    }
    this.registers.set(Queue.TAKEN, this.taken);
    this.registers.set(Queue.IN_FLIGHT, this.inFlight);
  }

  private begin(descriptor: Descriptor, dma: DmaWindow): void {
    const epoch = this.epoch;
    const id = descriptor[1]!;
    let started: Completion | Promise<Completion>;
    try {
      started = this.start(descriptor, dma);
    } catch {
      started = { status: RequestStatus.E_IO };
    }
    if (!(started instanceof Promise) && this.completesAtOnce()) {
      this.complete(epoch, id, started);
      return;
    }
    // Otherwise even a request refused at once completes later, from the event loop, like every other.
    Promise.resolve(started).then(
      (completion) => this.complete(epoch, id, completion),
      () => this.complete(epoch, id, { status: RequestStatus.E_IO }),
    );
  }

  private complete(epoch: number, id: number, completion: Completion): void {
    const dma = this.dma;
    if (epoch !== this.epoch || !dma) return;
    let status = completion.status;
    try {
      if (completion.output && status === RequestStatus.OK) dma.write(completion.output.offset, completion.output.data);
    } catch {
      status = RequestStatus.E_BUFFER;
    }
    const entries = this.registers.get(Queue.RING_ENTRIES);
    const at = this.registers.get(Queue.USED_OFFSET) + (this.usedIndex % entries) * USED_ENTRY_BYTES;
    try {
      dma.writeWord(at, id);
      dma.writeWord(at + 4, status);
      dma.writeWord(at + 8, status === RequestStatus.OK ? (completion.length ?? 0) : 0);
      dma.writeWord(at + 12, status === RequestStatus.OK ? (completion.extra ?? 0) : 0);
    } catch {
      // Cannot happen while the geometry is fixed and checked; a request lost is better than a host exception.
      return;
    }
    this.usedIndex = (this.usedIndex + 1) >>> 0;
    this.inFlight--;
    this.registers.set(Queue.USED_INDEX, this.usedIndex);
    this.registers.set(Queue.IN_FLIGHT, this.inFlight);
    this.signal(IRQ_COMPLETE);
  }

  private restartQueue(): void {
    this.epoch++;
    this.running = false;
    this.producer = this.taken = this.usedIndex = this.consumed = this.inFlight = 0;
    for (const index of [Queue.NOTIFY, Queue.TAKEN, Queue.USED_INDEX, Queue.USED_CONSUMER, Queue.IN_FLIGHT]) this.registers.set(index, 0);
  }
}
