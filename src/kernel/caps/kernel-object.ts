import type { Process } from "../process.ts";
import type { Capability } from "./capability.ts";
import type { MemoryObject } from "./memory-object.ts";
import type { ObjectKindCode } from "./object-abi.ts";

/**
 * What every kernel object shares: its kind, the capabilities that name it, the Memory that paid
 * for it and how many pages it cost.
 *
 * Invariants: `refs` counts the Capability instances naming this object (in tables, queued
 * messages and cappages); once `destroyed` the object's pages are back with its payer and every
 * capability to it answers E_PEER_DEAD.
 */
export abstract class KernelObject {
  abstract readonly kind: ObjectKindCode;
  refs = 0;
  destroyed = false;
  /** The Memory charged for this object, or null for objects the machine provides. */
  payer: MemoryObject | null = null;
  /** Pages charged to `payer`, returned on destruction. */
  chargedPages = 0;

  /** A capability to this object came into being. */
  retain(cap: Capability): void {
    this.refs++;
    this.created(cap);
  }

  /** A capability to this object was disposed; the last one destroys it (unless `persists`). */
  release(cap: Capability): void {
    this.disposed(cap);
    if (--this.refs === 0 && !this.destroyed && !this.persists()) this.destroy();
  }

  /** A capability to it came into being (after the count rose). */
  protected created(_cap: Capability): void {}

  /** A capability to it was disposed (before the count drops). */
  protected disposed(_cap: Capability): void {}

  /** A capability to it entered `process`'s table. */
  installedIn(_process: Process, _cap: Capability): void {}

  /** A capability to it left `process`'s table. */
  removedFrom(_process: Process, _cap: Capability): void {}

  /** Objects that outlive their capabilities (a Process runs until it ends) say so. */
  protected persists(): boolean {
    return false;
  }

  /** Frees what the object holds, returns its pages to its payer and leaves it a tombstone. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.teardown();
    this.payer?.forget(this);
  }

  /** Kind-specific cleanup, run once. */
  protected abstract teardown(): void;
}
