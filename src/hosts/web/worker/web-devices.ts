import type { ConsoleDevice, HostDevices, InterruptSink, Schedule, Timer } from "../../../machine/devices.ts";
import type { BlockBackend } from "../../../machine/devices/block-backend.ts";
import type { ShareBackend } from "../../../machine/devices/share-backend.ts";
import type { InterruptController } from "../../../machine/interrupts.ts";

/** Where console output goes (the page's terminal). */
export interface Terminal {
  write(stream: 1 | 2, bytes: Uint8Array): void;
}

/**
 * The keyboard's side of the console: what the page sends waits here until the machine's console
 * asks, one chunk per ask, as a Node host reads stdin only while someone waits. It outlives
 * machines (a reset makes a new console; what was typed meanwhile is kept).
 */
export class TypedInput {
  private readonly chunks: Uint8Array[] = [];
  private asking: InterruptSink | null = null;

  type(bytes: Uint8Array): void {
    this.chunks.push(bytes);
    this.deliver();
  }

  ask(sink: InterruptSink): void {
    this.asking = sink;
    this.deliver();
  }

  private deliver(): void {
    const sink = this.asking;
    if (!sink || this.chunks.length === 0) return;
    this.asking = null;
    const data = this.chunks.shift()!;
    // Raised from a task of its own, as input arrives on Node: never inside the UART's store.
    queueMicrotask(() => sink.raise({ line: "console", data }));
  }
}

export interface WebDeviceOptions {
  readonly terminal: Terminal;
  readonly input: TypedInput;
  readonly disk?: BlockBackend;
  readonly share?: ShareBackend;
}

/**
 * The machine's devices in a dedicated worker: the page's terminal as the console, the page's
 * clock (performance.now, 5 µs resolution when cross-origin isolated) as the monotonic clock,
 * setTimeout as the timers, crypto.getRandomValues as entropy, a disk and the given files when
 * there are, and a front panel for the live views.
 */
export function webDevices(options: WebDeviceOptions): HostDevices {
  const origin = performance.now();
  const monotonicNs = () => (performance.now() - origin) * 1e6;
  return {
    clock: { monotonicNs, wallNs: () => BigInt(Date.now()) * 1_000_000n },
    createTimer: (interrupts) => new WebTimer(interrupts, monotonicNs),
    createConsole: (interrupts) => new WebConsole(interrupts, options.terminal, options.input),
    entropy: { fill: fillRandom },
    yieldToHost,
    schedule: webSchedule,
    ...(options.disk ? { disk: options.disk } : {}),
    ...(options.share ? { share: options.share } : {}),
    panel: true,
  };
}

/** getRandomValues fills at most 64 KiB per call. */
function fillRandom(bytes: Uint8Array): void {
  for (let at = 0; at < bytes.length; at += 65536) crypto.getRandomValues(bytes.subarray(at, Math.min(bytes.length, at + 65536)));
}

/**
 * A turn for the worker's event loop (page messages, timers, storage callbacks): a message to
 * ourselves through a channel, which unlike setTimeout(0) is not clamped to 4 ms when nested.
 */
const channel = new MessageChannel();
const waiting: Array<() => void> = [];
channel.port1.onmessage = () => waiting.shift()?.();
function yieldToHost(): Promise<void> {
  return new Promise((resolve) => {
    waiting.push(resolve);
    channel.port2.postMessage(0);
  });
}

/** Browsers' timers keep millisecond precision and at most 2^31 − 1 ms; the timer device re-arms when one fires early. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

const webSchedule: Schedule = (delayNs, callback) => {
  const handle = setTimeout(callback, Math.min(MAX_TIMEOUT_MS, Math.ceil(delayNs / 1e6)));
  return () => clearTimeout(handle);
};

class WebTimer implements Timer {
  private handle: ReturnType<typeof setTimeout> | null = null;
  private readonly interrupts: InterruptController;
  private readonly now: () => number;

  constructor(interrupts: InterruptController, now: () => number) {
    this.interrupts = interrupts;
    this.now = now;
  }

  /** A deadline past MAX_TIMEOUT_MS fires early (setTimeout takes a longer delay as none at all); the scheduler arms it again. */
  arm(deadlineNs: number): void {
    this.disarm();
    this.handle = setTimeout(() => {
      this.handle = null;
      this.interrupts.raise({ line: "timer" });
    }, Math.min(MAX_TIMEOUT_MS, Math.ceil(Math.max(0, (deadlineNs - this.now()) / 1e6))));
  }

  disarm(): void {
    if (this.handle !== null) clearTimeout(this.handle);
    this.handle = null;
  }
}

/**
 * The console over the page's terminal. xterm.js hands over every key as typed (a terminal in raw
 * mode: ^C and ^D are bytes), which is what the console driver's line discipline wants; the kernel's
 * boot console before it reads the same bytes unedited.
 */
class WebConsole implements ConsoleDevice {
  private readonly interrupts: InterruptSink;
  private readonly terminal: Terminal;
  private readonly input: TypedInput;

  constructor(interrupts: InterruptSink, terminal: Terminal, input: TypedInput) {
    this.interrupts = interrupts;
    this.terminal = terminal;
    this.input = input;
  }

  /** The page's terminal never goes away while the worker lives: every write is taken. */
  write(stream: 1 | 2, bytes: Uint8Array): boolean {
    this.terminal.write(stream, bytes);
    return true;
  }

  requestInput(): void {
    this.input.ask(this.interrupts);
  }
}
