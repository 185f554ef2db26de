import type { ContractEndpoint } from "./contract-endpoint.ts";
import type { KernelObject } from "./kernel-object.ts";

/**
 * One capability: an object, the rights it grants and the badge its minter set. A Capability
 * instance lives in exactly one place at a time (a table slot, a queued message, a cappage slot);
 * moving it moves the instance, copying makes a new one. Disposing it releases the object.
 */
export class Capability {
  readonly object: KernelObject;
  readonly rights: number;
  readonly badge: number;
  /** A send or call capability of a Receiver with a contract: where it stands (set by the Receiver). */
  endpoint: ContractEndpoint | null = null;
  private disposed = false;

  constructor(object: KernelObject, rights: number, badge = 0) {
    this.object = object;
    this.rights = rights >>> 0;
    this.badge = badge >>> 0;
    object.retain(this);
  }

  has(rights: number): boolean {
    return (this.rights & rights) === rights;
  }

  /** A new capability to the same object with `rights & mask`, same badge. */
  derive(mask: number): Capability {
    const copy = new Capability(this.object, this.rights & mask, this.badge);
    // A copy of a contract endpoint is an endpoint of its own, starting where this one stands.
    if (copy.endpoint !== null && this.endpoint !== null) copy.endpoint.state = this.endpoint.state;
    return copy;
  }

  dispose(): void {
    if (this.disposed) throw new Error("kernel bug: a capability was disposed twice");
    this.disposed = true;
    this.object.release(this);
  }
}
