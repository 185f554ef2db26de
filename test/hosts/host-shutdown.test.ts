import { afterEach, describe, expect, it, vi } from "vitest";
import { HostShutdown } from "../../src/hosts/node/host-shutdown.ts";
import type { Machine } from "../../src/machine/machine.ts";

/** A machine whose power button counts presses. */
function machine(): Machine & { presses: number } {
  const fake = { presses: 0, power: { requestHalt: () => void fake.presses++ } };
  return fake as unknown as Machine & { presses: number };
}

afterEach(() => vi.useRealTimers());

describe("the host's shutdown on a signal", () => {
  it("presses the power button once, on this machine and the next; a second request or the grace period ends the host", () => {
    vi.useFakeTimers();
    const said: string[] = [];
    const ended: number[] = [];
    const shutdown = new HostShutdown(10_000, (line) => said.push(line), (status) => ended.push(status));
    try {
      const first = machine();
      shutdown.running(first);
      expect(first.presses).toBe(0);
      process.emit("SIGTERM", "SIGTERM");
      expect([first.presses, shutdown.status, ended]).toEqual([1, 143, []]);
      // A reset makes another machine: it is asked too.
      const second = machine();
      shutdown.running(second);
      expect(second.presses).toBe(1);
      vi.advanceTimersByTime(9_999);
      expect(ended).toEqual([]);
      vi.advanceTimersByTime(1);
      expect(ended).toEqual([143]);
      process.emit("SIGHUP", "SIGHUP");
      expect(ended).toEqual([143, 143]); // asked again: at once, with the first status
      expect(said).toEqual(["dogma: SIGTERM; halting the machine", "dogma: the machine did not halt within 10 s; ending it", "dogma: SIGHUP again; ending now"]);
    } finally {
      shutdown.dispose();
    }
  });

  it("takes a terminal's closed output and the SIGHUP after it as one hangup, and a closed pipe as SIGPIPE", () => {
    // The failed write can come before the signal: both are the terminal going away (the suite
    // saw 141, SIGPIPE's status, for a closed terminal on a busy machine).
    const said: string[] = [];
    const ended: number[] = [];
    const onTerminal = new HostShutdown(10_000, (line) => said.push(line), (status) => ended.push(status));
    try {
      const m = machine();
      onTerminal.running(m);
      onTerminal.outputClosed(true);
      process.emit("SIGHUP", "SIGHUP");
      expect([m.presses, onTerminal.status, ended, said]).toEqual([1, 129, [], ["dogma: SIGHUP; halting the machine"]]);
    } finally {
      onTerminal.dispose();
    }
    const onPipe = new HostShutdown(10_000, () => {}, () => {});
    try {
      onPipe.outputClosed(false);
      expect(onPipe.status).toBe(141);
    } finally {
      onPipe.dispose();
    }
  });

  it("leaves the signals to Node once the machine has ended", () => {
    const before = process.listenerCount("SIGTERM");
    const shutdown = new HostShutdown(10_000, () => {}, () => {});
    expect(process.listenerCount("SIGTERM")).toBe(before + 1);
    shutdown.dispose();
    expect(process.listenerCount("SIGTERM")).toBe(before);
  });
});
