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
  /**
   * An endpoint of a contract that bounds its Receiver's queue by reserving slots, for which the
   * queue had no room left: it could find the queue full. The kernel never hands one out
   * (E_QUEUE_FULL instead). A contract of calls only reserves nothing: its calls wait for room.
   */
  get unreserved(): boolean {
    const endpoint = this.endpoint;
    return endpoint !== null && !endpoint.reserved && !endpoint.contract.callsOnly && Number.isFinite(endpoint.contract.boundPerEndpoint);
  }

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
