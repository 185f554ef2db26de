import type { InterruptSink } from "../devices.ts";
import type { Interrupt } from "../interrupts.ts";

/** Takes console input: bytes, or null at end of input. */
export type ConsoleReceiver = (data: Uint8Array | null) => void;

/**
 * Where the host console's input goes. Until a console driver takes it (through the UART) it is
 * raised as a console interrupt, which the kernel's boot console reads; after that it goes to
 * the UART's receive FIFO. Other interrupts pass through untouched.
 */
export class ConsoleInputRouter implements InterruptSink {
  private readonly interrupts: InterruptSink;
  private receiver: ConsoleReceiver | null = null;
  private ended = false;

  constructor(interrupts: InterruptSink) {
    this.interrupts = interrupts;
  }

  /** Whether the host has said its input ended (a host says it once; a late receiver must know). */
  get inputEnded(): boolean {
    return this.ended;
  }

  raise(interrupt: Interrupt): void {
    if (interrupt.line === "console") {
      if (interrupt.data === null) this.ended = true;
      if (this.receiver) return this.receiver(interrupt.data);
    }
    this.interrupts.raise(interrupt);
  }

  /** Input goes to `receiver` from now on (null: back to console interrupts). */
  divert(receiver: ConsoleReceiver | null): void {
    this.receiver = receiver;
  }
}
