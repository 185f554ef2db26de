import { Status } from "../errors.ts";
import { type MessageBuffer, messageBytes } from "../message.ts";
import type { Process } from "../process.ts";
import { type Scheduler, TIMED_OUT } from "../scheduler.ts";
import { canWrite, writeMessage } from "../message.ts";
import { Capability } from "./capability.ts";
import { type Envelope, disposeEnvelope } from "./envelope.ts";
import { type Invocation, argumentCap, deadlineFrom, takeCaps } from "./invocation.ts";
import { ObjectKind, Rights } from "./object-abi.ts";
import { type ReceiveWaiter, Receiver, attachWaiter, detachWaiter } from "./receiver.ts";
import { Reply } from "./reply.ts";

/** Wake values of IPC waits. */
const MESSAGE = Symbol("message");
const RECEIVER_GONE = "receiver-gone";
const PEER_DEAD = "peer-dead";

/**
 * Send, call, reply and receive: moving messages between buffers through Receivers, and the
 * direct switches that make a call cost two context switches and nothing more.
 */
export class Ipc {
  private readonly scheduler: Scheduler;
  private readonly clock: { monotonicNs(): number };

  constructor(scheduler: Scheduler, clock: { monotonicNs(): number }) {
    this.scheduler = scheduler;
    this.clock = clock;
  }

  /** Asynchronous send: queued at once, or E_QUEUE_FULL. */
  send(inv: Invocation, receiver: Receiver): number {
    if (receiver.full) return Status.E_QUEUE_FULL;
    const caps = takeCaps(inv.caller, inv.message.caps);
    if (typeof caps === "number") return caps;
    const { label, words } = inv.message;
    receiver.enqueue({ label, words, caps, badge: inv.cap.badge, reply: null });
    const waiter = receiver.takeWaiter();
    if (waiter) this.scheduler.wake(waiter.process, MESSAGE);
    return Status.OK;
  }

  /** A message from the kernel itself (monitors, interrupts); false when it could not be queued. */
  kernelSend(through: Capability, label: number, words: number[]): boolean {
    const receiver = through.object;
    if (!(receiver instanceof Receiver) || receiver.destroyed) return false;
    if (!receiver.enqueue({ label, words: Uint32Array.from(words), caps: [], badge: through.badge, reply: null })) return false;
    const waiter = receiver.takeWaiter();
    if (waiter) this.scheduler.wake(waiter.process, MESSAGE);
    return true;
  }

  /** Send and wait for the reply; switches straight to a waiting receiver. */
  call(inv: Invocation, receiver: Receiver): number | Promise<number> {
    if (receiver.full) return Status.E_QUEUE_FULL;
    const caps = takeCaps(inv.caller, inv.message.caps);
    if (typeof caps === "number") return caps;
    const caller = inv.caller;
    const reply = new Reply(caller, inv.buffer.capacity);
    const { label, words } = inv.message;
    receiver.enqueue({ label, words, caps, badge: inv.cap.badge, reply: new Capability(reply, 0) });
    // Killed while waiting: the reply finds no caller and its server is told E_PEER_DEAD.
    caller.waitCancel = () => {
      reply.caller = null;
    };
    const waiter = receiver.takeWaiter();
    let answered: Promise<Envelope | string | typeof TIMED_OUT>;
    if (waiter && this.scheduler.canHandoff(waiter.process)) {
      answered = this.scheduler.handoff(caller, waiter.process, MESSAGE);
    } else {
      if (waiter) this.scheduler.wake(waiter.process, MESSAGE);
      answered = this.scheduler.waitUntil<Envelope | string>(caller, Infinity);
    }
    return answered.then((value) => this.finishCall(caller, inv.buffer, value));
  }

  /** Invoking a reply capability: deliver, destroy it, and with `recv` go on to receive. */
  reply(inv: Invocation, reply: Reply): number | Promise<number> {
    const { message, caller: server } = inv;
    if (messageBytes(message.words.length, message.caps.length) > reply.capacity) return Status.E_BAD_MESSAGE;
    let recv: Receiver | null = null;
    if (message.recv !== 0) {
      const found = this.receiverArgument(server, message.recv);
      if (typeof found === "number") return found;
      recv = found;
    }
    const caps = takeCaps(server, message.caps);
    if (typeof caps === "number") return caps;
    const target = reply.claim();
    server.caps.take(inv.capIndex)?.dispose();
    const envelope: Envelope = { label: message.label, words: message.words, caps, badge: 0, reply: null };
    if (!target) {
      disposeEnvelope(envelope);
      if (!recv) return Status.E_PEER_DEAD;
      return this.receiveOn(server, [recv], inv.buffer, Infinity);
    }
    if (!recv) {
      this.scheduler.wake(target, envelope, true);
      return Status.OK;
    }
    const immediate = this.tryDeliver(server, [recv], inv.buffer);
    if (immediate !== null) {
      this.scheduler.wake(target, envelope, true);
      return immediate;
    }
    const waiting = this.waitOn(server, [recv]);
    const woke = this.scheduler.canHandoff(target)
      ? this.scheduler.handoff<unknown>(server, target, envelope)
      : (this.scheduler.wake(target, envelope, true), this.scheduler.waitUntil<unknown>(server, Infinity));
    void waiting;
    return woke.then((value) => this.afterWait(server, [recv], inv.buffer, Infinity, value));
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

  private receiveOn(process: Process, receivers: Receiver[], buffer: MessageBuffer, deadline: number): number | Promise<number> {
    const ready = this.tryDeliver(process, receivers, buffer);
    if (ready !== null) return ready;
    if (deadline <= this.clock.monotonicNs()) return Status.E_TIMEOUT;
    this.waitOn(process, receivers);
    return this.scheduler.waitUntil<unknown>(process, deadline).then((value) => this.afterWait(process, receivers, buffer, deadline, value));
  }

  private afterWait(process: Process, receivers: Receiver[], buffer: MessageBuffer, deadline: number, value: unknown): number | Promise<number> {
    if (value === TIMED_OUT) return Status.E_TIMEOUT;
    if (value === RECEIVER_GONE) return Status.E_PEER_DEAD;
    // Someone else may have taken the message first: wait again.
    return this.receiveOn(process, receivers, buffer, deadline);
  }

  private waitOn(process: Process, receivers: Receiver[]): ReceiveWaiter {
    const waiter: ReceiveWaiter = { process, receivers };
    attachWaiter(waiter);
    process.waitCancel = () => detachWaiter(waiter);
    return waiter;
  }

  /** Delivers the first queued message: the Receiver's index, a status, or null if all are empty. */
  private tryDeliver(process: Process, receivers: Receiver[], buffer: MessageBuffer): number | null {
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

  private finishCall(caller: Process, buffer: MessageBuffer, value: unknown): number {
    if (value === PEER_DEAD || typeof value !== "object" || value === null) return Status.E_PEER_DEAD;
    const envelope = value as Envelope;
    const status = deliver(caller, buffer, envelope, true);
    if (status !== Status.OK) disposeEnvelope(envelope);
    return status;
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

/**
 * Writes a message into a process's buffer and installs its capabilities: always for an answer
 * the process asked for (`solicited`), otherwise only while it listens. On an error nothing
 * changes and the caller keeps the envelope.
 */
function deliver(process: Process, buffer: MessageBuffer, envelope: Envelope, solicited: boolean): number {
  const accept = solicited || process.listening;
  const capCount = accept ? envelope.caps.length : 0;
  const writable = canWrite(process, buffer, envelope.words.length, capCount);
  if (writable !== Status.OK) return writable;
  const indices: number[] = [];
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
