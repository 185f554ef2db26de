import { Status } from "../errors.ts";
import { ProcessFault } from "../fault.ts";
import { chargeBulk } from "../fuel.ts";
import { PageInRequired } from "../paging-hooks.ts";
import type { Process } from "../process.ts";
import { MAX_CONTRACT_BYTES, decodeContract } from "./contract.ts";
import { type Invocation, answer, word } from "./invocation.ts";
import type { Receiver } from "./receiver.ts";

/** Bytes of a refusal's text PROCESS_CONTRACT_REFUSAL answers (the rest is cut). */
const REFUSAL_TEXT_BYTES = 236;
const NO_BOUND = 0xffff_ffff;

/**
 * RECEIVER_SET_CONTRACT: `address, length` of a compiled contract table in the caller's memory
 * (src/kernel/caps/contract.ts). Read, charged as bulk work, decoded and checked; the Receiver
 * takes it for good. Only before any send or call capability to it exists (E_NOT_READY), since
 * those would be endpoints the contract never saw start.
 */
export function setReceiverContract(inv: Invocation, receiver: Receiver): number {
  const address = word(inv, 0);
  const length = word(inv, 1);
  if (length === 0 || length % 4 !== 0 || length > MAX_CONTRACT_BYTES) return Status.E_INVALID_ARGUMENT;
  if (receiver.contract !== null || receiver.clientCaps > 0) return Status.E_NOT_READY;
  let bytes: Uint8Array;
  try {
    bytes = inv.caller.space.read(address, length);
  } catch (error) {
    // Paged out: invoke pages it in and is called again (nothing has happened yet).
    if (error instanceof PageInRequired) throw error;
    if (error instanceof ProcessFault) return Status.E_BAD_ADDRESS;
    throw error;
  }
  chargeBulk(inv.caller, length);
  const table = new Uint32Array(length / 4);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < table.length; i++) table[i] = view.getUint32(4 * i, true);
  const contract = decodeContract(table);
  if (typeof contract === "string") {
    inv.caller.contractRefusal = { state: 0, label: 0, direction: 0, text: `contract table refused: ${contract}` };
    return Status.E_INVALID_ARGUMENT;
  }
  const answered = answer(inv, [Number.isFinite(contract.boundPerEndpoint) ? contract.boundPerEndpoint : NO_BOUND, contract.states.length]);
  if (answered === Status.OK) receiver.setContract(contract);
  return answered;
}

/** RECEIVER_INFO's words: queued, capacity; with a contract, the reserved slots and its bound per endpoint (none: all ones). */
export function receiverInfoWords(receiver: Receiver): number[] {
  if (receiver.contract === null) return [receiver.queued, receiver.capacity];
  const bound = receiver.contract.boundPerEndpoint;
  return [receiver.queued, receiver.capacity, receiver.reservedSlots, Number.isFinite(bound) ? bound : NO_BOUND];
}

/** PROCESS_CONTRACT_REFUSAL's words: state, label, direction, text length, then the UTF-8 text four bytes to a word. */
export function contractRefusalWords(process: Process): number[] {
  const refusal = process.contractRefusal;
  if (refusal === null) return [0, 0, 0, 0];
  let text = new TextEncoder().encode(refusal.text);
  if (text.length > REFUSAL_TEXT_BYTES) text = text.subarray(0, REFUSAL_TEXT_BYTES);
  const padded = new Uint8Array(Math.ceil(text.length / 4) * 4);
  padded.set(text);
  const words = [refusal.state, refusal.label, refusal.direction, text.length];
  const view = new DataView(padded.buffer);
  for (let i = 0; i < padded.length; i += 4) words.push(view.getUint32(i, true));
  return words;
}
