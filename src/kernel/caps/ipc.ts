import { Status } from "../errors.ts";
import { PageInRequired } from "../paging-hooks.ts";
import type { IpcObserver } from "../inspect-hooks.ts";
import { type Message, type MessageBuffer, messageBytes } from "../message.ts";
import type { Process } from "../process.ts";
import type { Scheduler } from "../scheduler.ts";
import { canWrite, uint32Words, writeMessage } from "../message.ts";
import { Capability } from "./capability.ts";
import { Direction } from "./contract.ts";
import { type ContractedMessage, checkContractMessage, isOneWay } from "./contract-endpoint.ts";
import { type Envelope, disposeEnvelope } from "./envelope.ts";
import { type Invocation, argumentCap, deadlineFrom, takeCaps } from "./invocation.ts";
import { KERNEL_LABEL_BASE, ObjectKind, RECV_TIMEOUT, Rights } from "./object-abi.ts";
import { type ReceiveWaiter, Receiver, attachWaiter, detachWaiter } from "./receiver.ts";
import { Reply } from "./reply.ts";


/**
 * Send, call, reply and receive: moving messages between buffers through Receivers, and the
 * direct switches that make a call cost two context switches and nothing more.
 *
 * A message for a process that is already waiting is written straight into its buffer by the
 * sender, and the waiter wakes with its final result (the Receiver's index, or a status): the
 * wake value of every IPC wait is what its `invoke` returns.
 */
export class Ipc {
  private readonly scheduler: Scheduler;
  private readonly clock: { monotonicNs(): number };
  /** Told of every send and call while an inspector watches (inspect.ts); null otherwise. */
  observer: IpcObserver | null = null;
  /**
   * Brings a page of a process's back (it blocks; others run): the kernel's, set when paging is
   * turned on. A waiting process's buffer is kept resident (Kernel.touch, kernel-paging.ts
   * attach), but a delivery that finds it paged out all the same leaves the message where it was
   * (queued, or held for the caller) and wakes the waiter with BUFFER_PAGED_OUT, whose wait then
   * pages the buffer in and takes the message: the sender is never made to wait for another's page.
   */
  pageIn: ((process: Process, address: number) => Promise<void>) | null = null;

  constructor(scheduler: Scheduler, clock: { monotonicNs(): number }) {
    this.scheduler = scheduler;
    this.clock = clock;
  }

  /** Asynchronous send: queued at once, or E_QUEUE_FULL; on a contract endpoint, only what its state allows (E_CONTRACT). */
  send(inv: Invocation, receiver: Receiver): number {
    return this.sendThrough(inv.caller, inv.cap, receiver, inv.message);
  }

  private sendThrough(sender: Process, through: Capability, receiver: Receiver, message: { readonly label: number; readonly words: Uint32Array; readonly caps: ArrayLike<number> }): number {
    const endpoint = through.endpoint;
    let next = 0;
    let taken = 0;
    if (endpoint !== null) {
      const allowed = checkContractMessage(sender, endpoint, message, Direction.TO_SERVER, false);
      if (typeof allowed === "number") return allowed;
      next = allowed.next;
      taken = allowed.index;
    }
    if (!receiver.hasRoom(endpoint)) return Status.E_QUEUE_FULL;
    const caps = takeCaps(sender, message.caps);
    if (typeof caps === "number") return caps;
    if (endpoint !== null) {
      endpoint.state = next;
      endpoint.contract.taken[taken]!++;
    }
    this.observer?.message(sender, receiver, false);
    this.post(receiver, { label: message.label, words: message.words, caps, badge: through.badge, reply: null, endpoint }, null);
    return Status.OK;
  }

  /** A message from the kernel itself (monitors, interrupts, the pager's requests); false when it could not be queued (the caller still holds `caps`). */
  kernelSend(through: Capability, label: number, words: number[], caps: Capability[] = []): boolean {
    const receiver = through.object;
    if (!(receiver instanceof Receiver) || receiver.destroyed) return false;
    if (receiver.full) return false;
    this.observer?.message(null, receiver, false);
    this.post(receiver, { label, words: uint32Words(words), caps, badge: through.badge, reply: null, endpoint: null }, null);
    return true;
  }

