import { randomFillSync } from "node:crypto";
import type { ConsoleDevice, HostDevices, Timer } from "../../machine/devices.ts";
import type { InterruptController } from "../../machine/interrupts.ts";

/**
 * The machine's devices on Node: the process's stdio as the console, Node timers as the timer,
 * hrtime as the clock. Input is read only while someone waits for it, so a machine with no
 * readers does not keep the host alive.
 */
export function nodeDevices(stdin: NodeJS.ReadableStream = process.stdin, stdout: NodeJS.WritableStream = process.stdout, stderr: NodeJS.WritableStream = process.stderr): HostDevices {
  const origin = process.hrtime.bigint();
  return {
    clock: {
      monotonicNs: () => Number(process.hrtime.bigint() - origin),
      wallNs: () => BigInt(Date.now()) * 1_000_000n,
    },
    createTimer: (interrupts) => new NodeTimer(interrupts, () => Number(process.hrtime.bigint() - origin)),
    createConsole: (interrupts) => new StdioConsole(interrupts, stdin, stdout, stderr),
    entropy: { fill: (bytes) => void randomFillSync(bytes) },
    yieldToHost: () => new Promise((resolve) => setImmediate(resolve)),
  };
}

class NodeTimer implements Timer {
  private handle: NodeJS.Timeout | null = null;
  private readonly interrupts: InterruptController;
  private readonly now: () => number;
  constructor(interrupts: InterruptController, now: () => number) {
    this.interrupts = interrupts;
    this.now = now;
  }
  arm(deadlineNs: number): void {
    this.disarm();
    const delayMs = Math.max(0, (deadlineNs - this.now()) / 1e6);
    this.handle = setTimeout(() => {
      this.handle = null;
      this.interrupts.raise({ line: "timer" });
    }, Math.ceil(delayMs));
  }
  disarm(): void {
    if (this.handle) clearTimeout(this.handle);
    this.handle = null;
  }
}

class StdioConsole implements ConsoleDevice {
  private reading = false;
  private ended = false;
  private readonly interrupts: InterruptController;
  private readonly stdin: NodeJS.ReadableStream;
  private readonly out: Record<1 | 2, NodeJS.WritableStream>;

  constructor(interrupts: InterruptController, stdin: NodeJS.ReadableStream, stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream) {
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
}
