/**
 * A Dogma machine for fuzzing and isolation tests, with the instruments that let a test see a
 * stray write anywhere in physical memory:
 *
 * - the kernel's scheduler runs for the whole test in the background, kept alive by a *victim*
 *   process that fills its private pages with a secret pattern and then blocks for ever on the
 *   console (whose input never comes);
 * - `runIsolated` fills every free frame with a per-frame canary, copies all of physical memory,
 *   runs one process to its end (a watchdog kills it if it takes too long), and then checks that
 *   every frame that changed was allocated during the run to that process or to the kernel for
 *   it (page tables, TLB; its descriptor is a slot of a frame it may share), that all of those
 *   were given back, and that the victim is
 *   still blocked with its pattern intact;
 * - just before the process's address space is destroyed, its private pages are copied out, so
 *   that a test can compare them with what the same code did natively.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { FRAME_KERNEL } from "../../src/kernel/frame-allocator.ts";
import { DESCRIPTOR_BYTES } from "../../src/kernel/process-descriptor.ts";
import type { LoadedImage } from "../../src/kernel/image.ts";
import { checkInvariants } from "../../src/kernel/invariants.ts";
import { Kernel, type SpawnOptions } from "../../src/kernel/kernel.ts";
import type { ImportModuleSpec } from "../../src/kernel/personality.ts";
import type { Process, ProcessOutcome } from "../../src/kernel/process.ts";
import type { KernelServices } from "../../src/kernel/services.ts";
import { standardImportModules } from "../../src/hosts/standard-imports.ts";
import { Loader, type LoaderOptions } from "../../src/loader/loader.ts";
import type { ConsoleDevice, HostDevices } from "../../src/machine/devices.ts";
import type { InterruptController } from "../../src/machine/interrupts.ts";
import { Machine } from "../../src/machine/machine.ts";
import { wat } from "./wat.ts";

export const FRAME = 4096;
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const userProgram = (name: string): Uint8Array => new Uint8Array(readFileSync(path.join(root, "build/user", `${name}.wasm`)));

/** The victim's secret: word at virtual address `a` holds `a ^ VICTIM_SECRET`. */
export const VICTIM_SECRET = 0x5ec2e700;
/** The victim fills `[VICTIM_START, VICTIM_END)` (virtual), i.e. 31 private frames. */
export const VICTIM_START = 0x1000;
export const VICTIM_END = 0x20000;

const victimWat = `(module
  (import "dogma" "console_read" (func $read (param i32 i32) (result i32)))
  (memory 2 2)
  (func (export "_start")
    (local $a i32)
    (local.set $a (i32.const ${VICTIM_START}))
    (loop $fill
      (i32.store (local.get $a) (i32.xor (local.get $a) (i32.const ${VICTIM_SECRET})))
      (local.set $a (i32.add (local.get $a) (i32.const 4)))
      (br_if $fill (i32.lt_u (local.get $a) (i32.const ${VICTIM_END}))))
    ;; The console never delivers input, so this blocks until the test kills the victim.
    (drop (call $read (i32.const ${VICTIM_START}) (i32.const 16)))
    (unreachable)))`;

/** The canary a free frame holds while a process runs: one distinct word per frame. */
export const canaryOf = (frame: number): number => (0xc0de0000 ^ (frame * 0x9e3779b1)) | 0;

export interface FrameViolation {
  frame: number;
  ownerBefore: number;
  ownerAfter: number;
  /** Byte offset in the frame of the first difference, and the words there before and after. */
  offset: number;
  before: number;
  after: number;
}

export interface IsolatedRun {
  process: Process;
  outcome: ProcessOutcome;
  returnValue: unknown;
  timedOut: boolean;
  /** Frames that changed without having been allocated for this process during the run. */
  strayWrites: FrameViolation[];
  /** Other broken promises (frames not returned, victim disturbed, foreign allocations). */
  problems: string[];
  /** The process's private pages (virtual page number → contents) just before teardown. */
  pages: Map<number, Uint8Array> | null;
  /** Its memory size in 64 KiB pages at teardown. */
  wasmPages: number;
}

