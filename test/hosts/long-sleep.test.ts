import { PassThrough } from "node:stream";
import { afterEach, describe, expect, it, vi } from "vitest";
import { atDeadline, MAX_TIMEOUT_MS } from "../../src/hosts/node/long-timeout.ts";
import { nodeDevices } from "../../src/hosts/node/node-devices.ts";
import { StdioTerminal } from "../../src/hosts/node/stdio-terminal.ts";
import { nodePageCipher } from "../../src/hosts/node/node-page-cipher.ts";
import { standardImportModules } from "../../src/hosts/standard-imports.ts";
import { Kernel } from "../../src/kernel/kernel.ts";
import { Loader } from "../../src/loader/loader.ts";
import { Machine } from "../../src/machine/machine.ts";
import { program } from "../helpers/programs.ts";

const DAY_MS = 24 * 3600 * 1000;

afterEach(() => {
  // In this order: a spy made over the fake setTimeout must not be put back after the real one.
  vi.restoreAllMocks();
  vi.useRealTimers();
});

describe("host timers past Node's 2^31 - 1 ms", () => {
  it("wait out a 30-day deadline in steps Node accepts, and fire once, at the deadline", () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
    const delays: number[] = [];
    const real = globalThis.setTimeout;
    vi.spyOn(globalThis, "setTimeout").mockImplementation(((callback: () => void, delay: number) => {
      delays.push(delay);
      return real(callback, delay);
    }) as typeof setTimeout);
    let fired = 0;
    atDeadline(performance.now() + 30 * DAY_MS, () => performance.now(), () => fired++);
    vi.advanceTimersByTime(30 * DAY_MS - 1);
    expect(fired).toBe(0);
    vi.advanceTimersByTime(1);
    expect(fired).toBe(1);
    expect(delays).toHaveLength(2); // 24.8 days, then the rest: not a timer per millisecond
    expect(Math.max(...delays)).toBeLessThanOrEqual(MAX_TIMEOUT_MS);
    const cancelled = atDeadline(performance.now() + 60 * DAY_MS, () => performance.now(), () => fired++);
    cancelled();
    vi.advanceTimersByTime(61 * DAY_MS);
    expect(fired).toBe(1);
  });

  it("let a process sleep 30 days beside others without the kernel's timer firing for it", async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => void warnings.push(warning.name);
    process.on("warning", onWarning);
    const delays: number[] = [];
    const real = globalThis.setTimeout;
    vi.spyOn(globalThis, "setTimeout").mockImplementation(((callback: () => void, delay: number) => {
      delays.push(delay);
      return real(callback, delay);
    }) as typeof setTimeout);
    try {
      const machine = new Machine(nodeDevices(new StdioTerminal(new PassThrough(), new PassThrough(), new PassThrough())), 16 << 20);
      let timerInterrupts = 0;
      const raise = machine.interrupts.raise.bind(machine.interrupts);
      machine.interrupts.raise = (interrupt) => {
        if (interrupt.line === "timer") timerInterrupts++;
        raise(interrupt);
      };
      const imports = standardImportModules();
      const loader = new Loader({ importModules: imports });
      const kernel = new Kernel(machine, { imageLoader: loader, pageCipher: nodePageCipher, personalities: imports.filter((spec) => spec.module !== "dogma") });
      const sleeper = await loader.load(program("sleeper"), "sleeper");
      const long = kernel.spawn(sleeper, { args: ["sleeper", String(30 * DAY_MS)] });
      const short = kernel.spawn(sleeper, { args: ["sleeper", "20"] });
      const running = kernel.run();
      await short.wait();
      // Now only the 30-day sleep is armed: for a while (a window to watch, not a timing), its
      // timer must not fire at all. Node, given more than 2^31 - 1 ms, fires every millisecond.
      const before = timerInterrupts;
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(timerInterrupts - before).toBe(0);
      expect(Math.max(...delays)).toBeLessThanOrEqual(MAX_TIMEOUT_MS);
      expect(long.alive).toBe(true);
      kernel.kill(long.pid);
      await running;
      expect(warnings).not.toContain("TimeoutOverflowWarning");
    } finally {
      process.off("warning", onWarning);
    }
  });
});
