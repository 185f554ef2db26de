import type { ReadStream } from "node:tty";
import type { ConsoleDevice, InterruptSink } from "../../machine/devices.ts";

/**
 * The host's standard streams, shared by every machine the host runs (a reset makes a new one):
 * each machine's console is a view of it (`console`). It reads input only while a console asks,
 * one chunk per ask, and keeps a chunk that arrives between two machines for the next one, so
 * nothing typed is lost or read twice across a reset. A stream that fails (EPIPE from a closed
 * pipe, EIO from a closed terminal) ends quietly: the console's writes say so from then on, and
 * `onOutputClosed` tells the host. `close` stops reading and gives the terminal its mode back, so
 * the host can end without a key being pressed.
 */
export class StdioTerminal {
  /** Called once, when the output stream (stdout) can no longer be written. */
  onOutputClosed: (() => void) | null = null;
  private readonly openInput: () => NodeJS.ReadableStream;
  private input: NodeJS.ReadableStream | null = null;
  private readonly out: Record<1 | 2, NodeJS.WritableStream>;
  private readonly closed: Record<1 | 2, boolean> = { 1: false, 2: false };
  private sink: InterruptSink | null = null;
  private listening = false;
  private reading = false;
  private ended = false;
  /** A chunk read for a console that went away before it was delivered. */
  private kept: Uint8Array | null = null;
  private raw = false;
  private restores = false;
  /** Reading ahead until a console driver takes the input (`holdInput`); called for a ^C meanwhile. */
  private holding: (() => void) | null = null;

  /**
   * `stdin` may be a function that gives it, called at its first use (`() => process.stdin`): Node
   * makes process.stdin at its first reading, a stream of its kind (a terminal's, a pipe's, a
   * file's) and the modules behind it, about 8 M instructions of a warm `dogma run`'s ~200 M
   * (callgrind), and most programs never read their input. (The outputs are taken at once: their
   * failures are watched from the start, a write to stderr from outside this terminal's too.)
   */
  constructor(stdin: NodeJS.ReadableStream | (() => NodeJS.ReadableStream), stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream) {
    this.openInput = typeof stdin === "function" ? stdin : () => stdin;
    this.out = { 1: stdout, 2: stderr };
    for (const stream of [1, 2] as const) this.out[stream].on("error", () => this.outputFailed(stream));
  }

  /** The input stream, made now if it was not yet. */
  private get stdin(): NodeJS.ReadableStream {
    return (this.input ??= this.openInput());
  }

  /** The console device of a machine whose input interrupts go to `sink`; it replaces the last one. */
  console(sink: InterruptSink): ConsoleDevice {
    this.sink = sink;
    const owner = () => this.sink === sink;
    return {
      write: (stream, bytes) => this.write(stream, bytes),
      requestInput: () => {
        if (owner()) this.requestInput();
      },
      setRawInput: (raw) => {
        if (owner()) this.setRawInput(raw);
      },
      close: () => {
        if (!owner()) return;
        this.sink = null;
        this.pause();
      },
      isTerminal: (stream) => this.isTerminal(stream),
    };
  }

  /** Whether stdin (0), stdout (1) or stderr (2) is a terminal. */
  isTerminal(stream: 0 | 1 | 2): boolean {
    const tty = (stream === 0 ? this.stdin : this.out[stream]) as { isTTY?: boolean };
    return tty.isTTY === true;
  }

  /** Writes `bytes` to stdout (1) or stderr (2): false once that stream has failed. */
  write(stream: 1 | 2, bytes: Uint8Array | string): boolean {
    if (this.closed[stream]) return false;
    this.out[stream].write(bytes);
    return true;
  }

  /**
   * Until a console driver takes the input (sets raw mode), reads it ahead with the terminal in
   * raw mode, so that what is typed while the system boots is not echoed by the terminal (the
   * console driver and the shell show it once, at the prompt) and is kept for the driver. A ^C
   * meanwhile throws what was typed away and calls `onInterrupt`. Only for a terminal.
   */
  holdInput(onInterrupt: () => void): void {
    const tty = this.stdin as Partial<ReadStream>;
    if (!tty.isTTY) return;
    this.holding = onInterrupt;
    this.setRawInput(true);
    this.listen();
    this.stdin.resume();
  }

  /** Stops reading for good and leaves the terminal as it was found: the host may end now. */
  close(): void {
    this.sink = null;
    this.setRawInput(false);
    this.pause();
    const handle = this.input as Partial<{ destroy(): void }> | null;
    if (this.listening) handle?.destroy?.();
  }

  private requestInput(): void {
    if (this.reading) return;
    const kept = this.kept;
    if (kept !== null || this.ended) {
      this.kept = null;
      // Delivered from the event loop, as a device's input always is.
      const sink = this.sink;
      setImmediate(() => sink?.raise({ line: "console", data: kept }));
      return;
    }
    this.listen();
    this.reading = true;
    this.stdin.resume();
  }

  private listen(): void {
    if (this.listening) return;
    this.listening = true;
    this.stdin.on("data", (chunk: Buffer | string) => {
      const bytes = typeof chunk === "string" ? new TextEncoder().encode(chunk) : new Uint8Array(chunk);
      if (this.reading && this.sink) {
        this.pause();
        return this.sink.raise({ line: "console", data: bytes });
      }
      this.kept = this.kept ? concat(this.kept, bytes) : bytes;
      if (this.holding && bytes.includes(CTRL_C)) {
        this.kept = null;
        this.holding();
      }
      const full = this.kept !== null && this.kept.length >= MAX_KEPT_BYTES;
      if (!this.holding || full) this.pause();
    });
    // A closed terminal ends input with EIO rather than an end: both end it.
    const end = () => {
      if (this.ended) return;
      this.ended = true;
      this.reading = false;
      this.sink?.raise({ line: "console", data: null });
    };
    this.stdin.on("end", end);
    this.stdin.on("error", end);
  }

  private pause(): void {
    this.reading = false;
    this.input?.pause(); // an input never made is not being read
  }

  private setRawInput(raw: boolean): void {
    // An input never made was never set raw: it need not be made to be left cooked.
    if (!raw && this.input === null) return;
    const tty = this.stdin as Partial<ReadStream>;
    // A console driver takes the input: the terminal's input is read on demand from now on.
    if (raw && this.sink) this.holding = null;
    if (!tty.isTTY || !tty.setRawMode || raw === this.raw) return;
    this.raw = raw;
    tty.setRawMode(raw);
    // The terminal must not stay raw after the host exits, however it exits.
    if (raw && !this.restores) {
      this.restores = true;
      process.once("exit", () => this.raw && tty.setRawMode?.(false));
    }
  }

  private outputFailed(stream: 1 | 2): void {
    if (this.closed[stream]) return;
    this.closed[stream] = true;
    if (stream === 1) this.onOutputClosed?.();
  }
}

const CTRL_C = 0x03;
/** Typeahead kept while nobody reads: more waits in the terminal (and its reading stops). */
const MAX_KEPT_BYTES = 64 << 10;

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
