// A server's main loop: receive a request, dispatch on its label, then reply and wait for the
// next request in the same invoke. No allocation per message, so it can serve for ever.
import { KIND_REPLY, OP_RECEIVER_RECEIVE } from "./abi";
import { msgBegin, msgInvoke, msgLabel, msgReply, msgSetLabel } from "./message";
import { capKind, capDrop } from "./caps/capability";
import { replyAndReceive } from "./caps/receiver";

/**
 * Handles one request, which is in the message buffer (msgLabel, msgWord, msgCap, msgBadge), and
 * returns the reply's label (below KERNEL_LABEL_BASE). The reply is whatever the handler leaves
 * in the buffer: words it does not touch go back as they came (so an echo only returns a label),
 * msgBegin starts an empty reply, msgAddWord/msgAddCap fill it. Capabilities the request brought
 * (only while listening) would go back too: call msgClearCaps or msgBegin if there were any.
 */
export type Handler = (label: u32) => u32;

// Receives on `receiver` for ever: a status, or 0 with the request in the buffer.
function receive(receiver: i32): i32 {
  msgBegin(OP_RECEIVER_RECEIVE);
  return msgInvoke(receiver);
}

/**
 * Serves requests from `receiver` (a cap with RIGHT_RECEIVER_RECEIVE) with `handle` until the
 * Receiver fails (destroyed: E_PEER_DEAD); returns that status. Sends (no reply capability) are
 * handled too, and their reply discarded.
 */
export function serve(receiver: i32, handle: Handler): i32 {
  let status = receive(receiver);
  while (status >= 0) {
    const replyCap = msgReply();
    const label = handle(msgLabel());
    if (replyCap == 0) {
      status = receive(receiver);
      continue;
    }
    msgSetLabel(label);
    status = replyAndReceive(replyCap, receiver);
    // A refused reply (bad capabilities, a kernel label) leaves the reply capability here: drop
    // it, so that the caller's call ends with E_PEER_DEAD instead of waiting for ever.
    if (status < 0 && capKind(replyCap) == <i32>KIND_REPLY) {
      capDrop(replyCap);
      status = receive(receiver);
    }
  }
  return status;
}
