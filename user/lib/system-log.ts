// Where a process without standard streams (a service, a driver, init) prints: the log service
// (docs/DRIVERS.md "Log service"), whose ring `dmesg` reads and which shows on the console what
// the boot is asked to show (`dogma boot --verbose`: everything; otherwise errors only). A
// process that cannot reach it prints on the kernel's boot console as before: one started by
// `dogma run` (slot 2 is no registry), one of a config without a log service, or one that prints
// before the log has registered (it looks again at most every LOOKUP_AGAIN_NS).
//
// Each write is one line or more (split at newlines); the errors stream's are marked so, and the
// log service shows those on the console whatever the boot said. The calls use a message buffer
// of their own, so printing between building a message and sending it, or between receiving a
// request and reading it, leaves the program's message alone.
//
// Two processes are special: the log service prints straight to the boot console
// (`systemLogOff`: a call to itself would never be answered), and so does `dmesg`, which would
// read its own lines for ever; init sends its lines (never waiting: it must not depend on a
// service it supervises) through a channel of its own (`systemLogChannel`).
import { invoke, console_write, clock } from "./sys";
import { OP_CAP_INFO, OP_CAP_DROP, KIND_RECEIVER, RIGHT_RECEIVER_CALL } from "./abi";
import { E_INVALID_CAP, E_PEER_DEAD } from "./errors";
import { Log } from "./contracts/log";

/** The log service's labels (user/services/log.ts): its contract's, contracts/log.contract. */
export const LOG_WRITE: u32 = Log.Write;
export const LOG_READ: u32 = Log.Read;
/** In WRITE's length word: the line came from an errors stream (shown on the console whatever the boot said). */
export const LOG_ERROR: u32 = 0x10000;
/** In WRITE's length word: the writer has shown the line on the console itself (init does when verbose). */
export const LOG_SHOWN: u32 = 0x20000;
/** In READ's answer's length word: a program's line (written through "program-log"), which dmesg marks so. */
export const LOG_PROGRAM: u32 = 0x40000;
/** The log as services reach it (registered for services only), and as programs do (a program's lookup of "log" finds it). */
export const LOG_SERVICE = "log";
export const PROGRAM_LOG_SERVICE = "program-log";
/** A read-only Page whose word 0 is the sequence number the log's next line gets: followers futex-wait on it. */
export const LOG_SEQUENCE_SERVICE = "log-sequence";
/** In READ's word 1: wait for the next line when there is none yet (dmesg -f). */
export const LOG_READ_WAIT: u32 = 1;
/** Bytes of a line at most (63 words after the length word); a longer one is cut. */
export const LOG_LINE_BYTES: u32 = 252;

const REGISTRY_SLOT: i32 = 2;
const REGISTRY_LOOKUP: u32 = 2;
const LOOKUP_AGAIN_NS: i64 = 50_000_000;
const CAPACITY: i32 = 292;

const buffer: usize = memory.data(512, 512);

/** The log: 0 not looked for yet, > 0 a capability, -1 not to be used (off, or no registry). */
let log: i32 = 0;
/** Whether `log` is a send capability of init's channel (sends, never calls). */
let channel = false;
/** Whether init shows its own lines on the console too (verbose, or an error). */
let channelShows = false;
let lastLookup: i64 = -LOOKUP_AGAIN_NS;

/** This process never uses the log service: it prints on the boot console (the log service, dmesg). */
export function systemLogOff(): void {
  log = -1;
}

/**
 * Init's lines go through the send capability `send` (the log channel, which the log service
 * drains); with `verbose` they are shown on the console too, and errors always are.
 */
export function systemLogChannel(send: i32, verbose: bool): void {
  log = send;
  channel = true;
  channelShows = verbose;
}

function header(label: u32, words: u32): void {
  store<u32>(buffer, label);
  store<u32>(buffer, words, 4);
  store<u32>(buffer, 0, 8);
  store<u32>(buffer, 0, 12);
  store<u32>(buffer, 0, 16);
}

