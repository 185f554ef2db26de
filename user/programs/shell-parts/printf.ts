// echo and printf as dash has them built in (scripts compare their output with dash's): echo
// prints its arguments with backslash escapes interpreted (\n \t \\ \c ...; -n drops the
// newline); printf's format is reused until the arguments run out, with %s %b %c %d %i %u %o %x
// %X %%, flags - 0 + space #, a width and a precision (* takes them from the arguments).
import { parseInteger } from "./arith";

/** What an escape sequence in echo's or %b's text gives; `stop` set by \c (nothing more is printed). */
class Escaped {
  text: string = "";
  stop: bool = false;
}

/** `text` with \a \b \c \f \n \r \t \v \\ and \0NNN (octal) interpreted, as dash's echo and %b do. */
function escapes(text: string, octalNeedsZero: bool): Escaped {
  const out = new Escaped();
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c != 0x5c || i + 1 >= text.length) {
      out.text += text.charAt(i);
      i++;
      continue;
    }
    const d = text.charAt(i + 1);
    i += 2;
    if (d == "n") out.text += "\n";
    else if (d == "t") out.text += "\t";
    else if (d == "\\") out.text += "\\";
    else if (d == "a") out.text += "\x07";
    else if (d == "b") out.text += "\x08";
    else if (d == "f") out.text += "\x0c";
    else if (d == "r") out.text += "\r";
    else if (d == "v") out.text += "\x0b";
    else if (d == "c") {
      out.stop = true;
      return out;
    } else if (d == "0" || (!octalNeedsZero && d >= "1" && d <= "7")) {
      let value = d == "0" ? 0 : d.charCodeAt(0) - 0x30;
      let digits = d == "0" ? 0 : 1;
      while (digits < 3 && i < text.length && text.charCodeAt(i) >= 0x30 && text.charCodeAt(i) <= 0x37) {
        value = value * 8 + (text.charCodeAt(i) - 0x30);
        i++;
        digits++;
      }
      out.text += String.fromCharCode(value & 0xff);
    } else out.text += "\\" + d;
  }
  return out;
}

/** echo ARGS: what dash's echo writes. */
export function echo(args: string[]): string {
  let newline = true;
  let first = 0;
  if (args.length > 0 && args[0] == "-n") {
    newline = false;
    first = 1;
  }
  let out = "";
  for (let i = first; i < args.length; i++) {
    const e = escapes(args[i], true);
    out += (i > first ? " " : "") + e.text;
    if (e.stop) return out;
  }
  return newline ? out + "\n" : out;
}

/**
 * The widest field (width or precision) printf makes. The shell builds its output in memory: a
 * '%999999999d' padded a string to a billion characters, the shell deaf to everything meanwhile.
 */
const MAX_FIELD: i32 = 1 << 20;
/** What one printf makes at most (the same bound as a stage's output between the shell's commands). */
const MAX_OUTPUT: i32 = 2 << 20;

/** printf's output, and an error message when an argument was not a number (the status is then 1). */
export class Printed {
  text: string = "";
  error: string = "";
}

function pad(s: string, width: i32, left: bool, zero: bool): string {
  if (s.length >= width) return s;
  if (left) return s.padEnd(width);
  if (zero) {
    const sign = s.startsWith("-") || s.startsWith("+") ? s.charAt(0) : "";
    return sign + s.slice(sign.length).padStart(width - sign.length, "0");
  }
  return s.padStart(width);
}

