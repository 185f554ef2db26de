import { PAGE_SIZE } from "../constants.ts";
import { Status } from "../errors.ts";
import { MAX_MESSAGE_WORDS, type MessageBuffer } from "../message.ts";
import type { Process } from "../process.ts";
import { type Envelope, disposeEnvelope } from "./envelope.ts";
import type { Capability } from "./capability.ts";
import type { Contract } from "./contract.ts";
import { ContractEndpoint } from "./contract-endpoint.ts";
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
 *
 * With a contract (RECEIVER_SET_CONTRACT, before any send or call capability exists), every send
 * and call capability minted from it is a ContractEndpoint. When the contract bounds the messages
 * an endpoint can have outstanding (every cycle of its states has a message each way), each
 * endpoint is reserved that many slots *beyond* `capacity`, so a reserved endpoint's message
 * always finds room however many endpoints there are; `capacity` bounds the rest (the kernel's
 * notices, endpoints of a contract that bounds nothing): `unreservedQueued <= capacity`.
 *
 * Reservations used to come out of `capacity`, and the kernel refused to mint or copy an endpoint
 * past it (E_QUEUE_FULL): so any client could copy its endpoint until the queue was all reserved,
 * and from then on nobody else could get one. A program holding "program-log" or "pipe" so kept
 * every other process from the log and every pipeline from its pipe. Now an endpoint costs its
 * server nothing until it sends, and what its messages can hold (bound × one message) is paid
 * for by whatever holds the capability: a process's table, or a Cappage's slot (docs/CONTRACTS.md
 * "Queue bounds").
 *
 * Calls that wait for room: when every `?` message of the contract must be called
 * (Contract.callsOnly), an endpoint's holder waits in each call it makes, so one process has at
 * most one call on its way, whatever endpoints it holds. Such endpoints reserve nothing, and a
 * call that finds the queue full waits behind it (`waitingCalls`, oldest first) instead of failing:
 * it enters the queue as soon as a message is taken. So the queue never refuses a call, its
 * capacity bounds what it holds unreserved, and what waits behind it is bounded by the processes
 * blocked in a call, each of which holds one: the memory of a waiting call is its caller's, as in
 * L4. Invariant: a call waits only while the queue has no room for it.
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
  /** The protocol every message on its send and call capabilities must follow, or null. */
  contract: Contract | null = null;
  /** Send and call capabilities to it: a contract may only be set while there are none. */
  clientCaps = 0;
  /** Queue slots kept for reserved endpoints (boundPerEndpoint each). */
  reservedSlots = 0;
  /** Queued messages that are not a reserved endpoint's. */
  unreservedQueued = 0;
  /** Calls of a contract of calls only that found the queue full, oldest first: each enters it when a message is taken. */
  readonly waitingCalls: Envelope[] = [];
  /**
   * The process that took a capability to receive here last, for the inspector (inspect.ts,
   * "received by"); null when none holds one, or when the one known let its capability go (`receivedByLost`:
   * others may hold one; the inspector then looks among every process once and remembers what it
   * found). Without it, describing one process's table walked every live process's table (93 ms
   * at 10,000 live, issue 18).
   */
  receivedBy: Process | null = null;
  receivedByLost = false;

  constructor(capacity: number) {
    super();
    this.capacity = capacity;
  }

  override installedIn(process: Process, cap: Capability): void {
    // The latest: a Receiver's maker (init) often hands it to the server that receives on it.
    if (cap.has(Rights.RECEIVER_RECEIVE)) this.receivedBy = process;
  }

  override removedFrom(process: Process, cap: Capability): void {
    if (process === this.receivedBy && cap.has(Rights.RECEIVER_RECEIVE)) {
      this.receivedBy = null;
      this.receivedByLost = true;
    }
  }

  get queued(): number {
    return this.queue.length - this.head;
  }

  /** Whether a message from no reserved endpoint (a plain one, the kernel's) would find the queue full. */
  get full(): boolean {
    if (this.contract === null) return this.queued >= this.capacity;
    return this.unreservedQueued >= this.capacity;
  }

  /** Whether a message from `endpoint` (null: none) finds room. A reserved endpoint always does. */
  hasRoom(endpoint: ContractEndpoint | null): boolean {
    if (endpoint !== null && endpoint.reserved) return true;
    return !this.full;
  }

  /**
   * Queues a message; false when full (the caller keeps the envelope). A call of a contract of
   * calls only never finds it full: it waits behind the queue.
   */
  enqueue(envelope: Envelope): boolean {
    if (this.destroyed) return false;
    if (!this.hasRoom(envelope.endpoint)) {
      if (!waitsForRoom(envelope)) return false;
      this.waitingCalls.push(envelope);
      return true;
    }
    this.queue.push(envelope);
    this.counted(envelope, 1);
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
    this.counted(envelope, -1);
    this.admitWaitingCalls();
    return envelope;
  }

  /** Moves the calls waiting for room into the queue, oldest first, while it has room for them. */
  private admitWaitingCalls(): void {
    while (this.waitingCalls.length > 0 && this.hasRoom(this.waitingCalls[0]!.endpoint)) {
      const envelope = this.waitingCalls.shift()!;
      this.queue.push(envelope);
      this.counted(envelope, 1);
    }
  }

  /** Puts back a message the receiver could not take (its buffer was too small). */
  putBack(envelope: Envelope): void {
    if (this.head > 0) this.queue[--this.head] = envelope;
    else this.queue.unshift(envelope);
    this.counted(envelope, 1);
    // The slot it left may have let a waiting call in (take): that call waits again, first.
    while (this.unreservedQueued > this.capacity && this.queue.length > this.head && waitsForRoom(this.queue[this.queue.length - 1]!)) {
      const admitted = this.queue.pop()!;
      this.counted(admitted, -1);
      this.waitingCalls.unshift(admitted);
    }
  }

  /** Keeps the contract's counts as a message enters (+1) or leaves (-1) the queue. */
  private counted(envelope: Envelope, delta: number): void {
    if (this.contract === null) return;
    const endpoint = envelope.endpoint;
    if (endpoint === null || !endpoint.reserved) {
      this.unreservedQueued += delta;
      if (endpoint !== null) endpoint.queued += delta;
      return;
    }
    endpoint.queued += delta;
    if (endpoint.closed && endpoint.queued === 0) this.unreserve(endpoint);
  }

  /**
   * What is wrong with the contract's queue accounting, recounted from the queue (for
   * src/kernel/invariants.ts): every message of a reserved endpoint counted against its slots and
   * no more than its bound of them, the rest counted as unreserved and within capacity.
   */
  contractAccountingErrors(): string[] {
    const contract = this.contract;
    if (contract === null) return [];
    const broken: string[] = [];
    const perEndpoint = new Map<ContractEndpoint, number>();
    let unreserved = 0;
    for (let i = this.head; i < this.queue.length; i++) {
      const endpoint = this.queue[i]!.endpoint;
      if (endpoint !== null && endpoint.reserved) perEndpoint.set(endpoint, (perEndpoint.get(endpoint) ?? 0) + 1);
      else unreserved++;
    }
    if (unreserved !== this.unreservedQueued) broken.push(`contract ${contract.name}: ${unreserved} unreserved messages queued, counted ${this.unreservedQueued}`);
    for (const [endpoint, count] of perEndpoint) {
      if (count !== endpoint.queued) broken.push(`contract ${contract.name}: an endpoint has ${count} messages queued, counted ${endpoint.queued}`);
      if (count > contract.boundPerEndpoint) broken.push(`contract ${contract.name}: an endpoint has ${count} messages queued, beyond its bound ${contract.boundPerEndpoint}`);
    }
    for (const waiting of this.waitingCalls) {
      if (!waitsForRoom(waiting)) broken.push(`contract ${contract.name}: a message waits for room that is no call of a contract of calls only`);
    }
    if (this.waitingCalls.length > 0 && this.hasRoom(this.waitingCalls[0]!.endpoint)) broken.push(`contract ${contract.name}: ${this.waitingCalls.length} calls wait for room while the queue has some`);
    if (this.unreservedQueued > this.capacity) broken.push(`contract ${contract.name}: ${this.unreservedQueued} unreserved messages exceed the capacity ${this.capacity}`);
    return broken;
  }

  /** Takes a contract: its endpoints are the send and call capabilities minted from now on. */
  setContract(contract: Contract): void {
    this.contract = contract;
  }

  /** Reserves the endpoint's slots, beyond the capacity, when its contract bounds them and its messages cannot wait for room. */
  private reserve(endpoint: ContractEndpoint): void {
    if (endpoint.contract.callsOnly) return; // its calls wait for room instead
    const bound = endpoint.contract.boundPerEndpoint;
    if (!Number.isFinite(bound)) return;
    this.reservedSlots += bound;
    endpoint.reserved = true;
  }

  private unreserve(endpoint: ContractEndpoint): void {
    if (!endpoint.reserved) return;
    endpoint.reserved = false;
    this.reservedSlots -= endpoint.contract.boundPerEndpoint;
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
    if ((cap.rights & (Rights.RECEIVER_SEND | Rights.RECEIVER_CALL)) === 0) return;
    this.clientCaps++;
    if (this.contract === null) return;
    const endpoint = new ContractEndpoint(this.contract, 0);
    this.reserve(endpoint);
    cap.endpoint = endpoint;
  }

  /** The last capability that could receive is gone: senders and callers learn it (E_PEER_DEAD). */
  protected override disposed(cap: Capability): void {
    if ((cap.rights & (Rights.RECEIVER_SEND | Rights.RECEIVER_CALL)) !== 0) this.clientCaps--;
    const endpoint = cap.endpoint;
    if (endpoint !== null) {
      endpoint.closed = true;
      if (endpoint.queued === 0) this.unreserve(endpoint);
    }
    if (cap.has(Rights.RECEIVER_RECEIVE) && --this.receiveCaps === 0) this.destroy();
  }

  protected teardown(): void {
    // (take() lets the calls waiting for room in as it goes: they are disposed with the rest.)
    for (let envelope = this.take(); envelope; envelope = this.take()) disposeEnvelope(envelope);
    // Waiters wake and find the Receiver gone.
    for (const waiter of [...this.waiters]) {
      detachWaiter(waiter);
      waiter.process.wakeFromWait(Status.E_PEER_DEAD);
    }
  }
}

/** Whether a message may wait for room in a full queue: a call through an endpoint of a contract of calls only. */
function waitsForRoom(envelope: Envelope): boolean {
  return envelope.reply !== null && envelope.endpoint !== null && envelope.endpoint.contract.callsOnly;
}

export function attachWaiter(waiter: ReceiveWaiter): void {
  for (const receiver of waiter.receivers) receiver.waiters.push(waiter);
}

export function detachWaiter(waiter: ReceiveWaiter): void {
  for (const receiver of waiter.receivers) {
    const waiters = receiver.waiters;
    const at = waiters.indexOf(waiter);
    // The usual cases without splice, which makes an array of what it takes out (garbage on every
    // call's and reply's way): the only waiter by pop, which keeps the list's storage for the next
    // push (shift gives up a slot of it each time), the oldest (takeWaiter) by shift.
    if (at < 0) continue;
    if (at === waiters.length - 1) waiters.pop();
    else if (at === 0) waiters.shift();
    else waiters.splice(at, 1);
  }
}
