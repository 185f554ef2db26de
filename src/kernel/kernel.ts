import type { Machine } from "../machine/machine.ts";
import { AddressSpace } from "./address-space.ts";
import { BootConsole } from "./boot-console.ts";
import { MAX_PRIVATE_WASM_PAGES } from "./constants.ts";
import { Status } from "./errors.ts";
import { ProcessFault, faultFromError, hex } from "./fault.ts";
import { FRAME_KERNEL, FrameAllocator } from "./frame-allocator.ts";
import { ImageStore } from "./image-store.ts";
import type { LoadedImage } from "./image.ts";
import { buildImports, type ImportObject } from "./imports.ts";
import { FUEL_EXPORT, INIT_EXPORT } from "./mmu-abi.ts";
import type { ImportModuleSpec } from "./personality.ts";
import { ProcessDescriptor } from "./process-descriptor.ts";
import { Process, type ProcessOutcome } from "./process.ts";
import { DEFAULT_PRIORITY, PRIORITY_LEVELS, Scheduler } from "./scheduler.ts";
import type { KernelServices } from "./services.ts";

export interface KernelOptions {
  /** Import modules besides `dogma` that programs may use (WASI, env, …). */
  readonly personalities?: readonly ImportModuleSpec<KernelServices>[];
  /** Called with one line per kernel call, when set. */
  readonly trace?: (line: string) => void;
  /** Called with one line when a process faults. */
  readonly onFault?: (process: Process, line: string) => void;
}

export interface SpawnOptions {
  readonly args?: readonly string[];
  readonly env?: readonly string[];
  readonly parent?: number;
  readonly priority?: number;
  /** Export to run instead of `_start`, with its arguments (benchmarks and tests). */
  readonly entry?: string;
  readonly entryArgs?: readonly (number | bigint)[];
  /** Map the binary read-only into the global space (default true). */
  readonly mapImage?: boolean;
}

/**
 * The kernel: frames, address spaces, processes and the scheduler on one machine. Hosts create
 * it, spawn processes from loaded images and call `run`.
 */
export class Kernel implements KernelServices {
  readonly machine: Machine;
  readonly frames: FrameAllocator;
  readonly scheduler: Scheduler;
  readonly processes = new Map<number, Process>();
  readonly clock;
  readonly entropy;
  private readonly images: ImageStore;
  private readonly console: BootConsole;
  private readonly imports: ImportObject;
  private readonly onFault: KernelOptions["onFault"];
  private nextPid = 1;
  private readonly entryArgs = new Map<Process, { entry: string; args: readonly (number | bigint)[] }>();
  /** What each process's entry returned (benchmarks read it). */
  readonly returnValues = new Map<number, unknown>();

  constructor(machine: Machine, options: KernelOptions = {}) {
    this.machine = machine;
    this.clock = machine.clock;
    this.entropy = machine.entropy;
    this.frames = new FrameAllocator(machine.memory.frameCount);
    this.images = new ImageStore(machine.memory, this.frames);
    this.console = new BootConsole(machine.console);
    this.scheduler = new Scheduler(machine, (process) => this.start(process));
    this.onFault = options.onFault;
    this.imports = buildImports(this, machine.memory, options.personalities ?? [], options.trace);
  }

  current(): Process {
    const process = this.scheduler.current;
    if (!process) throw new Error("kernel bug: a kernel call arrived with no process running");
    return process;
  }

  /** Creates a process from a loaded image; it runs when the scheduler picks it. */
  spawn(image: LoadedImage, options: SpawnOptions = {}): Process {
    const pid = this.nextPid++;
    const priority = options.priority ?? DEFAULT_PRIORITY;
    if (!Number.isInteger(priority) || priority < 0 || priority >= PRIORITY_LEVELS) {
      throw new RangeError(`priority must be 0 to ${PRIORITY_LEVELS - 1}, not ${priority}`);
    }
    const maxPages = Math.min(image.maximumPages, MAX_PRIVATE_WASM_PAGES);
    const descriptorFrame = this.frames.allocate(FRAME_KERNEL);
    if (descriptorFrame === null) throw new RangeError("out of physical memory for a process descriptor");
    let space: AddressSpace;
    try {
      space = new AddressSpace(this.machine.memory, this.frames, pid, image.initialPages, maxPages);
    } catch (error) {
      this.frames.release(descriptorFrame);
      throw error;
    }
    const descriptor = new ProcessDescriptor(this.machine.memory, descriptorFrame, pid, options.parent ?? 0, priority);
    const process = new Process(descriptor, image, space, options.args ?? [image.name], options.env ?? []);
    try {
      for (const segment of image.segments) if (segment.offset !== null) space.write(segment.offset, segment.data);
      if (options.mapImage ?? true) {
        const mapped = this.images.map(image);
        space.mapShared(mapped.base, mapped.frames);
        process.imageBase = mapped.base;
      }
      process.instance = new WebAssembly.Instance(image.module, this.imports.forProcess(space.tlb.base));
    } catch (error) {
      this.release(process);
      if (error instanceof ProcessFault) throw new RangeError(`cannot start ${image.name}: ${error.message}`);
      throw error;
    }
    if (options.entry) this.entryArgs.set(process, { entry: options.entry, args: options.entryArgs ?? [] });
    this.processes.set(pid, process);
    this.scheduler.makeReady(process);
    return process;
  }

