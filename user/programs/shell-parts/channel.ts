// Where a command's input, output and errors go, seen from the shell (exec.ts): the console, a
// stream capability (an open file, a pipe end), bytes in the shell's memory (what $(...)
// captures, what a here-document holds, what passes between two commands the shell runs itself),
// the next program of a pipeline, or nowhere (/dev/null). Builtins write and read through a
// Channel; a program is given a capability for it (jobs.ts makes a pipe and pumps when the
// Channel is memory).
import { streamWrite, streamRead } from "../../lib/streams";
import { ConsoleClient } from "../../lib/console-client";

export const IO_CONSOLE: i32 = 0;
export const IO_CAP: i32 = 1;
export const IO_BUFFER: i32 = 2;
/** An external pipeline's pipe to its next program (jobs.ts makes it). */
export const IO_PIPE_NEXT: i32 = 3;
/** /dev/null: what is written is dropped, and reading finds the end at once. */
export const IO_NULL: i32 = 4;
/**
 * The input of a job of programs that a stage the shell runs itself writes into as it runs
 * (`while ...; done | head`): a pipe whose write end the shell holds; writing waits for room
 * while watching the job (jobs.ts, a Feeder), and fails once nobody can read.
 */
export const IO_FEED: i32 = 5;

/**
 * The output of a job of programs that a stage the shell runs itself reads as they write it
 * (`cat big | while read l`): a pipe whose read end the shell holds; reading waits for bytes
 * while watching the job (jobs.ts, a Drainer), and finds the end when it has ended.
 */
export const IO_DRAIN: i32 = 6;

/** Where an IO_DRAIN channel's bytes come from: the pipe out of a running job (jobs.ts). */
export abstract class Drainer {
  /** Reads at most `max` bytes into `ptr`, waiting while the job may still write: the count, 0 at the end. */
  abstract read(ptr: usize, max: i32): i32;
  /** The pipe's read end (for a program of the reading stage, which reads it directly). */
  abstract get end(): i32;
  /** Done reading: a program still writing finds the pipe broken. */
  abstract close(): void;
}

/** Where an IO_FEED channel's bytes go: the pipe into a running job (jobs.ts). */
export abstract class Feeder {
  /** Writes all `len` bytes, waiting for room: false when the job can no longer read them. */
  abstract write(ptr: usize, len: i32): bool;
  /** The pipe's write end (for a program of the writing stage, which writes into it directly). */
  abstract get end(): i32;
  /** No more input: the job reads the end of it. */
  abstract close(): void;
  /** Whether the program reading the pipe has ended (what the stage's programs write is lost too). */
  abstract get gone(): bool;
}

/**
 * The most bytes one buffer holds. The shell runs its own stages one after another, so what a
 * loop writes into a pipe, or a program writes into the shell's next stage, or $(...) captures, is
 * all in its memory at once (32 MiB in the default config, and a string of it takes twice the
 * bytes): past this, the writer is stopped with a message instead of the shell running out of
 * memory and ending.
 */
export const MAX_HELD_BYTES: i32 = 2 << 20;
/** The longest line `read` gets from a stream at once; a longer one comes in pieces of this. */
export const MAX_LINE_BYTES: i32 = 1 << 20;

/** The most bytes $(...) captures: its text is copied several times as it is expanded. */
export const MAX_SUBSTITUTION_BYTES: i32 = 1 << 20;

/** Bytes in the shell's memory, written at the end and read from the front. */
export class ByteBuffer {
  data: Uint8Array = new Uint8Array(256);
  length: i32 = 0;
  readAt: i32 = 0;
  /** No more will be written: reading past the end is the end of input. */
  closed: bool = true;
  /** An append was refused: it would have held more than MAX_HELD_BYTES. */
  full: bool = false;
  /** The shell has said so (once). */
  fullSaid: bool = false;

  constructor(readonly limit: i32 = MAX_HELD_BYTES) {}

  private room(more: i32): bool {
    if (this.length + more <= this.data.length) return true;
    if (more > this.limit - this.length) {
      this.full = true;
      return false;
    }
    let size = this.data.length * 2;
    while (size < this.length + more) size *= 2;
    const bigger = new Uint8Array(min(size, this.limit));
    memory.copy(bigger.dataStart, this.data.dataStart, <usize>this.length);
    this.data = bigger;
    return true;
  }

  /** Drops what has been read, moving the rest to the front (a stream's buffer holds only what is not yet used). */
  compact(): void {
    if (this.readAt == 0) return;
    const rest = this.length - this.readAt;
    memory.copy(this.data.dataStart, this.data.dataStart + <usize>this.readAt, <usize>rest);
    this.length = rest;
    this.readAt = 0;
  }

  /** Appends `len` bytes: false (nothing appended, `full` set) past the limit. */
  append(ptr: usize, len: i32): bool {
    if (!this.room(len)) return false;
    memory.copy(this.data.dataStart + <usize>this.length, ptr, <usize>len);
    this.length += len;
    return true;
  }

  appendString(s: string): bool {
    const bytes = String.UTF8.encode(s);
    return this.append(changetype<usize>(bytes), bytes.byteLength);
  }

  /** Everything written (not just what is left to read), as text. */
  text(): string {
    return String.UTF8.decodeUnsafe(this.data.dataStart, <usize>this.length);
  }

