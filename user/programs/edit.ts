// dogma:runtime incremental
// edit [-s ROWSxCOLUMNS] FILE: a small full-screen text editor, as nano is: type to insert,
// arrows, Home/End (^A ^E), PgUp/PgDn, Backspace and Delete, Enter; ^S (or ^O) saves, ^Q (or ^X)
// quits (asking when there are unsaved changes), ^K cuts the line, ^U pastes it, ^W finds text,
// ^G shows the keys. The console is put in raw mode while it runs (and back when it ends); the
// screen is drawn with ANSI escapes, 24 rows of 80 columns unless -s says (Dogma's console does
// not know the terminal's size).
import { args, read, write, eprint, exit, statusText, msgBegin, msgInvoke, msgLabel, msgWord, E_WRONG_TYPE } from "../lib";
import { Options } from "../lib/options";
import { ConsoleClient, CONSOLE_MODE_RAW } from "../lib/console-client";
import { SLOT_STDIN, STREAM_INFO, STREAM_KIND_TERMINAL } from "../lib/streams";
import { FS_RIGHT_READ, FS_RIGHT_WRITE, FS_OPEN_CREATE, FS_OPEN_TRUNCATE, FS_KIND_DIR, FS_E_NOT_FOUND, FS_E_IS_DIR } from "../lib/fs-client";
import { base, within, client, workingDirectory } from "./tool-parts/files";
import { visible } from "./tool-parts/visible";

const o = new Options("edit", "[-s ROWSxCOLUMNS] FILE", "A small full-screen text editor (^S saves, ^Q quits, ^G shows the keys).")
  .value("s", "size", "ROWSxCOLUMNS", "the terminal's size (default 24x80)")
  .parse(args());
if (o.operands.length != 1) o.usageError(o.operands.length == 0 ? "which file? (edit FILE)" : "one file at a time");
workingDirectory("edit");
const path = o.operands[0];
let rows = 24;
let columns = 80;
if (o.given("s")) {
  const size = o.get("s").split("x");
  const r = size.length == 2 ? I32.parseInt(size[0]) : 0;
  const c = size.length == 2 ? I32.parseInt(size[1]) : 0;
  if (r < 4 || c < 20) o.usageError("-s " + o.get("s") + ": ROWSxCOLUMNS, at least 4x20");
  rows = r;
  columns = c;
}
const TEXT_ROWS = rows - 3;

const fs = client();
let lines: string[] = [""];
let modified = false;
let message = "";

/** Reads the file into `lines` (a missing file is a new one). */
function loadFile(): void {
  const h = fs.open(base(path), within(path), FS_RIGHT_READ);
  if (h == FS_E_NOT_FOUND) {
    message = "new file";
    return;
  }
  if (h < 0) {
    eprint("edit: " + visible(path) + ": " + statusText(h));
    exit(1);
  }
  if (fs.kind == FS_KIND_DIR) {
    fs.close(h);
    eprint("edit: " + visible(path) + ": " + statusText(FS_E_IS_DIR));
    exit(1);
  }
  let bytes = new Uint8Array(0);
  let offset: u64 = 0;
  for (;;) {
    const n = fs.read(h, offset, fs.bufferBytes);
    if (n < 0) {
      eprint("edit: " + visible(path) + ": " + statusText(n));
      exit(1);
    }
    if (n == 0) break;
    const grown = new Uint8Array(bytes.length + n);
    grown.set(bytes);
    memory.copy(grown.dataStart + <usize>bytes.length, fs.address, <usize>n);
    bytes = grown;
    offset += <u64>n;
  }
  fs.close(h);
  const text = String.UTF8.decode(bytes.buffer);
  lines = text.split("\n");
  // A file that ends with a newline has no empty last line of its own.
  if (lines.length > 1 && lines[lines.length - 1].length == 0) lines.pop();
  message = "read " + lines.length.toString() + " lines";
}

