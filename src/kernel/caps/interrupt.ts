import { Status } from "../errors.ts";
import type { Capability } from "./capability.ts";
import { type Invocation, argumentObject, takeCaps } from "./invocation.ts";
import { KernelObject } from "./kernel-object.ts";
import { ObjectKind, Op, Rights } from "./object-abi.ts";

/**
 * A machine interrupt line routed to a Receiver. An interrupt is delivered once as a message;
 * further ones are counted, not queued, until the handler acknowledges, which re-arms the line.
 */
export class InterruptObject extends KernelObject {
  readonly kind = ObjectKind.INTERRUPT;
  readonly line: number;
  /** The send capability interrupts go through (owned by this object). */
  target: Capability | null = null;
  armed = false;
  /** Interrupts since the last delivery. */
  count = 0;

  constructor(line: number) {
    super();
    this.line = line;
  }

  bind(target: Capability): void {
    this.target?.dispose();
    this.target = target;
    this.armed = true;
  }

  protected teardown(): void {
    this.target?.dispose();
    this.target = null;
    this.armed = false;
  }
}

/** INTERRUPT_* operations. */
export function invokeInterrupt(inv: Invocation, interrupt: InterruptObject): number {
  if (!inv.cap.has(Rights.INTERRUPT_BIND)) return Status.E_MISSING_RIGHT;
  switch (inv.message.label) {
    case Op.INTERRUPT_BIND: {
      const target = argumentObject<KernelObject>(inv, 0, ObjectKind.RECEIVER, Rights.RECEIVER_SEND);
      if (typeof target === "number") return target;
      const taken = takeCaps(inv.caller, inv.message.caps.subarray(0, 1));
      if (typeof taken === "number") return taken;
      interrupt.bind(taken[0]!);
      return Status.OK;
    }
    case Op.INTERRUPT_ACK:
      if (!interrupt.target) return Status.E_NOT_READY;
      interrupt.armed = true;
      return Status.OK;
    default:
      return Status.E_INVALID_ARGUMENT;
  }
}
