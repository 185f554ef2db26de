// The shell's line editor, over the console in raw mode: insert anywhere, erase, move (arrows,
// Home/End, ^A ^E ^B ^F), kill (^U ^K ^W), history (up/down, ^P ^N), Tab completes a command or a path, ^L clears the screen, ^C
// abandons the line, ^D on an empty line ends the session. A line is bytes (UTF-8); the cursor
// moves by characters. After an edit that is not typing at the end, the line is redrawn:
// carriage return, prompt, line, erase to the end, and the cursor moved back.
import { ConsoleClient } from "../../lib/console-client";

const MAX_HISTORY = 200;
const ESC: u8 = 0x1b;

/** What Tab offers for the text before the cursor; `word` is the part of it being completed. */
export abstract class Completer {
  word: string = "";
  abstract candidates(before: string): string[];
}

/** What readLine got: a line, or the end of the session. */
export class Input {
  constructor(readonly line: string, readonly ended: bool) {}
}

function isContinuation(b: u8): bool {
  return (b & 0xc0) == 0x80;
}

export class LineEditor {
  readonly history: string[] = [];
  /** What Tab completes words from (shell-parts/complete.ts). */
  completer: Completer | null = null;
  private line: u8[] = [];
  private cursor: i32 = 0;
  private prompt: string = "";
  private readonly inBuffer: usize = heap.alloc(256);
  private pending: u8[] = [];

  constructor(readonly console: ConsoleClient) {}

  /** Reads one line after showing `prompt`. */
  readLine(prompt: string): Input {
    this.prompt = prompt;
    this.line = [];
    this.cursor = 0;
    let browsing = this.history.length; // where in the history the up and down keys are
    let typed = ""; // the line being typed, kept while browsing the history
    this.out(prompt);
    for (;;) {
      const b = this.next();
      if (b < 0) return new Input(this.text(), true);
      const c = <u8>b;
      if (c == 0x0d || c == 0x0a) {
        this.out("\n");
        const text = this.text();
        if (text.trim().length > 0 && (this.history.length == 0 || this.history[this.history.length - 1] != text)) {
          this.history.push(text);
          if (this.history.length > MAX_HISTORY) this.history.shift();
        }
        return new Input(text, false);
      }
      if (c == 0x03) {
        this.out("^C\n");
        return new Input("", false);
      }
      if (c == 0x04) {
        if (this.line.length == 0) {
          this.out("\n");
          return new Input("", true);
        }
        this.deleteAtCursor();
        continue;
      }
      if (c == ESC) {
        const key = this.escape();
        if (key == 0x41 || key == 0x42) {
          if (browsing == this.history.length) typed = this.text();
          browsing = key == 0x41 ? max(0, browsing - 1) : min(this.history.length, browsing + 1);
          this.replace(browsing == this.history.length ? typed : this.history[browsing]);
        } else if (key == 0x43) this.right();
        else if (key == 0x44) this.left();
        else if (key == 0x48) this.home();
        else if (key == 0x46) this.end();
        else if (key == 0x7e) this.deleteAtCursor();
        continue;
      }
      if (c == 0x10 || c == 0x0e) {
        if (browsing == this.history.length) typed = this.text();
        browsing = c == 0x10 ? max(0, browsing - 1) : min(this.history.length, browsing + 1);
        this.replace(browsing == this.history.length ? typed : this.history[browsing]);
        continue;
      }
      if (c == 0x7f || c == 0x08) this.backspace();
      else if (c == 0x01) this.home();
      else if (c == 0x05) this.end();
      else if (c == 0x02) this.left();
      else if (c == 0x06) this.right();
      else if (c == 0x0b) {
        this.line.length = this.cursor;
        this.redraw();
      } else if (c == 0x15) {
        this.line = this.line.slice(this.cursor);
        this.cursor = 0;
        this.redraw();
      } else if (c == 0x17) this.eraseWord();
      else if (c == 0x0c) {
        this.out("\x1b[H\x1b[2J");
        this.redraw();
      } else if (c == 0x09) this.complete();
      else if (c >= 0x20) this.insert(c);
    }
    return new Input("", true); // not reached: the loop returns
  }

  /**
   * Tab: the word before the cursor completed from what the completer offers (commands for the
   * first word of a command, paths otherwise). One candidate is put in (with a space, or nothing
   * after a directory's /); several are listed under the line, which is shown again with what
   * they share added.
   */
  private complete(): void {
    const before = this.textUpTo(this.cursor);
    const found = this.completer != null ? this.completer!.candidates(before) : new Array<string>();
    const word = this.completer != null ? this.completer!.word : "";
    if (found.length == 0) {
      this.out("\x07");
      return;
    }
    let shared = found[0];
    for (let i = 1; i < found.length; i++) {
      let n = 0;
      while (n < shared.length && n < found[i].length && shared.charCodeAt(n) == found[i].charCodeAt(n)) n++;
      shared = shared.slice(0, n);
    }
    const rest = shared.slice(word.length) + (found.length == 1 && !shared.endsWith("/") ? " " : "");
    if (found.length > 1 && rest.length == 0) {
      found.sort();
      const shown = new Array<string>();
      for (let i = 0; i < found.length; i++) {
        const slash = found[i].lastIndexOf("/", found[i].length - 2);
        shown.push(found[i].slice(slash + 1));
      }
      this.out("\n" + shown.join("  ") + "\n");
      this.redraw();
      return;
    }
    const bytes = Uint8Array.wrap(String.UTF8.encode(rest));
    for (let i = 0; i < bytes.length; i++) this.insert(bytes[i]);
  }