/** Whether slot 2 is a call capability (a registry's, for every process init starts). */
function hasRegistry(): bool {
  header(OP_CAP_INFO, 0);
  if (invoke(REGISTRY_SLOT, <i32>buffer, CAPACITY) < 0) return false;
  return load<u32>(buffer, 20) == KIND_RECEIVER && (load<u32>(buffer, 24) & RIGHT_RECEIVER_CALL) != 0;
}

/** Asks the registry for "log" (a program's lookup finds "program-log"): the capability, or 0 (not registered yet, or no registry). */
function lookup(): i32 {
  header(REGISTRY_LOOKUP, 1);
  store<u32>(buffer + 20, 0x00676f6c); // "log", zero-padded to a word
  if (invoke(REGISTRY_SLOT, <i32>buffer, CAPACITY) < 0 || load<u32>(buffer) != 0 || load<u32>(buffer, 8) == 0) return 0;
  return <i32>load<u32>(buffer + 20 + (<usize>load<u32>(buffer, 4) << 2));
}

/** The log to write to now, or 0 (print on the console instead). */
function target(): i32 {
  if (log != 0) return log;
  const t = clock(0);
  if (t - lastLookup < LOOKUP_AGAIN_NS) return 0;
  lastLookup = t;
  if (!hasRegistry()) {
    log = -1;
    return 0;
  }
  log = lookup();
  return log;
}

function forget(): void {
  if (channel) return;
  header(OP_CAP_DROP, 0);
  invoke(log, <i32>buffer, CAPACITY);
  log = 0;
  lastLookup = -LOOKUP_AGAIN_NS;
}

/** Writes one line (no newline) to the log: whether it was taken. */
function writeLine(ptr: usize, len: usize, flags: u32): bool {
  const n = <u32>min(len, <usize>LOG_LINE_BYTES);
  header(LOG_WRITE, 1 + ((n + 3) >> 2));
  store<u32>(buffer + 20, n | flags);
  memory.fill(buffer + 24, 0, LOG_LINE_BYTES);
  memory.copy(buffer + 24, ptr, n);
  // init's channel is a send capability: the kernel queues the line and init goes on at once (a
  // full queue loses it, and it goes to the console instead).
  const status = invoke(log, <i32>buffer, CAPACITY);
  if (status == E_PEER_DEAD || status == E_INVALID_CAP) {
    forget();
    return false;
  }
  return status >= 0;
}

/**
 * Writes `len` bytes of a process without standard streams: to the log when it can be reached
 * (the errors stream's, and `important` ones, marked so), else to the boot console. The bytes written, or a status.
 */
export function systemWrite(stream: i32, ptr: usize, len: usize, important: bool = false): i32 {
  const errors = stream == 2 || important;
  const to = target();
  const shown = channel && (channelShows || errors);
  if (to <= 0 || shown) {
    const status = consoleWrite(stream, ptr, len);
    if (to <= 0) return status;
  }
  let start: usize = 0;
  for (let i: usize = 0; i <= len; i++) {
    if (i < len && load<u8>(ptr + i) != 0x0a) continue;
    if (i > start || i < len) {
      if (!writeLine(ptr + start, i - start, (errors ? LOG_ERROR : 0) | (shown ? LOG_SHOWN : 0)) && !shown) {
        // The log went away meanwhile: the rest goes to the console.
        return consoleWrite(stream, ptr + start, len - start);
      }
    }
    start = i + 1;
  }
  return <i32>len;
}

function consoleWrite(stream: i32, ptr: usize, len: usize): i32 {
  let done: usize = 0;
  while (done < len) {
    const n = console_write(stream, <i32>(ptr + done), <i32>(len - done));
    if (n < 0) return n;
    if (n == 0) break; // a console that takes nothing would otherwise spin here forever
    done += <usize>n;
  }
  return <i32>done;
}