  get unread(): i32 {
    return this.length - this.readAt;
  }
}

/** Input read a line at a time, from whatever kind of channel. */
export class Channel {
  buffer: ByteBuffer | null = null;
  /** Bytes read from a capability or the console and not yet used (a stream answers in chunks). */
  private pending: ByteBuffer = new ByteBuffer();
  private ended: bool = false;

  constructor(
    readonly kind: i32,
    /** The capability of IO_CAP (not owned: whoever opened it closes it). */
    readonly cap: i32 = 0,
    /** Output to the console: its errors stream. */
    readonly errors: bool = false,
  ) {}

  /** IO_FEED: set when its job starts. */
  feeder: Feeder | null = null;
  /** IO_DRAIN: set when its job starts. */
  drainer: Drainer | null = null;
  /** IO_FEED: a write found nobody to read it (a broken pipe). */
  broken: bool = false;

  /** Output that can take no more (memory past its limit, a broken pipe): its writer must stop. */
  get stopsWriter(): bool {
    if (this.kind == IO_FEED && !this.broken && this.feeder != null && this.feeder!.gone) this.broken = true;
    return (this.kind == IO_BUFFER && this.buffer!.full) || this.broken;
  }

  static memory(buffer: ByteBuffer): Channel {
    const c = new Channel(IO_BUFFER);
    c.buffer = buffer;
    return c;
  }

  /** Writes `s`: false when it could not be written (a closed pipe, a full disk). */
  write(s: string): bool {
    if (s.length == 0) return true;
    if (this.kind == IO_NULL) return true;
    if (this.kind == IO_BUFFER) return this.buffer!.appendString(s);
    if (this.kind == IO_FEED) {
      // No feeder: the job's input was redirected elsewhere, so nobody reads this either.
      if (!this.broken && this.feeder != null) {
        const fed = String.UTF8.encode(s);
        if (this.feeder!.write(changetype<usize>(fed), fed.byteLength)) return true;
      }
      this.broken = true;
      return false;
    }
    if (this.kind == IO_CONSOLE) return shellConsole.writeString(s, this.errors) >= 0;
    const bytes = String.UTF8.encode(s);
    return streamWrite(this.cap, changetype<usize>(bytes), <usize>bytes.byteLength) >= 0;
  }

  /** Up to `max` more bytes into `pending`: false at the end of input. */
  private fill(): bool {
    if (this.ended) return false;
    // A job's output comes a pipe's chunk at a time; the console and files a line's worth.
    const size = this.kind == IO_DRAIN ? 4096 : 252;
    const scratch = heap.alloc(<usize>size + 4);
    let n = 0;
    if (this.kind == IO_CONSOLE) n = shellConsole.read(scratch, size);
    else if (this.kind == IO_CAP) n = streamRead(this.cap, scratch, <u32>size);
    else if (this.kind == IO_DRAIN && this.drainer != null) n = this.drainer!.read(scratch, size);
    // Room is there: readLine compacts first, and hands out a line of MAX_LINE_BYTES before more is read.
    if (n > 0) this.pending.append(scratch, n);
    heap.free(scratch);
    if (n <= 0) this.ended = true;
    return n > 0;
  }

  /** The line readLine gave last had no newline: the input ended in the middle of it (`read` then answers 1, as sh's does). */
  unterminated: bool = false;

  /** The next line, without its newline; null at the end of input (a last line without one is returned first). */
  readLine(): string | null {
    this.unterminated = false;
    const source = this.kind == IO_BUFFER ? this.buffer! : this.pending;
    if (this.kind == IO_NULL || this.kind == IO_PIPE_NEXT || this.kind == IO_FEED) return null;
    // Where the look for a newline goes on from: what was looked at before more came is not again
    // (a long line comes 252 bytes a read; looking from its start each time was quadratic).
    let scanned = source.readAt;
    for (;;) {
      const data = source.data;
      for (let i = scanned; i < source.length; i++) {
        if (data[i] != 0x0a) continue;
        const line = String.UTF8.decodeUnsafe(data.dataStart + <usize>source.readAt, <usize>(i - source.readAt));
        source.readAt = i + 1;
        return line;
      }
      if (this.kind != IO_BUFFER && source.unread >= MAX_LINE_BYTES) {
        // A line longer than the shell reads at once comes in pieces (a binary file has few newlines).
        const piece = String.UTF8.decodeUnsafe(data.dataStart + <usize>source.readAt, <usize>MAX_LINE_BYTES);
        source.readAt += MAX_LINE_BYTES;
        return piece;
      }
      scanned = source.length;
      if (this.kind != IO_BUFFER) {
        scanned -= source.readAt;
        source.compact();
      }
      if (this.kind == IO_BUFFER || !this.fill()) {
        if (source.unread == 0) return null;
        const rest = String.UTF8.decodeUnsafe(source.data.dataStart + <usize>source.readAt, <usize>source.unread);
        source.readAt = source.length;
        this.unterminated = true;
        return rest;
      }
    }
    return null;
  }
}

/** The console, for every channel of kind IO_CONSOLE (the shell connects it once). */
export let shellConsole: ConsoleClient = new ConsoleClient();

export function setShellConsole(console: ConsoleClient): void {
  shellConsole = console;
}