export interface RunOptions {
  timeoutMs?: number;
  prepare?: (process: Process) => void;
}

export interface FuzzMachineOptions {
  memory?: number;
  /** Import modules besides the standard ones, offered to the loader and bound by the kernel. */
  extraImports?: readonly ImportModuleSpec<KernelServices>[];
  loader?: Partial<LoaderOptions>;
}

interface PageTableView {
  forEach(visit: (page: number, frame: number, flags: number) => void): void;
}

export class FuzzMachine {
  readonly machine: Machine;
  readonly kernel: Kernel;
  readonly loader: Loader;
  victim!: Process;
  private readonly out: Record<1 | 2, Uint8Array[]> = { 1: [], 2: [] };
  private loop: Promise<void> | null = null;
  /** Every allocation since the last reset: frame and owner. */
  private readonly allocations: Array<{ frame: number; owner: number }> = [];
  private victimFrames: Array<[virtualPage: number, frame: number]> = [];

  constructor(options: FuzzMachineOptions = {}) {
    const origin = performance.now();
    const host: HostDevices = {
      clock: { monotonicNs: () => (performance.now() - origin) * 1e6, wallNs: () => BigInt(Date.now()) * 1_000_000n },
      createTimer: (interrupts: InterruptController) => {
        let handle: ReturnType<typeof setTimeout> | null = null;
        return {
          arm(deadlineNs: number) {
            if (handle) clearTimeout(handle);
            handle = setTimeout(() => interrupts.raise({ line: "timer" }), Math.ceil(Math.max(0, deadlineNs / 1e6 - (performance.now() - origin))));
          },
          disarm() {
            if (handle) clearTimeout(handle);
            handle = null;
          },
        };
      },
      // Input is asked for and never arrives: a reader blocks until it is killed.
      createConsole: (): ConsoleDevice => ({ write: (stream, bytes) => this.out[stream].push(bytes.slice()) > 0, requestInput() {} }),
      entropy: { fill: (bytes) => void crypto.getRandomValues(bytes) },
      yieldToHost: () => new Promise((resolve) => setImmediate(resolve)),
    };
    this.machine = new Machine(host, options.memory ?? 8 << 20);
    const standard = standardImportModules();
    const extra = options.extraImports ?? [];
    this.kernel = new Kernel(this.machine, { personalities: [...standard.filter((p) => p.module !== "dogma"), ...extra] });
    this.loader = new Loader({ importModules: [...standard, ...extra], ...options.loader });
    this.instrumentAllocator();
  }

  stdout(): string {
    return new TextDecoder().decode(Buffer.concat(this.out[1]));
  }

  stderr(): string {
    return new TextDecoder().decode(Buffer.concat(this.out[2]));
  }

