import { CONTRACT_MAGIC, CapKind, Contract, Direction, MAX_CONTRACT_BYTES, MAX_CONTRACT_MESSAGES, MAX_CONTRACT_STATES, decodeContract } from "../kernel/caps/contract.ts";
import { MAX_MESSAGE_CAPS, MAX_MESSAGE_WORDS } from "../kernel/message.ts";
import { ContractError, type ContractSyntax, type MessageSyntax, parseContract } from "./parse.ts";

/**
 * The contract compiler: text to the table the kernel checks messages against
 * (src/kernel/caps/contract.ts documents the words). It refuses, with a line and column, what the
 * kernel could not enforce or what could never happen: a message to a state that does not exist,
 * a name given two labels, a state allowing two messages of one label and direction, a reply
 * (`!`) in a state no call (`?`) leads to, a state nothing reaches.
 */

/** The capability kinds a contract may name, as written. */
export const CAP_KIND_NAMES: Readonly<Record<string, number>> = {
  any: CapKind.ANY,
  memory: CapKind.MEMORY,
  process: CapKind.PROCESS,
  receiver: CapKind.RECEIVER,
  reply: CapKind.REPLY,
  page: CapKind.PAGE,
  cappage: CapKind.CAPPAGE,
  region: CapKind.REGION,
  view: CapKind.VIEW,
  interrupt: CapKind.INTERRUPT,
  image: CapKind.IMAGE,
  device: CapKind.DEVICE,
  kernel: CapKind.KERNEL,
};

/** A message as compiled: its label, the states it leaves and enters by index. */
export interface CompiledMessage {
  readonly name: string;
  readonly label: number;
  readonly direction: "?" | "!";
  readonly minWords: number;
  readonly maxWords: number;
  readonly capKinds: readonly string[];
  readonly minCaps: number;
  readonly from: string;
  readonly next: string;
}

export interface CompiledContract {
  readonly name: string;
  readonly states: readonly string[];
  readonly messages: readonly CompiledMessage[];
  /** The table RECEIVER_SET_CONTRACT takes. */
  readonly table: Uint32Array;
  /** The kernel's reading of the table (the same decoder the kernel runs). */
  readonly contract: Contract;
}

/** Compiles a contract's text; throws a ContractError (line, column, reason) at the first problem. `source` names the text in errors. */
export function compileContract(text: string, source = "contract"): CompiledContract {
  try {
    return compileSyntax(parseContract(text));
  } catch (error) {
    if (error instanceof ContractError && source !== "contract") throw new ContractError(error, error.reason, source);
    throw error;
  }
}

function compileSyntax(syntax: ContractSyntax): CompiledContract {
  const stateIndex = new Map<string, number>();
  for (const state of syntax.states) {
    if (stateIndex.has(state.name)) throw new ContractError(state.at, `state ${state.name} is defined twice`);
    stateIndex.set(state.name, stateIndex.size);
  }
  if (stateIndex.size > MAX_CONTRACT_STATES) throw new ContractError(syntax.states[MAX_CONTRACT_STATES]!.at, `more than ${MAX_CONTRACT_STATES} states`);
  const labels = assignLabels(syntax);
  const messages: CompiledMessage[] = [];
  const entered = new Set<string>([syntax.states[0]!.name]);
  const enteredByCall = new Set<string>();
  for (const state of syntax.states) {
    const seen = new Map<string, MessageSyntax>();
    for (const message of state.messages) {
      if (!stateIndex.has(message.next)) throw new ContractError(message.nextAt, `${message.name} leads to state ${message.next}, which is not defined`);
      const label = labels.get(message.name)!;
      const key = `${label}${message.direction}`;
      const twin = seen.get(key);
      if (twin) throw new ContractError(message.at, `state ${state.name} allows ${message.name}${message.direction} and ${twin.name}${twin.direction}, both label ${label}`);
      seen.set(key, message);
      messages.push(compileMessage(state.name, message, label));
      entered.add(message.next);
      if (message.direction === "?") enteredByCall.add(message.next);
    }
  }
  if (messages.length > MAX_CONTRACT_MESSAGES) throw new ContractError(syntax.at, `more than ${MAX_CONTRACT_MESSAGES} messages`);
  for (const state of syntax.states) {
    if (!entered.has(state.name)) throw new ContractError(state.at, `state ${state.name} is never reached: no message leads to it`);
    const reply = state.messages.find((m) => m.direction === "!");
    if (reply && !enteredByCall.has(state.name)) {
      throw new ContractError(reply.at, `${reply.name}! is a reply, but no "?" message leads to state ${state.name}: a reply answers a call`);
    }
  }
  const table = encode(syntax.name, syntax.states.map((s) => s.name), messages, stateIndex);
  const contract = decodeContract(table);
  if (typeof contract === "string") throw new ContractError(syntax.at, `compiler bug, the kernel refuses the table: ${contract}`);
  return { name: syntax.name, states: syntax.states.map((s) => s.name), messages, table, contract };
}