  /**
   * Hands a message to the first process waiting on the Receiver (straight into its buffer), or
   * queues it. With `from`, a waiting receiver runs at once on `from`'s slice (a call), and the
   * promise is `from`'s own wait; the caller has checked that the queue has room.
   */
  private post(receiver: Receiver, envelope: Envelope, from: Process | null): Promise<number> | null {
    const waiter = receiver.takeWaiter();
    let result: number | null = null;
    if (waiter) {
      result = deliver(waiter.process, waiter.buffer, envelope, false);
      // The waiter's buffer could not take it: it stays queued, and the waiter learns why.
      if (result === Status.OK) result = waiter.receivers.indexOf(receiver);
      else receiver.enqueue(kept(envelope));
    } else {
      receiver.enqueue(kept(envelope));
    }
    if (from === null) {
      if (waiter) this.scheduler.wake(waiter.process, result);
      return null;
    }
    if (waiter && this.scheduler.canHandoff(waiter.process)) return this.scheduler.handoff<number>(from, waiter.process, result);
    if (waiter) this.scheduler.wake(waiter.process, result);
    return this.scheduler.waitUntil<number>(from, Infinity) as Promise<number>;
  }

  /** Send and wait for the reply; switches straight to a waiting receiver. On a contract endpoint, only what its state allows (E_CONTRACT). */
  call(inv: Invocation, receiver: Receiver): number | Promise<number> {
    const endpoint = inv.cap.endpoint;
    if (endpoint !== null) {
      // An endpoint that may also send sends what no reply can follow (the contract says which).
      if (inv.cap.has(Rights.RECEIVER_SEND) && isOneWay(endpoint, inv.message.label)) return this.send(inv, receiver);
      return this.contractCall(inv.caller, inv.cap, receiver, inv.message, inv.message.words, inv.buffer);
    }
    if (receiver.full) return Status.E_QUEUE_FULL;
    const caps = takeCaps(inv.caller, inv.message.caps);
    if (typeof caps === "number") return caps;
    const caller = inv.caller;
    const reply = new Reply(caller, inv.buffer);
    const { label, words } = inv.message;
    // Killed while waiting: the reply finds no caller and its server is told E_PEER_DEAD.
    caller.waitCancel = () => {
      reply.caller = null;
    };
    this.observer?.message(caller, receiver, true);
    return this.awaitReply(caller, inv.buffer, this.post(receiver, { label, words, caps, badge: inv.cap.badge, reply: new Capability(reply, 0), endpoint: null }, caller)!);
  }

  /**
   * A call through a contract endpoint: checked against its state, which it advances; the Reply
   * remembers where it stood.
   */
  private contractCall(caller: Process, through: Capability, receiver: Receiver, message: ContractedMessage, words: Uint32Array, buffer: MessageBuffer): number | Promise<number> {
    const endpoint = through.endpoint!;
    const allowed = checkContractMessage(caller, endpoint, message, Direction.TO_SERVER, true);
    if (typeof allowed === "number") return allowed;
    // A contract of calls only: a full queue is waited behind (Receiver, "Calls that wait for room").
    if (!receiver.hasRoom(endpoint) && !endpoint.contract.callsOnly) return Status.E_QUEUE_FULL;
    const caps = takeCaps(caller, message.caps);
    if (typeof caps === "number") return caps;
    const reply = new Reply(caller, buffer, endpoint, endpoint.state);
    endpoint.state = allowed.next;
    endpoint.contract.taken[allowed.index]!++;
    caller.waitCancel = () => {
      reply.caller = null;
    };
    this.observer?.message(caller, receiver, true);
    return this.awaitReply(caller, buffer, this.post(receiver, { label: message.label, words, caps, badge: through.badge, reply: new Capability(reply, 0), endpoint }, caller)!);
  }

  /**
   * A call a personality makes for `caller` (a WASI program's fd_write on a stream, say): as
   * `call` through `through` with the capabilities `rawCaps` names in its table, the reply going to `buffer` (kernel-held, with
   * an inbox). The caller waits as for its own call, and a dead server answers E_PEER_DEAD.
   */
  callFor(caller: Process, through: Capability, label: number, words: Uint32Array, buffer: MessageBuffer, rawCaps: readonly number[] = []): number | Promise<number> {
    const receiver = through.object;
    if (!(receiver instanceof Receiver)) return Status.E_WRONG_TYPE;
    if (!through.has(Rights.RECEIVER_CALL)) return Status.E_MISSING_RIGHT;
    if (receiver.destroyed) return Status.E_PEER_DEAD;
    if (through.endpoint !== null) return this.contractCall(caller, through, receiver, { label, words, caps: rawCaps }, words, buffer);
    if (receiver.full) return Status.E_QUEUE_FULL;
    const caps = takeCaps(caller, rawCaps);
    if (typeof caps === "number") return caps;
    const reply = new Reply(caller, buffer);
    caller.waitCancel = () => {
      reply.caller = null;
    };
    this.observer?.message(caller, receiver, true);
    return this.awaitReply(caller, buffer, this.post(receiver, { label, words, caps, badge: through.badge, reply: new Capability(reply, 0), endpoint: null }, caller)!);
  }

