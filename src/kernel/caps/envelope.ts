import type { Capability } from "./capability.ts";
import type { ContractEndpoint } from "./contract-endpoint.ts";

/**
 * A message in the kernel: between the sender's buffer and the receiver's. The capabilities are
 * already out of the sender's table, so an envelope that is never delivered must be disposed.
 */
export interface Envelope {
  readonly label: number;
  readonly words: Uint32Array;
  readonly caps: readonly Capability[];
  /** The badge of the capability it was sent through. */
  readonly badge: number;
  /** The one-shot reply capability of a call. */
  readonly reply: Capability | null;
  /** The contract endpoint it came from (its queued messages are counted), or null. */
  readonly endpoint: ContractEndpoint | null;
}

export function disposeEnvelope(envelope: Envelope): void {
  for (const cap of envelope.caps) cap.dispose();
  envelope.reply?.dispose();
}
