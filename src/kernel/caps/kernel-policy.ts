import { Status } from "../errors.ts";
import type { Scheduler } from "../scheduler.ts";
import { type Invocation, answer, word } from "./invocation.ts";
import { type KernelView, invokeKernelInspect } from "./kernel-inspect.ts";
import { KernelObject } from "./kernel-object.ts";
import { ObjectKind, Op, Rights } from "./object-abi.ts";

/** The time slice process 1 may choose, in microseconds: 100 µs to 1 s. */
export const MIN_SLICE_US = 100;
export const MAX_SLICE_US = 1_000_000;

/**
 * The kernel's policy as an object: DogmaOS' process 1 sets kernel policy, and holding this
 * capability is what lets it. Only the bootloader makes one, for process 1, which may hand out
 * copies with fewer rights (KERNEL_INSPECT alone lets a process manager show the kernel's tables).
 */
export class KernelPolicy extends KernelObject {
  readonly kind = ObjectKind.KERNEL;
  readonly scheduler: Scheduler;
  readonly view: KernelView;
  readonly liveProcesses: () => number;

  constructor(scheduler: Scheduler, view: KernelView, liveProcesses: () => number) {
    super();
    this.scheduler = scheduler;
    this.view = view;
    this.liveProcesses = liveProcesses;
  }

  /** The machine's kernel outlives its capabilities. */
  protected override persists(): boolean {
    return true;
  }

  protected teardown(): void {}
}

/** The introspection operations (`ps`, `caps`, `mem`, `uptime`), which need KERNEL_INSPECT. */
const INSPECT_OPS = new Set<number>([Op.KERNEL_PROCESS, Op.KERNEL_CAPS, Op.KERNEL_FRAMES, Op.KERNEL_MEMORY, Op.KERNEL_UPTIME]);

/** KERNEL_* operations. */
export function invokeKernelPolicy(inv: Invocation, policy: KernelPolicy): number {
  if (INSPECT_OPS.has(inv.message.label)) {
    if (!inv.cap.has(Rights.KERNEL_INSPECT)) return Status.E_MISSING_RIGHT;
    return invokeKernelInspect(inv, policy.view);
  }
  switch (inv.message.label) {
    case Op.KERNEL_INFO: {
      const frames = policy.view.frames;
      return answer(inv, [Math.round(policy.scheduler.sliceNs / 1000), frames.frameCount, frames.freeCount, policy.liveProcesses()]);
    }
    case Op.KERNEL_SET_SLICE: {
      if (!inv.cap.has(Rights.KERNEL_POLICY)) return Status.E_MISSING_RIGHT;
      const us = word(inv, 0);
      if (us < MIN_SLICE_US || us > MAX_SLICE_US) return Status.E_INVALID_ARGUMENT;
      policy.scheduler.sliceNs = us * 1000;
      return Status.OK;
    }
    default:
      return Status.E_INVALID_ARGUMENT;
  }
}