/** Each message name's label: as written, or numbered from 1 in order of first appearance past those written. */
function assignLabels(syntax: ContractSyntax): Map<string, number> {
  const labels = new Map<string, number>();
  const where = new Map<string, MessageSyntax>();
  for (const state of syntax.states) {
    for (const message of state.messages) {
      if (message.label === null) continue;
      if (message.label >= 0xffff_0000) throw new ContractError(message.at, `label ${message.label} is in the kernel's range (0xffff0000 and up)`);
      const earlier = labels.get(message.name);
      if (earlier !== undefined && earlier !== message.label) {
        const first = where.get(message.name)!;
        throw new ContractError(message.at, `${message.name} is label ${message.label} here and ${earlier} at ${first.at.line}:${first.at.column}`);
      }
      labels.set(message.name, message.label);
      where.set(message.name, message);
    }
  }
  const taken = new Set(labels.values());
  let nextLabel = 1;
  for (const state of syntax.states) {
    for (const message of state.messages) {
      if (labels.has(message.name)) continue;
      while (taken.has(nextLabel)) nextLabel++;
      labels.set(message.name, nextLabel);
      taken.add(nextLabel);
    }
  }
  return labels;
}

function compileMessage(from: string, message: MessageSyntax, label: number): CompiledMessage {
  const minWords = message.words?.min ?? 0;
  const maxWords = message.words?.max ?? 0;
  if (message.words && (minWords > maxWords || maxWords > MAX_MESSAGE_WORDS)) {
    throw new ContractError(message.words.at, `words ${minWords}..${maxWords}: a message carries 0 to ${MAX_MESSAGE_WORDS} words, the least first`);
  }
  const kinds = message.caps?.kinds ?? [];
  if (kinds.length > MAX_MESSAGE_CAPS) throw new ContractError(message.caps!.at, `${kinds.length} capabilities: a message carries at most ${MAX_MESSAGE_CAPS}`);
  let minCaps = 0;
  for (const [i, kind] of kinds.entries()) {
    if (!(kind.name in CAP_KIND_NAMES)) throw new ContractError(kind.at, `unknown capability kind "${kind.name}" (one of ${Object.keys(CAP_KIND_NAMES).join(", ")})`);
    if (!kind.optional) {
      if (minCaps !== i) throw new ContractError(kind.at, `capability ${kind.name} is required but follows an optional one`);
      minCaps++;
    }
  }
  return { name: message.name, label, direction: message.direction, minWords, maxWords, capKinds: kinds.map((k) => k.name), minCaps, from, next: message.next };
}

/** Lays the table out (see src/kernel/caps/contract.ts). */
function encode(name: string, states: readonly string[], messages: readonly CompiledMessage[], stateIndex: Map<string, number>): Uint32Array {
  const text: number[] = [];
  const refs = new Map<string, number>();
  const encoder = new TextEncoder();
  const ref = (s: string): number => {
    const known = refs.get(s);
    if (known !== undefined) return known;
    const bytes = encoder.encode(s);
    const value = (text.length | (bytes.length << 16)) >>> 0;
    text.push(...bytes);
    refs.set(s, value);
    return value;
  };
  const words: number[] = [CONTRACT_MAGIC, 0, states.length, messages.length, ref(name)];
  for (const state of states) words.push(ref(state));
  let first = 0;
  for (const state of states) {
    const count = messages.filter((m) => m.from === state).length;
    words.push(first, count);
    first += count;
  }
  for (const state of states) {
    for (const m of messages.filter((message) => message.from === state)) {
      const direction = m.direction === "?" ? Direction.TO_SERVER : Direction.TO_CLIENT;
      let caps = (m.minCaps << 16) | (m.capKinds.length << 19);
      m.capKinds.forEach((kind, i) => {
        caps |= CAP_KIND_NAMES[kind]! << (4 * i);
      });
      words.push(m.label, direction | (m.minWords << 8) | (m.maxWords << 16), caps, stateIndex.get(m.next)!, ref(m.name));
    }
  }
  if (text.length > 0xffff || 4 * words.length + text.length > MAX_CONTRACT_BYTES) {
    throw new ContractError({ line: 1, column: 1 }, `the compiled table is larger than ${MAX_CONTRACT_BYTES} bytes`);
  }
  words.push(text.length);
  const packed = new Uint8Array(Math.ceil(text.length / 4) * 4);
  packed.set(text);
  const table = new Uint32Array(words.length + packed.length / 4);
  table.set(words);
  table.set(new Uint32Array(packed.buffer), words.length);
  table[1] = table.length;
  return table;
}
