import { Status } from "../errors.ts";
import { canWrite } from "../message.ts";
import { Capability } from "./capability.ts";
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

/**
 * A Cappage capability may reach only a window of the page's slots (CAPPAGE_NARROW), numbered
 * from 0 through it: so init can give a service one slot of what a publisher offers (its
 * read-only root) and not the rest (the root with every right), and a restarted publisher's
 * fresh capability still reaches it through the same page. The window is the capability's
 * badge: 0 is the whole page, else its first slot in bits 0-7 and its length (1-256) in bits 8-16.
 */
export function cappageWindow(badge: number): { first: number; count: number } {
  return badge === 0 ? { first: 0, count: CAPPAGE_SLOTS } : { first: badge & 0xff, count: (badge >>> 8) & 0x1ff };
}

function windowBadge(first: number, count: number): number {
  return first === 0 && count === CAPPAGE_SLOTS ? 0 : (first | (count << 8)) >>> 0;
}

/** CAPPAGE_* operations. */
export function invokeCappage(inv: Invocation, cappage: Cappage): number {
  const op = inv.message.label;
  const window = cappageWindow(inv.cap.badge);
  if (op === Op.CAPPAGE_NARROW) return narrow(inv, window);
  const asked = word(inv, 0);
  if (!Number.isInteger(asked) || asked < 0 || asked >= window.count) return Status.E_INVALID_ARGUMENT;
  const slot = window.first + asked;
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

/** CAPPAGE_NARROW: a copy, with the same rights, that reaches only `count` slots from `first` of this capability's window. */
function narrow(inv: Invocation, window: { first: number; count: number }): number {
  const first = word(inv, 0);
  const count = word(inv, 1);
  if (!Number.isInteger(first) || !Number.isInteger(count) || count < 1 || first < 0 || first + count > window.count) return Status.E_INVALID_ARGUMENT;
  const writable = canWrite(inv.caller, inv.buffer, 0, 1);
  if (writable !== Status.OK) return writable;
  if (inv.caller.caps.free === 0) return Status.E_QUOTA;
  return answer(inv, [], [new Capability(inv.cap.object, inv.cap.rights, windowBadge(window.first + first, count))]);
}
