import { expect } from "vitest";
import { startInit } from "../../src/boot/bootloader.ts";
import { modulesOf, startedModulesOf } from "../../src/boot/config-modules.ts";
import { atDeadline } from "../../src/hosts/node/long-timeout.ts";
import { type BlockBackend, MemoryBlockBackend } from "../../src/machine/devices/block-backend.ts";
import { BlockDevice } from "../../src/machine/devices/block.ts";
import { HostShareDevice } from "../../src/machine/devices/host-share.ts";
import { RtcTimerDevice } from "../../src/machine/devices/rtc-timer.ts";
import type { ShareBackend } from "../../src/machine/devices/share-backend.ts";
import { DeviceLine } from "../../src/machine/devices/standard-devices.ts";
import type { MmioDevice } from "../../src/machine/mmio.ts";
import { patience } from "./patience.ts";
import { program } from "./programs.ts";
import { testMachine, type TestMachine } from "./test-host.ts";

/** How long a test waits for the machine to get somewhere before it fails (a bound against hangs, not a timing assertion; scaled by DOGMA_TEST_SLOWDOWN). */
const PATIENCE_MS = patience(45_000);

export interface BootOptions {
  /** The devices process 1 gets, in order (default: none). */
  devices?: (t: TestMachine) => MmioDevice[];
  /** Console input is typed as the test goes on (`type`, `endInput`) instead of given up front. */
  interactive?: boolean;
  /** Console input given up front, all at once. */
  input?: string;
  /** Physical memory in bytes (the test machine's default: 32 MiB). */
  memory?: number;
  /** `param KEY VALUE` lines of the boot info (docs/BOOT.md), as `dogma boot --format` adds one. */
  params?: Record<string, string>;
}

/** A timer/RTC device on the test machine's clock and the host's timers. */
export function testTimer(t: TestMachine): RtcTimerDevice {
  return new RtcTimerDevice(DeviceLine.TIMER, t.machine.interrupts, t.machine.clock, (delayNs, callback) =>
    atDeadline(performance.now() + delayNs / 1e6, () => performance.now(), callback),
  );
}

/** The test machine's own console UART, for configs that start a console driver. */
export function testConsole(t: TestMachine): MmioDevice {
  return t.machine.devices.find((d) => d.name === "console")!;
}

/**
 * A machine booted through the real bootloader with `config` and the boot modules `modules`,
 * running in the background: process 1 and its drivers never all stop, so a test waits for
 * console lines instead of for `kernel.run()`.
 */
