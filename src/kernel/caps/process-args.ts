import { PAGE_SIZE } from "../constants.ts";
import { Status } from "../errors.ts";
import { type Invocation, argumentObject } from "./invocation.ts";
import { ObjectKind, Rights } from "./object-abi.ts";
import type { RegionObject } from "./region.ts";

/** At most this many bytes of arguments and environment together (a Region holds more). */
export const MAX_ARGS_BYTES = 65536;
/** At most this many strings (arguments and environment together). */
export const MAX_ARGS_STRINGS = 1024;

/** What PROCESS_SET_ARGS gives a process: its argv (the program name first) and environment. */
export interface ProcessArgs {
  readonly args: string[];
  readonly env: string[];
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Reads PROCESS_SET_ARGS' block (docs/ABI.md): word 0 its byte length, word 1 how many of its
 * strings are arguments (the rest is the environment), then the bytes, in the words that follow or,
 * when the message carries a capability, from the start of that Region (owner or view). The block
 * is NUL-terminated UTF-8 strings, back to back. Anything else is E_INVALID_ARGUMENT: a length
 * past the words or the Region, no argv[0], a string without its NUL, bytes that are not UTF-8.
 */
export function readArgsBlock(inv: Invocation): ProcessArgs | number {
  const words = inv.message.words;
  if (words.length < 2) return Status.E_INVALID_ARGUMENT;
  const length = words[0]!;
  const argc = words[1]!;
  if (length === 0 || length > MAX_ARGS_BYTES || argc === 0) return Status.E_INVALID_ARGUMENT;
  const bytes = inv.message.caps.length > 0 ? fromRegion(inv, length) : fromWords(words.subarray(2), length);
  if (typeof bytes === "number") return bytes;
  if (bytes[length - 1] !== 0) return Status.E_INVALID_ARGUMENT;
  let text: string;
  try {
    text = utf8.decode(bytes.subarray(0, length - 1));
  } catch {
    return Status.E_INVALID_ARGUMENT;
  }
  const strings = text.split("\0");
  if (strings.length > MAX_ARGS_STRINGS || argc > strings.length) return Status.E_INVALID_ARGUMENT;
  return { args: strings.slice(0, argc), env: strings.slice(argc) };
}

function fromWords(words: Uint32Array, length: number): Uint8Array | number {
  if (words.length * 4 < length) return Status.E_INVALID_ARGUMENT;
  const bytes = new Uint8Array(words.length * 4);
  const view = new DataView(bytes.buffer);
  words.forEach((w, i) => view.setUint32(i * 4, w, true));
  return bytes.subarray(0, length);
}

function fromRegion(inv: Invocation, length: number): Uint8Array | number {
  // Owner capabilities carry REGION_READ too: either kind will do, and neither moves.
  const region = argumentObject<RegionObject>(inv, 0, ObjectKind.REGION, Rights.REGION_READ);
  if (typeof region === "number") return region;
  if (length > region.pages * PAGE_SIZE) return Status.E_INVALID_ARGUMENT;
  return region.read(length);
}
