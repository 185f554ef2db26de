import type { Capability } from "./capability.ts";
import { CAP_TABLE_SLOTS, SLOT_FIRST_GIVEN } from "./object-abi.ts";

/** Told when a capability enters or leaves a process's table (Regions map and unmap on it). */
export interface CapabilityHolder {
  installed(cap: Capability): void;
  removed(cap: Capability): void;
}

/**
 * A process's capability table. User code holds only indices; slot 0 never holds anything.
 *
 * Invariant: a Capability is in at most one slot of one table.
 */
export class CapTable {
  /** Slots up to the highest one used so far; those past its end are free. Grows as used. */
  private readonly slots: (Capability | null)[] = [null];
  private readonly holder: CapabilityHolder;
  private hint = SLOT_FIRST_GIVEN;
  private used = 0;

  constructor(holder: CapabilityHolder) {
    this.holder = holder;
  }

  get size(): number {
    return this.used;
  }

  /** Slots still free. */
  get free(): number {
    return CAP_TABLE_SLOTS - 1 - this.used;
  }

  get(index: number): Capability | null {
    if (!Number.isInteger(index) || index <= 0 || index >= CAP_TABLE_SLOTS) return null;
    return this.slots[index] ?? null;
  }

  /**
   * Puts `cap` in the first free slot (from `from`); its index, or 0 when the table is full or the
   * object took it back as it came (a view of a freed Region its new holder cannot pay for).
   */
  install(cap: Capability, from = this.hint): number {
    for (let scanned = 1; scanned < CAP_TABLE_SLOTS; scanned++) {
      const index = ((from - 1 + scanned - 1) % (CAP_TABLE_SLOTS - 1)) + 1;
      if ((this.slots[index] ?? null) !== null) continue;
      this.placeAt(index, cap);
      if (this.slots[index] !== cap) return 0;
      this.hint = index + 1 < CAP_TABLE_SLOTS ? index + 1 : 1;
      return index;
    }
    return 0;
  }

  /** Puts `cap` at `index`, which must be free. */
  placeAt(index: number, cap: Capability): void {
    if ((this.slots[index] ?? null) !== null) throw new Error(`kernel bug: slot ${index} is taken`);
    while (this.slots.length <= index) this.slots.push(null);
    this.slots[index] = cap;
    this.used++;
    this.holder.installed(cap);
  }

  /** Takes the capability out of its slot (to move it, or to dispose of it). */
  take(index: number): Capability | null {
    const cap = this.get(index);
    if (!cap) return null;
    this.slots[index] = null;
    this.used--;
    if (index < this.hint) this.hint = index;
    this.holder.removed(cap);
    return cap;
  }

  /** Empties the table, disposing every capability (the process ended). */
  clear(): void {
    for (let index = 1; index < this.slots.length; index++) this.take(index)?.dispose();
  }

  /** Every occupied slot, lowest first. */
  *entries(): IterableIterator<[number, Capability]> {
    for (let index = 1; index < this.slots.length; index++) {
      const cap = this.slots[index];
      if (cap) yield [index, cap];
    }
  }
}
