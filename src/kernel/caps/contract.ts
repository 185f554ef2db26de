import { MAX_MESSAGE_CAPS, MAX_MESSAGE_WORDS } from "../message.ts";
import { ObjectKind } from "./object-abi.ts";

/**
 * A contract as the kernel holds it: the compiled table of a protocol's state machine
 * (src/contracts compiles the text; docs/CONTRACTS.md), decoded and validated once when a
 * Receiver takes it (RECEIVER_SET_CONTRACT). Every message on the Receiver's endpoints is then
 * looked up here: which state allows it, in which direction, with what payload, and where it leads.
 *
 * The table, little-endian u32 words:
 *   0 CONTRACT_MAGIC · 1 total words · 2 states S · 3 messages M · 4 the contract's name (a text ref)
 *   5 … 5+S-1           each state's name (text ref); state 0 is the initial state
 *   then S pairs        each state's first message and message count (its messages are contiguous)
 *   then M × 5 words    label, shape, caps, next state, name (text ref)
 *   then                the text area's byte length, then its UTF-8 bytes, four to a word
 * A text ref is `offset | length << 16` into the text area. A message's shape word: bit 0 the
 * direction (0 `?` to the server, 1 `!` to the client), bits 8-15 the least data words, bits
 * 16-23 the most. Its caps word: bits 4i..4i+3 the kind of capability i (CapKind), bits 16-18 the
 * least capabilities, 19-21 the most.
 *
 * Invariants once decoded: every index is in range, a state never allows two messages of one
 * label and direction, words and capability counts fit a message, names are UTF-8 without a
 * control character.
 */

export const CONTRACT_MAGIC = 0x5443_4744; // "DGCT"
/** Bounds on what a contract may hold: its work in the kernel is linear in these. */
export const MAX_CONTRACT_STATES = 64;
export const MAX_CONTRACT_MESSAGES = 512;
export const MAX_CONTRACT_BYTES = 16384;
export const MESSAGE_ENTRY_WORDS = 5;

/** A message's direction: to the server (`?`, sent or called by a client) or to the client (`!`, a reply). */
export const Direction = { TO_SERVER: 0, TO_CLIENT: 1 } as const;

/** The kinds a contract names for a message's capabilities: object kinds, and two of its own. */
export const CapKind = {
  ANY: 0,
  MEMORY: ObjectKind.MEMORY,
  PROCESS: ObjectKind.PROCESS,
  RECEIVER: ObjectKind.RECEIVER,
  REPLY: ObjectKind.REPLY,
  PAGE: ObjectKind.PAGE,
  CAPPAGE: ObjectKind.CAPPAGE,
  /** A Region owner capability: the Region moves with the message. */
  REGION: ObjectKind.REGION,
  INTERRUPT: ObjectKind.INTERRUPT,
  IMAGE: ObjectKind.IMAGE,
  DEVICE: ObjectKind.DEVICE,
  KERNEL: ObjectKind.KERNEL,
  /** A Region's read-only view: nothing moves. */
  VIEW: 15,
} as const;

const KNOWN_CAP_KINDS = new Set<number>(Object.values(CapKind));
/** A control character (C0, DEL, C1): no name in a table may hold one. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** One message a state allows. */
export interface ContractMessage {
  readonly label: number;
  readonly direction: number;
  readonly minWords: number;
  readonly maxWords: number;
  readonly minCaps: number;
  readonly maxCaps: number;
  /** The kind of each capability position (CapKind), `maxCaps` of them. */
  readonly capKinds: readonly number[];
  readonly next: number;
  readonly name: string;
  /** Its place in the table (0 … messages-1): where `Contract.taken` counts it. */
  readonly index: number;
}

export class Contract {
  readonly name: string;
  readonly stateNames: readonly string[];
  /** Messages by state. */
  readonly states: readonly (readonly ContractMessage[])[];
  /**
   * Messages one endpoint can have on its way to the server before one must come back: the
   * longest run of `?` messages the state machine allows. Finite exactly when every cycle has a
   * message each way; Infinity otherwise.
   */
  readonly boundPerEndpoint: number;
  /**
   * Every `?` message must be called (its next state allows a reply and nothing else): an endpoint's
   * holder waits in each of its calls, so it never has more than that one on its way, whatever
   * endpoints it holds. Such a contract's calls wait for room in a full queue instead of failing,
   * and its endpoints reserve nothing (Receiver, "Calls that wait for room").
   */
  readonly callsOnly: boolean;
  /** Table words. */
  readonly words: number;
  /** How many times each message (by `index`) has passed on this Receiver: which transitions its users exercise. */
  readonly taken: Uint32Array;
  /** Whether each state allows any message to the server, and any to the client (looked up on every call). */
  private readonly toServer: readonly boolean[];
  private readonly toClient: readonly boolean[];

