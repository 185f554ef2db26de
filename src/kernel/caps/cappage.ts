import { Status } from "../errors.ts";
import { canWrite } from "../message.ts";
import type { Capability } from "./capability.ts";
import { type Invocation, answer, movesOnly, takeCaps, word } from "./invocation.ts";
import { KernelObject } from "./kernel-object.ts";
import { ALL_RIGHTS, CAPPAGE_SLOTS, ObjectKind, Op, Rights } from "./object-abi.ts";

/** Pages a Cappage costs. */
export const CAPPAGE_PAGES = 1;

/**
 * Iris' Cappage: a page of capability slots. Every process holding a capability to it can put
 * capabilities in and take copies out, so a set of capabilities is shared in one step rather than
 * one message each.
 */
export class Cappage extends KernelObject {
  readonly kind = ObjectKind.CAPPAGE;
  private readonly slots: (Capability | null)[] = new Array<Capability | null>(CAPPAGE_SLOTS).fill(null);

  static validSlot(slot: number): boolean {
    return Number.isInteger(slot) && slot >= 0 && slot < CAPPAGE_SLOTS;
  }

  get(slot: number): Capability | null {
    return this.slots[slot] ?? null;
  }

  /** Puts `cap` in `slot`, disposing what was there. */
  put(slot: number, cap: Capability): void {
    const old = this.slots[slot];
    this.slots[slot] = cap;
    old?.dispose();
  }

  /** Takes the capability out of `slot` (a Region owner leaves rather than being copied). */
  take(slot: number): Capability | null {
    const cap = this.slots[slot] ?? null;
    this.slots[slot] = null;
    return cap;
  }

  protected teardown(): void {
    for (let slot = 0; slot < CAPPAGE_SLOTS; slot++) this.take(slot)?.dispose();
  }
}

/** CAPPAGE_* operations. */
export function invokeCappage(inv: Invocation, cappage: Cappage): number {
  const op = inv.message.label;
  const slot = word(inv, 0);
  if (!Cappage.validSlot(slot)) return Status.E_INVALID_ARGUMENT;
  switch (op) {
    case Op.CAPPAGE_PUT: {
      if (!inv.cap.has(Rights.CAPPAGE_WRITE)) return Status.E_MISSING_RIGHT;
      if (inv.message.caps.length !== 1) return Status.E_INVALID_ARGUMENT;
      const taken = takeCaps(inv.caller, inv.message.caps);
      if (typeof taken === "number") return taken;
      cappage.put(slot, taken[0]!);
      return Status.OK;
    }
    case Op.CAPPAGE_GET: {
      if (!inv.cap.has(Rights.CAPPAGE_READ)) return Status.E_MISSING_RIGHT;
      const held = cappage.get(slot);
      if (!held) return Status.E_INVALID_CAP;
      // A Region owner leaves the slot: make sure it has somewhere to go before taking it.
      const writable = canWrite(inv.caller, inv.buffer, 0, 1);
      if (writable !== Status.OK) return writable;
      if (inv.caller.caps.free === 0) return Status.E_QUOTA;
      return answer(inv, [], [movesOnly(held) ? cappage.take(slot)! : held.derive(ALL_RIGHTS)]);
    }
    case Op.CAPPAGE_CLEAR:
      if (!inv.cap.has(Rights.CAPPAGE_WRITE)) return Status.E_MISSING_RIGHT;
      cappage.take(slot)?.dispose();
      return Status.OK;
    default:
      return Status.E_INVALID_ARGUMENT;
  }
}