  private textUpTo(end: i32): string {
    const buf = heap.alloc(<usize>max(end, 1));
    for (let i = 0; i < end; i++) store<u8>(buf + <usize>i, this.line[i]);
    const s = String.UTF8.decodeUnsafe(buf, <usize>end);
    heap.free(buf);
    return s;
  }

  private text(): string {
    const n = this.line.length;
    const buf = heap.alloc(<usize>max(n, 1));
    for (let i = 0; i < n; i++) store<u8>(buf + <usize>i, this.line[i]);
    const s = String.UTF8.decodeUnsafe(buf, <usize>n);
    heap.free(buf);
    return s;
  }

  /** The next byte typed, or -1 at the end of input. */
  /**
   * Whether a ^C is among the bytes read after the line ended (typed in the same burst as its
   * Enter): it interrupts the command that line is, so the bytes up to it go, as a terminal's
   * interrupt throws typeahead away.
   */
  takeInterrupt(): bool {
    const at = this.pending.indexOf(0x03);
    if (at < 0) return false;
    this.pending.splice(0, at + 1);
    return true;
  }

  private next(): i32 {
    if (this.pending.length == 0) {
      const n = this.console.read(this.inBuffer, 256);
      if (n <= 0) return -1;
      for (let i = 0; i < n; i++) this.pending.push(load<u8>(this.inBuffer + <usize>i));
    }
    return <i32>this.pending.shift();
  }

  /** Reads the rest of an escape sequence: the final byte of ESC [ X, ESC O X, or 0x7e for ESC [ 3 ~. */
  private escape(): i32 {
    const kind = this.next();
    if (kind != 0x5b && kind != 0x4f) return kind;
    let b = this.next();
    let digits = 0;
    while (b >= 0x30 && b <= 0x39) {
      digits = digits * 10 + (b - 0x30);
      b = this.next();
    }
    if (b == 0x7e) return digits == 3 ? 0x7e : digits == 1 || digits == 7 ? 0x48 : digits == 4 || digits == 8 ? 0x46 : 0;
    return b;
  }

  private insert(c: u8): void {
    this.line.push(0);
    for (let i = this.line.length - 1; i > this.cursor; i--) this.line[i] = this.line[i - 1];
    this.line[this.cursor] = c;
    this.cursor++;
    if (this.cursor == this.line.length) {
      // Typing at the end: echo the byte (a UTF-8 sequence goes out whole once complete).
      if (!isContinuation(c) && c < 0x80) this.outByte(c);
      else if (this.sequenceComplete()) this.outTail();
    } else this.redraw();
  }

  /** Whether the bytes before the cursor end with a whole UTF-8 sequence. */
  private sequenceComplete(): bool {
    let start = this.cursor - 1;
    while (start > 0 && isContinuation(this.line[start])) start--;
    const lead = this.line[start];
    const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
    return this.cursor - start >= need;
  }

  /** Writes the last character (its bytes) of the line. */
  private outTail(): void {
    let start = this.cursor - 1;
    while (start > 0 && isContinuation(this.line[start])) start--;
    for (let i = start; i < this.cursor; i++) this.outByte(this.line[i]);
  }

  private backspace(): void {
    if (this.cursor == 0) return;
    const end = this.cursor;
    this.left();
    this.line.splice(this.cursor, end - this.cursor);
    this.redraw();
  }

  private deleteAtCursor(): void {
    if (this.cursor >= this.line.length) return;
    let end = this.cursor + 1;
    while (end < this.line.length && isContinuation(this.line[end])) end++;
    this.line.splice(this.cursor, end - this.cursor);
    this.redraw();
  }

  private eraseWord(): void {
    const end = this.cursor;
    while (this.cursor > 0 && this.line[this.cursor - 1] == 0x20) this.cursor--;
    while (this.cursor > 0 && this.line[this.cursor - 1] != 0x20) this.cursor--;
    this.line.splice(this.cursor, end - this.cursor);
    this.redraw();
  }

  private left(): void {
    if (this.cursor == 0) return;
    this.cursor--;
    while (this.cursor > 0 && isContinuation(this.line[this.cursor])) this.cursor--;
    this.redraw();
  }

  private right(): void {
    if (this.cursor >= this.line.length) return;
    this.cursor++;
    while (this.cursor < this.line.length && isContinuation(this.line[this.cursor])) this.cursor++;
    this.redraw();
  }

  private home(): void {
    this.cursor = 0;
    this.redraw();
  }

  private end(): void {
    this.cursor = this.line.length;
    this.redraw();
  }

  private replace(text: string): void {
    const bytes = String.UTF8.encode(text);
    const view = Uint8Array.wrap(bytes);
    this.line = [];
    for (let i = 0; i < view.length; i++) this.line.push(view[i]);
    this.cursor = this.line.length;
    this.redraw();
  }

  /** Shows the prompt and the line again, with the cursor where it is. */
  private redraw(): void {
    let after = 0; // characters after the cursor
    for (let i = this.cursor; i < this.line.length; i++) if (!isContinuation(this.line[i])) after++;
    this.out("\r" + this.prompt + this.text() + "\x1b[K" + (after > 0 ? "\x1b[" + after.toString() + "D" : ""));
  }

  private out(s: string): void {
    this.console.writeString(s);
  }

  private outByte(c: u8): void {
    store<u8>(this.inBuffer + 255, c);
    this.console.write(this.inBuffer + 255, 1);
  }
}
