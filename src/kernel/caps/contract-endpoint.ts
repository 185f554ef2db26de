import { Status } from "../errors.ts";
import type { Process } from "../process.ts";
import type { Capability } from "./capability.ts";
import { CapKind, type Contract, type ContractMessage, Direction } from "./contract.ts";
import { CAP_MOVE, ObjectKind, Rights } from "./object-abi.ts";

/**
 * One client end of a contract channel: a send or call capability minted from a Receiver that has
 * a contract, and where in the contract it stands. Each capability is its own endpoint (a copy
 * starts where its original stands; a move keeps it); the server's side of each exchange is the
 * Reply of the call, which answers from the state the call led to.
 *
 * Invariants: `state` is a state of `contract`; `queued` counts this endpoint's messages in the
 * Receiver's queue; while `reserved`, the Receiver keeps `contract.boundPerEndpoint` slots of its
 * queue for this endpoint alone, and `queued` never exceeds them (the contract allows no more
 * before an answer comes back), so its sends never find the queue full.
 */
export class ContractEndpoint {
  readonly contract: Contract;
  state: number;
  queued = 0;
  reserved = false;
  /** Its capability was disposed: the reservation goes once its queued messages have been taken. */
  closed = false;

  constructor(contract: Contract, state: number) {
    this.contract = contract;
    this.state = state;
  }
}

/** Whether `label` is a `?` message the endpoint's state allows after which no reply can come: one to send, not call. */
export function isOneWay(endpoint: ContractEndpoint, label: number): boolean {
  const found = endpoint.contract.find(endpoint.state, label, Direction.TO_SERVER);
  return found !== null && !endpoint.contract.allows(found.next, Direction.TO_CLIENT);
}

/** What of a message a contract looks at. */
export interface ContractedMessage {
  readonly label: number;
  readonly words: ArrayLike<number>;
  /** Capability indices in the sender's table (CAP_MOVE bits allowed). */
  readonly caps: ArrayLike<number>;
}

/** What a process was last refused, for PROCESS_CONTRACT_REFUSAL. */
export interface ContractRefusal {
  readonly state: number;
  readonly label: number;
  readonly direction: number;
  readonly text: string;
}

/**
 * Checks a message against the state `endpoint` is in: the message `direction` allows in that
 * state, its words and its capabilities (looked up in `sender`'s table, before any is taken).
 * `call` says whether an answer must follow: a call into a state that allows no reply could never
 * be answered. The message the contract allows, or E_CONTRACT with the refusal kept in `sender`.
 */
export function checkContractMessage(sender: Process, endpoint: ContractEndpoint, message: ContractedMessage, direction: number, call: boolean): ContractMessage | number {
  const { contract, state } = endpoint;
  const allowed = contract.find(state, message.label, direction);
  let why: string | null = null;
  if (!allowed) {
    why = `does not allow ${messageName(contract, message.label, direction)}`;
  } else if (message.words.length < allowed.minWords || message.words.length > allowed.maxWords) {
    why = `takes ${allowed.name} with ${range(allowed.minWords, allowed.maxWords)} words, not ${message.words.length}`;
  } else {
    why = capsMismatch(sender, allowed, message.caps);
    if (why === null && call && !contract.allows(allowed.next, Direction.TO_CLIENT)) {
      why = `leads ${allowed.name} to state ${contract.stateNames[allowed.next]}, where no reply is allowed: send it, do not call`;
    }
    if (why === null && !call && direction === Direction.TO_SERVER && contract.allows(allowed.next, Direction.TO_CLIENT) && !contract.allows(allowed.next, Direction.TO_SERVER)) {
      why = `leads ${allowed.name} to state ${contract.stateNames[allowed.next]}, which only a reply leaves: call it, do not send`;
    }
  }
  if (why === null) return allowed!;
  const allowedHere = contract.states[state]!.map((m) => `${m.name}${m.direction === Direction.TO_SERVER ? "?" : "!"}`).join(", ");
  sender.contractRefusal = {
    state,
    label: message.label,
    direction,
    text: `contract ${contract.name}, state ${contract.stateNames[state]}: ${why} (allowed: ${allowedHere || "nothing"})`,
  };
  return Status.E_CONTRACT;
}

/** A label as the contract names it in that direction in any state ("Write? (label 1)"), or just the label. */
function messageName(contract: Contract, label: number, direction: number): string {
  const mark = direction === Direction.TO_SERVER ? "?" : "!";
  for (const messages of contract.states) {
    const known = messages.find((m) => m.label === label && m.direction === direction);
    if (known) return `${known.name}${mark} (label ${label})`;
  }
  return `${mark} label ${label}`;
}

function range(min: number, max: number): string {
  return min === max ? `${min}` : `${min} to ${max}`;
}

/** Why the capabilities a message names do not fit the contract's message, or null when they do. */
function capsMismatch(sender: Process, allowed: ContractMessage, raw: ArrayLike<number>): string | null {
  if (raw.length < allowed.minCaps || raw.length > allowed.maxCaps) {
    return `takes ${allowed.name} with ${range(allowed.minCaps, allowed.maxCaps)} capabilities, not ${raw.length}`;
  }
  for (let i = 0; i < raw.length; i++) {
    const want = allowed.capKinds[i]!;
    if (want === CapKind.ANY) continue;
    const cap = sender.caps.get(raw[i]! & ~CAP_MOVE);
    // A bad index is the message's own error (E_INVALID_CAP), found when it is taken.
    if (!cap) continue;
    if (!capFits(cap, want)) return `takes ${allowed.name}'s capability ${i} as a ${kindName(want)}, not a ${capName(cap)}`;
  }
  return null;
}

function capFits(cap: Capability, want: number): boolean {
  const kind = cap.object.kind;
  if (want === CapKind.REGION) return kind === ObjectKind.REGION && cap.has(Rights.REGION_OWNER);
  if (want === CapKind.VIEW) return kind === ObjectKind.REGION && !cap.has(Rights.REGION_OWNER);
  return kind === want;
}

const KIND_NAMES = new Map<number, string>(Object.entries(CapKind).map(([name, code]) => [code, name.toLowerCase()]));

function kindName(kind: number): string {
  return KIND_NAMES.get(kind) ?? `kind ${kind}`;
}

function capName(cap: Capability): string {
  if (cap.object.kind === ObjectKind.REGION) return cap.has(Rights.REGION_OWNER) ? "region" : "view";
  return kindName(cap.object.kind);
}
