// One line of text built in a static buffer and written in one console_write, without
// allocating: for processes that log for ever on the stub runtime (init, servers). Build with
// lineBegin, lineAdd (strings), lineAddI32/lineAddU32/lineAddHex/lineAddI64 (numbers), then
// linePrint. A line that outgrows the buffer ends in "..." instead of overflowing.
import { writeBytes, STDOUT } from "./io";

const LINE_CAPACITY: usize = 1024;
const TRUNCATED_MARK: usize = 3; // "..."
const line: usize = memory.data(<i32>LINE_CAPACITY + 1); // + the newline
const digits: usize = memory.data(24);
let length: usize = 0;
let truncated = false;

/** Starts a line with `s` (often the program's "name: " prefix). */
export function lineBegin(s: string = ""): void {
  length = 0;
  truncated = false;
  lineAdd(s);
}

/** Appends the bytes at `ptr`; none at all if they would not fit. */
export function lineAddBytes(ptr: usize, len: usize): void {
  if (truncated) return;
  if (length + len > LINE_CAPACITY - TRUNCATED_MARK) {
    truncated = true;
    return;
  }
  memory.copy(line + length, ptr, len);
  length += len;
}

/** Appends `s` as UTF-8; what does not fit is cut at a character boundary. */
export function lineAdd(s: string): void {
  if (truncated) return;
  const len = <usize>String.UTF8.byteLength(s);
  if (length + len <= LINE_CAPACITY - TRUNCATED_MARK) {
    String.UTF8.encodeUnsafe(changetype<usize>(s), s.length, line + length);
    length += len;
    return;
  }
  // One character (one or two UTF-16 units) at a time, until the next would not fit.
  const units = changetype<usize>(s);
  for (let i = 0; i < s.length; ) {
    const c = s.charCodeAt(i);
    const width = c >= 0xd800 && c < 0xdc00 && i + 1 < s.length ? 2 : 1;
    const bytes = String.UTF8.encodeUnsafe(units + (<usize>i << 1), width, digits);
    if (length + bytes > LINE_CAPACITY - TRUNCATED_MARK) break;
    memory.copy(line + length, digits, bytes);
    length += bytes;
    i += width;
  }
  truncated = true;
}

/** Appends `n` in decimal. */
export function lineAddU64(n: u64): void {
  let at = digits + 24;
  do {
    at--;
    store<u8>(at, <u8>(0x30 + <u32>(n % 10)));
    n /= 10;
  } while (n != 0);
  lineAddBytes(at, digits + 24 - at);
}

export function lineAddI64(n: i64): void {
  if (n < 0) {
    lineAddBytes(changetype<usize>(MINUS), 1);
    lineAddU64(<u64>(-n));
  } else {
    lineAddU64(<u64>n);
  }
}

export function lineAddU32(n: u32): void {
  lineAddU64(<u64>n);
}

export function lineAddI32(n: i32): void {
  lineAddI64(<i64>n);
}

/** Appends `n` as 0x and lowercase hex digits. */
export function lineAddHex(n: u32): void {
  lineAdd("0x");
  let at = digits + 24;
  do {
    at--;
    const d = n & 15;
    store<u8>(at, <u8>(d < 10 ? 0x30 + d : 0x57 + d));
    n >>>= 4;
  } while (n != 0);
  lineAddBytes(at, digits + 24 - at);
}

/**
 * Writes the line and a newline to `stream` in one write; the result is writeBytes'. An
 * `important` line of a process without streams (a failure init reports) is shown on the console
 * even when the boot is quiet (system-log.ts).
 */
export function linePrint(stream: i32 = STDOUT, important: bool = false): i32 {
  if (truncated) {
    memory.copy(line + length, changetype<usize>(DOTS), TRUNCATED_MARK);
    length += TRUNCATED_MARK;
  }
  store<u8>(line + length, 0x0a);
  const result = writeBytes(stream, line, length + 1, important);
  length = 0;
  truncated = false;
  return result;
}

// ASCII bytes for the two fixed pieces above (a string literal is UTF-16, not bytes).
const MINUS: StaticArray<u8> = [0x2d];
const DOTS: StaticArray<u8> = [0x2e, 0x2e, 0x2e];
