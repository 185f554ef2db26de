// The log service's protocol from a client's side (user/services/log.ts, docs/DRIVERS.md).
import { msgBegin, msgAddWord, msgInvoke, msgLabel, msgWord, msgWordCount } from "./message";
import { registryLookup } from "./registry";

export const LOG_WRITE: u32 = 1;
export const LOG_READ: u32 = 2;
const LINE_BYTES: i32 = 252;

/** The log service's call capability (looked up in the registry), or a negative status. */
export function logLookup(): i32 {
  return registryLookup("log");
}

/** Writes one line (cut at 252 bytes) to the log through `log`; the call's status. */
export function logWrite(log: i32, line: string): i32 {
  const bytes = Uint8Array.wrap(String.UTF8.encode(line));
  const length = min(bytes.length, LINE_BYTES);
  msgBegin(LOG_WRITE);
  msgAddWord(<u32>length);
  for (let i = 0; i < length; i += 4) {
    let word: u32 = 0;
    for (let b = 0; b < 4 && i + b < length; b++) word |= <u32>bytes[i + b] << (8 * b);
    msgAddWord(word);
  }
  const status = msgInvoke(log);
  return status < 0 ? status : -<i32>msgLabel();
}

/** One line read back: its sequence number, the next one's, and its text; null at the end. */
export class LogLine {
  constructor(readonly sequence: u32, readonly next: u32, readonly text: string) {}
}

/** The oldest line kept at or after `sequence`, or null when there is none (or on error). */
export function logRead(log: i32, sequence: u32): LogLine | null {
  msgBegin(LOG_READ);
  msgAddWord(sequence);
  if (msgInvoke(log) < 0 || msgLabel() != 0 || msgWordCount() < 3) return null;
  const length = <i32>msgWord(2);
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = <u8>(msgWord(3 + (i >> 2)) >> (8 * (i & 3)));
  return new LogLine(msgWord(0), msgWord(1), String.UTF8.decode(bytes.buffer));
}
