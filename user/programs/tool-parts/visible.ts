// Names as the terminal may show them. A name is bytes, and may hold control characters (an
// escape sequence from a host folder, a newline): printed raw they would drive the terminal. Such
// a name is shown quoted as a shell would read it back, $'...' with \e, \n, \xHH, as GNU ls does
// (--quoting-style=shell-escape); any other name is shown as it is.

const HEX = "0123456789abcdef";

/** Whether byte `c` (of a UTF-8 name) is one the terminal would act on: C0 controls and DEL. */
function isControl(c: u32): bool {
  return c < 0x20 || c == 0x7f;
}

/** Whether the `length` bytes at `at` are valid UTF-8 with no C1 control (U+0080 to U+009F). */
function cleanUtf8(at: usize, length: u32): bool {
  let i: u32 = 0;
  while (i < length) {
    const c = <u32>load<u8>(at + i);
    if (c < 0x80) {
      if (isControl(c)) return false;
      i++;
      continue;
    }
    const extra: u32 = c >= 0xf0 && c < 0xf5 ? 3 : c >= 0xe0 && c < 0xf0 ? 2 : c >= 0xc2 && c < 0xe0 ? 1 : 0;
    if (extra == 0 || i + extra >= length) return false; // a byte no character starts with, or one cut short
    for (let k: u32 = 1; k <= extra; k++) if ((<u32>load<u8>(at + i + k) & 0xc0) != 0x80) return false;
    if (c == 0xc2 && <u32>load<u8>(at + i + 1) < 0xa0) return false; // U+0080 to U+009F
    i += extra + 1;
  }
  return true;
}

/** The name in `length` bytes at `at`, made safe to print. */
export function visibleBytes(at: usize, length: u32): string {
  if (cleanUtf8(at, length)) return String.UTF8.decodeUnsafe(at, length);
  let out = "$'";
  for (let i: u32 = 0; i < length; i++) {
    const c = <u32>load<u8>(at + i);
    if (c == 0x1b) out += "\\e";
    else if (c == 0x0a) out += "\\n";
    else if (c == 0x09) out += "\\t";
    else if (c == 0x0d) out += "\\r";
    else if (c == 0x27) out += "\\'";
    else if (c == 0x5c) out += "\\\\";
    else if (c < 0x20 || c >= 0x7f) out += "\\x" + HEX.charAt(c >> 4) + HEX.charAt(c & 15);
    else out += String.fromCharCode(c);
  }
  return out + "'";
}

/** `name` made safe to print. */
export function visible(name: string): string {
  const bytes = String.UTF8.encode(name);
  return visibleBytes(changetype<usize>(bytes), <u32>bytes.byteLength);
}
