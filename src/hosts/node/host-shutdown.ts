import type { Machine } from "../../machine/machine.ts";

/** Signals that end a booted machine cleanly, and the status a shell shows for each (128 + its number). */
const SIGNALS = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 } as const;
/** The status after the host's output went away (a closed pipe): what a shell shows for SIGPIPE. */
export const OUTPUT_CLOSED_STATUS = 141;
/** The status after ^C stopped a boot before the console driver took the terminal: SIGINT's. */
export const INTERRUPTED_STATUS = SIGNALS.SIGINT;

/**
 * How `dogma boot` ends when told to from outside: a signal (SIGTERM, SIGHUP from a closed
 * terminal, SIGINT) or its output going away presses the machine's power button (docs/DEVICES.md
 * "Power"), so process 1 halts the system cleanly (the file system syncs); the machine made after a
 * reset gets it pressed too. If the machine has not halted within `graceMs`, or a second signal
 * comes, `forceEnd` runs: the host ends without waiting any more (what was synced is on the disk).
 */
export class HostShutdown {
  /** The status the host ends with once the machine halts, when the end came from outside. */
  status: number | null = null;
  private machine: Machine | null = null;
  private deadline: NodeJS.Timeout | null = null;
  private readonly graceMs: number;
  private readonly say: (line: string) => void;
  private readonly forceEnd: (status: number) => void;
  private readonly handlers = new Map<NodeJS.Signals, () => void>();
  /** The terminal went away (its output closed): the SIGHUP that follows is the same request. */
  private hungUp = false;

  constructor(graceMs: number, say: (line: string) => void, forceEnd: (status: number) => void) {
    this.graceMs = graceMs;
    this.say = say;
    this.forceEnd = forceEnd;
    for (const [signal, status] of Object.entries(SIGNALS) as [NodeJS.Signals, number][]) {
      const handler = () => this.request(status, signal);
      this.handlers.set(signal, handler);
      process.on(signal, handler);
    }
  }

  /** The machine now running (a reset makes a new one): a halt already asked for is asked of it too. */
  running(machine: Machine): void {
    this.machine = machine;
    if (this.status !== null) machine.power.requestHalt();
  }

  /** Asks for a clean halt, ending with `status`; asked again, ends at once. */
  request(status: number, why: string): void {
    if (this.hungUp && why === "SIGHUP") return;
    if (this.status !== null) {
      this.say(`dogma: ${why} again; ending now`);
      return this.forceEnd(this.status);
    }
    this.status = status;
    this.say(`dogma: ${why}; halting the machine`);
    this.machine?.power.requestHalt();
    this.deadline = setTimeout(() => {
      this.say(`dogma: the machine did not halt within ${this.graceMs / 1000} s; ending it`);
      this.forceEnd(status);
    }, this.graceMs);
  }

  /**
   * The host's output went away (`terminal`: it was a terminal, which closed). Alone it asks for a
   * halt (a closed pipe); during a halt already asked for it is no second request: a closed
   * terminal (SIGHUP) takes the output with it, and the halt's own messages then find it closed,
   * which must not cut short the file system's commit.
   */
  outputClosed(terminal: boolean): void {
    if (this.status !== null) return;
    if (!terminal) return this.request(OUTPUT_CLOSED_STATUS, "the output was closed");
    // A terminal whose output closed has hung up; its SIGHUP may come after the failed write (the
    // signal is delivered later): the same end either way, so the status is SIGHUP's, and the
    // signal, when it comes, is not taken for a second request.
    this.request(SIGNALS.SIGHUP, "SIGHUP");
    this.hungUp = true;
  }

  /** The machine has ended: no more waiting, and signals are the host's defaults again. */
  dispose(): void {
    if (this.deadline) clearTimeout(this.deadline);
    this.deadline = null;
    for (const [signal, handler] of this.handlers) process.off(signal, handler);
    this.handlers.clear();
  }
}
