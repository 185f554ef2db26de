// The log service: a ring of the last 256 lines any process writes, which `dmesg` reads back.
// Config: `service log log memory=256`. Slot 2 is the registry, slot 3 its Memory (for its
// Receiver). It registers "log". Protocol (docs/DRIVERS.md, "Log service"):
//   WRITE (1): word 0 the line's byte length, then its bytes packed little-endian into words
//              (at most 252 bytes; longer lines are cut). Replies 0.
//   READ (2):  word 0 a sequence number. Replies label 0 with the oldest kept line at or after
//              it: words sequence, next sequence, byte length, bytes; or label 1 when there is none.
// Lines live in static memory and nothing allocates per request, so it can run for ever.
import {
  print, eprint, errorName, exit, serve, Memory, Receiver, msgBegin, msgWord, msgWordCount, msgAddWord,
  msgClearCaps, registryRegister, CAP_MOVE, RIGHT_RECEIVER_CALL,
} from "../lib";

export const LOG_WRITE: u32 = 1;
export const LOG_READ: u32 = 2;
const MEMORY: i32 = 3;
const LINES: u32 = 256;
const LINE_BYTES: u32 = 252;
const ring: usize = memory.data(<i32>(LINES * LINE_BYTES));
const lengths: usize = memory.data(<i32>(LINES * 4));
/** Sequence number of the next line written; lines [max(0, next - LINES), next) are kept. */
let next: u32 = 0;

function check(what: string, result: i32): i32 {
  if (result < 0) {
    eprint("log: " + what + ": " + errorName(result));
    exit(1);
  }
  return result;
}

function write(): u32 {
  const words = msgWordCount();
  if (words < 1) return 11; // E_INVALID_ARGUMENT's magnitude
  let length = min(msgWord(0), <u32>(words - 1) * 4);
  length = min(length, LINE_BYTES);
  const slot = next % LINES;
  const at = ring + <usize>(slot * LINE_BYTES);
  for (let i: u32 = 0; i < length; i += 4) {
    const word = msgWord(1 + <i32>(i >> 2));
    for (let b: u32 = 0; b < 4 && i + b < length; b++) store<u8>(at + i + b, <u8>(word >> (8 * b)));
  }
  store<u32>(lengths + <usize>(slot * 4), length);
  next++;
  return 0;
}

function read(): u32 {
  let seq = msgWordCount() > 0 ? msgWord(0) : 0;
  const oldest = next > LINES ? next - LINES : 0;
  if (seq < oldest) seq = oldest;
  msgBegin(0);
  if (seq >= next) return 1;
  const slot = seq % LINES;
  const at = ring + <usize>(slot * LINE_BYTES);
  const length = load<u32>(lengths + <usize>(slot * 4));
  msgAddWord(seq);
  msgAddWord(seq + 1);
  msgAddWord(length);
  for (let i: u32 = 0; i < length; i += 4) {
    let word: u32 = 0;
    for (let b: u32 = 0; b < 4 && i + b < length; b++) word |= <u32>load<u8>(at + i + b) << (8 * b);
    msgAddWord(word);
  }
  return 0;
}

function handle(label: u32): u32 {
  msgClearCaps();
  if (label == LOG_WRITE) {
    const status = write();
    msgBegin(0);
    return status;
  }
  if (label == LOG_READ) return read();
  msgBegin(0);
  return 11;
}

const requests = new Receiver(check("create receiver", new Memory(MEMORY).createReceiver(64)));
check("register log", registryRegister("log", <u32>check("mint", requests.mint(0, RIGHT_RECEIVER_CALL)) | CAP_MOVE));
print("log: registered \"log\"");
const status = serve(requests.cap, handle);
eprint("log: receiver gone: " + errorName(status));
exit(1);
