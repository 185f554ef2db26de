import type { ConsoleDevice, HostDevices } from "../../src/machine/devices.ts";
import { Machine } from "../../src/machine/machine.ts";
import { Kernel, type KernelOptions } from "../../src/kernel/kernel.ts";
import { Loader, type LoaderOptions } from "../../src/loader/loader.ts";
import { standardImportModules } from "../../src/hosts/standard-imports.ts";
import type { InterruptController } from "../../src/machine/interrupts.ts";
import { nodePageCipher } from "../../src/hosts/node/node-page-cipher.ts";
import { atDeadline } from "../../src/hosts/node/long-timeout.ts";

/**
 * A machine for tests: a scripted console (input given up front, output captured), the real
 * clock and timers, and a kernel and loader wired as the CLI wires them.
 */
export interface TestMachine {
  machine: Machine;
  kernel: Kernel;
  loader: Loader;
  stdout(): string;
  stderr(): string;
  faults: string[];
  /** Types `text` at the console (an interactive machine's): it arrives when the UART next asks for input. */
  type(text: string): void;
  /** Ends the console's input, as ^D at a terminal's pipe would (an interactive machine's). */
  endInput(): void;
  /** Moves the machine's clocks (and its timers' idea of now) `ns` ahead, as if that much time had passed. */
  advanceClock(ns: number): void;
}

export interface TestMachineOptions {
  memory?: number;
  input?: string;
  /** Input comes from `type` as the test goes on, not all at once, and ends with `endInput`. */
  interactive?: boolean;
  kernel?: KernelOptions;
  loader?: Partial<LoaderOptions>;
}

export function testMachine(options: TestMachineOptions = {}): TestMachine {
  const out: Record<1 | 2, Uint8Array[]> = { 1: [], 2: [] };
  const origin = performance.now();
  let skewMs = 0;
  const nowMs = () => performance.now() - origin + skewMs;
  let input: Uint8Array | null = new TextEncoder().encode(options.input ?? "");
  // An interactive console holds what is typed until the UART asks for it, one chunk per ask.
  const typed: (Uint8Array | null)[] = [];
  let asked = false;
  let consoleInterrupts: InterruptController | null = null;
  const deliver = () => {
    if (!asked || typed.length === 0 || !consoleInterrupts) return;
    asked = false;
    const data = typed.shift()!;
    const to = consoleInterrupts;
    setTimeout(() => to.raise({ line: "console", data }), 0);
  };
  const host: HostDevices = {
    clock: { monotonicNs: () => nowMs() * 1e6, wallNs: () => BigInt(Date.now() + Math.round(skewMs)) * 1_000_000n },
    createTimer: (interrupts: InterruptController) => {
      let cancel: (() => void) | null = null;
      return {
        arm(deadlineNs: number) {
          cancel?.();
          cancel = atDeadline(deadlineNs / 1e6, nowMs, () => interrupts.raise({ line: "timer" }));
        },
        disarm() {
          cancel?.();
          cancel = null;
        },
      };
    },
    createConsole: (interrupts: InterruptController): ConsoleDevice => ({
      write: (stream, bytes) => out[stream].push(bytes.slice()) > 0,
      requestInput() {
        if (options.interactive) {
          consoleInterrupts = interrupts;
          asked = true;
          deliver();
          return;
        }
        // Deliver the script in one interrupt, then end of input, as a pipe would.
        const data = input;
        input = null;
        setTimeout(() => interrupts.raise({ line: "console", data: data && data.length > 0 ? data : null }), 0);
        if (data && data.length > 0) setTimeout(() => interrupts.raise({ line: "console", data: null }), 0);
      },
    }),
    entropy: { fill: (bytes) => void crypto.getRandomValues(bytes) },
    yieldToHost: () => new Promise((resolve) => setImmediate(resolve)),
  };
  const machine = new Machine(host, options.memory ?? 32 << 20);
  const faults: string[] = [];
  const personalities = standardImportModules();
  const loader = new Loader({ importModules: personalities, ...options.loader });
  const kernel = new Kernel(machine, {
    personalities: personalities.filter((p) => p.module !== "dogma"),
    onFault: (_p, line) => faults.push(line),
    imageLoader: loader,
    pageCipher: nodePageCipher,
    ...options.kernel,
  });
  const text = (stream: 1 | 2) => () => new TextDecoder().decode(Buffer.concat(out[stream]));
  const type = (text: string) => {
    typed.push(new TextEncoder().encode(text));
    deliver();
  };
  const endInput = () => {
    typed.push(null);
    deliver();
  };
  const advanceClock = (ns: number) => void (skewMs += ns / 1e6);
  return { machine, kernel, loader, stdout: text(1), stderr: text(2), faults, type, endInput, advanceClock };
}
