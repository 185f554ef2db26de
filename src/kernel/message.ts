import { Status } from "./errors.ts";
import type { Process } from "./process.ts";
import type { KernelServices } from "./services.ts";

/** A message as `invoke` carries it; layout in docs/ABI.md. */
export interface Message {
  readonly label: number;
  readonly words: Uint32Array;
  readonly caps: Uint32Array;
}

export const MAX_MESSAGE_WORDS = 64;
export const MAX_MESSAGE_CAPS = 4;
const HEADER_BYTES = 12;
export const MAX_MESSAGE_BYTES = HEADER_BYTES + 4 * (MAX_MESSAGE_WORDS + MAX_MESSAGE_CAPS);

/** Reads and checks a message from process memory; a status code when it is malformed. */
export function readMessage(k: KernelServices, process: Process, ptr: number, length: number): Message | number {
  if (length < HEADER_BYTES || length > MAX_MESSAGE_BYTES || length % 4 !== 0) return Status.E_BAD_MESSAGE;
  const bytes = k.readMemory(process, ptr, length);
  if (bytes === null) return Status.E_BAD_ADDRESS;
  const view = new DataView(bytes.buffer);
  const label = view.getUint32(0, true);
  const wordCount = view.getUint32(4, true);
  const capCount = view.getUint32(8, true);
  if (wordCount > MAX_MESSAGE_WORDS || capCount > MAX_MESSAGE_CAPS) return Status.E_BAD_MESSAGE;
  if (length !== HEADER_BYTES + 4 * (wordCount + capCount)) return Status.E_BAD_MESSAGE;
  const words = new Uint32Array(bytes.buffer.slice(HEADER_BYTES, HEADER_BYTES + 4 * wordCount));
  const caps = new Uint32Array(bytes.buffer.slice(HEADER_BYTES + 4 * wordCount, length));
  return { label, words, caps };
}
