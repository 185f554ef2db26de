import type { Interrupt } from "../machine/interrupts.ts";
import type { Machine } from "../machine/machine.ts";
import type { MmioDevice } from "../machine/mmio.ts";
import { AddressSpace, type PageZeroPolicy, pageTableWork } from "./address-space.ts";
import { BootConsole } from "./boot-console.ts";
import { Capability } from "./caps/capability.ts";
import { DeviceObject } from "./caps/device-object.ts";
import { KernelPolicy } from "./caps/kernel-policy.ts";
import { ImageObject } from "./caps/image-object.ts";
import { InterruptObject } from "./caps/interrupt.ts";
import { deliverPendingInterrupt, invoke } from "./caps/invoke.ts";
import { Ipc } from "./caps/ipc.ts";
import { disposeEnvelope } from "./caps/envelope.ts";
import type { KernelObject } from "./caps/kernel-object.ts";
import { MEMORY_OBJECT_PAGES, MemoryObject, makeRegion, processFixedPages, processKernelFrames } from "./caps/memory-object.ts";
import type { RegionObject } from "./caps/region.ts";
import { ObjectKind, Rights, SELF_RIGHTS, SLOT_SELF } from "./caps/object-abi.ts";
import type { ObjectKernel } from "./caps/object-kernel.ts";
import type { ObjectServices } from "./caps/object-services.ts";
import { announceEnd } from "./caps/process-control.ts";
import { type MayWire, SharedFrames } from "./caps/shared-frames.ts";
import { Debugging } from "./debugging.ts";
import { PageInRequired } from "./paging-hooks.ts";
import { copyServingState, quiescent, serve } from "./serving.ts";
import { MAX_PRIVATE_WASM_PAGES, PAGE_SIZE, WASM_PAGE_SIZE } from "./constants.ts";
import { Status } from "./errors.ts";
import { printable } from "./printable.ts";
import { Futexes } from "./futexes.ts";
import { GlobalSpace } from "./global-space.ts";
import { type DeliveredMessage, type MessageBuffer, MAX_MESSAGE_BYTES, uint32Words } from "./message.ts";
import { type FaultRecord, ProcessFault, faultFromError, hex } from "./fault.ts";
import { FRAME_KERNEL, FrameAllocator } from "./frame-allocator.ts";
import type { ImageLoader } from "./image-loader.ts";
import { ImageStore } from "./image-store.ts";
import { type DeferredImage, type LoadedImage, endedImage } from "./image.ts";
import { buildImports, type ImportObject } from "./imports.ts";
import type { PageCipherFactory } from "./page-sealer.ts";
import { KernelPaging } from "./kernel-paging.ts";
import { PagerChannel } from "./pager-channel.ts";
import { type BackingStore, Paging, type PagingOptions } from "./paging.ts";
import { chargeBulk, chargeFuel } from "./fuel.ts";
import { FAULT_EXPORT, FUEL_EXPORT, INIT_EXPORT, SAFE_POINT_WAIT } from "./mmu-abi.ts";
import type { ImportModuleSpec } from "./personality.ts";
import { DESCRIPTOR_BYTES, ProcessDescriptor } from "./process-descriptor.ts";
import { DescriptorTable } from "./descriptor-table.ts";
import { Process, type ProcessHooks, type ProcessOutcome } from "./process.ts";
import { DEFAULT_PRIORITY, PRIORITY_LEVELS, Scheduler } from "./scheduler.ts";
import type { KernelServices } from "./services.ts";

export interface KernelOptions {
  /** Import modules besides `dogma` that programs may use (WASI, env, …). */
  readonly personalities?: readonly ImportModuleSpec<KernelServices>[];
  /** Called with one line per kernel call, when set. */
  readonly trace?: (line: string) => void;
  /** Called with one line when a process faults. */
  readonly onFault?: (process: Process, line: string) => void;
  /** Loads binaries processes hand the kernel (MEMORY_CREATE_IMAGE); without one that op is E_NOT_READY. */
  readonly imageLoader?: ImageLoader;
  /** The AES-256-GCM that seals pages for the pager (default: the portable one in JavaScript). */
  readonly pageCipher?: PageCipherFactory;
  /** How page 0 of programs whose data lies there is treated (address-space.ts; default adaptive). */
  readonly pageZero?: PageZeroPolicy;
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
  /** The Memory it lives in and is charged to (default: the root Memory). */
  readonly memory?: MemoryObject;
  /** Capabilities for its table, from slot 2 in order (see `capability`). */
  readonly caps?: readonly Capability[];
}

/** A kernel-internal wake value: the process ended while others waited on it. */
const NEVER = new Promise<never>(() => {});

/**
 * The kernel: frames, address spaces, processes, the scheduler, capabilities and IPC on one
 * machine. Hosts create it, spawn processes from loaded images (granting capabilities made with
 * `capability`, `imageCapability`, `interruptCapability`) and call `run`.
 */
/** What the kernel call of a process ended while blocked throws; nobody sees it (finish is done). */
const ENDED_WHILE_BLOCKED = Object.freeze({ endedWhileBlocked: true });
/** The handler an unwound call's promise gets (Process.blockedCall): its rejection is expected. */
const ignoreUnwound = (): undefined => undefined;

