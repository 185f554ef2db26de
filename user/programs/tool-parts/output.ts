// Standard output gathered into writes of 4 KiB, not one stream call per line: what the text tools
// (grep, sort, head...) print. `flush` before exiting; a failed write (the reader has gone: `| head`)
// ends the tool quietly with status 1, as SIGPIPE would.
import { writeBytes, STDOUT, exit } from "../../lib";

const SIZE: usize = 4096;
const buffer: usize = heap.alloc(SIZE);
let used: usize = 0;

export function flush(): void {
  if (used == 0) return;
  const written = writeBytes(STDOUT, buffer, used);
  used = 0;
  if (written < 0) exit(1);
}

/** Writes `len` bytes at `ptr`. */
export function outBytes(ptr: usize, len: usize): void {
  if (used + len > SIZE) flush();
  if (len > SIZE) {
    if (writeBytes(STDOUT, ptr, len) < 0) exit(1);
    return;
  }
  memory.copy(buffer + used, ptr, len);
  used += len;
}

export function out(s: string): void {
  const bytes = String.UTF8.encode(s);
  outBytes(changetype<usize>(bytes), <usize>bytes.byteLength);
}

export function outLine(s: string): void {
  out(s);
  outNewline();
}

export function outNewline(): void {
  if (used + 1 > SIZE) flush();
  store<u8>(buffer + used, 0x0a);
  used++;
}

/** Flushes and exits with `code`. */
export function finish(code: i32): void {
  flush();
  exit(code);
}
