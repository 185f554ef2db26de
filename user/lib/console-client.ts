// The console driver's protocol (docs/DRIVERS.md "Console driver"; contract Console,
// contracts/console.contract, which the kernel checks) and a client for it, whose calls are the
// contract's generated wrappers. The driver registers a call capability as "console". Bytes travel in message words: a WRITE carries up to
// CONSOLE_WRITE_BYTES, a READ answers up to CONSOLE_READ_BYTES; a client loops for more.
//
// A reply's label carries a status as its magnitude (as the block driver's and the registry's
// do); consoleStatus turns it back.
//
// Import it directly: `import { ConsoleClient } from "../lib/console-client";`.
import { E_INVALID_CAP, E_PEER_DEAD } from "./errors";
import { msgAddWord, msgAddCap, msgLabel, msgWord, MAX_DATA_WORDS } from "./message";
import { capDrop } from "./caps/capability";
import { registryLookup } from "./registry";
import { Console, ConsoleReady } from "./contracts/console";
import { sleep } from "./time";

/** The name the driver registers. */
export const CONSOLE_SERVICE = "console";

// Labels of requests.
/** Word 0: byte length (low 16 bits) | CONSOLE_TO_ERRORS; then the bytes packed little-endian. Replies word 0: bytes written. */
export const CONSOLE_WRITE: u32 = Console.Write;
/** Word 0: at most this many bytes (1 to CONSOLE_READ_BYTES). Replies words: the count (0: end of input), then the bytes packed. */
export const CONSOLE_READ: u32 = Console.Read;
/** Word 0: CONSOLE_MODE_* bits. Replies word 0: the mode before. */
export const CONSOLE_SET_MODE: u32 = Console.SetMode;
/** Cap 0: a Process capability with PROCESS_KILL (^C kills it) or a send capability (^C sends CONSOLE_INTERRUPTED); none: no foreground. */
export const CONSOLE_FOREGROUND: u32 = Console.Foreground;
/** Replies words: mode, bytes of input ready, readers waiting, 1 when the host's input has ended. */
export const CONSOLE_INFO: u32 = Console.Info;

/**
 * Every reader waiting is answered E_NOT_READY, "ask again" (libdogma's stream reads do): the
 * shell sends it once it has suspended a job (^Z), so that the job's pending read does not take
 * what is typed at the shell's prompt; the job reads again when it runs again.
 */
export const CONSOLE_RELEASE: u32 = Console.Release;

/** The label of the message a foreground send capability gets on ^C. */
export const CONSOLE_INTERRUPTED: u32 = 0x100;
/** The label of the message a foreground send capability gets on ^Z (job control: it should stop). */
export const CONSOLE_SUSPENDED: u32 = 0x101;

/** In a WRITE's word 0: the bytes go to the error stream. */
export const CONSOLE_TO_ERRORS: u32 = 0x10000;
/** Bytes a WRITE carries at most: 63 words after the length word. */
export const CONSOLE_WRITE_BYTES: u32 = <u32>(MAX_DATA_WORDS - 1) * 4;
/** Bytes a READ answers at most: 63 words after the count word. */
export const CONSOLE_READ_BYTES: u32 = <u32>(MAX_DATA_WORDS - 1) * 4;

/** Raw: no line discipline. Bytes are delivered as they come (^C, ^D, backspace included), not echoed. */
export const CONSOLE_MODE_RAW: u32 = 1;
/** Cooked, but what is typed is not echoed (a password). */
export const CONSOLE_MODE_NO_ECHO: u32 = 2;

/** The label that carries `status` (0 or negative) in a reply: its magnitude. */
export function consoleLabel(status: i32): u32 {
  return <u32>(status < 0 ? -status : 0);
}

/** The status a reply's label stands for: 0 or negative. */
export function consoleStatus(label: u32): i32 {
  return -<i32>label;
}

/**
 * A connection to the console driver. Every call answers a status (negative) or its result, and
 * never waits for ever on a dead driver: after E_PEER_DEAD a call connects to its successor
 * (init restarts the driver) and tries once more. Nothing allocates, so it can run for ever on the
 * stub runtime.
 */
export class ConsoleClient {
  /** The call capability to the driver (0: not connected). */
  service: i32 = 0;

