import type { BlockBackend } from "../../src/machine/devices/block-backend.ts";
import { BlockDevice } from "../../src/machine/devices/block.ts";
import { DeviceLine } from "../../src/machine/devices/standard-devices.ts";
import { bootMachine, testTimer } from "../helpers/booted-machine.ts";

/**
 * A machine booted through the real bootloader with a block device over `backend` (and a timer,
 * for drivers that want a device of their own), running in the background (test/helpers/
 * booted-machine.ts).
 */
export async function bootBlockMachine(config: string, modules: string[], backend: BlockBackend, params: Record<string, string> = {}) {
  return bootMachine(config, modules, {
    devices: (t) => [new BlockDevice(DeviceLine.BLOCK, t.machine.interrupts, backend), testTimer(t)],
    params,
  });
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
  private holdIf: ((operation: { readonly kind: HeldOperation["kind"]; readonly offset: number }) => boolean) | null = null;
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

  /**
   * Holds, from now on, each operation `when` says to hold, asked as it comes: a test that must
   * stop a client at a point of its run cannot wait to look, since the machine may run the whole
   * rest of it between two of the test's looks.
   */
  holdWhen(when: (operation: { readonly kind: HeldOperation["kind"]; readonly offset: number }) => boolean): void {
    this.holdIf = when;
  }

  /** Starts every held operation, in the order they came. */
  open(): void {
    this.holding = new Set();
    this.holdIf = null;
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
      if (this.holding.has(kind) || this.holdIf?.(operation)) this.held.push(operation);
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