/** Writes `lines` to the file (each with a newline), synced: whether it worked. */
function save(): bool {
  const ready = fs.prepare(); // the buffer the text is written from
  if (ready < 0) {
    message = "cannot save: " + statusText(ready);
    return false;
  }
  const h = fs.open(base(path), within(path), FS_RIGHT_WRITE | FS_OPEN_CREATE | FS_OPEN_TRUNCATE);
  if (h < 0) {
    message = "cannot save: " + statusText(h);
    return false;
  }
  const bytes = String.UTF8.encode(lines.join("\n") + "\n");
  const total = <u64>bytes.byteLength;
  let offset: u64 = 0;
  while (offset < total) {
    const n = <u32>min(<u64>fs.bufferBytes, total - offset);
    memory.copy(fs.address, changetype<usize>(bytes) + <usize>offset, <usize>n);
    const w = fs.write(h, offset, n);
    if (w <= 0) {
      message = "cannot save: " + statusText(w);
      fs.close(h);
      return false;
    }
    offset += <u64>w;
  }
  const synced = fs.sync(h);
  fs.close(h);
  if (synced < 0) {
    message = "cannot save: " + statusText(synced);
    return false;
  }
  modified = false;
  message = "wrote " + lines.length.toString() + " lines";
  return true;
}

// ---- The screen ----------------------------------------------------------------------------------

let row = 0; // the cursor: line and character in it
let col = 0;
let top = 0; // the first line shown
let left = 0; // the first column shown
let clipboard: string[] = [];
let lastCut = false;

/** The column on the screen of character `c` of `line` (tabs to the next multiple of 8). */
function screenColumn(line: string, c: i32): i32 {
  let x = 0;
  for (let i = 0; i < c && i < line.length; i++) x = line.charAt(i) == "\t" ? (x / 8 + 1) * 8 : x + 1;
  return x;
}

/** `line` as the screen shows it: tabs expanded, control characters as ^X. */
function shown(line: string): string {
  let out = "";
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c == 0x09) out += " ".repeat(8 - (out.length % 8));
    else if (c < 0x20 || c == 0x7f) out += "^" + String.fromCharCode(c == 0x7f ? 0x3f : c + 0x40);
    else out += line.charAt(i);
  }
  return out;
}

function fit(s: string, width: i32): string {
  return s.length > width ? s.slice(0, width) : s.padEnd(width);
}

function draw(): void {
  if (row < top) top = row;
  if (row >= top + TEXT_ROWS) top = row - TEXT_ROWS + 1;
  const x = screenColumn(lines[row], col);
  if (x < left) left = x;
  if (x >= left + columns - 1) left = x - columns + 2;
  let screen = "\x1b[?25l\x1b[H";
  screen += "\x1b[7m" + fit("  edit  " + visible(path) + (modified ? "  (modified)" : ""), columns) + "\x1b[0m\r\n";
  for (let i = 0; i < TEXT_ROWS; i++) {
    const n = top + i;
    const text = n < lines.length ? shown(lines[n]) : "";
    screen += (text.length > left ? text.slice(left, left + columns) : "") + "\x1b[K\r\n";
  }
  screen += "\x1b[7m" + fit(" " + message, columns) + "\x1b[0m\r\n";
  screen += fit("^S save  ^Q quit  ^K cut  ^U paste  ^W find  ^G help   line " + (row + 1).toString() + "/" + lines.length.toString(), columns) + "\x1b[K";
  screen += "\x1b[" + (row - top + 2).toString() + ";" + (x - left + 1).toString() + "H\x1b[?25h";
  write(screen);
  message = "";
}

// ---- Keys ----------------------------------------------------------------------------------------

const keyBuffer = memory.data(256);
let pending: u8[] = [];

/** The next byte typed, or -1 at the end of input. */
function nextByte(): i32 {
  if (pending.length == 0) {
    const n = read(keyBuffer, 252);
    if (n <= 0) return -1;
    for (let i = 0; i < n; i++) pending.push(load<u8>(keyBuffer + <usize>i));
  }
  return <i32>pending.shift();
}

const KEY_UP = -10;
const KEY_DOWN = -11;
const KEY_RIGHT = -12;
const KEY_LEFT = -13;
const KEY_HOME = -14;
const KEY_END = -15;
const KEY_DELETE = -16;
const KEY_PAGE_UP = -17;
const KEY_PAGE_DOWN = -18;
const KEY_EOF = -1;

