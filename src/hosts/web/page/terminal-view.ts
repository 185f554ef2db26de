import { FitAddon } from "@xterm/addon-fit";
import { Terminal } from "@xterm/xterm";
import "@xterm/xterm/css/xterm.css";

/**
 * The console on an xterm.js terminal: every key goes to the machine as typed (^C, ^D and Enter as
 * bytes, as a terminal in raw mode gives them on Node); a paste goes as one chunk; the terminal
 * refits its container when the window changes. Output "\n" starts a new line (convertEol), as a
 * Unix terminal's output processing does.
 */
export class TerminalView {
  private readonly terminal: Terminal;
  private readonly fit = new FitAddon();
  private readonly encoder = new TextEncoder();

  constructor(element: HTMLElement, send: (bytes: Uint8Array) => void) {
    this.terminal = new Terminal({
      convertEol: true,
      cursorBlink: true,
      scrollback: 5000,
      fontFamily: "ui-monospace, 'DejaVu Sans Mono', Menlo, Consolas, monospace",
      fontSize: 14,
      theme: { background: "#101418", foreground: "#d8dee4" },
    });
    this.terminal.loadAddon(this.fit);
    this.terminal.open(element);
    this.terminal.onData((data) => send(this.encoder.encode(data)));
    this.refit();
    new ResizeObserver(() => this.refit()).observe(element);
    this.terminal.focus();
  }

  /** Writes `bytes`; `written` runs once the terminal has parsed them (its buffer shows them). */
  write(bytes: Uint8Array, written?: () => void): void {
    this.terminal.write(bytes, written);
  }

  /** A line from the page itself (not the machine's), dimmed. */
  note(text: string): void {
    this.terminal.write(`\x1b[2m${text}\x1b[0m\r\n`);
  }

  focus(): void {
    this.terminal.focus();
  }

  get size(): { cols: number; rows: number } {
    return { cols: this.terminal.cols, rows: this.terminal.rows };
  }

  /** The whole buffer as text, a line per line the machine wrote (rows it wrapped joined again). */
  text(): string {
    const buffer = this.terminal.buffer.active;
    let text = "";
    for (let y = 0; y < buffer.length; y++) {
      const line = buffer.getLine(y);
      if (y > 0 && !line?.isWrapped) text += "\n";
      text += line?.translateToString(!buffer.getLine(y + 1)?.isWrapped) ?? "";
    }
    // The rows below the cursor that nothing was written to yet.
    return text.replace(/\n+$/, "");
  }

  /** The line the cursor is on. */
  currentLine(): string {
    const buffer = this.terminal.buffer.active;
    return buffer.getLine(buffer.baseY + buffer.cursorY)?.translateToString(true) ?? "";
  }

  private refit(): void {
    try {
      this.fit.fit();
    } catch {
      // Not laid out yet (a hidden pane): the next resize fits it.
    }
  }
}
