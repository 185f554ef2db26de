import type { InterruptSink } from "../devices.ts";
import type { DmaWindow, MmioDevice } from "../mmio.ts";
import { DEVICE_MAGIC, DEVICE_VERSION, HEADER_WORDS, Header, RegisterError, RegisterFile } from "./registers.ts";

/**
 * What every device shares: the register header (identity, interrupt status and enable, DMA
 * size, the error of the last store), the interrupt line and the DMA window. Subclasses handle
 * stores to their own registers (HEADER_WORDS and up) and return a RegisterError.
 *
 * Interrupts: a cause sets its bit in IRQ_STATUS; the line is raised when an enabled cause
 * becomes pending that was not already, so a driver that acknowledges first and then looks at
 * the device's state misses nothing. Stores reach the device synchronously, in the driver's
 * slice; completions arrive later from the host's event loop.
 */
export abstract class RegisterDevice implements MmioDevice {
  abstract readonly name: string;
  readonly line: number;
  protected readonly registers = new RegisterFile();
  protected dma: DmaWindow | null = null;
  private readonly interrupts: InterruptSink;
  private readonly kind: number;

  constructor(kind: number, line: number, interrupts: InterruptSink) {
    if (!Number.isInteger(line) || line < 2) throw new RangeError(`a device's interrupt line is 2 or more, not ${line}`);
    this.kind = kind;
    this.line = line;
    this.interrupts = interrupts;
    this.writeHeader();
  }

  attachRegisters(words: Uint32Array): void {
    this.registers.attach(words);
  }

  write(index: number, value: number): void {
    if (!Number.isInteger(index) || index < 0) return;
    value >>>= 0;
    let error: number = RegisterError.NONE;
    if (index === Header.IRQ_STATUS) this.registers.set(Header.IRQ_STATUS, this.registers.get(Header.IRQ_STATUS) & ~value);
    else if (index === Header.IRQ_ENABLE) this.enable(value);
    else if (index < HEADER_WORDS) error = RegisterError.READ_ONLY;
    else error = this.store(index, value);
    this.registers.set(Header.ERROR, error);
  }

  attachDma(dma: DmaWindow | null): void {
    this.dma = dma;
    this.registers.set(Header.DMA_SIZE, dma?.size ?? 0);
    this.windowChanged();
  }

  reset(): void {
    this.registers.clearFrom(0);
    this.writeHeader();
    this.registers.set(Header.DMA_SIZE, this.dma?.size ?? 0);
    this.powerOn();
  }

  /** A store to a device register (index ≥ HEADER_WORDS, value unsigned); returns a RegisterError. */
  protected abstract store(index: number, value: number): number;

  /** Back to the state after power-on; the header is already reset, the DMA window kept. */
  protected abstract powerOn(): void;

  /** The DMA window was replaced (or taken away). */
  protected windowChanged(): void {}

  /** Marks `cause` pending and raises the line if that makes an enabled cause newly pending. */
  protected signal(cause: number): void {
    const before = this.registers.get(Header.IRQ_STATUS);
    this.registers.set(Header.IRQ_STATUS, before | cause);
    const enabled = this.registers.get(Header.IRQ_ENABLE);
    if ((cause & enabled & ~before) !== 0) this.raise();
  }

  private enable(mask: number): void {
    const before = this.registers.get(Header.IRQ_ENABLE);
    this.registers.set(Header.IRQ_ENABLE, mask);
    // Enabling a cause that is already pending raises the line, as a level would.
    if ((this.registers.get(Header.IRQ_STATUS) & mask & ~before) !== 0) this.raise();
  }

  private raise(): void {
    this.interrupts.raise({ line: "irq", number: this.line });
  }

  private writeHeader(): void {
    this.registers.set(Header.MAGIC, DEVICE_MAGIC);
    this.registers.set(Header.KIND, this.kind);
    this.registers.set(Header.VERSION, DEVICE_VERSION);
  }
}
