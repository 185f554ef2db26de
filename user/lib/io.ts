// Standard output, errors and input as text: the process's standard streams when it has them
// (streams.ts), else the log service or the boot console (system-log.ts). Strings go out as UTF-8 in one write per call where
// possible, so that lines from concurrent processes do not interleave mid-line.
import { console_read } from "./sys";
import { hasStreams, streamWrite, streamRead, SLOT_STDIN, SLOT_STDOUT, SLOT_STDERR } from "./streams";
import { systemWrite } from "./system-log";

export const STDOUT: i32 = 1;
export const STDERR: i32 = 2;

// Most lines fit here; longer ones borrow heap memory, returned at once (the stub runtime can
// only take back the block it handed out last, which this is).
const SCRATCH_SIZE: usize = 1024;
const scratch: usize = memory.data(<i32>SCRATCH_SIZE);

/**
 * Writes all `len` bytes at `ptr` to `stream`; returns the bytes written or a negative status.
 * `important`: a line the console must show even on a quiet boot (only for processes without streams).
 */
export function writeBytes(stream: i32, ptr: usize, len: usize, important: bool = false): i32 {
  if (hasStreams()) return streamWrite(stream == STDERR ? SLOT_STDERR : SLOT_STDOUT, ptr, len, stream == STDERR);
  return systemWrite(stream, ptr, len, important);
}

function writeString(stream: i32, s: string, newline: bool): i32 {
  const len = <usize>String.UTF8.byteLength(s);
  const total = len + <usize>newline;
  const buf = total <= SCRATCH_SIZE ? scratch : heap.alloc(total);
  String.UTF8.encodeUnsafe(changetype<usize>(s), s.length, buf);
  if (newline) store<u8>(buf + len, 0x0a);
  const result = writeBytes(stream, buf, total);
  if (buf != scratch) heap.free(buf);
  return result;
}

/** `s` and a newline, to standard output. */
export function print(s: string): i32 {
  return writeString(STDOUT, s, true);
}

/** `s` and a newline, to the error stream. */
export function eprint(s: string): i32 {
  return writeString(STDERR, s, true);
}

/** `s` as is, to standard output. */
export function write(s: string): i32 {
  return writeString(STDOUT, s, false);
}

/** `s` as is, to the error stream. */
export function ewrite(s: string): i32 {
  return writeString(STDERR, s, false);
}

/** Reads at most `len` bytes of console input to `ptr`: the count, 0 at end of input, or a status. */
export function read(ptr: usize, len: i32): i32 {
  if (hasStreams()) return len <= 0 ? 0 : streamRead(SLOT_STDIN, ptr, <u32>len);
  return console_read(<i32>ptr, len);
}