  /** Spawns the victim and starts the scheduler; resolves once the victim is blocked. */
  async start(): Promise<void> {
    const image = await this.loader.load(wat(victimWat), "victim");
    this.victim = this.kernel.spawn(image, { mapImage: false });
    this.loop = this.kernel.run();
    for (let i = 0; this.victim.state !== "blocked"; i++) {
      if (!this.victim.alive || i > 500) throw new Error(`the victim did not block: ${JSON.stringify(this.victim.outcome)}`);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    this.victimFrames = [];
    this.pageTableOf(this.victim).forEach((page, frame) => this.victimFrames.push([page, frame]));
  }

  /** Kills the victim (and anything left) and waits for the scheduler to return. */
  async stop(): Promise<void> {
    for (const process of this.kernel.processes.values()) if (process.alive) this.kernel.kill(process.pid);
    this.wake();
    await this.loop;
  }

  /** Gets the scheduler out of its idle wait, so that it sees a process just spawned. */
  wake(): void {
    this.machine.interrupts.raise({ line: "timer" });
  }

  /** Physical frames holding the victim's pattern, with their virtual pages. */
  get victimPages(): ReadonlyArray<[virtualPage: number, frame: number]> {
    return this.victimFrames;
  }

  /** Problems with the victim: not blocked, or a word of its pattern changed. */
  checkVictim(): string[] {
    const problems: string[] = [];
    if (!this.victim.alive || this.victim.state !== "blocked") problems.push(`victim is ${this.victim.state}: ${JSON.stringify(this.victim.outcome)}`);
    const view = new DataView(this.machine.memory.memory.buffer);
    for (const [page, frame] of this.victimFrames) {
      if (this.kernel.frames.owner(frame) !== this.victim.pid) problems.push(`victim frame ${frame} now owned by ${this.kernel.frames.owner(frame)}`);
      const virtualBase = page * FRAME;
      if (virtualBase < VICTIM_START || virtualBase >= VICTIM_END) continue;
      for (let i = 0; i < FRAME; i += 4) {
        const expected = ((virtualBase + i) ^ VICTIM_SECRET) >>> 0;
        const actual = view.getUint32(frame * FRAME + i, true);
        if (actual !== expected) {
          problems.push(`victim page ${page} (frame ${frame}) word at +${i} is ${actual.toString(16)}, not ${expected.toString(16)}`);
          break;
        }
      }
    }
    return problems;
  }

  /** Runs a process to its end; when it takes more than `timeoutMs` it is killed. */
  async runToEnd(image: LoadedImage, options: SpawnOptions, timeoutMs = 5000): Promise<{ process: Process; outcome: ProcessOutcome; timedOut: boolean }> {
    const process = this.kernel.spawn(image, options);
    this.wake();
    let timedOut = false;
    const watchdog = setInterval(() => {
      // kill refuses the running process; it cannot be running while a host timer fires, but retry anyway.
      if (process.alive && this.kernel.kill(process.pid) === 0) timedOut = true;
    }, timeoutMs);
    try {
      const outcome = await process.wait();
      return { process, outcome, timedOut };
    } finally {
      clearInterval(watchdog);
    }
  }

  /**
   * See the file comment. Only the victim may be alive when this is called. `prepare` runs after
   * the spawn and before the process first runs (e.g. to write its input with kernel.writeMemory).
   */
  async runIsolated(image: LoadedImage, options: SpawnOptions, { timeoutMs = 5000, prepare }: RunOptions = {}): Promise<IsolatedRun> {
    const frames = this.kernel.frames;
    const memory = this.machine.memory;
    for (const process of this.kernel.processes.values()) {
      if (process.alive && process !== this.victim) throw new Error(`runIsolated: ${process.image.name} (pid ${process.pid}) is still alive`);
    }
    const ownersBefore = new Int32Array(frames.frameCount);
    for (let f = 0; f < frames.frameCount; f++) {
      ownersBefore[f] = frames.owner(f);
      // A free frame the kernel keeps clean (an emptied TLB, frame-allocator.ts takeClean) holds
      // what the kernel relies on: it is compared like any other, but not overwritten.
      if (!frames.isUsed(f) && !frames.isClean(f)) {
        memory.words.fill(canaryOf(f), f * (FRAME / 4), (f + 1) * (FRAME / 4));
        memory.written(f); // it holds no zeros now: the kernel zeroes it when it hands it out
      }
    }
    const before = memory.bytes.slice();
    const freeBefore = frames.freeCount;
    this.allocations.length = 0;

    let pages: Map<number, Uint8Array> | null = null;
    let wasmPages = 0;
    const process = this.kernel.spawn(image, options);
    prepare?.(process);
    const space = process.space as unknown as { destroy(): void };
    const destroy = space.destroy.bind(space);
    space.destroy = () => {
      pages = new Map();
      wasmPages = process.space.wasmPages;
      this.pageTableOf(process).forEach((page, frame, flags) => {
        if ((flags & 8) === 0) pages!.set(page, memory.bytes.slice(frame * FRAME, (frame + 1) * FRAME));
      });
      destroy();
    };
    this.wake();
    let timedOut = false;
    const watchdog = setInterval(() => {
      if (process.alive && this.kernel.kill(process.pid) === 0) timedOut = true;
    }, timeoutMs);
    // Between the kernel's steps, while the module runs, every memory invariant holds.
    const broken: string[] = [];
    const inspector = setInterval(() => {
      if (broken.length === 0 && process.alive) broken.push(...checkInvariants(this.kernel).map((line) => `invariant (during the run): ${line}`));
    }, 2);
    const outcome = await process.wait().finally(() => {
      clearInterval(watchdog);
      clearInterval(inspector);
    });

    const problems: string[] = [...broken, ...checkInvariants(this.kernel).map((line) => `invariant (after the run): ${line}`)];
    const allowed = new Set<number>();
    for (const { frame, owner } of this.allocations) {
      if (owner === process.pid || owner === FRAME_KERNEL) allowed.add(frame);
      else problems.push(`frame ${frame} was allocated to owner ${owner} during the run of pid ${process.pid}`);
    }
    for (const frame of allowed) {
      if (frames.isUsed(frame)) problems.push(`frame ${frame} (allocated for pid ${process.pid}) was not returned: owner ${frames.owner(frame)}`);
    }
    if (frames.freeCount !== freeBefore) problems.push(`free frames: ${frames.freeCount} after the run, ${freeBefore} before`);
    const strayWrites: FrameViolation[] = [];
    const after = memory.bytes;
    // Its descriptor is a slot of a process-table frame other processes' descriptors share: that slot is its own.
    const slot = process.descriptor.address;
    before.set(after.subarray(slot, slot + DESCRIPTOR_BYTES), slot);
    const beforeWords = new Int32Array(before.buffer);
    for (let f = 0; f < frames.frameCount; f++) {
      if (allowed.has(f)) continue;
      const start = f * FRAME;
      if (Buffer.compare(Buffer.from(before.buffer, start, FRAME), Buffer.from(after.buffer, after.byteOffset + start, FRAME)) === 0) continue;
      let offset = 0;
      while (offset < FRAME && before[start + offset] === after[start + offset]) offset++;
      const word = (start + offset) & ~3;
      strayWrites.push({ frame: f, ownerBefore: ownersBefore[f]!, ownerAfter: frames.owner(f), offset, before: beforeWords[word >>> 2]!, after: memory.words[word >>> 2]! });
    }
    problems.push(...this.checkVictim());
    return { process, outcome, returnValue: process.returnValue, timedOut, strayWrites, problems, pages, wasmPages };
  }

  /** The private page table of a live process (read through the kernel's own structure). */
  pageTableOf(process: Process): PageTableView {
    return (process.space as unknown as { table: PageTableView }).table;
  }

  private instrumentAllocator(): void {
    const frames = this.kernel.frames;
    const allocate = frames.allocate.bind(frames);
    const allocateContiguous = frames.allocateContiguous.bind(frames);
    frames.allocate = (owner: number) => {
      const frame = allocate(owner);
      if (frame !== null) this.allocations.push({ frame, owner });
      return frame;
    };
    // A private page's home frame (tlb.ts) is marked there; one not free falls to `allocate` above.
    const allocatePreferring = frames.allocatePreferring.bind(frames);
    frames.allocatePreferring = (frame: number, owner: number) => {
      const given = allocatePreferring(frame, owner);
      if (given !== null) this.allocations.push({ frame: given, owner });
      return given;
    };
    const allocateAligned = frames.allocateAligned.bind(frames);
    const recordRun = (first: number | null, count: number, owner: number) => {
      if (first !== null) for (let i = 0; i < count; i++) this.allocations.push({ frame: first + i, owner });
      return first;
    };
    frames.allocateContiguous = (count: number, owner: number) => recordRun(allocateContiguous(count, owner), count, owner);
    frames.allocateAligned = (count: number, owner: number) => recordRun(allocateAligned(count, owner), count, owner);
    const takeClean = frames.takeClean.bind(frames);
    frames.takeClean = (count: number, owner: number) => recordRun(takeClean(count, owner), count, owner);
  }
}
