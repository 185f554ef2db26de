import type { HostDevices, Schedule, Timer } from "../../machine/devices.ts";
import type { BlockBackend } from "../../machine/devices/block-backend.ts";
import type { ShareBackend } from "../../machine/devices/share-backend.ts";
import type { InterruptController } from "../../machine/interrupts.ts";
import { atDeadline } from "./long-timeout.ts";
import type { StdioTerminal } from "./stdio-terminal.ts";

/** Optional pieces of a Node machine, opened beforehand (`DiskImage.open`, `FolderShare.open`). */
export interface NodeDeviceOptions {
  readonly disk?: BlockBackend;
  readonly share?: ShareBackend;
}

/**
 * The machine's devices on Node: the host's terminal as the console (input is read only while
 * someone waits for it, so a machine with no readers does not keep the host alive), Node timers as
 * the timer, performance.now as the clock, and a disk image and a shared folder when given.
 */
export function nodeDevices(terminal: StdioTerminal, options: NodeDeviceOptions = {}): HostDevices {
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
    createConsole: (interrupts) => terminal.console(interrupts),
    // node:crypto loaded at the first ask, not at every start (node-loader.ts nodeSha256).
    entropy: { fill: (bytes) => void process.getBuiltinModule("node:crypto").randomFillSync(bytes) },
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