  constructor(name: string, stateNames: string[], states: ContractMessage[][], words: number) {
    this.name = name;
    this.taken = new Uint32Array(states.reduce((sum, messages) => sum + messages.length, 0));
    this.stateNames = stateNames;
    this.states = states;
    this.words = words;
    this.boundPerEndpoint = longestServerRun(states);
    this.toServer = states.map((messages) => messages.some((m) => m.direction === Direction.TO_SERVER));
    this.toClient = states.map((messages) => messages.some((m) => m.direction === Direction.TO_CLIENT));
    this.callsOnly = states.every((messages) =>
      messages.every((m) => m.direction !== Direction.TO_SERVER || (this.toClient[m.next]! && !this.toServer[m.next]!)),
    );
  }

  /** The message `state` allows with this label and direction, or null. */
  find(state: number, label: number, direction: number): ContractMessage | null {
    const messages = this.states[state]!;
    for (let i = 0; i < messages.length; i++) {
      const message = messages[i]!;
      if (message.label === label && message.direction === direction) return message;
    }
    return null;
  }

  /** Whether `state` allows any message in `direction`. */
  allows(state: number, direction: number): boolean {
    return (direction === Direction.TO_SERVER ? this.toServer : this.toClient)[state]!;
  }
}

/** The longest path of `?` messages in the state graph; Infinity when they form a cycle. */
function longestServerRun(states: readonly (readonly ContractMessage[])[]): number {
  const memo = new Array<number>(states.length).fill(-1);
  const onPath = new Array<boolean>(states.length).fill(false);
  const visit = (state: number): number => {
    if (onPath[state]) return Infinity;
    if (memo[state]! >= 0) return memo[state]!;
    onPath[state] = true;
    let longest = 0;
    for (const message of states[state]!) {
      if (message.direction === Direction.TO_SERVER) longest = Math.max(longest, 1 + visit(message.next));
    }
    onPath[state] = false;
    memo[state] = longest;
    return longest;
  };
  let bound = 0;
  for (let s = 0; s < states.length; s++) bound = Math.max(bound, visit(s));
  return bound;
}

/**
 * Decodes and checks a compiled table. Returns the Contract, or why the table is refused (a
 * sentence naming the word at fault): the kernel answers E_INVALID_ARGUMENT and keeps the reason.
 */