export class Kernel implements KernelServices, ObjectKernel {
  readonly machine: Machine;
  readonly frames: FrameAllocator;
  /** The process table: every descriptor's slot (descriptor-table.ts). */
  readonly descriptors: DescriptorTable;
  readonly scheduler: Scheduler;
  /** Live processes by pid; an ended one leaves (capabilities to it still answer PROCESS_STATE). */
  readonly processes = new Map<number, Process>();
  readonly clock;
  readonly entropy;
  readonly services: ObjectServices;
  readonly ipc: Ipc;
  /** The Memory that holds all memory; host-started processes live in it or its children. */
  readonly rootMemory: MemoryObject;
  /** Debuggers and the processes they debug (debugging.ts). */
  readonly debugging: Debugging;
  private readonly futexes: Futexes;
  private readonly interruptLines = new Map<number, InterruptObject>();
  private readonly devices = new Map<MmioDevice, DeviceObject>();
  private readonly hooks: ProcessHooks;
  private readonly images: ImageStore;
  private readonly console: BootConsole;
  /** What a process is instantiated with (public for benches and tests that time or hook instantiation: bench/scheduling.ts, test/helpers/mmu-hooks.ts). */
  readonly imports: ImportObject;
  private readonly onFault: KernelOptions["onFault"];
  private readonly imageLoader: ImageLoader | null;
  private pendingLoads = 0;
  private nextPid = 1;
  /** Process 1 when the machine was booted: its end stops `run` (the machine resets). */
  private critical: Process | null = null;
  private readonly entryArgs = new Map<Process, { entry: string; args: readonly (number | bigint)[] }>();
  private readonly demandPaging: KernelPaging;
  private readonly pageZero: PageZeroPolicy;
  private readonly trace: ((line: string) => void) | null;
  /** AddressSpace.sharedCopyOnWrite of every process: one function, not a closure per process. */
  private readonly splitSharedPage = (pid: number, address: number): boolean => {
    const process = this.processes.get(pid);
    return process !== undefined && splitRegionPage(process, address, (frames: number) => this.mayWireFor(pid, frames));
  };

  constructor(machine: Machine, options: KernelOptions = {}) {
    this.machine = machine;
    this.clock = machine.clock;
    this.entropy = machine.entropy;
    this.frames = new FrameAllocator(machine.memory.frameCount, machine.memory);
    this.descriptors = new DescriptorTable(this.frames, DESCRIPTOR_BYTES);
    const globalSpace = new GlobalSpace();
    this.images = new ImageStore(machine.memory, this.frames, globalSpace);
    this.console = new BootConsole(machine.console);
    this.scheduler = new Scheduler(machine, (process) => this.start(process));
    const zeroFrame = this.frames.allocate(FRAME_KERNEL);
    if (zeroFrame === null) throw new RangeError("physical memory is too small for the kernel");
    machine.memory.zeroFrame(zeroFrame);
    this.services = { memory: machine.memory, frames: this.frames, globalSpace, sharedFrames: new SharedFrames(this.frames), zeroFrame };
    this.ipc = new Ipc(this.scheduler, this.clock);
    this.futexes = new Futexes(this.scheduler);
    this.debugging = new Debugging({ scheduler: this.scheduler, ipc: this.ipc, terminate: (process) => this.terminate(process), endFaulted: (process, fault) => this.endFaulted(process, fault) });
    this.rootMemory = new MemoryObject(null, this.frames.freeCount);
    // The root is never destroyed: it holds everything.
    this.rootMemory.hold();
    this.hooks = {
      teardown: (process) => this.releaseProcess(process),
      wake: (process, value) => this.scheduler.wake(process, value),
      installed: (process, cap) => cap.object.installedIn(process, cap),
      removed: (process, cap) => cap.object.removedFrom(process, cap),
    };
    this.onFault = options.onFault;
    this.imageLoader = options.imageLoader ?? null;
    this.pageZero = options.pageZero ?? "adaptive";
    this.trace = options.trace ?? null;
    this.images.onReleased = (image) => this.imageLoader?.release?.(image);
    this.demandPaging = new KernelPaging({
      machine,
      frames: this.frames,
      scheduler: this.scheduler,
      rootMemory: this.rootMemory,
      processes: () => this.processes.values(),
      cipher: options.pageCipher,
    });
    this.imports = buildImports(this, machine.memory, options.personalities ?? [], options.trace);
  }

  current(): Process {
    const process = this.scheduler.current;
    if (!process) throw new Error("kernel bug: a kernel call arrived with no process running");
    return process;
  }

