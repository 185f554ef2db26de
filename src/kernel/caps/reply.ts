import { Status } from "../errors.ts";
import type { MessageBuffer } from "../message.ts";
import type { Process } from "../process.ts";
import type { ContractEndpoint } from "./contract-endpoint.ts";
import { KernelObject } from "./kernel-object.ts";
import { ObjectKind } from "./object-abi.ts";

/**
 * The one-shot capability a call creates: it travels with the message, and invoking it delivers
 * the reply and destroys it. If it is disposed unused, the caller's call ends with E_PEER_DEAD,
 * so a caller never waits on a server that can no longer answer.
 */
export class Reply extends KernelObject {
  readonly kind = ObjectKind.REPLY;
  /** The caller, until it has its answer or has ended. */
  caller: Process | null;
  /** The caller's buffer: the reply is written straight into it, and must fit it. */
  readonly buffer: MessageBuffer;
  /**
   * The contract endpoint the call came through, until the reply is given; the answer must be a
   * reply the state the call led to allows. Disposed unused, the endpoint goes back to
   * `stateBefore`: a call nobody answered did not happen.
   */
  endpoint: ContractEndpoint | null;
  readonly stateBefore: number;

  constructor(caller: Process, buffer: MessageBuffer, endpoint: ContractEndpoint | null = null, stateBefore = 0) {
    super();
    this.caller = caller;
    this.buffer = buffer;
    caller.awaitedBuffer = buffer;
    this.endpoint = endpoint;
    this.stateBefore = stateBefore;
  }

  /** Takes the caller for delivery; null if it is gone. The reply is used up either way. */
  claim(): Process | null {
    const caller = this.caller;
    this.caller = null;
    return caller && caller.alive ? caller : null;
  }

  protected teardown(): void {
    if (this.endpoint !== null) this.endpoint.state = this.stateBefore;
    this.endpoint = null;
    const caller = this.claim();
    caller?.wakeFromWait(Status.E_PEER_DEAD);
  }
}
