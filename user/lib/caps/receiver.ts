// A Receiver: a bounded queue of messages. Its creator's capability receives and mints; minted
// capabilities (each with its badge) send or call. All of them are Receiver capabilities, so one
// class serves both ends: the rights of `cap` decide which methods work.
import { OP_RECEIVER_RECEIVE, OP_RECEIVER_MINT, OP_RECEIVER_INFO, OP_REPLY_AT, FOREVER } from "../abi";
import { E_BAD_MESSAGE } from "../errors";
import {
  MAX_CAPS, MAX_DATA_WORDS, msgBegin, msgAddWord, msgAddCap, msgAddTimeout, msgSetRecv, msgSetRecvTimeout, msgInvoke, msgWord,
} from "../message";
import { operation, operation2, operationWithTimeout, answeredCap } from "./operation";

/** RECEIVER_INFO's answer. */
export class ReceiverInfo {
  status: i32 = 0;
  queued: u32 = 0;
  capacity: u32 = 0;
}

export class Receiver {
  constructor(readonly cap: i32) {}

  /**
   * Waits for a message (FOREVER, or E_TIMEOUT after `timeoutNs`; 0 only looks). It is then in
   * the buffer: msgLabel, msgWord, msgCap, msgBadge, and msgReply when it is a call.
   */
  receive(timeoutNs: u64 = FOREVER): i32 {
    return operationWithTimeout(this.cap, OP_RECEIVER_RECEIVE, timeoutNs);
  }

  /** Waits on this Receiver and up to four more: the index of the one that delivered (0: this). */
  receiveAny(others: i32[], timeoutNs: u64 = FOREVER): i32 {
    if (others.length > MAX_CAPS) return E_BAD_MESSAGE;
    msgBegin(OP_RECEIVER_RECEIVE);
    if (timeoutNs != FOREVER) msgAddTimeout(timeoutNs);
    for (let i = 0; i < others.length; i++) msgAddCap(<u32>unchecked(others[i]));
    return msgInvoke(this.cap);
  }

  /** A capability that sends (RIGHT_RECEIVER_SEND) or calls (RIGHT_RECEIVER_CALL) with `badge`, which the receiver sees. */
  mint(badge: u32, rights: u32): i32 {
    return answeredCap(operation2(this.cap, OP_RECEIVER_MINT, badge, rights));
  }

  info(): ReceiverInfo {
    const info = new ReceiverInfo();
    info.status = operation(this.cap, OP_RECEIVER_INFO);
    if (info.status >= 0) {
      info.queued = msgWord(0);
      info.capacity = msgWord(1);
    }
    return info;
  }

  /**
   * Queues a message (never blocks: E_QUEUE_FULL when full). `label` must be below
   * KERNEL_LABEL_BASE. Allocates its arrays: on hot paths use msgBegin/msgAddWord/msgInvoke.
   */
  send(label: u32, words: u32[] = [], caps: u32[] = []): i32 {
    return this.message(label, words, caps);
  }

  /** Sends and waits for the reply, which is then in the buffer (label, words, caps). */
  call(label: u32, words: u32[] = [], caps: u32[] = []): i32 {
    return this.message(label, words, caps);
  }

  // Send and call are the same invoke: the capability's right (SEND or CALL) decides which it is.
  private message(label: u32, words: u32[], caps: u32[]): i32 {
    if (words.length > MAX_DATA_WORDS || caps.length > MAX_CAPS) return E_BAD_MESSAGE;
    msgBegin(label);
    for (let i = 0; i < words.length; i++) msgAddWord(unchecked(words[i]));
    for (let i = 0; i < caps.length; i++) msgAddCap(unchecked(caps[i]));
    return msgInvoke(this.cap);
  }
}

/** Sends the reply already built in the buffer through `replyCap` (used up either way it ends). */
export function reply(replyCap: i32): i32 {
  msgSetRecv(0);
  return msgInvoke(replyCap);
}

/**
 * Sends the reply built in the buffer, then waits on `receiver` in the same invoke: a server's
 * whole turn in one kernel call. The result is receive's (0, or a status); the next message is
 * in the buffer. If the caller has gone, the reply is dropped and the receive still happens.
 */
export function replyAndReceive(replyCap: i32, receiver: i32): i32 {
  msgSetRecv(receiver);
  return msgInvoke(replyCap);
}

/**
 * replyAndReceive whose receive gives up after `timeoutNs` (E_TIMEOUT; whole µs, FOREVER: never):
 * for a server that must wake when no call comes (to commit, to look at memory), in one invoke.
 */
export function replyAndReceiveWithin(replyCap: i32, receiver: i32, timeoutNs: u64): i32 {
  if (timeoutNs == FOREVER) msgSetRecv(receiver);
  else msgSetRecvTimeout(receiver, timeoutNs);
  return msgInvoke(replyCap);
}

/**
 * Replies `label` with no words through `replyCap`, to be taken by its caller only once the
 * monotonic clock (time.ts `now`) reaches `deadlineNs` (REPLY_AT; at once if it has): a server
 * answering at a time, as the timer driver does, keeps nothing per caller.
 */
export function replyAt(replyCap: i32, deadlineNs: u64, label: u32): i32 {
  msgBegin(OP_REPLY_AT);
  msgAddWord(<u32>deadlineNs);
  msgAddWord(<u32>(deadlineNs >>> 32));
  msgAddWord(label);
  msgSetRecv(0);
  return msgInvoke(replyCap);
}