  /**
   * Invoking a reply capability: deliver, destroy it, and with `recv` go on to receive (until the
   * timeout header word 4 gives, with RECV_TIMEOUT: a server that must wake when idle keeps its
   * one-invoke turn).
   */
  reply(inv: Invocation, reply: Reply, wakeAtNs = 0): number | Promise<number> {
    const { message, caller: server } = inv;
    if (messageBytes(message.words.length, message.caps.length) > reply.buffer.capacity) return Status.E_BAD_MESSAGE;
    let recv: Receiver | null = null;
    const recvIndex = (message.recv & ~RECV_TIMEOUT) >>> 0;
    if (recvIndex !== 0) {
      const found = this.receiverArgument(server, recvIndex);
      if (typeof found === "number") return found;
      recv = found;
    }
    // RECV_TIMEOUT: the wait ends timeoutUs from now — from the clock the handoff reads, when
    // there is one (a clock read is a tenth of a null round trip on the host).
    const timeoutNs = recv && (message.recv & RECV_TIMEOUT) !== 0 ? message.timeoutUs * 1000 : Infinity;
    const endpoint = reply.endpoint;
    let next = 0;
    let taken = 0;
    if (endpoint !== null) {
      const allowed = checkContractMessage(server, endpoint, message, Direction.TO_CLIENT, false);
      if (typeof allowed === "number") return allowed;
      next = allowed.next;
      taken = allowed.index;
    }
    const caps = takeCaps(server, message.caps);
    if (typeof caps === "number") return caps;
    if (endpoint !== null) {
      endpoint.state = next;
      endpoint.contract.taken[taken]!++;
      reply.endpoint = null;
    }
    const target = reply.claim();
    server.caps.take(inv.capIndex)?.dispose();
    const envelope: Envelope = { label: message.label, words: message.words, caps, badge: 0, reply: null, endpoint: null };
    let result: number = Status.E_PEER_DEAD;
    if (target) {
      result = deliver(target, reply.buffer, envelope, true);
      // Its buffer is paged out: the caller takes the answer once it has paged it in (awaitReply).
      if (result === BUFFER_PAGED_OUT) target.heldReply = envelope;
      else if (result !== Status.OK) disposeEnvelope(envelope);
    } else {
      disposeEnvelope(envelope);
    }
    // Only REPLY_AT gives a wake time: a plain reply reads no clock for it (a clock read is
    // a tenth of a null round trip on the host).
    const later = wakeAtNs > 0 && wakeAtNs > this.clock.monotonicNs();
    if (!recv) {
      if (!target) return Status.E_PEER_DEAD;
      this.answer(target, result, later, wakeAtNs, server);
      return Status.OK;
    }
    const immediate = target ? this.tryDeliver(server, recv.alone, inv.buffer) : null;
    if (!target || immediate !== null) {
      const deadline = this.deadlineIn(timeoutNs);
      if (target) this.answer(target, result, later, wakeAtNs, server);
      if (immediate === BUFFER_PAGED_OUT) return this.bufferBack(server, inv.buffer).then(() => this.receiveOn(server, recv.alone, inv.buffer, deadline));
      return immediate ?? this.receiveOn(server, recv.alone, inv.buffer, deadline);
    }
    // Nothing queued: the server waits and the caller runs at once with its answer.
    this.waitOn(server, recv.alone, inv.buffer);
    let wait: Promise<number>;
    let deadline: number;
    if (!later && this.scheduler.canHandoff(target)) {
      wait = this.scheduler.handoff<number>(server, target, result);
      // The handoff read the clock (the target's run starts then), and nothing ran since.
      deadline = timeoutNs === Infinity ? Infinity : target.runStartNs + timeoutNs;
      this.scheduler.setDeadline(server, deadline);
    } else {
      this.answer(target, result, later, wakeAtNs, server);
      deadline = this.deadlineIn(timeoutNs);
      wait = this.scheduler.waitUntil<number>(server, deadline) as Promise<number>;
    }
    // Without paging no promise more, and no closure made, on every reply's way.
    if (this.pageIn === null) return wait;
    return this.whenBufferBack(server, inv.buffer, wait, () => this.receiveOn(server, recv.alone, inv.buffer, deadline));
  }