export async function bootMachine(config: string, modules: string[], options: BootOptions = {}) {
  const t = testMachine({ interactive: options.interactive, input: options.input, memory: options.memory });
  const devices = options.devices?.(t) ?? [];
  const image = {
    init: { name: "init", bytes: program("init") },
    modules: modules.map((name) => ({ name, bytes: program(name) })),
    config,
    params: options.params ?? {},
  };
  // The modules init starts are loaded before it runs, so that it starts each at once and the
  // order of the lines tests compare is the one it always was; a boot loads them while the
  // services run (docs/BOOT.md "Loading", test/caps/deferred-image.test.ts), and the rest when used.
  for (const name of startedModulesOf(config)) {
    const module = image.modules.find((m) => m.name === name);
    if (module) await t.loader.load(module.bytes, module.name);
  }
  const init = await startInit(t.kernel, t.loader, image, devices);
  t.kernel.setCritical(init);
  let failure: unknown = null;
  let stopped = false;
  const running = t.kernel.run().then(
    () => void (stopped = true),
    (error: unknown) => void ((failure = error), (stopped = true)),
  );
  const lines = () => t.stdout().split("\n").filter((line) => line.length > 0);
  const machine = {
    kernel: t.kernel,
    faults: t.faults,
    lines,
    stdout: t.stdout,
    stderr: t.stderr,
    type: t.type,
    endInput: t.endInput,
    /** Waits until `done(lines)` holds; fails with the console so far if the machine stops or never gets there. */
    async until(what: string, done: (lines: string[]) => boolean): Promise<void> {
      const give = Date.now() + PATIENCE_MS;
      while (!done(lines())) {
        if (failure) throw failure;
        if (stopped || Date.now() > give) {
          throw new Error(`never got to: ${what}${stopped ? " (the machine stopped)" : ""}\n${lines().join("\n")}\n${t.stderr()}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    },
    /** Waits for a console line equal to `line`, or matching it. */
    async line(line: string | RegExp): Promise<string> {
      const matches = (l: string) => (typeof line === "string" ? l === line : line.test(l));
      await machine.until(String(line), (all) => all.some(matches));
      return lines().find(matches)!;
    },
    /**
     * Types `line` at a shell's prompt and waits for the next prompt: what followed the echoed
     * line, that prompt included.
     */
    async command(line: string): Promise<string> {
      const from = t.stdout().length + line.length + 1;
      t.type(line + "\r");
      await machine.until(`the prompt after ${JSON.stringify(line)}`, () => /dogma:\/[^\n]*\$ $/.test(t.stdout().slice(from)));
      return t.stdout().slice(from);
    },
    /** What typing `line` at a shell's prompt printed: `command`'s answer without the prompt after it. */
    async output(line: string): Promise<string> {
      const out = await machine.command(line);
      return out.slice(0, out.lastIndexOf("dogma:"));
    },
    /** The pid init last started `name` with ("init: started NAME (pid N)" or "restarted"), once it has. */
    async pidOf(name: string): Promise<number> {
      const pattern = new RegExp(`^init: (?:re)?started ${name} \\(pid (\\d+)\\)$`);
      await machine.until(`init starts ${name}`, (all) => all.some((l) => pattern.test(l)));
      return Number(pattern.exec(lines().filter((l) => pattern.test(l)).at(-1)!)![1]);
    },
    /** Kills `pid` from the host, as `kernel.kill` does between two slices. */
    async kill(pid: number): Promise<void> {
      for (;;) {
        const status = t.kernel.kill(pid);
        // kernel.kill wakes a scheduler that waits for an interrupt, so the monitor's notice runs.
        if (status === 0) return;
        // E_INVALID_ARGUMENT: it is the one running just now; try again after its slice.
        expect(status, `kill ${pid}`).toBe(-11);
        await new Promise((resolve) => setImmediate(resolve));
      }
    },
    /** Live processes, by image name. */
    alive(): string[] {
      return t.kernel.stuck().map((p) => p.image.name);
    },
    /** Ends process 1, which halts the kernel, and powers the devices off. */
    async halt(): Promise<void> {
      if (init.alive) await machine.kill(init.pid);
      await running;
      if (failure) throw failure;
      for (const device of devices) device.reset();
      t.machine.powerOff();
    },
  };
  return machine;
}

export type BootedMachine = Awaited<ReturnType<typeof bootMachine>>;

/**
 * The config of a shell on the disk's file system: the registry, the console and block drivers,
 * the file system (`fsFlags` after its memory), pipes, the process manager and the shell, with
 * `programs` as modules; and the boot modules it names.
 */
export function diskShellConfig(programs: readonly string[], fsFlags = "publish=fs boot-modules"): { config: string; modules: string[] } {
  const config = `service registry registry
driver  console  console  device=console interrupt=console memory=64
driver  block    block    device=block interrupt=block memory=512
service fs       fs       memory=2048 ${fsFlags}
service pipe     pipe     memory=64
service proc     procman  memory=128 kernel images bootinfo control
service shell    shell    memory=8192 bootinfo use=fs session
${programs.map((p) => `module ${p}`).join("\n")}
`;
  return { config, modules: ["registry", "console", "block", "fs", "pipe", "procman", "shell", ...programs] };
}

/** The devices of such a machine: the test console, a block device on `disk`, the timer. */
export function diskShellDevices(disk: BlockBackend): (t: TestMachine) => MmioDevice[] {
  return (t) => [testConsole(t), new BlockDevice(DeviceLine.BLOCK, t.machine.interrupts, disk), testTimer(t)];
}

/** What bootShell boots beside its config and share. */
export interface ShellBootOptions {
  /** The disk (default: a blank 64 MiB one in memory). */
  disk?: BlockBackend;
  /** The boot modules (default: those the config names). */
  modules?: string[];
  /** Physical memory in bytes (default: the test machine's, 32 MiB). */
  memory?: number;
}

/**
 * The system `config` describes booted with the test console, a disk, the timer and `share` as the
 * host share (/host), interactive, at the shell's first prompt.
 */
export async function bootShell(config: string, share: ShareBackend, options: ShellBootOptions = {}): Promise<BootedMachine> {
  const disk = options.disk ?? new MemoryBlockBackend(64 << 20);
  const m = await bootMachine(config, options.modules ?? modulesOf(config), {
    devices: (t) => [
      testConsole(t),
      new BlockDevice(DeviceLine.BLOCK, t.machine.interrupts, disk),
      testTimer(t),
      new HostShareDevice(DeviceLine.SHARE, t.machine.interrupts, share),
    ],
    interactive: true,
    memory: options.memory,
  });
  await m.until("the prompt", () => m.stdout().includes("dogma:/$ "));
  return m;
}