  /** Creates a process from a loaded image; it runs when the scheduler picks it. Throws RangeError when it cannot. */
  spawn(image: LoadedImage, options: SpawnOptions = {}): Process {
    const priority = options.priority ?? DEFAULT_PRIORITY;
    if (!Number.isInteger(priority) || priority < 0 || priority >= PRIORITY_LEVELS) {
      throw new RangeError(`priority must be 0 to ${PRIORITY_LEVELS - 1}, not ${priority}`);
    }
    const process = this.build(image, options.memory ?? this.rootMemory, options.parent ?? 0, priority, options.args ?? [image.name], options.env ?? [], options.mapImage ?? true);
    if (typeof process === "string") throw new RangeError(`cannot start ${image.name}: ${process}`);
    for (const cap of options.caps ?? []) {
      if (process.caps.install(cap) === 0) throw new RangeError(`cannot start ${image.name}: its capability table is full, or a capability was taken back as it came (a view of a freed Region its Memory cannot pay for)`);
    }
    if (options.entry) this.entryArgs.set(process, { entry: options.entry, args: options.entryArgs ?? [] });
    this.scheduler.makeReady(process);
    // The scheduler may be idle, waiting for an interrupt or a sleeper's time: the new process
    // runs now, not when that wait ends.
    this.machine.interrupts.poke();
    return process;
  }

  /**
   * Whether process `pid` (0: the host) may have `frames` more frames that cannot be paged out
   * made for it: the host and pinned processes always (the pager's path must never wait on this);
   * others while the kernel's frames stay under their limit (FrameAllocator wiredLimit).
   */
  mayWireFor(pid: number, frames: number): boolean {
    if (pid === 0 || this.frames.mayWire(frames)) return true;
    return this.processes.get(pid)?.space.usesFrameReserve === true;
  }

  /** MEMORY_CREATE_PROCESS: a process in `memory`, `created` until PROCESS_START. */
  createProcess(image: ImageObject, memory: MemoryObject, parent: Process, priority: number): Process | number {
    const loaded = image.image;
    if (!loaded) throw new Error("kernel bug: a process made from an Image still loading (see whenLoaded)");
    const process = this.build(loaded, memory, parent.pid, priority, [loaded.name], [], true, true, image);
    return typeof process === "string" ? Status.E_QUOTA : process;
  }

  /**
   * PROCESS_CLONE: a `created` copy of `source`, in `memory`: the same image, args, priority and
   * memory size, its private pages shared copy-on-write. `source` must be quiescent: `created`
   * (never run), or serving and waiting for a message (serving.ts: no frames on any stack, so its
   * memory and exported globals are all of it; its image must be `cloneable`). Its table holds
   * only itself, and for a serving source the Receiver it serves, at the same slot; such a clone
   * starts in its serve loop.
   */
  cloneProcess(source: Process, memory: MemoryObject, parent: Process, attempts = 3): Process | number | Promise<Process | number> {
    const serving = quiescent(source);
    if (!source.alive || (source.state !== "created" && !serving)) return Status.E_NOT_READY;
    if (serving && !source.image.cloneable) return Status.E_NOT_READY;
    // Pages that are out are copied once they are back: the caller waits for them (a few rounds,
    // as others' pressure may take some again meanwhile).
    if (source.space.pagedOutPages > 0) {
      if (attempts === 0 || parent === source) return Status.E_NOT_READY;
      return this.demandPaging.bringBackAll(source, parent).then((whole) => (whole ? this.cloneProcess(source, memory, parent, attempts - 1) : Status.E_NOT_READY));
    }
    const clone = this.build(source.image, memory, parent.pid, source.descriptor.priority, source.args, source.env, source.imageBase !== 0, false, source.imageObject);
    if (typeof clone === "string") return Status.E_QUOTA;
    clone.space.grow(source.space.wasmPages - clone.space.wasmPages);
    source.segments.forEach((segment, i) => (clone.segments[i] = segment));
    const first = source.space.firstPage;
    const pages = source.space.wasmPages * (WASM_PAGE_SIZE / PAGE_SIZE) - first;
    const mayWire = (frames: number) => this.mayWireFor(parent.pid, frames);
    const status = pages > 0 ? clone.space.copyOnWriteFrom(source.space, first * PAGE_SIZE, first * PAGE_SIZE, pages, true, mayWire) : Status.OK;
    if (status !== Status.OK) {
      this.terminate(clone);
      return status;
    }
    if (serving) copyServingState(source, clone);
    return clone;
  }

  /**
   * Turns demand paging on with `store` as the pager's storage: from now on free frames running
   * low make the kernel evict pages, sealed under a key made now from the machine's entropy.
   */
  enablePaging(store: BackingStore, options: PagingOptions = {}): Paging {
    this.ipc.pageIn = (process, address) => this.pageIn(process, address);
    return this.demandPaging.enable(store, options);
  }

  /** Demand paging, once a backing store is attached (`enablePaging`). */
  get paging(): Paging | null {
    return this.demandPaging.paging;
  }

  get pagingOn(): boolean {
    return this.demandPaging.paging !== null;
  }

  readyPageFor(process: Process, address: number, waiter: Process): Promise<boolean> {
    const page = Math.floor(address / PAGE_SIZE);
    if (process.space.pagedVersion(page) !== null) return this.demandPaging.bringBackAll(process, waiter, [page]);
    // Not paged out: a frame is wanted (a first touch, a copy-on-write split) and none is free.
    return Promise.resolve((this.paging?.reclaim(null) ?? 0) > 0);
  }

  /** Brings `process`'s paged-out page at `address` back (kernel-paging.ts). */
  pageIn(process: Process, address: number, request: ProcessFault | null = null): Promise<void> {
    return this.demandPaging.pageIn(process, address, request);
  }

