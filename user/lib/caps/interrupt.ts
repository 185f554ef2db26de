// An Interrupt: a machine interrupt line delivered as MSG_INTERRUPT (line, count) messages.
import { OP_INTERRUPT_BIND, OP_INTERRUPT_ACK } from "../abi";
import { operation, operationWithCap } from "./operation";

export class Interrupt {
  constructor(readonly cap: i32) {}

  /** Routes the line to a Receiver through `sendCap` (a send capability; the kernel keeps it). */
  bind(sendCap: u32): i32 {
    return operationWithCap(this.cap, OP_INTERRUPT_BIND, sendCap);
  }

  /** Re-arms the line after a delivery: interrupts meanwhile were counted, not lost. */
  ack(): i32 {
    return operation(this.cap, OP_INTERRUPT_ACK);
  }
}
