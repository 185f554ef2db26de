import type { FrameOwner, MappingSpace } from "../frame-owner.ts";
import type { Process } from "../process.ts";
import type { Capability } from "./capability.ts";
import type { MemoryObject } from "./memory-object.ts";
import type { ObjectKindCode } from "./object-abi.ts";

/** How deep destructions nest inside one another before the next wait their turn (KernelObject.destroy). */
export const DESTROY_NESTING = 64;
/** Destructions running now, one inside another, and those waiting until the outermost ends. */
let destroying = 0;
const waiting: KernelObject[] = [];

/**
 * What every kernel object shares: its kind, the capabilities that name it, the Memory that paid
 * for it and how many pages it cost.
 *
 * Invariants: `refs` counts the Capability instances naming this object (in tables, queued
 * messages and cappages); once `destroyed` the object's pages are back with its payer and every
 * capability to it answers E_PEER_DEAD. Objects whose frames address spaces map (Page, Region,
 * Image, Device) are those frames' owners (frame-owner.ts): `mappedPages` counts the mappings,
 * and none is left once it is destroyed.
 */
export abstract class KernelObject implements FrameOwner {
  abstract readonly kind: ObjectKindCode;
  refs = 0;
  /** Pages of it mapped in address spaces now. */
  mappedPages = 0;
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
    this.refs--;
    this.collect();
  }

  /** A capability to it came into being (after the count rose). */
  protected created(_cap: Capability): void {}

  /** A capability to it was disposed (before the count drops). */
  protected disposed(_cap: Capability): void {}

  /** A capability to it entered `process`'s table. */
  installedIn(_process: Process, _cap: Capability): void {}

  /** A capability to it left `process`'s table. */
  removedFrom(_process: Process, _cap: Capability): void {}

  get ownerName(): string {
    return `${this.constructor.name}${this.destroyed ? " (destroyed)" : ""}`;
  }

  /** Whether a mapping of it at `address` may name `frame`: objects that hold frames say. */
  ownsFrame(_frame: number, _address: number): boolean {
    return false;
  }

  mapped(_space: MappingSpace): void {
    this.mappedPages++;
  }

  unmapped(_space: MappingSpace): void {
    this.mappedPages--;
    this.collect();
  }

  /** Destroys it if nothing holds it any more: no capability, and nothing `persists` counts. */
  protected collect(): void {
    if (this.refs === 0 && !this.destroyed && !this.persists()) this.destroy();
  }

  /**
   * Whether the host holds memory for it in work that has not ended (a binary in the loader): its
   * charge must last as long, even past its capabilities and its Memory (which hands it to its
   * parent, MemoryObject.teardown); the work's end destroys it.
   */
  get heldByHost(): boolean {
    return false;
  }

  /**
   * Whether it must outlive its Memory's destruction, its charge handed to the nearest Memory that
   * lives (MemoryObject.teardown): work the host holds memory for (`heldByHost`), or an object
   * mapped in processes that live on (a Region in another process's table).
   */
  outlivesPayer(): boolean {
    return this.heldByHost;
  }

  /** Its Memory was destroyed and `outlivesPayer` kept it: its charge is now `payer`'s. */
  handedDown(): void {}

  /** Objects that outlive their capabilities (a Process runs until it ends) say so. */
  protected persists(): boolean {
    return false;
  }

  /**
   * Frees what the object holds, returns its pages to its payer and leaves it a tombstone. Objects
   * its teardown destroys are destroyed inside it, DESTROY_NESTING deep at most; deeper ones wait
   * until the outermost destruction has finished and are destroyed then, in turn, before it
   * returns. Else a chain of objects each holding the last capability to the next (a list of
   * 30,000 Cappages each holding the next, Memories nested 30,000 deep), made by any program with
   * that much quota, overflowed the host's stack in the kernel on its destruction, at the
   * program's end: the machine stopped (redteam13).
   */
  destroy(): void {
    if (this.destroyed) return;
    if (destroying >= DESTROY_NESTING) {
      if (!this.destroyWaits) {
        this.destroyWaits = true;
        waiting.push(this);
      }
      return;
    }
    destroying++;
    try {
      this.destroyed = true;
      this.teardown();
      this.payer?.forget(this);
    } finally {
      destroying--;
    }
    if (destroying === 0) {
      for (let next = waiting.pop(); next; next = waiting.pop()) next.destroy();
    }
  }

  /** Its destruction waits for the outermost one to finish (see destroy). */
  private destroyWaits = false;

  /** Kind-specific cleanup, run once. */
  protected abstract teardown(): void;
}
