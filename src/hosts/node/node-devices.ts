import { randomFillSync } from "node:crypto";
import type { ReadStream } from "node:tty";
import type { ConsoleDevice, HostDevices, InterruptSink, Schedule, Timer } from "../../machine/devices.ts";
import type { BlockBackend } from "../../machine/devices/block-backend.ts";
import type { ShareBackend } from "../../machine/devices/share-backend.ts";
import type { InterruptController } from "../../machine/interrupts.ts";
import { atDeadline } from "./long-timeout.ts";

/** Optional pieces of a Node machine, opened beforehand (`DiskImage.open`, `FolderShare.open`). */
export interface NodeDeviceOptions {
  readonly disk?: BlockBackend;
  readonly share?: ShareBackend;
}

/**
 * The machine's devices on Node: the process's stdio as the console, Node timers as the timer,
 * performance.now as the clock, and a disk image and a shared folder when given. Input is read only while
 * someone waits for it, so a machine with no readers does not keep the host alive.
 */
export function nodeDevices(
  stdin: NodeJS.ReadableStream = process.stdin,
  stdout: NodeJS.WritableStream = process.stdout,
  stderr: NodeJS.WritableStream = process.stderr,
  options: NodeDeviceOptions = {},
): HostDevices {
  // performance.now, not hrtime.bigint: the kernel reads the clock on every switch, and BigInt
  // arithmetic there costs more than the switch's own bookkeeping. Sub-microsecond resolution.
  const origin = performance.now();
  const monotonicNs = () => (performance.now() - origin) * 1e6;
  return {
    clock: {
      monotonicNs,
      wallNs: () => BigInt(Date.now()) * 1_000_000n,
    },
    createTimer: (interrupts) => new NodeTimer(interrupts, monotonicNs),
    createConsole: (interrupts) => new StdioConsole(interrupts, stdin, stdout, stderr),
    entropy: { fill: (bytes) => void randomFillSync(bytes) },
    yieldToHost: () => new Promise((resolve) => setImmediate(resolve)),
    schedule: nodeSchedule,
    ...(options.disk ? { disk: options.disk } : {}),
    ...(options.share ? { share: options.share } : {}),
  };
}

const nodeSchedule: Schedule = (delayNs, callback) => atDeadline(performance.now() + delayNs / 1e6, () => performance.now(), callback);

/** The kernel's timer: a sleep or a timeout of any length (30 days, or 2^64 ns) arms Node's timers quietly. */
class NodeTimer implements Timer {
  private cancel: (() => void) | null = null;
  private readonly interrupts: InterruptController;
  private readonly nowNs: () => number;
  constructor(interrupts: InterruptController, nowNs: () => number) {
    this.interrupts = interrupts;
    this.nowNs = nowNs;
  }
  arm(deadlineNs: number): void {
    this.disarm();
    this.cancel = atDeadline(deadlineNs / 1e6, () => this.nowNs() / 1e6, () => {
      this.cancel = null;
      this.interrupts.raise({ line: "timer" });
    });
  }
  disarm(): void {
    this.cancel?.();
    this.cancel = null;
  }
}

class StdioConsole implements ConsoleDevice {
  private reading = false;
  private ended = false;
  private restoresTerminal = false;
  private readonly interrupts: InterruptSink;
  private readonly stdin: NodeJS.ReadableStream;
  private readonly out: Record<1 | 2, NodeJS.WritableStream>;

  constructor(interrupts: InterruptSink, stdin: NodeJS.ReadableStream, stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream) {
    this.interrupts = interrupts;
    this.stdin = stdin;
    this.out = { 1: stdout, 2: stderr };
    stdin.on("data", (chunk: Buffer | string) => {
      stdin.pause();
      this.reading = false;
      const bytes = typeof chunk === "string" ? new TextEncoder().encode(chunk) : new Uint8Array(chunk);
      this.interrupts.raise({ line: "console", data: bytes });
    });
    stdin.on("end", () => {
      this.ended = true;
      this.interrupts.raise({ line: "console", data: null });
    });
    stdin.pause();
  }

  write(stream: 1 | 2, bytes: Uint8Array): void {
    this.out[stream].write(bytes);
  }

  requestInput(): void {
    if (this.reading || this.ended) return;
    this.reading = true;
    this.stdin.resume();
  }

  setRawInput(raw: boolean): void {
    const tty = this.stdin as Partial<ReadStream>;
    if (!tty.isTTY || !tty.setRawMode) return;
    tty.setRawMode(raw);
    // The terminal must not stay raw after the host exits, however it exits.
    if (raw && !this.restoresTerminal) {
      this.restoresTerminal = true;
      process.once("exit", () => tty.setRawMode?.(false));
    }
  }
}
