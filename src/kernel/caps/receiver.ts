import { PAGE_SIZE } from "../constants.ts";
import { Status } from "../errors.ts";
import { MAX_MESSAGE_WORDS, type MessageBuffer } from "../message.ts";
import type { Process } from "../process.ts";
import { type Envelope, disposeEnvelope } from "./envelope.ts";
import type { Capability } from "./capability.ts";
import { KernelObject } from "./kernel-object.ts";
import { ObjectKind, Rights } from "./object-abi.ts";

/** A process blocked receiving on one or more Receivers. */
export interface ReceiveWaiter {
  readonly process: Process;
  readonly receivers: readonly Receiver[];
  /** Where a message for it is written. */
  readonly buffer: MessageBuffer;
}

/** Messages of queue one page of a Memory pays for: 256 bytes each, a full message's data. */
const MESSAGES_PER_PAGE = PAGE_SIZE / (4 * MAX_MESSAGE_WORDS);

/** Pages a Receiver costs its Memory: its queue is kernel memory. */
export function receiverPages(capacity: number): number {
  return Math.max(1, Math.ceil(capacity / MESSAGES_PER_PAGE));
}

/**
 * A bounded queue of messages for the process that receives from it. Senders never block: a full
 * queue is an error at once. A waiting receiver is woken by the first message.
 *
 * Invariants: `queue.length <= capacity`; a waiter is listed only while it is blocked in receive,
 * and is listed on every Receiver it waits on.
 */
export class Receiver extends KernelObject {
  readonly kind = ObjectKind.RECEIVER;
  readonly capacity: number;
  private readonly queue: Envelope[] = [];
  private head = 0;
  readonly waiters: ReceiveWaiter[] = [];
  /** Capabilities that may receive: when the last goes, nothing sent here could ever be read. */
  private receiveCaps = 0;
  /** This Receiver as a list of one, for the common single-receiver wait. */
  readonly alone: readonly Receiver[] = [this];

  constructor(capacity: number) {
    super();
    this.capacity = capacity;
  }

  get queued(): number {
    return this.queue.length - this.head;
  }

  get full(): boolean {
    return this.queued >= this.capacity;
  }

  /** Queues a message; false when full (the caller keeps the envelope). */
  enqueue(envelope: Envelope): boolean {
    if (this.destroyed || this.full) return false;
    this.queue.push(envelope);
    return true;
  }

  take(): Envelope | null {
    if (this.head >= this.queue.length) return null;
    const envelope = this.queue[this.head]!;
    this.queue[this.head++] = undefined as unknown as Envelope;
    if (this.head > 64 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    return envelope;
  }

  /** Puts back a message the receiver could not take (its buffer was too small). */
  putBack(envelope: Envelope): void {
    if (this.head > 0) this.queue[--this.head] = envelope;
    else this.queue.unshift(envelope);
  }

  /** The first process waiting here, taken off every Receiver it waits on. */
  takeWaiter(): ReceiveWaiter | null {
    const waiter = this.waiters[0];
    if (!waiter) return null;
    detachWaiter(waiter);
    return waiter;
  }

  protected override created(cap: Capability): void {
    if (cap.has(Rights.RECEIVER_RECEIVE)) this.receiveCaps++;
  }

  /** The last capability that could receive is gone: senders and callers learn it (E_PEER_DEAD). */
  protected override disposed(cap: Capability): void {
    if (cap.has(Rights.RECEIVER_RECEIVE) && --this.receiveCaps === 0) this.destroy();
  }

  protected teardown(): void {
    for (let envelope = this.take(); envelope; envelope = this.take()) disposeEnvelope(envelope);
    // Waiters wake and find the Receiver gone.
    for (const waiter of [...this.waiters]) {
      detachWaiter(waiter);
      waiter.process.wakeFromWait(Status.E_PEER_DEAD);
    }
  }
}

export function attachWaiter(waiter: ReceiveWaiter): void {
  for (const receiver of waiter.receivers) receiver.waiters.push(waiter);
}

export function detachWaiter(waiter: ReceiveWaiter): void {
  for (const receiver of waiter.receivers) {
    const at = receiver.waiters.indexOf(waiter);
    if (at >= 0) receiver.waiters.splice(at, 1);
  }
}