export function decodeContract(table: Uint32Array): Contract | string {
  const at = (i: number): number => table[i]!;
  if (table.length < 6) return `a contract table has at least 6 words, this one ${table.length}`;
  if (at(0) !== CONTRACT_MAGIC) return `word 0 is ${hex(at(0))}, not the contract magic ${hex(CONTRACT_MAGIC)}`;
  if (at(1) !== table.length) return `word 1 says ${at(1)} words, the table has ${table.length}`;
  const stateCount = at(2);
  const messageCount = at(3);
  if (stateCount < 1 || stateCount > MAX_CONTRACT_STATES) return `word 2: ${stateCount} states (1 to ${MAX_CONTRACT_STATES})`;
  if (messageCount > MAX_CONTRACT_MESSAGES) return `word 3: ${messageCount} messages (at most ${MAX_CONTRACT_MESSAGES})`;
  const rangesAt = 5 + stateCount;
  const messagesAt = rangesAt + 2 * stateCount;
  const textAt = messagesAt + MESSAGE_ENTRY_WORDS * messageCount;
  if (textAt >= table.length) return `the table ends at word ${table.length}, before its text area (word ${textAt})`;
  const textBytes = at(textAt);
  if (textAt + 1 + Math.ceil(textBytes / 4) !== table.length) return `word ${textAt}: a text area of ${textBytes} bytes does not end the table`;
  const text = new Uint8Array(table.buffer, table.byteOffset + 4 * (textAt + 1), textBytes);
  const decoder = new TextDecoder("utf-8", { fatal: true });
  const textOf = (ref: number): string | null => {
    const offset = ref & 0xffff;
    const length = ref >>> 16;
    if (offset + length > textBytes) return null;
    try {
      const decoded = decoder.decode(text.subarray(offset, offset + length));
      // Names go into refusals a client reads back and prints (PROCESS_CONTRACT_REFUSAL): a server's
      // table must not drive the terminal of whoever prints them (redteam9; printable.ts).
      return CONTROL.test(decoded) ? null : decoded;
    } catch {
      return null;
    }
  };
  const name = textOf(at(4));
  if (name === null) return "word 4: the contract's name is outside the text area or not printable UTF-8";
  const stateNames: string[] = [];
  for (let s = 0; s < stateCount; s++) {
    const stateName = textOf(at(5 + s));
    if (stateName === null) return `word ${5 + s}: state ${s}'s name is outside the text area or not printable UTF-8`;
    stateNames.push(stateName);
  }
  const states: ContractMessage[][] = [];
  let expectedFirst = 0;
  for (let s = 0; s < stateCount; s++) {
    const first = at(rangesAt + 2 * s);
    const count = at(rangesAt + 2 * s + 1);
    if (first !== expectedFirst || first + count > messageCount) return `word ${rangesAt + 2 * s}: state ${s}'s messages ${first}+${count} do not follow the previous state's within ${messageCount}`;
    expectedFirst = first + count;
    const messages: ContractMessage[] = [];
    for (let m = first; m < first + count; m++) {
      const decoded = decodeMessage(table, messagesAt + MESSAGE_ENTRY_WORDS * m, m, stateCount, textOf);
      if (typeof decoded === "string") return `message ${m} (state ${stateNames[s]}): ${decoded}`;
      if (messages.some((other) => other.label === decoded.label && other.direction === decoded.direction)) {
        return `message ${m} (state ${stateNames[s]}): label ${decoded.label} ${decoded.direction === Direction.TO_SERVER ? "?" : "!"} appears twice in the state`;
      }
      messages.push(decoded);
    }
    states.push(messages);
  }
  if (expectedFirst !== messageCount) return `the states hold ${expectedFirst} messages, word 3 says ${messageCount}`;
  return new Contract(name, stateNames, states, table.length);
}

function decodeMessage(table: Uint32Array, at: number, index: number, stateCount: number, textOf: (ref: number) => string | null): ContractMessage | string {
  const label = table[at]!;
  const shape = table[at + 1]!;
  const caps = table[at + 2]!;
  const next = table[at + 3]!;
  const name = textOf(table[at + 4]!);
  if (label >= 0xffff_0000) return `label ${hex(label)} is in the kernel's range`;
  if ((shape & ~0x00ff_ff01) !== 0) return `shape word ${hex(shape)} has unknown bits`;
  const minWords = (shape >>> 8) & 0xff;
  const maxWords = (shape >>> 16) & 0xff;
  if (minWords > maxWords || maxWords > MAX_MESSAGE_WORDS) return `words ${minWords}..${maxWords} (at most ${MAX_MESSAGE_WORDS})`;
  if ((caps >>> 22) !== 0) return `caps word ${hex(caps)} has unknown bits`;
  const minCaps = (caps >>> 16) & 7;
  const maxCaps = (caps >>> 19) & 7;
  if (minCaps > maxCaps || maxCaps > MAX_MESSAGE_CAPS) return `capabilities ${minCaps}..${maxCaps} (at most ${MAX_MESSAGE_CAPS})`;
  const capKinds: number[] = [];
  for (let i = 0; i < MAX_MESSAGE_CAPS; i++) {
    const kind = (caps >>> (4 * i)) & 15;
    if (i >= maxCaps) {
      if (kind !== 0) return `capability ${i} has a kind but the message carries at most ${maxCaps}`;
      continue;
    }
    if (!KNOWN_CAP_KINDS.has(kind)) return `capability ${i} has unknown kind ${kind}`;
    capKinds.push(kind);
  }
  if (next >= stateCount) return `next state ${next} (there are ${stateCount})`;
  if (name === null) return "its name is outside the text area or not printable UTF-8";
  return { label, direction: shape & 1, minWords, maxWords, minCaps, maxCaps, capKinds, next, name, index };
}

function hex(n: number): string {
  return `0x${(n >>> 0).toString(16)}`;
}