  /** A capability the host can grant (through `spawn`'s `caps`) to any kernel object. */
  capability(object: KernelObject, rights: number, badge = 0): Capability {
    return new Capability(object, rights, badge);
  }

  /** A child Memory for the host to hand out (default: of the root, with all it has left). */
  memoryObject(quota?: number, parent: MemoryObject = this.rootMemory): MemoryObject {
    const child = new MemoryObject(parent, quota ?? Math.max(0, parent.available - MEMORY_OBJECT_PAGES));
    if (!parent.adopt(child, MEMORY_OBJECT_PAGES)) {
      child.destroy(); // out of its tree's table again
      throw new RangeError("no memory left for a Memory object");
    }
    return child;
  }

  /** A Region holding `data` (zero-filled to whole pages), for the host to hand out read-only. */
  regionObject(data: Uint8Array, memory: MemoryObject = this.rootMemory): RegionObject {
    const region = makeRegion(this.services, memory, Math.max(1, Math.ceil(data.length / PAGE_SIZE)), 0);
    if (typeof region === "number") throw new RangeError(`no memory for a Region of ${data.length} bytes`);
    region.frameList.forEach((frame, i) => this.machine.memory.bytes.set(data.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE), frame * PAGE_SIZE));
    return region;
  }

  /** An Image object for a loaded binary, so that processes holding it can create processes. */
  imageObject(image: LoadedImage | DeferredImage): ImageObject {
    return new ImageObject(image, this.images.map(image), { release: () => this.images.release(image), endProcess: (process) => this.terminate(process) });
  }

  /** Whether a loader was given (MEMORY_CREATE_IMAGE). */
  get canLoadImages(): boolean {
    return this.imageLoader !== null;
  }

  /**
   * Runs the loader for MEMORY_CREATE_IMAGE and calls `settled` with the image or the refusal.
   * While a load is in flight the machine is not idle (`run` must not end); once `settled` has
   * run (and made its caller ready) the scheduler, which may be waiting for an interrupt, must
   * look at its run queue again.
   */
  loadImage(bytes: Uint8Array, name: string, settled: (outcome: LoadedImage | Error) => void): void {
    const loader = this.imageLoader;
    if (!loader) throw new Error("kernel bug: loadImage without a loader");
    this.awaitLoad(loader.load(bytes, name), settled);
  }

  /** As `loadImage`, for an Image whose binary is still loading (a boot module's first process). */
  whenLoaded(image: ImageObject, settled: (outcome: LoadedImage | Error) => void): void {
    this.awaitLoad(image.whenLoaded(), settled);
  }

  private awaitLoad(load: Promise<LoadedImage>, settled: (outcome: LoadedImage | Error) => void): void {
    this.pendingLoads++;
    load
      .catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))))
      .then((outcome) => {
        try {
          settled(outcome);
        } finally {
          // A load nothing took (its caller ended meanwhile, or its Image could not be made or
          // paid for) is held by no Image, so the store never tells the loader to let it go: the
          // host would keep its compiled module for good, charged to nobody (redteam6).
          if (!(outcome instanceof Error) && !this.images.holds(outcome.hash)) this.imageLoader?.release?.(outcome);
          this.pendingLoads--;
          this.machine.interrupts.poke();
        }
      });
  }


  /**
   * The Device object of a machine device (one per device): its register frame gets a global
   * address, and the device keeps what drivers read there current from now on.
   */
  deviceObject(device: MmioDevice): DeviceObject {
    const known = this.devices.get(device);
    if (known) return known;
    const frame = this.frames.allocate(FRAME_KERNEL);
    if (frame === null) throw new RangeError(`out of physical memory for the registers of ${device.name}`);
    const address = this.services.globalSpace.allocate(1);
    if (address === null) throw new RangeError("the global space is full");
    this.machine.memory.zeroFrame(frame);
    const words = this.machine.memory.unsignedWords.subarray((frame * PAGE_SIZE) >>> 2, ((frame + 1) * PAGE_SIZE) >>> 2);
    device.attachRegisters(words);
    const object = new DeviceObject(device, this.machine.memory, frame, address);
    this.devices.set(device, object);
    return object;
  }

  /** The kernel's policy object, for process 1 (time slice, figures). */
  policyObject(): KernelPolicy {
    return new KernelPolicy(this.scheduler, this, () => this.liveCount(), () => this.paging, (through, memory, storePages, batch) => {
      this.enablePaging(new PagerChannel(this.ipc, this.services, through, memory, batch), { storePages });
      memory.extendToRoot(storePages);
      return Status.OK;
    });
  }

  /** The Interrupt object of a machine line (one per line). */
  interruptObject(line: number): InterruptObject {
    let object = this.interruptLines.get(line);
    if (!object || object.destroyed) {
      object = new InterruptObject(line);
      this.interruptLines.set(line, object);
    }
    return object;
  }

  /** The process, or why not (a message for the host). */
  /**
   * `initialize`: copy the data segments in (a clone gets its pages from its source instead).
   * `imageObject`: the Image it is made from, which it holds while it lives (image-object.ts);
   * null for the machine's own processes (boot, `dogma run`), which hold the image store directly.
   */
  private build(image: LoadedImage, memory: MemoryObject, ppid: number, priority: number, args: readonly string[], env: readonly string[], mapImage: boolean, initialize = true, imageObject: ImageObject | null = null): Process | string {
    if (imageObject?.destroyed) return "its Image was destroyed";
    const maxPages = Math.min(image.maximumPages, MAX_PRIVATE_WASM_PAGES);
    if (memory.destroyed) return "its Memory was destroyed";
    const fixedPages = processFixedPages(image);
    if (memory.available < fixedPages) return `its Memory's quota is exhausted (${memory.available} pages left, a process of ${image.name} needs ${fixedPages})`;
    const kernelFrames = processKernelFrames(image);
    if (!this.mayWireFor(ppid, kernelFrames)) return `physical memory the pager cannot take back is at its limit (${this.frames.wiredCount} of ${this.frames.frameCount} frames): a process of ${image.name} needs ${kernelFrames} more`;
    const pid = this.nextPid++;
    const descriptorSlot = this.descriptors.allocate();
    if (descriptorSlot === null) return "out of physical memory for a process descriptor";
    let space: AddressSpace;
    try {
      space = new AddressSpace(this.machine.memory, this.frames, pid, image.initialPages, maxPages, memory, this.services.sharedFrames);
    } catch (error) {
      this.descriptors.release(descriptorSlot);
      return error instanceof Error ? error.message : String(error);
    }
    const descriptor = new ProcessDescriptor(this.machine.memory, descriptorSlot, pid, ppid, priority);
    const process = new Process(descriptor, image, space, args, env, memory, this.hooks);
    memory.adopt(process, fixedPages);
    memory.hold();
    this.processes.set(pid, process);
    try {
      space.pageZeroPolicy = this.pageZero;
      // Only when tracing: a closure per process is memory the collector marks at every full collection.
      const trace = this.trace;
      if (trace) space.onPageZeroUnchecked = (accesses) => trace(`[pid ${pid}] page 0: unchecked after ${accesses} slow-path accesses (null faults below its data end)`);
      space.allowPageZeroFrom(lowestDataByte(image));
      if (initialize) for (const segment of image.segments) if (segment.offset !== null) space.write(segment.offset, segment.data);
      if (imageObject) {
        process.imageObject = imageObject;
        imageObject.processes.add(process);
      }
      if (mapImage) this.mapOwnImage(process, imageObject);
      process.instance = new WebAssembly.Instance(image.module, this.imports.forProcess(space.tlb.base, space.tlb.home));
      const { [FUEL_EXPORT]: fuel, [FAULT_EXPORT]: faultFlag } = process.instance.exports;
      process.fuel = fuel instanceof WebAssembly.Global ? fuel : null;
      process.faultHandler.flag = faultFlag instanceof WebAssembly.Global ? faultFlag : null;
    } catch (error) {
      this.processes.delete(pid);
      process.end({ kind: "exited", code: 127 });
      process.destroy();
      if (error instanceof ProcessFault || error instanceof RangeError) return error.message;
      throw error;
    }
    process.caps.placeAt(SLOT_SELF, new Capability(process, SELF_RIGHTS));
    process.space.sharedCopyOnWrite = this.splitSharedPage;
    this.demandPaging.attach(process);
    descriptor.state = "created";
    return process;
  }

  /**
   * Maps the process's binary read-only at its global address, the mapping held by its Image, or
   * for the machine's own processes by the image store itself. Throws RangeError when out of memory.
   */
  private mapOwnImage(process: Process, imageObject: ImageObject | null): void {
    if (imageObject) {
      process.space.mapShared(imageObject.globalAddress, imageObject.frames, imageObject);
      process.imageBase = imageObject.globalAddress;
      return;
    }
    const stored = this.images.map(process.image);
    try {
      process.space.mapShared(stored.base, stored.frames, stored);
      process.imageBase = stored.base;
    } finally {
      // The mappings hold the image now; this hold was only to have it while they were made.
      this.images.release(process.image);
    }
  }

  /**
   * Runs until every process has ended, or until none can ever run again: nothing ready, no
   * deadline pending, nobody waiting for input or an interrupt (`stuck()` then says who is left).
   */
  run(): Promise<void> {
    return this.scheduler.run(
      () => (this.canProgress() ? this.liveCount() : 0),
      () => this.handleInterrupts(),
    );
  }

  liveCount(): number {
    let live = 0;
    for (const process of this.processes.values()) if (process.alive) live++;
    return live;
  }

  /** Live processes that nothing can wake (after `run` returned with some alive). */
  stuck(): Process[] {
    return [...this.processes.values()].filter((process) => process.alive);
  }

  private canProgress(): boolean {
    if (this.scheduler.hasSleepers() || this.console.hasReaders() || this.machine.interrupts.hasPending() || this.pendingLoads > 0 || this.demandPaging.pendingPageIns > 0) return true;
    for (const line of this.interruptLines.values()) if (line.armed && line.target && !line.destroyed) return true;
    return false;
  }

  /** The process whose end halts the machine (process 1); `run` then returns. */
  setCritical(process: Process): void {
    this.critical = process;
  }

  /**
   * Ends every process left (code 137): the host is done with this machine (a reset, a halt).
   * A process blocked in a kernel call keeps its stack, and through it the kernel and the
   * machine's memory, until it is unwound, which ending it does (Process.unwind). After `run`.
   */
  endEveryProcess(): void {
    for (const process of [...this.processes.values()]) if (process.alive && process !== this.scheduler.current) this.terminate(process);
  }

  /** Ends a process that is not running now (from the host). */
  kill(pid: number): number {
    const process = this.processes.get(pid);
    if (!process || !process.alive) return Status.E_NO_PROCESS;
    if (process === this.scheduler.current) return Status.E_INVALID_ARGUMENT;
    this.terminate(process);
    // The scheduler may be idle, waiting for an interrupt: whoever this woke (a monitor, a waiter)
    // must run now.
    this.machine.interrupts.poke();
    return Status.OK;
  }

  /** Ends a process with code 137, wherever it is; the running one stops at its kernel call's return. */
  terminate(process: Process): void {
    this.finish(process, { kind: "exited", code: 137 });
  }

  /** The one system call, for the current process; see caps/invoke.ts. */
  invoke(process: Process, cap: number, buffer: MessageBuffer): number | Promise<number> {
    // The buffer stays resident until the call completes, however long it blocks: IPC reads and
    // writes it while the process waits.
    if (this.pagingOn) this.touch(process, buffer.ptr >>> 0, buffer.capacity >>> 0 <= MAX_MESSAGE_BYTES ? buffer.capacity >>> 0 : 0);
    return this.invokeNow(process, cap, buffer);
  }

  private invokeNow(process: Process, cap: number, buffer: MessageBuffer): number | Promise<number> {
    const updates = pageTableWork.updates;
    const result = invoke(this, process, cap, buffer);
    // The caller ended itself (killed itself, destroyed its own Memory): its stack never runs again.
    if (!process.alive) return this.stopRunning(process);
    // The page-table entries the call wrote, a unit of fuel each (as a call that walks pages is
    // charged): a Region of 30,000 pages sent to its owner's own Receiver and received back was
    // 60,000 updates, 47 ms, for a few units, and 200 rounds ran 9.4 s with no look at the clock,
    // every other process stopped (redteam13).
    chargeFuel(process, pageTableWork.updates - updates);
    return result;
  }

  futexWait(process: Process, address: number, expected: number, nanoseconds: number): number | Promise<number> {
    const deadline = nanoseconds === 0 ? -Infinity : nanoseconds === Infinity ? Infinity : this.clock.monotonicNs() + nanoseconds;
    return this.futexes.wait(process, address, expected, deadline);
  }

  futexWake(process: Process, address: number, count: number): number {
    return this.futexes.wake(process, address, count);
  }

  /** Keeps what a kernel call touches resident, or throws PageInRequired (kernel-paging.ts). */
  touch(process: Process, address: number, length: number): void {
    this.demandPaging.touch(process, address, length);
  }

  readMemory(process: Process, address: number, length: number): Uint8Array | null {
    try {
      const bytes = process.space.read(address >>> 0, length);
      chargeBulk(process, length);
      return bytes;
    } catch (error) {
      return notFaulted(error, null);
    }
  }

  readInto(process: Process, address: number, into: Uint8Array, length: number = into.length): boolean {
    if (length > into.length) throw new RangeError(`kernel bug: a read of ${length} bytes into ${into.length}`);
    try {
      process.space.readInto(address >>> 0, into, 0, length);
      chargeBulk(process, length);
      return true;
    } catch (error) {
      return notFaulted(error, false);
    }
  }

  copyWithin(process: Process, to: number, from: number, length: number): boolean {
    to >>>= 0;
    from >>>= 0;
    if (length <= 0) return length === 0;
    if (from < to + length && to < from + length) return false;
    try {
      // Both ranges checked (and the destination's copy-on-write pages split) before a byte moves.
      process.space.copyWithin(to, from, length);
      chargeBulk(process, length);
      return true;
    } catch (error) {
      return notFaulted(error, false);
    }
  }

  writeMemory(process: Process, address: number, data: Uint8Array): boolean {
    chargeBulk(process, data.length);
    try {
      // The whole range is checked before a byte is written (AddressSpace.write).
      process.space.write(address >>> 0, data);
      return true;
    } catch (error) {
      return notFaulted(error, false);
    }
  }

  callFor(process: Process, cap: number, label: number, words: readonly number[], caps: readonly number[] = []): Promise<DeliveredMessage | number> {
    const through = process.caps.get(cap);
    if (!through) return Promise.resolve(Status.E_INVALID_CAP);
    let answer: DeliveredMessage | null = null;
    const buffer: MessageBuffer = { ptr: 0, capacity: MAX_MESSAGE_BYTES, inbox: (m) => void (answer = m) };
    const result = this.ipc.callFor(process, through, label, uint32Words(words), buffer, caps);
    const settle = (status: number): DeliveredMessage | number => (status < 0 ? status : (answer ?? Status.E_PEER_DEAD));
    return typeof result === "number" ? Promise.resolve(settle(result)) : result.then(settle);
  }

  createRegionFor(process: Process, memory: number, pages: number): { slot: number; address: number } | number {
    const cap = process.caps.get(memory);
    if (!cap || !(cap.object instanceof MemoryObject)) return Status.E_WRONG_TYPE;
    if (!cap.has(Rights.MEMORY_CREATE)) return Status.E_MISSING_RIGHT;
    const region = makeRegion(this.services, cap.object, pages, 0, false, (count) => this.mayWireFor(process.pid, count));
    if (typeof region === "number") return region;
    const owner = new Capability(region, Rights.REGION_OWNER | Rights.REGION_READ);
    const slot = process.caps.install(owner);
    if (slot === 0) {
      owner.dispose();
      return Status.E_QUOTA;
    }
    return { slot, address: region.address };
  }

  viewFor(process: Process, owner: number): number {
    const cap = process.caps.get(owner);
    if (!cap || cap.object.kind !== ObjectKind.REGION) return Status.E_WRONG_TYPE;
    if (!cap.has(Rights.REGION_OWNER) || !(cap.object as RegionObject).mayShare(process)) return Status.E_MISSING_RIGHT;
    if ((cap.object as RegionObject).freed) return Status.E_PEER_DEAD;
    const view = new Capability(cap.object, Rights.REGION_READ);
    const slot = process.caps.install(view);
    if (slot === 0) {
      view.dispose();
      return Status.E_QUOTA;
    }
    return slot;
  }

  dropCapability(process: Process, cap: number): void {
    process.caps.take(cap)?.dispose();
  }

  regionAt(process: Process, cap: number): { address: number; pages: number; owned: boolean } | number {
    const found = process.caps.get(cap);
    if (!found || found.object.kind !== ObjectKind.REGION) return Status.E_WRONG_TYPE;
    const region = found.object as RegionObject;
    const mapped = region.mappedIn(process);
    if (mapped !== Status.OK) return mapped;
    return { address: region.address, pages: region.pages, owned: region.ownedBy(process) };
  }

  capabilityKind(process: Process, cap: number, rights: number): number | null {
    const found = process.caps.get(cap);
    return found && found.has(rights) ? found.object.kind : null;
  }

  consoleWrite(stream: 1 | 2, bytes: Uint8Array): number {
    return this.machine.console.write(stream, bytes) ? Status.OK : Status.E_PEER_DEAD;
  }

  consoleIsTerminal(stream: 0 | 1 | 2): boolean {
    return this.machine.console.isTerminal?.(stream) ?? true;
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
    return this.stopRunning(process);
  }

  private stopRunning(process: Process): Promise<never> {
    if (this.scheduler.current === process) this.scheduler.yieldCpu(process);
    return NEVER;
  }

  /**
   * A safe point's first call (the plain `safe_point` import): `fuel` to go on with, or
   * SAFE_POINT_WAIT when the process must stop here, for which the loader's helper calls
   * `safe_point_wait` (`safePoint`, which decides again and stops it). Allocates nothing.
   */
  safePointCheck(process: Process, fuel: number): number {
    if (!process.alive || (process.debug !== null && process.debug.observing)) return SAFE_POINT_WAIT;
    if (this.paging?.pending) this.paging.reclaim(null, process.space.usesFrameReserve);
    return this.scheduler.preemptionPending(process) ? SAFE_POINT_WAIT : fuel;
  }

  /**
   * The safe point's slow path (`safe_point_wait`, when `safePointCheck` said so): preempt when
   * the slice is over, else refill the fuel. Under a debugger that watches safe points
   * (debugging.ts) it may stop here, and the fuel stays at -1 so that the next safe point comes
   * here too, after a preemption as well.
   */
  safePoint(process: Process, fuel: number): number | Promise<number> {
    if (!process.alive) return this.stopRunning(process);
    if (this.paging?.pending) this.paging.reclaim(null, process.space.usesFrameReserve);
    const debug = process.debug;
    if (debug !== null && debug.observing) {
      const stopped = debug.atSafePoint();
      if (stopped) return stopped;
      fuel = -1;
    }
    if (!this.scheduler.preemptionPending(process)) return fuel;
    return this.scheduler.preempt<number>(process, fuel).then((refill) => (process.debug?.observing ? -1 : refill));
  }

  private start(process: Process): void {
    const exports = process.instance!.exports;
    const custom = this.entryArgs.get(process);
    this.entryArgs.delete(process);
    const entryName = custom?.entry ?? "_start";
    const entry = exports[entryName];
    const init = exports[INIT_EXPORT];
    const run = async (): Promise<unknown> => {
      // A clone of a serving process has run its init and entry already: its globals say so.
      if (process.resumesServing) return serve(this, process);
      if (typeof init === "function") await WebAssembly.promising(init as () => unknown)();
      if (typeof entry !== "function") throw new ProcessFault("trap", null, `the program exports no function "${entryName}" to start`);
      const value: unknown = await WebAssembly.promising(entry as (...args: unknown[]) => unknown)(...(custom?.args ?? []));
      // The entry registered a handler (PROCESS_SERVE) and returned: the kernel receives for it.
      if (process.serving) return serve(this, process);
      return value;
    };
    run().then(
      (value) => {
        process.returnValue = value;
        this.finish(process, { kind: "exited", code: 0 });
        this.scheduler.yieldCpu(process);
      },
      (error: unknown) => {
        const fault = faultFromError(error);
        // Under a debugger a fault holds the process, memory and all, until the debugger lets it go.
        if (process.alive && process.debug) process.debug.holdFault(fault, error);
        else this.endFaulted(process, fault);
        this.scheduler.yieldCpu(process);
      },
    );
  }

  private endFaulted(process: Process, fault: FaultRecord): void {
    if (this.finish(process, { kind: "faulted", fault })) this.onFault?.(process, describeProcessFault(process));
  }

  private finish(process: Process, outcome: ProcessOutcome): boolean {
    if (!process.end(outcome)) return false;
    process.destroy();
    return true;
  }

  /**
   * Frees everything an ended process held: its waits, capabilities, memory and tables; then
   * tells its monitors. Runs once, from `Process.destroy` (its end, or its Memory's destruction).
   */
  private releaseProcess(process: Process): void {
    if (process.alive) process.end({ kind: "exited", code: 137 });
    this.debugging.processEnded(process);
    this.scheduler.observer?.ended(process);
    this.scheduler.remove(process);
    this.ipc.replierEnded(process);
    this.console.cancel(process);
    // Blocked: its kernel call throws, and the stack unwinds (Process.unwind says why it must).
    const unwind = process.unwind;
    process.blockedCall?.catch(ignoreUnwound);
    process.resume = null;
    process.unwind = null;
    process.blockedCall = null;
    unwind?.(ENDED_WHILE_BLOCKED);
    process.caps.clear();
    if (process.heldReply) disposeEnvelope(process.heldReply);
    process.heldReply = null;
    for (const [address, page] of [...(process.pageAt ?? [])]) page.unmap(process, address);
    process.space.destroy();
    process.imageObject?.processEnded(process);
    this.paging?.forget(process.pid);
    const slot = process.descriptor.address;
    process.descriptor.detach();
    this.descriptors.release(slot);
    if (process.fuel) process.fuel.value = -1;
    // Its object lives on while a capability names it (its creator's, one in a Cappage), charged to
    // nobody: it keeps nothing of the instance (tables up to 8 MiB, globals, exports; its exported
    // fuel and fault-flag globals, and its fault handler, each kept the instance), redteam13.
    process.instance = null;
    process.fuel = null;
    process.faultHandler.forgetInstance();
    // Nor its image: the binary and the compiled module stay only while something live holds them.
    process.image = endedImage(process.image);
    process.memory.unhold();
    this.processes.delete(process.pid);
    announceEnd(this, process);
    if (process === this.critical) this.scheduler.halt();
  }

  private handleInterrupts(): void {
    for (const interrupt of this.machine.interrupts.drain()) {
      const line = interruptLine(interrupt);
      if (interrupt.line === "console") {
        for (const [process, bytes] of this.console.deliver(interrupt.data)) this.scheduler.makeReady(process, bytes);
      }
      const routed = this.interruptLines.get(line);
      if (routed && !routed.destroyed) {
        routed.count++;
        deliverPendingInterrupt(this, routed);
      }
    }
  }
}

