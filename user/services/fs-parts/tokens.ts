// Tokens: how RENAME and LINK name a destination directory held through another capability
// (docs/FS.md "Tokens"). A server cannot read the badge of a capability a request brings, so a
// directory's token is a send capability of a Receiver of the server's own whose badge is that
// directory handle's badge (FS_TOKEN mints it). To learn which handle a token names, the server
// sends a probe through it — a fresh random nonce — and receives it on that Receiver, where the
// kernel stamps it with the token's badge. A capability that is not such a token delivers nothing
// there (or is no send capability, and is not invoked at all: a call could wait on the server
// itself), so it names no handle. Nothing allocates.
import {
  msgBegin, msgAddWord, msgInvoke, msgLabel, msgWord, msgWordCount, msgBadge, msgCapCount, msgCap, capDrop, random,
  Memory, Receiver, OP_CAP_INFO, KIND_RECEIVER, RIGHT_RECEIVER_SEND, RIGHT_RECEIVER_CALL, E_INVALID_CAP, E_WRONG_TYPE,
} from "../../lib";

/** A probe's label: the server's own, never a request. */
const PROBE: u32 = 0x7e57;
/** Messages a token's Receiver holds: probes, and whatever holders of tokens send it. */
const QUEUE: u32 = 8;
const nonce: usize = memory.data(8, 8);

export class Tokens {
  readonly receiver: Receiver;
  /** A status when the Receiver could not be made (tokens then answer it). */
  readonly status: i32;

  constructor(memory: i32) {
    const made = new Memory(memory).createReceiver(QUEUE);
    this.status = made < 0 ? made : 0;
    this.receiver = new Receiver(made < 0 ? 0 : made);
  }

  /** A token whose badge is `badge`: its slot (to move to the client), or a status. */
  mint(badge: u32): i32 {
    if (this.status < 0) return this.status;
    return this.receiver.mint(badge, RIGHT_RECEIVER_SEND);
  }

  /** The badge the last `identify` found. */
  badge: u32 = 0;

  /** Finds the badge of the token at `cap` (a handle's badge, in `badge`: look it up): 0, or a status (E_INVALID_CAP: not a token of ours). */
  identify(cap: i32): i32 {
    if (this.status < 0) return this.status;
    msgBegin(OP_CAP_INFO);
    if (msgInvoke(cap) < 0) return E_INVALID_CAP;
    const rights = msgWord(1);
    if (msgWord(0) != KIND_RECEIVER || (rights & RIGHT_RECEIVER_CALL) != 0 || (rights & RIGHT_RECEIVER_SEND) == 0) return E_WRONG_TYPE;
    this.drain();
    random(nonce, 8);
    msgBegin(PROBE);
    msgAddWord(load<u32>(nonce));
    msgAddWord(load<u32>(nonce + 4));
    if (msgInvoke(cap) < 0) return E_INVALID_CAP;
    // The probe is behind whatever others sent since the drain: at most a queue's worth.
    for (let i: u32 = 0; i <= QUEUE; i++) {
      if (this.receiver.receive(0) < 0) break;
      const ours = msgLabel() == PROBE && msgWordCount() == 2 && msgWord(0) == load<u32>(nonce) && msgWord(1) == load<u32>(nonce + 4);
      const badge = msgBadge();
      dropCaps();
      if (ours) {
        this.badge = badge;
        return 0;
      }
    }
    return E_INVALID_CAP;
  }

  // Empties the Receiver: what holders of tokens sent it is of no use.
  private drain(): void {
    for (let i = 0; i < 64 && this.receiver.receive(0) >= 0; i++) dropCaps();
  }
}

function dropCaps(): void {
  const count = msgCapCount();
  for (let i = 0; i < count; i++) capDrop(msgCap(i));
}
