// Standard streams as capabilities. A program the shell starts (through the process manager) has
// them at fixed slots: 4 input, 5 output, 6 errors (docs/PROGRAMS.md). Each is a call capability
// that speaks the stream protocol, which the console driver, pipes and open files share (its
// labels are in a block of their own, so that a server answers them beside its own protocol):
//   WRITE (0x1001): word 0 the byte length | STREAM_TO_ERRORS (a hint only the console uses), then
//              the bytes packed little-endian (at most 252); replies word 0: bytes taken.
//   READ  (0x1002): word 0 at most this many bytes (1 to 252); replies word 0 the count (0: end
//              of input), then the bytes packed.
//   INFO  (0x1003): answers at once, never waiting: the kind (1 terminal, 2 pipe, 3 file), the
//              bytes a READ would take now (0xffffffff: input ended), the room a WRITE would
//              find. Pipes and the host folder server answer it (the WASI personality's poll).
// A reply's label is a status as its magnitude.
//
// libdogma's print and read use them when slot 5 held a Receiver capability when the process
// started, and the boot console otherwise (services started by init, `dogma run`). The slot is
// looked at once, as libdogma starts, before the program can put anything there itself. This
// file has its own message buffer, so that printing between building a message and sending it
// does not clobber it.
import { invoke } from "./sys";
import { OP_CAP_INFO, KIND_RECEIVER, RIGHT_RECEIVER_CALL } from "./abi";
import { E_INVALID_ARGUMENT, E_NOT_READY } from "./errors";

export const SLOT_STDIN: i32 = 4;
export const SLOT_STDOUT: i32 = 5;
export const SLOT_STDERR: i32 = 6;
/** The Memory of the job a program runs in (what it creates is paid from the job's quota). */
export const SLOT_JOB_MEMORY: i32 = 7;

export const STREAM_WRITE: u32 = 0x1001;
export const STREAM_READ: u32 = 0x1002;
export const STREAM_INFO: u32 = 0x1003;
export const STREAM_KIND_TERMINAL: u32 = 1;
export const STREAM_KIND_PIPE: u32 = 2;
export const STREAM_KIND_FILE: u32 = 3;
export const STREAM_TO_ERRORS: u32 = 0x10000;
export const STREAM_CHUNK: u32 = 252;

const CAPACITY: i32 = 292;
const buffer: usize = memory.data(512, 512);
function probe(): bool {
  store<u32>(buffer, OP_CAP_INFO);
  store<u32>(buffer, 0, 4);
  store<u32>(buffer, 0, 8);
  store<u32>(buffer, 0, 12);
  store<u32>(buffer, 0, 16);
  // A Receiver capability it may call: a receive capability there (a service's own queue) is none.
  return invoke(SLOT_STDOUT, <i32>buffer, CAPACITY) >= 0 && load<u32>(buffer, 20) == KIND_RECEIVER && (load<u32>(buffer, 24) & RIGHT_RECEIVER_CALL) != 0;
}

const present: bool = probe();

/** Whether this process has standard streams: slot 5 held a Receiver capability it may call when it started. */
@inline export function hasStreams(): bool {
  return present;
}

function call(cap: i32, label: u32, words: u32): i32 {
  store<u32>(buffer, label);
  store<u32>(buffer, words, 4);
  store<u32>(buffer, 0, 8);
  store<u32>(buffer, 0, 12);
  store<u32>(buffer, 0, 16);
  const status = invoke(cap, <i32>buffer, CAPACITY);
  if (status < 0) return status;
  const label_ = load<u32>(buffer);
  return label_ != 0 ? -<i32>label_ : <i32>load<u32>(buffer, 20);
}

/** Writes all `len` bytes at `ptr` to the stream at `cap`: the bytes written, or a status. */
export function streamWrite(cap: i32, ptr: usize, len: usize, toErrors: bool = false): i32 {
  let done: usize = 0;
  while (done < len) {
    const n = <u32>min(len - done, <usize>STREAM_CHUNK);
    store<u32>(buffer + 20, n | (toErrors ? STREAM_TO_ERRORS : 0));
    memory.fill(buffer + 24, 0, STREAM_CHUNK);
    memory.copy(buffer + 24, ptr + done, n);
    const written = call(cap, STREAM_WRITE, 1 + ((n + 3) >> 2));
    if (written < 0) return written;
    if (written == 0) break;
    done += <usize>written;
  }
  return <i32>done;
}

/** Reads at most `max` bytes from the stream at `cap` to `ptr`: the count (0 at its end), or a status. */
export function streamRead(cap: i32, ptr: usize, max: u32): i32 {
  if (max == 0) return E_INVALID_ARGUMENT;
  let n = E_NOT_READY;
  // E_NOT_READY: the console let a suspended job's read go (^Z, CONSOLE_RELEASE); it runs again now: ask again.
  while (n == E_NOT_READY) {
    store<u32>(buffer + 20, min(max, STREAM_CHUNK));
    n = call(cap, STREAM_READ, 1);
  }
  if (n < 0) return n;
  const count = min(<u32>n, max);
  memory.copy(ptr, buffer + 24, count);
  return <i32>count;
}