/** A key: a character (a whole UTF-8 sequence as one code point), a control byte, or KEY_*. */
function nextKey(): i32 {
  const b = nextByte();
  if (b != 0x1b) {
    if (b < 0xc0) return b;
    // A UTF-8 sequence: its code point.
    const extra = b >= 0xf0 ? 3 : b >= 0xe0 ? 2 : 1;
    let cp = b & (0x3f >> extra);
    for (let i = 0; i < extra; i++) cp = (cp << 6) | (nextByte() & 0x3f);
    return cp;
  }
  const kind = nextByte();
  if (kind != 0x5b && kind != 0x4f) return 0x1b;
  let c = nextByte();
  let digits = 0;
  while (c >= 0x30 && c <= 0x39) {
    digits = digits * 10 + (c - 0x30);
    c = nextByte();
  }
  if (c == 0x41) return KEY_UP;
  if (c == 0x42) return KEY_DOWN;
  if (c == 0x43) return KEY_RIGHT;
  if (c == 0x44) return KEY_LEFT;
  if (c == 0x48) return KEY_HOME;
  if (c == 0x46) return KEY_END;
  if (c == 0x7e) {
    if (digits == 3) return KEY_DELETE;
    if (digits == 5) return KEY_PAGE_UP;
    if (digits == 6) return KEY_PAGE_DOWN;
    if (digits == 1 || digits == 7) return KEY_HOME;
    if (digits == 4 || digits == 8) return KEY_END;
  }
  return 0;
}

/** Asks a question on the status line: the line typed (null: ^C or Escape gave up). */
function ask(question: string): string | null {
  let answer = "";
  for (;;) {
    message = question + answer;
    draw();
    const k = nextKey();
    if (k == KEY_EOF || k == 0x03 || k == 0x1b || k == 0x07) return null;
    if (k == 0x0d || k == 0x0a) return answer;
    if (k == 0x7f || k == 0x08) {
      if (answer.length > 0) answer = answer.slice(0, answer.length - 1);
    } else if (k >= 0x20) answer += String.fromCodePoint(k);
  }
  return null;
}

function insert(text: string): void {
  const line = lines[row];
  lines[row] = line.slice(0, col) + text + line.slice(col);
  col += text.length;
  modified = true;
}

/** Puts `text` in as line `at`, the lines from there moving down. */
function insertLine(at: i32, text: string): void {
  lines.push("");
  for (let i = lines.length - 1; i > at; i--) lines[i] = lines[i - 1];
  lines[at] = text;
}

function newline(): void {
  const line = lines[row];
  lines[row] = line.slice(0, col);
  insertLine(row + 1, line.slice(col));
  row++;
  col = 0;
  modified = true;
}

function backspace(): void {
  if (col > 0) {
    const line = lines[row];
    const width = col >= 2 && isLowSurrogate(line.charCodeAt(col - 1)) ? 2 : 1;
    lines[row] = line.slice(0, col - width) + line.slice(col);
    col -= width;
    modified = true;
  } else if (row > 0) {
    col = lines[row - 1].length;
    lines[row - 1] += lines[row];
    lines.splice(row, 1);
    row--;
    modified = true;
  }
}

function deleteForward(): void {
  const line = lines[row];
  if (col < line.length) {
    const width = col + 1 < line.length && isLowSurrogate(line.charCodeAt(col + 1)) ? 2 : 1;
    lines[row] = line.slice(0, col) + line.slice(col + width);
    modified = true;
  } else if (row + 1 < lines.length) {
    lines[row] += lines[row + 1];
    lines.splice(row + 1, 1);
    modified = true;
  }
}

function isLowSurrogate(c: i32): bool {
  return c >= 0xdc00 && c <= 0xdfff;
}

function cut(): void {
  if (!lastCut) clipboard = [];
  clipboard.push(lines[row]);
  if (lines.length > 1) lines.splice(row, 1);
  else lines[0] = "";
  if (row >= lines.length) row = lines.length - 1;
  col = 0;
  modified = true;
  lastCut = true;
}