  /** The monotonic time `timeoutNs` from now (Infinity: no clock read). */
  private deadlineIn(timeoutNs: number): number {
    return timeoutNs === Infinity ? Infinity : this.clock.monotonicNs() + timeoutNs;
  }

  /** Ends a caller's wait for its reply with `result`: now, or at `wakeAtNs` (REPLY_AT) when `later`. */
  private answer(caller: Process, result: number, later: boolean, wakeAtNs: number, replier: Process): void {
    if (later) this.scheduler.wakeAt(caller, result, wakeAtNs, replier);
    else this.scheduler.wake(caller, result, true);
  }

  /**
   * `replier` ended: each caller still waiting for the deadline of a reply it gave with REPLY_AT
   * returns now, E_PEER_DEAD (the reply stays written in its buffer, any capabilities in its
   * table; one its buffer could not take yet is disposed). Before, a server could answer for a
   * far deadline and end, and its caller stayed blocked until then, holding nothing.
   */
  replierEnded(replier: Process): void {
    for (const caller of this.scheduler.takeDeferredAnswers(replier)) {
      if (caller.heldReply) disposeEnvelope(caller.heldReply);
      caller.heldReply = null;
      this.scheduler.wake(caller, Status.E_PEER_DEAD);
    }
  }

  /**
   * REPLY_AT: the reply in words 2 on (its label, then its words; the capabilities as a reply's)
   * is given now, but the caller takes it only once the kernel's monotonic clock reaches the
   * deadline in words 0-1 (ns, low first). A server that answers at a time (the timer driver)
   * keeps no table of its callers: each waits as one of the kernel's sleepers.
   */
  replyAt(inv: Invocation, reply: Reply): number | Promise<number> {
    const words = inv.message.words;
    if (words.length < 3) return Status.E_INVALID_ARGUMENT;
    const label = words[2]!;
    if (label >= KERNEL_LABEL_BASE) return Status.E_INVALID_ARGUMENT;
    const wakeAtNs = words[1]! * 0x1_0000_0000 + words[0]!;
    const message: Message = { ...inv.message, label, words: words.subarray(3) };
    return this.reply({ ...inv, message }, reply, wakeAtNs);
  }

  /** RECEIVER_RECEIVE: this Receiver and up to four more; the index of the one that delivered. */
  receive(inv: Invocation, first: Receiver): number | Promise<number> {
    const receivers = [first];
    for (let i = 0; i < inv.message.caps.length; i++) {
      const cap = argumentCap(inv, i);
      if (!cap) return Status.E_INVALID_CAP;
      if (cap.object.kind !== ObjectKind.RECEIVER) return Status.E_WRONG_TYPE;
      if (!cap.has(Rights.RECEIVER_RECEIVE)) return Status.E_MISSING_RIGHT;
      if (cap.object.destroyed) return Status.E_PEER_DEAD;
      receivers.push(cap.object as Receiver);
    }
    const deadline = deadlineFrom(inv.message.words, 0, this.clock.monotonicNs());
    return this.receiveOn(inv.caller, receivers, inv.buffer, deadline);
  }

  private receiveOn(process: Process, receivers: readonly Receiver[], buffer: MessageBuffer, deadline: number): number | Promise<number> {
    const again = () => this.receiveOn(process, receivers, buffer, deadline);
    const ready = this.tryDeliver(process, receivers, buffer);
    if (ready === BUFFER_PAGED_OUT) return this.bufferBack(process, buffer).then(again);
    if (ready !== null) return ready;
    if (deadline <= this.clock.monotonicNs()) return Status.E_TIMEOUT;
    this.waitOn(process, receivers, buffer);
    // Woken with its result: a Receiver's index, E_TIMEOUT, E_PEER_DEAD, or why delivery failed.
    return this.whenBufferBack(process, buffer, this.scheduler.waitUntil<number>(process, deadline) as Promise<number>, again);
  }

  /**
   * A caller's wait for its answer; told BUFFER_PAGED_OUT, it pages its buffer in and takes the
   * answer held for it. Without paging the wait as it is (no promise more on the call's way).
   */
  private awaitReply(caller: Process, buffer: MessageBuffer, wait: Promise<number>): Promise<number> {
    if (this.pageIn === null) return wait;
    return this.whenBufferBack(caller, buffer, wait, () => this.takeHeldReply(caller, buffer));
  }