/** printf FORMAT ARGS. */
export function printf(format: string, args: string[]): Printed {
  const out = new Printed();
  let next = 0;
  for (;;) {
    let i = 0;
    while (i < format.length) {
      if (out.text.length > MAX_OUTPUT) {
        out.error = "more than " + MAX_OUTPUT.toString() + " characters of output";
        return out;
      }
      const c = format.charCodeAt(i);
      if (c == 0x5c) {
        // An escape in the format: as %b's, and \c stops everything.
        let j = i + 1;
        if (j < format.length && format.charCodeAt(j) >= 0x30 && format.charCodeAt(j) <= 0x37) {
          while (j < format.length && j < i + 4 && format.charCodeAt(j) >= 0x30 && format.charCodeAt(j) <= 0x37) j++;
        } else j = min(j + 1, format.length);
        const e = escapes(format.slice(i, j), false);
        out.text += e.text;
        if (e.stop) return out;
        i = j;
        continue;
      }
      if (c != 0x25) {
        out.text += format.charAt(i);
        i++;
        continue;
      }
      i++;
      if (i < format.length && format.charCodeAt(i) == 0x25) {
        out.text += "%";
        i++;
        continue;
      }
      let left = false;
      let zero = false;
      let plus = false;
      let space = false;
      let alternate = false;
      for (; i < format.length; i++) {
        const f = format.charAt(i);
        if (f == "-") left = true;
        else if (f == "0") zero = true;
        else if (f == "+") plus = true;
        else if (f == " ") space = true;
        else if (f == "#") alternate = true;
        else break;
      }
      let width = 0;
      if (i < format.length && format.charAt(i) == "*") {
        width = <i32>number(next < args.length ? args[next++] : "0", out).value;
        if (width < 0) {
          left = true;
          width = -width;
        }
        i++;
      } else while (i < format.length && format.charCodeAt(i) >= 0x30 && format.charCodeAt(i) <= 0x39) width = min(width * 10 + (format.charCodeAt(i++) - 0x30), MAX_FIELD + 1);
      let precision = -1;
      if (i < format.length && format.charAt(i) == ".") {
        i++;
        precision = 0;
        if (i < format.length && format.charAt(i) == "*") {
          precision = <i32>number(next < args.length ? args[next++] : "0", out).value;
          i++;
        } else while (i < format.length && format.charCodeAt(i) >= 0x30 && format.charCodeAt(i) <= 0x39) precision = min(precision * 10 + (format.charCodeAt(i++) - 0x30), MAX_FIELD + 1);
      }
      if (width > MAX_FIELD || precision > MAX_FIELD) {
        out.error = "a field wider than " + MAX_FIELD.toString() + " characters";
        return out;
      }
      // Length modifiers (l, h, ...) mean nothing here.
      while (i < format.length && (format.charAt(i) == "l" || format.charAt(i) == "h" || format.charAt(i) == "j" || format.charAt(i) == "z")) i++;
      if (i >= format.length) {
        out.error = "%: missing conversion";
        return out;
      }
      const conversion = format.charAt(i);
      i++;
      const arg = next < args.length ? args[next] : "";
      if (next < args.length) next++;
      let s = "";
      if (conversion == "s") s = precision >= 0 ? arg.slice(0, precision) : arg;
      else if (conversion == "b") {
        const e = escapes(arg, true);
        s = precision >= 0 ? e.text.slice(0, precision) : e.text;
        if (e.stop) {
          out.text += pad(s, width, left, false);
          return out;
        }
      } else if (conversion == "c") s = arg.length > 0 ? arg.charAt(0) : "";
      else if (conversion == "d" || conversion == "i") {
        const v = number(arg, out).value;
        s = abs(v).toString();
        if (precision >= 0) s = s.padStart(precision, "0");
        s = (v < 0 ? "-" : plus ? "+" : space ? " " : "") + s;
        out.text += pad(s, width, left, zero && precision < 0);
        continue;
      } else if (conversion == "u" || conversion == "o" || conversion == "x" || conversion == "X") {
        const v = <u64>number(arg, out).value;
        s = conversion == "u" ? v.toString() : conversion == "o" ? v.toString(8) : v.toString(16);
        if (conversion == "X") s = s.toUpperCase();
        if (precision >= 0) s = s.padStart(precision, "0");
        if (alternate && v != 0) s = (conversion == "o" ? "0" : conversion == "x" ? "0x" : conversion == "X" ? "0X" : "") + s;
        out.text += pad(s, width, left, zero && precision < 0);
        continue;
      } else {
        out.error = "%" + conversion + ": invalid conversion";
        return out;
      }
      out.text += pad(s, width, left, false);
    }
    // The format is used again while arguments remain (and took some).
    if (next >= args.length || next == 0) break;
  }
  return out;
}

function number(text: string, out: Printed): ArithmeticNumber {
  const n = new ArithmeticNumber();
  const trimmed = text.trim();
  if (trimmed.length == 0) return n;
  if (trimmed.startsWith("'") || trimmed.startsWith('"')) {
    n.value = trimmed.length > 1 ? trimmed.charCodeAt(1) : 0;
    return n;
  }
  const parsed = parseInteger(trimmed);
  if (parsed.error.length > 0) {
    // dash: what it could read of the number, and an error.
    out.error = text + ": invalid number";
    let v: i64 = 0;
    let k = 0;
    const negative = trimmed.startsWith("-");
    if (negative || trimmed.startsWith("+")) k = 1;
    while (k < trimmed.length && trimmed.charCodeAt(k) >= 0x30 && trimmed.charCodeAt(k) <= 0x39) v = v * 10 + (trimmed.charCodeAt(k++) - 0x30);
    n.value = negative ? -v : v;
    return n;
  }
  n.value = parsed.value;
  return n;
}

class ArithmeticNumber {
  value: i64 = 0;
}