function paste(): void {
  for (let i = 0; i < clipboard.length; i++) insertLine(row++, clipboard[i]);
  col = 0;
  if (clipboard.length > 0) modified = true;
}

let lastSearch = "";
function find(): void {
  const asked = ask("find" + (lastSearch.length > 0 ? " [" + lastSearch + "]" : "") + ": ");
  if (asked == null) {
    message = "cancelled";
    return;
  }
  const what = asked!.length > 0 ? asked! : lastSearch;
  if (what.length == 0) return;
  lastSearch = what;
  for (let k = 0; k <= lines.length; k++) {
    const n = (row + k) % lines.length;
    const from = k == 0 ? col + 1 : 0;
    const at = lines[n].indexOf(what, from);
    if (at >= 0 && !(k == lines.length && at <= col)) {
      row = n;
      col = at;
      return;
    }
  }
  message = "not found: " + what;
}

/** ^Q: ends, after asking whether to save unsaved changes; false when the person changed their mind. */
function quit(): bool {
  if (!modified) return true;
  const answer = ask("save the changes before leaving? (y/n, ^C stays) ");
  if (answer == null) return false;
  if (answer!.startsWith("y") || answer!.startsWith("Y")) return save();
  return answer!.startsWith("n") || answer!.startsWith("N");
}

const keys =
  "Arrows, Home/End (^A ^E), PgUp/PgDn move; Backspace and Delete erase; ^S saves; ^Q quits; ^K cuts a line, ^U pastes; ^W finds";

// ---- The session ---------------------------------------------------------------------------------

/**
 * Whether standard input is the console: every stream answers the stream protocol's INFO with
 * its kind (contracts Console, Pipe and FileSystem), and only the console is a terminal.
 */
function stdinIsConsole(): bool {
  msgBegin(STREAM_INFO);
  return msgInvoke(SLOT_STDIN) >= 0 && msgLabel() == 0 && msgWord(0) == STREAM_KIND_TERMINAL;
}

const console = new ConsoleClient();
console.service = SLOT_STDIN;
const before = stdinIsConsole() ? console.setMode(CONSOLE_MODE_RAW) : E_WRONG_TYPE;
if (before < 0) {
  eprint("edit: standard input is not the console: the editor needs a terminal");
  exit(1);
}
loadFile();
write("\x1b[?1049h\x1b[2J");
let running = true;
while (running) {
  draw();
  const k = nextKey();
  if (k != 0x0b) lastCut = false;
  if (k == KEY_EOF) {
    // The terminal went away: keep what was typed rather than lose it.
    if (modified) save();
    break;
  }
  if (k == 0x13 || k == 0x0f) save();
  else if (k == 0x11 || k == 0x18) running = !quit();
  else if (k == 0x0b) cut();
  else if (k == 0x15) paste();
  else if (k == 0x17) find();
  else if (k == 0x07) message = keys;
  else if (k == 0x0d || k == 0x0a) newline();
  else if (k == 0x7f || k == 0x08) backspace();
  else if (k == KEY_DELETE || k == 0x04) deleteForward();
  else if (k == KEY_UP || k == 0x10) row = max(0, row - 1);
  else if (k == KEY_DOWN || k == 0x0e) row = min(lines.length - 1, row + 1);
  else if (k == KEY_LEFT || k == 0x02) {
    if (col > 0) col--;
    else if (row > 0) {
      row--;
      col = lines[row].length;
    }
  } else if (k == KEY_RIGHT || k == 0x06) {
    if (col < lines[row].length) col++;
    else if (row + 1 < lines.length) {
      row++;
      col = 0;
    }
  } else if (k == KEY_HOME || k == 0x01) col = 0;
  else if (k == KEY_END || k == 0x05) col = lines[row].length;
  else if (k == KEY_PAGE_UP) row = max(0, row - TEXT_ROWS);
  else if (k == KEY_PAGE_DOWN) row = min(lines.length - 1, row + TEXT_ROWS);
  else if (k == 0x09) insert("\t");
  else if (k >= 0x20) insert(String.fromCodePoint(k));
  col = min(col, lines[row].length);
}
write("\x1b[2J\x1b[H\x1b[?1049l");
console.setMode(<u32>before);
exit(0);