  /**
   * Looks "console" up, retrying every `waitNs` while it is not registered, `tries` times at most.
   * 0 or a status.
   */
  connect(tries: i32 = 1000, waitNs: i64 = 10_000_000): i32 {
    let status: i32 = E_INVALID_CAP;
    for (let i = 0; i < tries; i++) {
      if (i > 0) sleep(waitNs);
      this.disconnect();
      const found = registryLookup(CONSOLE_SERVICE);
      status = found;
      if (found == E_INVALID_CAP) continue;
      if (found < 0) return found;
      this.service = found;
      ConsoleReady.beginInfo();
      status = this.answered(ConsoleReady.info(found));
      if (status != E_PEER_DEAD) return status;
    }
    this.disconnect();
    return status;
  }

  /** Drops the call capability. */
  disconnect(): void {
    if (this.service != 0) capDrop(this.service);
    this.service = 0;
  }

  /** Writes all `len` bytes at `ptr` (to the error stream if `errors`): the bytes written, or a status. */
  write(ptr: usize, len: usize, errors: bool = false): i32 {
    let done: usize = 0;
    while (done < len) {
      const n = <u32>min(len - done, <usize>CONSOLE_WRITE_BYTES);
      let status = this.writeChunk(ptr + done, n, errors);
      if (status == E_PEER_DEAD && this.connect() == 0) status = this.writeChunk(ptr + done, n, errors);
      if (status < 0) return status;
      if (status == 0) break;
      done += <usize>status;
    }
    return <i32>done;
  }

  /** Writes `s` as UTF-8 (allocates a copy of it when it is long). */
  writeString(s: string, errors: bool = false): i32 {
    const len = String.UTF8.byteLength(s);
    const buf = heap.alloc(<usize>len);
    String.UTF8.encodeUnsafe(changetype<usize>(s), s.length, buf);
    const status = this.write(buf, <usize>len, errors);
    heap.free(buf);
    return status;
  }

  /**
   * Reads at most `max` bytes to `ptr`: in cooked mode one line at most (with its newline), in
   * raw mode what has been typed. Waits until there is something; 0 at end of input (^D on an
   * empty line, or the host's input ended). The count, or a status.
   */
  read(ptr: usize, max: u32): i32 {
    let status = this.readOnce(ptr, max);
    if (status == E_PEER_DEAD && this.connect() == 0) status = this.readOnce(ptr, max);
    return status;
  }

  /** Sets the CONSOLE_MODE_* bits: the mode before, or a status. */
  setMode(mode: u32): i32 {
    ConsoleReady.beginSetMode();
    msgAddWord(mode);
    const status = this.answered(ConsoleReady.setMode(this.service));
    return status < 0 ? status : <i32>msgWord(0);
  }

  /** CONSOLE_RELEASE: every waiting reader is told to ask again. 0 or a status. */
  releaseReaders(): i32 {
    ConsoleReady.beginRelease();
    return this.answered(ConsoleReady.release(this.service));
  }

  /** ^C goes to `cap` (a Process with PROCESS_KILL, or a send capability; CAP_MOVE allowed); 0 clears it. 0 or a status. */
  setForeground(cap: u32): i32 {
    ConsoleReady.beginForeground();
    if (cap != 0) msgAddCap(cap);
    return this.answered(ConsoleReady.foreground(this.service));
  }

  private writeChunk(ptr: usize, n: u32, errors: bool): i32 {
    ConsoleReady.beginWrite();
    msgAddWord(n | (errors ? CONSOLE_TO_ERRORS : 0));
    for (let i: u32 = 0; i < n; i += 4) {
      let word: u32 = 0;
      for (let b: u32 = 0; b < 4 && i + b < n; b++) word |= <u32>load<u8>(ptr + i + b) << (8 * b);
      msgAddWord(word);
    }
    const status = this.answered(ConsoleReady.write(this.service));
    return status < 0 ? status : <i32>msgWord(0);
  }

  private readOnce(ptr: usize, max: u32): i32 {
    ConsoleReady.beginRead();
    msgAddWord(min(max, CONSOLE_READ_BYTES));
    const status = this.answered(ConsoleReady.read(this.service));
    if (status < 0) return status;
    const n = min(msgWord(0), max);
    for (let i: u32 = 0; i < n; i++) store<u8>(ptr + i, <u8>(msgWord(1 + <i32>(i >> 2)) >> (8 * (i & 3))));
    return <i32>n;
  }

  // The status of a call (`status`, a wrapper's) or of its reply's label. A call without a
  // connection (service 0, no capability there) is refused by the kernel as E_INVALID_CAP.
  private answered(status: i32): i32 {
    if (status < 0) return status;
    return consoleStatus(msgLabel());
  }
}
