import type { Clock } from "../../machine/devices.ts";
import type { Debugging } from "../debugging.ts";
import type { LoadedImage } from "../image.ts";
import type { Process } from "../process.ts";
import type { Scheduler } from "../scheduler.ts";
import type { ImageObject } from "./image-object.ts";
import type { Ipc } from "./ipc.ts";
import type { MemoryObject } from "./memory-object.ts";
import type { ObjectServices } from "./object-services.ts";

/** What invoke handlers need from the kernel beyond the objects themselves. */
export interface ObjectKernel {
  readonly services: ObjectServices;
  readonly scheduler: Scheduler;
  readonly ipc: Ipc;
  readonly clock: Clock;
  /** A new process in `memory`, not started; a status when the quota or memory says no. */
  /** Whether process `pid` may have `frames` more frames made for it that paging cannot evict (Kernel.mayWireFor). */
  mayWireFor(pid: number, frames: number): boolean;
  createProcess(image: ImageObject, memory: MemoryObject, parent: Process, priority: number): Process | number;
  /** Whether the host gave the kernel a loader (MEMORY_CREATE_IMAGE). */
  readonly canLoadImages: boolean;
  /** Runs the loader over a binary a process handed in; `settled` gets the image or the loader's refusal. */
  loadImage(bytes: Uint8Array, name: string, settled: (outcome: LoadedImage | Error) => void): void;
  /** As `loadImage`, for an Image whose binary is still loading (a deferred boot module). */
  whenLoaded(image: ImageObject, settled: (outcome: LoadedImage | Error) => void): void;
  /** An Image object for a loaded binary, mapped read-only in the global space; throws RangeError when frames run out. */
  imageObject(image: LoadedImage): ImageObject;
  /**
   * A copy-on-write clone of a quiescent process (`created`, or serving between two messages) in
   * `memory`; a status when it cannot be had; a promise when its pages out must come back first.
   */
  cloneProcess(source: Process, memory: MemoryObject, parent: Process): Process | number | Promise<Process | number>;
  /** Ends a process (killed: code 137); works on the running one too. */
  terminate(process: Process): void;
  /** Debuggers and their targets (PROCESS_DEBUG_*). */
  readonly debugging: Debugging;
  /**
   * Makes `process`'s page at `address` usable for a debugger's access while `waiter` (the
   * debugger, in a kernel call) blocks: brought back from the pager, or a frame freed for it.
   * False when it could not be.
   */
  readyPageFor(process: Process, address: number, waiter: Process): Promise<boolean>;
}