  private takeHeldReply(caller: Process, buffer: MessageBuffer): number | Promise<number> {
    const envelope = caller.heldReply;
    caller.heldReply = null;
    if (envelope === null) return Status.E_PEER_DEAD;
    const result = deliver(caller, buffer, envelope, true);
    if (result === BUFFER_PAGED_OUT) {
      caller.heldReply = envelope;
      return this.bufferBack(caller, buffer).then(() => this.takeHeldReply(caller, buffer));
    }
    if (result !== Status.OK) disposeEnvelope(envelope);
    return result;
  }

  /** `wait`, or, when it ends with BUFFER_PAGED_OUT, the buffer paged in and then `again`. */
  private whenBufferBack(process: Process, buffer: MessageBuffer, wait: Promise<number>, again: () => number | Promise<number>): Promise<number> {
    if (this.pageIn === null) return wait;
    return wait.then((value) => (value === BUFFER_PAGED_OUT ? this.bufferBack(process, buffer).then(again) : value));
  }

  /** Brings `buffer`'s pages back (the process blocks; others run) and keeps them for the rest of its call. */
  private bufferBack(process: Process, buffer: MessageBuffer): Promise<void> {
    const out = process.space.firstPagedOut(buffer.ptr >>> 0, buffer.capacity);
    // None out: the buffer's page wants a frame (FramesRequired), which a page-in makes.
    return this.pageIn!(process, out >= 0 ? out * 4096 : buffer.ptr >>> 0).then(() => {
      process.space.callRanges.push(buffer.ptr >>> 0, buffer.capacity);
    });
  }

  private waitOn(process: Process, receivers: readonly Receiver[], buffer: MessageBuffer): void {
    const waiter: ReceiveWaiter = { process, receivers, buffer };
    process.awaitedBuffer = buffer;
    attachWaiter(waiter);
    process.waitCancel = () => detachWaiter(waiter);
  }

  /** Delivers the first queued message: the Receiver's index, a status, or null if all are empty. */
  private tryDeliver(process: Process, receivers: readonly Receiver[], buffer: MessageBuffer): number | null {
    for (let i = 0; i < receivers.length; i++) {
      const receiver = receivers[i]!;
      if (receiver.destroyed) return Status.E_PEER_DEAD;
      const envelope = receiver.take();
      if (!envelope) continue;
      const status = deliver(process, buffer, envelope, false);
      if (status !== Status.OK) {
        receiver.putBack(envelope);
        return status;
      }
      return i;
    }
    return null;
  }

  private receiverArgument(process: Process, index: number): Receiver | number {
    const cap = process.caps.get(index);
    if (!cap) return Status.E_INVALID_CAP;
    if (cap.object.kind !== ObjectKind.RECEIVER) return Status.E_WRONG_TYPE;
    if (!cap.has(Rights.RECEIVER_RECEIVE)) return Status.E_MISSING_RIGHT;
    if (cap.object.destroyed) return Status.E_PEER_DEAD;
    return cap.object as Receiver;
  }
}

const NO_INDICES: number[] = [];

/**
 * The wake value of a wait whose buffer a delivery found paged out (Ipc.pageIn): the kernel's
 * own, never an invoke's result (the wait pages the buffer in and takes its message instead).
 */
const BUFFER_PAGED_OUT = -0x7fff_ff00;

/** An envelope that outlives the invoke that made it: its words leave the sender's buffer. */
function kept(envelope: Envelope): Envelope {
  return { ...envelope, words: envelope.words.slice() };
}

/**
 * Writes a message into a process's buffer and installs its capabilities: always for an answer
 * the process asked for (`solicited`), otherwise only while it listens. On an error nothing
 * changes and the caller keeps the envelope.
 */
function deliver(process: Process, buffer: MessageBuffer, envelope: Envelope, solicited: boolean): number {
  const accept = solicited || process.listening;
  const capCount = accept ? envelope.caps.length : 0;
  let writable: number;
  try {
    writable = canWrite(process, buffer, envelope.words.length, capCount);
  } catch (error) {
    if (error instanceof PageInRequired) return BUFFER_PAGED_OUT;
    throw error;
  }
  if (writable !== Status.OK) return writable;
  const indices: number[] = envelope.caps.length === 0 ? NO_INDICES : [];
  for (const cap of envelope.caps) {
    const index = accept ? process.caps.install(cap) : 0;
    if (index === 0) cap.dispose();
    if (accept) indices.push(index);
  }
  let replyIndex = 0;
  if (envelope.reply) {
    replyIndex = process.caps.install(envelope.reply);
    // No slot for it: the caller learns at once that no answer will come.
    if (replyIndex === 0) envelope.reply.dispose();
  }
  writeMessage(process, buffer, envelope.label, envelope.words, indices, envelope.badge, replyIndex);
  return Status.OK;
}