  /** Runs until every process has ended. */
  run(): Promise<void> {
    return this.scheduler.run(
      () => this.liveCount(),
      () => this.handleInterrupts(),
    );
  }

  liveCount(): number {
    let live = 0;
    for (const process of this.processes.values()) if (process.alive) live++;
    return live;
  }

  /** Ends a process that is not running now (from the host or, later, a Process capability). */
  kill(pid: number): number {
    const process = this.processes.get(pid);
    if (!process || !process.alive) return Status.E_NO_PROCESS;
    if (process === this.scheduler.current) return Status.E_INVALID_ARGUMENT;
    this.scheduler.remove(process);
    this.console.cancel(process);
    process.resume = null;
    this.finish(process, { kind: "exited", code: 137 });
    return Status.OK;
  }

  readMemory(process: Process, address: number, length: number): Uint8Array | null {
    try {
      return process.space.read(address >>> 0, length);
    } catch (error) {
      if (error instanceof ProcessFault) return null;
      throw error;
    }
  }

  writeMemory(process: Process, address: number, data: Uint8Array): boolean {
    try {
      process.space.pieces(address >>> 0, data.length, true);
      process.space.write(address >>> 0, data);
      return true;
    } catch (error) {
      if (error instanceof ProcessFault) return false;
      throw error;
    }
  }

  consoleWrite(stream: 1 | 2, bytes: Uint8Array): void {
    this.machine.console.write(stream, bytes);
  }

  consoleRead(process: Process, max: number): Promise<Uint8Array> {
    const ready = this.console.take(max);
    if (ready) return Promise.resolve(ready);
    this.console.await(process, max);
    return this.scheduler.block<Uint8Array>(process);
  }

  yield(process: Process): Promise<void> {
    return this.scheduler.yield<void>(process);
  }

  yieldTo(process: Process, pid: number): number | Promise<number> {
    const target = this.processes.get(pid);
    if (!target || !target.alive) return Status.E_NO_PROCESS;
    if (target === process) return Status.OK;
    if (target.state !== "ready") return Status.E_NOT_READY;
    return this.scheduler.yield<number>(process, Status.OK, target);
  }

  sleep(process: Process, nanoseconds: number): Promise<void> {
    return this.scheduler.sleep(process, this.clock.monotonicNs() + nanoseconds);
  }

  exit(process: Process, code: number): Promise<never> {
    this.finish(process, { kind: "exited", code });
    this.scheduler.yieldCpu(process);
    return new Promise<never>(() => {});
  }

  /** The safe point's slow path: preempt when the slice is over, else refill the fuel. */
  safePoint(process: Process, fuel: number): number | Promise<number> {
    if (!process.alive) return new Promise<number>(() => {});
    if (!this.scheduler.preemptionPending(process)) return fuel;
    return this.scheduler.yield<number>(process, fuel);
  }

  private start(process: Process): void {
    const exports = process.instance!.exports;
    const custom = this.entryArgs.get(process);
    this.entryArgs.delete(process);
    const entryName = custom?.entry ?? "_start";
    const entry = exports[entryName];
    const init = exports[INIT_EXPORT];
    const run = async (): Promise<unknown> => {
      if (typeof init === "function") await WebAssembly.promising(init as () => unknown)();
      if (typeof entry !== "function") throw new ProcessFault("trap", null, `the program exports no function "${entryName}" to start`);
      return WebAssembly.promising(entry as (...args: unknown[]) => unknown)(...(custom?.args ?? []));
    };
    run().then(
      (value) => {
        this.returnValues.set(process.pid, value);
        this.finish(process, { kind: "exited", code: 0 });
        this.scheduler.yieldCpu(process);
      },
      (error: unknown) => {
        const fault = faultFromError(error);
        if (this.finish(process, { kind: "faulted", fault })) this.onFault?.(process, describeProcessFault(process));
        this.scheduler.yieldCpu(process);
      },
    );
  }

  private finish(process: Process, outcome: ProcessOutcome): boolean {
    if (!process.end(outcome)) return false;
    this.release(process);
    return true;
  }

  private release(process: Process): void {
    process.space.destroy();
    this.frames.release(process.descriptor.frame);
    const fuel = process.instance?.exports[FUEL_EXPORT];
    if (fuel instanceof WebAssembly.Global) fuel.value = -1;
  }

  private handleInterrupts(): void {
    for (const interrupt of this.machine.interrupts.drain()) {
      if (interrupt.line === "console") {
        for (const [process, bytes] of this.console.deliver(interrupt.data)) this.scheduler.makeReady(process, bytes);
      }
    }
  }
}

export function describeProcessFault(process: Process): string {
  const fault = process.fault!;
  const at = fault.address === null ? "" : ` at ${hex(fault.address)}`;
  const where = fault.functionName ? ` in ${fault.functionName}` : "";
  return `${process.image.name} (pid ${process.pid}): ${fault.kind}${at}${where}: ${fault.message}`;
}

