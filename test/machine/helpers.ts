import type { InterruptSink } from "../../src/machine/devices.ts";
import type { BlockBackend } from "../../src/machine/devices/block-backend.ts";
import { DESCRIPTOR_BYTES, Queue, USED_ENTRY_BYTES } from "../../src/machine/devices/queue-device.ts";
import { Header } from "../../src/machine/devices/registers.ts";
import type { Interrupt } from "../../src/machine/interrupts.ts";
import { type DmaWindow, type MmioDevice, REGISTER_WORDS } from "../../src/machine/mmio.ts";

/** A DMA window over plain memory, refusing what the kernel's RegionDmaWindow refuses. */
export class MemoryDmaWindow implements DmaWindow {
  readonly bytes: Uint8Array;
  private readonly words: DataView;

  constructor(size: number) {
    this.bytes = new Uint8Array(size);
    this.words = new DataView(this.bytes.buffer);
  }

  get size(): number {
    return this.bytes.length;
  }

  read(offset: number, length: number): Uint8Array {
    this.check(offset, length);
    return this.bytes.slice(offset, offset + length);
  }

  lend(offset: number, length: number): Uint8Array {
    this.check(offset, length);
    return this.bytes.subarray(offset, offset + length);
  }

  lendPieces(offset: number, length: number): Uint8Array[] {
    return length === 0 ? [] : [this.lend(offset, length)];
  }

  write(offset: number, data: Uint8Array): void {
    this.check(offset, data.length);
    this.bytes.set(data, offset);
  }

  readWord(offset: number): number {
    this.check(offset, 4, 4);
    return this.words.getUint32(offset, true);
  }

  writeWord(offset: number, value: number): void {
    this.check(offset, 4, 4);
    this.words.setUint32(offset, value >>> 0, true);
  }

  private check(offset: number, length: number, align = 1): void {
    if (!Number.isInteger(offset) || offset < 0 || length < 0 || offset + length > this.size || offset % align !== 0) {
      throw new RangeError(`DMA of ${length} bytes at ${offset} is outside the ${this.size}-byte window`);
    }
  }
}

/** Counts the interrupts each line raised. */
export class RecordingInterrupts implements InterruptSink {
  readonly raised: Interrupt[] = [];
  raise(interrupt: Interrupt): void {
    this.raised.push(interrupt);
  }
  count(line: number): number {
    return this.raised.filter((i) => i.line === "irq" && i.number === line).length;
  }
}

/** Attaches a register frame and a window, as the kernel does; returns the frame a driver reads. */
export function attach(device: MmioDevice, window: DmaWindow | null): Uint32Array {
  const frame = new Uint32Array(REGISTER_WORDS);
  device.attachRegisters(frame);
  device.attachDma(window);
  return frame;
}

/**
 * Lets promise and I/O callbacks run until `done` holds. File system calls finish on other
 * threads, so after a few turns of the event loop it waits a millisecond between looks; the
 * bound only stops a broken device from hanging the test.
 */
export async function settle(done: () => boolean = () => true, rounds = 10_000): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    await new Promise((resolve) => (i < 100 ? setImmediate(resolve) : setTimeout(resolve, 1)));
    if (done()) return;
  }
  throw new Error("the device never got there");
}

export interface UsedEntry {
  id: number;
  status: number;
  length: number;
  extra: number;
}

/** A test playing the driver of a queue device: a ring at offset 0, the used ring after it. */
export class RingDriver {
  readonly device: MmioDevice;
  readonly window: MemoryDmaWindow;
  readonly registers: Uint32Array;
  readonly entries: number;
  private producer = 0;
  private consumer = 0;

  constructor(device: MmioDevice, window: MemoryDmaWindow, entries = 8) {
    this.device = device;
    this.window = window;
    this.entries = entries;
    this.registers = attach(device, window);
    this.configure();
  }

  /** Where the driver's data buffers may start. */
  get dataOffset(): number {
    return this.entries * (DESCRIPTOR_BYTES + USED_ENTRY_BYTES);
  }

  configure(): void {
    this.producer = this.consumer = 0;
    this.device.write(Queue.RING_OFFSET, 0);
    this.device.write(Queue.RING_ENTRIES, this.entries);
    this.device.write(Queue.USED_OFFSET, this.entries * DESCRIPTOR_BYTES);
    this.device.write(Header.IRQ_ENABLE, 1);
  }

  /** Writes descriptors into free slots and notifies once; returns the ERROR register. */
  submit(...descriptors: number[][]): number {
    for (const words of descriptors) {
      const at = (this.producer % this.entries) * DESCRIPTOR_BYTES;
      for (let i = 0; i < DESCRIPTOR_BYTES / 4; i++) this.window.writeWord(at + i * 4, words[i] ?? 0);
      this.producer = (this.producer + 1) >>> 0;
    }
    this.device.write(Queue.NOTIFY, this.producer);
    return this.registers[Header.ERROR]!;
  }

  /** The completions written since the last call, acknowledged and consumed. */
  completions(): UsedEntry[] {
    const out: UsedEntry[] = [];
    this.device.write(Header.IRQ_STATUS, 1);
    while (this.consumer !== this.registers[Queue.USED_INDEX]) {
      const at = this.entries * DESCRIPTOR_BYTES + (this.consumer % this.entries) * USED_ENTRY_BYTES;
      const word = (i: number) => this.window.readWord(at + i * 4);
      out.push({ id: word(0), status: word(1), length: word(2), extra: word(3) });
      this.consumer = (this.consumer + 1) >>> 0;
    }
    this.device.write(Queue.USED_CONSUMER, this.consumer);
    return out;
  }
}

interface PendingOperation {
  kind: "read" | "write" | "flush";
  offset: number;
  data: Uint8Array;
  finish(fail?: boolean): void;
}

/** A disk whose operations finish when the test says, in the order it chooses. */
export class ManualBlockBackend implements BlockBackend {
  readonly bytes: Uint8Array;
  readonly pending: PendingOperation[] = [];

  constructor(size: number) {
    this.bytes = new Uint8Array(size);
  }

  get size(): number {
    return this.bytes.length;
  }

  read(offset: number, length: number): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      this.hold("read", offset, new Uint8Array(length), (fail) => (fail ? reject(new Error("disk failed")) : resolve(this.bytes.slice(offset, offset + length))));
    });
  }

  write(offset: number, data: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => {
      this.hold("write", offset, data, (fail) => {
        if (fail) return reject(new Error("disk failed"));
        this.bytes.set(data, offset);
        resolve();
      });
    });
  }

  flush(): Promise<void> {
    return new Promise((resolve, reject) => this.hold("flush", 0, new Uint8Array(0), (fail) => (fail ? reject(new Error("disk failed")) : resolve())));
  }

  /** Finishes the pending operation at `index` (in the order they were started). */
  finish(index: number, fail = false): void {
    const [operation] = this.pending.splice(index, 1);
    operation!.finish(fail);
  }

  private hold(kind: PendingOperation["kind"], offset: number, data: Uint8Array, finish: (fail?: boolean) => void): void {
    this.pending.push({ kind, offset, data, finish });
  }
}
