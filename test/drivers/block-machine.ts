import { expect } from "vitest";
import { startInit } from "../../src/boot/bootloader.ts";
import type { BlockBackend } from "../../src/machine/devices/block-backend.ts";
import { BlockDevice } from "../../src/machine/devices/block.ts";
import { RtcTimerDevice } from "../../src/machine/devices/rtc-timer.ts";
import { DeviceLine } from "../../src/machine/devices/standard-devices.ts";
import type { MmioDevice } from "../../src/machine/mmio.ts";
import { program } from "../helpers/programs.ts";
import { testMachine } from "../helpers/test-host.ts";

/** How long a test waits for the machine to get somewhere before it fails (a bound against hangs, not a timing assertion). */
const PATIENCE_MS = 45_000;

/**
 * A machine booted through the real bootloader with a block device over `backend` (and a timer,
 * for drivers that want a device of their own), running in the background: process 1 and its
 * drivers never all stop, so a test waits for console lines instead of for `kernel.run()`.
 */
export async function bootBlockMachine(config: string, modules: string[], backend: BlockBackend) {
  const t = testMachine();
  const block = new BlockDevice(DeviceLine.BLOCK, t.machine.interrupts, backend);
  const timer = new RtcTimerDevice(DeviceLine.TIMER, t.machine.interrupts, t.machine.clock, (delayNs, callback) => {
    const handle = setTimeout(callback, Math.ceil(delayNs / 1e6));
    return () => clearTimeout(handle);
  });
  const devices: MmioDevice[] = [block, timer];
  const image = {
    init: { name: "init", bytes: program("init") },
    modules: modules.map((name) => ({ name, bytes: program(name) })),
    config,
    params: {},
  };
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
    stderr: t.stderr,
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

export type BlockMachine = Awaited<ReturnType<typeof bootBlockMachine>>;

interface HeldOperation {
  readonly kind: "read" | "write" | "flush";
  readonly offset: number;
  readonly length: number;
  start(): void;
}

/**
 * A backend in front of another that can hold operations (`close`, of some kinds or all; `open`
 * starts them in order), or start each batch of them in reverse order (`reverse`), and counts how many are in
 * flight at once. Operations that arrive together (the device starts every descriptor of one
 * NOTIFY in the same store) form a batch.
 */
export class ControlledBackend implements BlockBackend {
  readonly held: HeldOperation[] = [];
  private holding = new Set<HeldOperation["kind"]>();
  reverse = false;
  inFlight = 0;
  maxInFlight = 0;
  /** Operations in the order they were started, and in the order they finished (by number). */
  readonly started: number[] = [];
  readonly finished: number[] = [];
  private batch: HeldOperation[] = [];
  private count = 0;
  private readonly inner: BlockBackend;

  constructor(inner: BlockBackend) {
    this.inner = inner;
  }

  get size(): number {
    return this.inner.size;
  }

  read(offset: number, length: number): Promise<Uint8Array> {
    return this.pass("read", offset, length, () => this.inner.read(offset, length));
  }

  write(offset: number, data: Uint8Array): Promise<void> {
    return this.pass("write", offset, data.length, () => this.inner.write(offset, data));
  }

  flush(): Promise<void> {
    return this.pass("flush", 0, 0, () => this.inner.flush());
  }

  /** Holds operations of these kinds from now on (the others go on). */
  close(kinds: readonly HeldOperation["kind"][] = ["read", "write", "flush"]): void {
    this.holding = new Set(kinds);
  }

  /** Starts every held operation, in the order they came. */
  open(): void {
    this.holding = new Set();
    for (const operation of this.held.splice(0)) operation.start();
  }

  /** Whether some operation started out of order finished before one started earlier. */
  get completedOutOfOrder(): boolean {
    return this.finished.some((n, i) => i > 0 && n < this.finished[i - 1]!);
  }

  private pass<T>(kind: HeldOperation["kind"], offset: number, length: number, run: () => Promise<T>): Promise<T> {
    const number = this.count++;
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    return new Promise<T>((resolve, reject) => {
      const start = () => {
        this.started.push(number);
        run().then(
          (value) => {
            this.finish(number);
            resolve(value);
          },
          (error: unknown) => {
            this.finish(number);
            reject(error);
          },
        );
      };
      const operation = { kind, offset, length, start };
      if (this.holding.has(kind)) this.held.push(operation);
      else if (this.reverse) this.deferReversed(operation);
      else start();
    });
  }

  private deferReversed(operation: HeldOperation): void {
    this.batch.push(operation);
    if (this.batch.length > 1) return;
    setImmediate(() => {
      for (const held of this.batch.splice(0).reverse()) held.start();
    });
  }

  private finish(number: number): void {
    this.inFlight--;
    this.finished.push(number);
  }
}

/** Byte `i` of sector `sector` as every block-test-client writes it (user/services/block-test-client.ts). */
export function diskPattern(sector: number, i: number): number {
  return (((Math.imul(sector, 0x9e3779b1) + Math.imul(i, 0x85ebca6b)) >>> 24) ^ i) & 0xff;
}

/** Sectors of `disk` from `first`, `count` of them, that do not hold diskPattern. */
export function sectorsNotHoldingPattern(disk: Uint8Array, first: number, count: number): number[] {
  const bad: number[] = [];
  for (let s = first; s < first + count; s++) {
    for (let i = 0; i < 512; i++) {
      if (disk[s * 512 + i] !== diskPattern(s, i)) {
        bad.push(s);
        break;
      }
    }
  }
  return bad;
}

/** What block-test-client (pid `pid`) writes: its first 64 sectors, then 24 rounds of 160 (user/services/block-test-client.ts). */
export const clientArea = (pid: number) => ({ first: pid * 4096, flushedSectors: 64, sectors: 64 + 24 * 160 });
