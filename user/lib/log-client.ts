// The log service's protocol from a client's side (user/services/log.ts, docs/DRIVERS.md): contract
// Log (contracts/log.contract), spoken through its generated wrappers. Its flags live in
// system-log.ts, which is how a process without standard streams prints there.
import { msgAddWord, msgLabel, msgWord, msgWordCount } from "./message";
import { registryLookup } from "./registry";
import { capKind } from "./caps/capability";
import { KIND_RECEIVER } from "./abi";

/** Where the shell puts the first service a program's manifest needs (docs/MANIFESTS.md). */
export const SLOT_FIRST_NEED: i32 = 11;
import { LOG_READ_WAIT, LOG_ERROR, LOG_PROGRAM, LOG_LINE_BYTES } from "./system-log";
import { Log, LogReady } from "./contracts/log";

/**
 * The log service's call capability, or a negative status: the one the shell gave at slot
 * SLOT_FIRST_NEED + `need` when the program's manifest needs the log as its need number `need`
 * (dmesg's and logger's first), else looked up in the registry (a program without a manifest). A
 * program's "log" is "program-log" (docs/BOOT.md): its lines are kept apart, marked.
 */
export function logLookup(need: i32 = 0): i32 {
  const given = SLOT_FIRST_NEED + need;
  return capKind(given) == <i32>KIND_RECEIVER ? given : registryLookup("log");
}

/** Writes one line (cut at 252 bytes) to the log through `log` (an error's with `error`); the call's status. */
export function logWrite(log: i32, line: string, error: bool = false): i32 {
  const bytes = Uint8Array.wrap(String.UTF8.encode(line));
  const length = min(bytes.length, <i32>LOG_LINE_BYTES);
  LogReady.beginWrite();
  msgAddWord(<u32>length | (error ? LOG_ERROR : 0));
  for (let i = 0; i < length; i += 4) {
    let word: u32 = 0;
    for (let b = 0; b < 4 && i + b < length; b++) word |= <u32>bytes[i + b] << (8 * b);
    msgAddWord(word);
  }
  const status = LogReady.write(log);
  return status < 0 ? status : -<i32>msgLabel();
}

/**
 * One line read back: its sequence number, the next one's, when it was written (ns since boot),
 * whether it was an error, its text, and whether a program wrote it (not the system).
 */
export class LogLine {
  constructor(readonly sequence: u32, readonly next: u32, readonly time: i64, readonly error: bool, readonly text: string, readonly program: bool = false) {}
}

/**
 * The oldest line kept at or after `sequence`, or null when there is none (or on error); with
 * `wait`, the call waits for the next line to be written when there is none yet.
 */
export function logRead(log: i32, sequence: u32, wait: bool = false): LogLine | null {
  LogReady.beginRead();
  msgAddWord(sequence);
  if (wait) msgAddWord(LOG_READ_WAIT);
  if (LogReady.read(log) < 0 || msgLabel() != Log.Line || msgWordCount() < 5) return null;
  const head = msgWord(2);
  const length = <i32>(head & 0xffff);
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = <u8>(msgWord(5 + (i >> 2)) >> (8 * (i & 3)));
  const time = <i64>(<u64>msgWord(3) | (<u64>msgWord(4) << 32));
  return new LogLine(msgWord(0), msgWord(1), time, (head & LOG_ERROR) != 0, String.UTF8.decode(bytes.buffer), (head & LOG_PROGRAM) != 0);
}
