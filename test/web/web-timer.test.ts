import { afterEach, describe, expect, it, vi } from "vitest";
import { InterruptController } from "../../src/machine/interrupts.ts";
import { TypedInput, webDevices } from "../../src/hosts/web/worker/web-devices.ts";

/**
 * The browser host's timer device. Redteam5: a deadline more than 2^31 - 1 ms (24.8 days) away was
 * given to setTimeout as it was, which browsers (and Node) take as "at once": a process asleep for
 * a month made the timer fire again and again, the scheduler waking to find nobody due each time.
 */
describe("web timer", () => {
  afterEach(() => vi.restoreAllMocks());

  it("never asks setTimeout for more than 2^31 - 1 ms: a far deadline fires early and is armed again", () => {
    const delays: number[] = [];
    const real = globalThis.setTimeout;
    vi.spyOn(globalThis, "setTimeout").mockImplementation(((callback: () => void, delay?: number) => {
      delays.push(delay ?? 0);
      return real(() => undefined, 0);
    }) as typeof setTimeout);
    const devices = webDevices({ terminal: { write: () => undefined } as never, input: new TypedInput() });
    const timer = devices.createTimer(new InterruptController());
    const now = devices.clock.monotonicNs();
    timer.arm(now + 40 * 24 * 3600e9);
    // 5 ms from a clock read just before the arm: its delay is 5 ms less what passed until the
    // arm read the clock itself, at most the time until the read just after (a pause of the host
    // between them, which a busy machine makes, is measured rather than assumed under 1 ms).
    const before = devices.clock.monotonicNs();
    timer.arm(before + 5e6);
    const after = devices.clock.monotonicNs();
    timer.disarm();
    expect(delays).toHaveLength(2);
    expect(delays[0]).toBe(2 ** 31 - 1);
    expect(delays[1]).toBeGreaterThanOrEqual(Math.ceil(5 - (after - before) / 1e6));
    expect(delays[1]).toBeLessThanOrEqual(5);
  });
});