/** The address of the image's lowest byte of active data (page 0 is usable from there), or past the end if none. */
function lowestDataByte(image: LoadedImage): number {
  let lowest = Infinity;
  for (const segment of image.segments) if (segment.offset !== null && segment.data.length > 0) lowest = Math.min(lowest, segment.offset);
  return lowest;
}

/** A write by `process` to a copy-on-write page of a Region it owns: that Region splits the page. */
function splitRegionPage(process: Process, address: number, mayWire: MayWire): boolean {
  for (const [, cap] of process.caps.entries()) {
    if (cap.object.kind !== ObjectKind.REGION || !cap.has(Rights.REGION_OWNER)) continue;
    const region = cap.object as RegionObject;
    const index = region.pageOf(address);
    if (index !== null && region.ownedBy(process)) return region.splitPage(index, mayWire);
  }
  return false;
}

/** Machine interrupt lines as Interrupt objects number them: timer 0, console 1, devices their own. */
export function interruptLine(interrupt: Interrupt): number {
  if (interrupt.line === "timer") return 0;
  if (interrupt.line === "console") return 1;
  return interrupt.number;
}

export function describeProcessFault(process: Process): string {
  const fault = process.fault!;
  const at = fault.address === null ? "" : ` at ${hex(fault.address)}`;
  const where = fault.functionName ? ` in ${fault.functionName}` : "";
  // The names and the message are the program's (its image's name, its name section, an abort's words).
  return printable(`${process.image.name} (pid ${process.pid}): ${fault.kind}${at}${where}: ${fault.message}`);
}

/**
 * What a kernel access on a process's behalf answers when it met `error`: a fault is `answer`
 * (EFAULT to the caller, not a fault of the process); a page to page in is thrown on, for the
 * call's wrapper (resident-call.ts); anything else is a kernel bug, thrown on.
 */
function notFaulted<T>(error: unknown, answer: T): T {
  if (error instanceof PageInRequired || !(error instanceof ProcessFault)) throw error;
  return answer;
}
