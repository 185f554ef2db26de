import type { ConsoleDevice, InterruptSink } from "../devices.ts";
import { ByteFifo } from "./byte-fifo.ts";
import type { ConsoleInputRouter } from "./console-input.ts";
import { RegisterDevice } from "./device-base.ts";
import { DeviceKind, RegisterError } from "./registers.ts";

export const Uart = {
  /** Read: UartStatus bits. */
  STATUS: 8,
  /** Read/store: UartControl bits. */
  CONTROL: 9,
  /** Read: bytes waiting in the receive FIFO. */
  RX_COUNT: 10,
  /** Store: one byte (0 to 255) written to TX_STREAM. */
  TX_BYTE: 11,
  /** Read/store: 1 output, 2 errors (stdout and stderr on a terminal). */
  TX_STREAM: 12,
  DMA_OFFSET: 13,
  DMA_LENGTH: 14,
  /** Store: a UartCommand, working on DMA_OFFSET and DMA_LENGTH. */
  COMMAND: 15,
  /** Read: bytes the last command moved. */
  RESULT: 16,
  /** Read: the receive FIFO's size in bytes. */
  RX_CAPACITY: 17,
} as const;

export const UartStatus = { RX_READY: 1, TX_READY: 2, END_OF_INPUT: 4, RECEIVING: 8 } as const;
export const UartControl = { RECEIVE: 1 } as const;
export const UartCommand = { TRANSMIT: 1, RECEIVE: 2 } as const;
/** The interrupt cause: bytes arrived, or the input ended. */
export const IRQ_RX = 1;
export const RX_FIFO_BYTES = 4096;

/**
 * The console as a UART over the host's ConsoleDevice. Output is written through at once (a byte
 * per store, or a DMA range per command). Input is the host's: once a driver sets RECEIVE the
 * UART asks the host for input while its FIFO has room, and the host console's input comes here
 * instead of to the kernel's boot console. What arrives beyond the FIFO is held back (one host
 * chunk at most: the UART asks for no more until it has moved into the FIFO), so nothing typed
 * is lost and nothing grows without bound.
 *
 * Reset keeps the input (the FIFO and RECEIVE): the host console does not restart with the
 * driver, and what is typed while a console driver restarts waits for the next one.
 */
export class UartDevice extends RegisterDevice {
  readonly name = "console";
  private readonly console: ConsoleDevice;
  private readonly router: ConsoleInputRouter;
  private readonly fifo = new ByteFifo(RX_FIFO_BYTES);
  private held: Uint8Array = new Uint8Array(0);
  private ended = false;
  private receiving = false;

  constructor(line: number, interrupts: InterruptSink, console: ConsoleDevice, router: ConsoleInputRouter) {
    super(DeviceKind.CONSOLE, line, interrupts);
    this.console = console;
    this.router = router;
    this.powerOn();
  }

  /** Gives the host console's input back to the kernel (the machine is powering off). */
  release(): void {
    if (!this.receiving) return;
    this.receiving = false;
    this.router.divert(null);
    this.console.setRawInput?.(false);
    this.refresh();
  }

  protected store(index: number, value: number): number {
    switch (index) {
      case Uart.CONTROL:
        if ((value & ~UartControl.RECEIVE) !== 0) return RegisterError.BAD_VALUE;
        if (value & UartControl.RECEIVE) this.claim();
        else this.release();
        return RegisterError.NONE;
      case Uart.TX_BYTE:
        if (value > 0xff) return RegisterError.BAD_VALUE;
        this.console.write(this.stream(), Uint8Array.of(value));
        return RegisterError.NONE;
      case Uart.TX_STREAM:
        if (value !== 1 && value !== 2) return RegisterError.BAD_VALUE;
        this.registers.set(index, value);
        return RegisterError.NONE;
      case Uart.DMA_OFFSET:
      case Uart.DMA_LENGTH:
        this.registers.set(index, value);
        return RegisterError.NONE;
      case Uart.COMMAND:
        return this.command(value);
      default:
        return index <= Uart.RX_CAPACITY ? RegisterError.READ_ONLY : RegisterError.NO_REGISTER;
    }
  }

  protected powerOn(): void {
    this.registers.set(Uart.TX_STREAM, 1);
    this.registers.set(Uart.RX_CAPACITY, RX_FIFO_BYTES);
    this.refresh();
  }

  private command(command: number): number {
    if (command !== UartCommand.TRANSMIT && command !== UartCommand.RECEIVE) return RegisterError.BAD_VALUE;
    this.registers.set(Uart.RESULT, 0);
    const dma = this.dma;
    if (!dma) return RegisterError.NO_DMA;
    const offset = this.registers.get(Uart.DMA_OFFSET);
    const length = this.registers.get(Uart.DMA_LENGTH);
    if (offset + length > dma.size) return RegisterError.DMA_RANGE;
    if (command === UartCommand.TRANSMIT) {
      this.console.write(this.stream(), dma.read(offset, length));
      this.registers.set(Uart.RESULT, length);
      return RegisterError.NONE;
    }
    const bytes = this.fifo.shift(length);
    dma.write(offset, bytes);
    this.registers.set(Uart.RESULT, bytes.length);
    this.refill();
    this.refresh();
    this.pull();
    return RegisterError.NONE;
  }

  private claim(): void {
    if (this.receiving) return;
    this.receiving = true;
    this.router.divert((data) => this.receive(data));
    this.console.setRawInput?.(true);
    if (this.router.inputEnded) this.receive(null);
    this.refresh();
    this.pull();
  }

  private receive(data: Uint8Array | null): void {
    if (data === null) this.ended = true;
    else this.held = concat(this.held, data);
    this.refill();
    this.refresh();
    if (this.fifo.length > 0 || this.ended) this.signal(IRQ_RX);
    this.pull();
  }

  /** Moves held-back input into the FIFO as room allows. */
  private refill(): void {
    if (this.held.length === 0) return;
    this.held = this.held.subarray(this.fifo.push(this.held));
  }

  /** Asks the host for more input when there is room for it and nothing held back. */
  private pull(): void {
    if (this.receiving && !this.ended && this.held.length === 0 && this.fifo.room > 0) this.console.requestInput();
  }

  private refresh(): void {
    let status: number = UartStatus.TX_READY;
    if (this.fifo.length > 0) status |= UartStatus.RX_READY;
    if (this.ended) status |= UartStatus.END_OF_INPUT;
    if (this.receiving) status |= UartStatus.RECEIVING;
    this.registers.set(Uart.STATUS, status);
    this.registers.set(Uart.CONTROL, this.receiving ? UartControl.RECEIVE : 0);
    this.registers.set(Uart.RX_COUNT, this.fifo.length);
  }

  private stream(): 1 | 2 {
    return this.registers.get(Uart.TX_STREAM) === 2 ? 2 : 1;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b.slice();
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
