import { PAGER_BATCH_MAX } from "./pager-request.ts";
import { Status } from "../errors.ts";
import type { Scheduler } from "../scheduler.ts";
import { type Invocation, answer, argumentCap, argumentObject, word } from "./invocation.ts";
import { type KernelView, invokeKernelInspect } from "./kernel-inspect.ts";
import { EvictionPolicy, type EvictionPolicyCode, type Paging, PinLevel } from "../paging.ts";
import type { Process } from "../process.ts";
import type { Capability } from "./capability.ts";
import type { MemoryObject } from "./memory-object.ts";
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
  /** The kernel's paging, when a backing store is attached. */
  readonly paging: () => Paging | null;
  /** KERNEL_SET_PAGER: starts paging through a pager process that takes `batch` pages a message; a status. */
  readonly setPager: (through: Capability, memory: MemoryObject, storePages: number, batch: number) => number;

  constructor(
    scheduler: Scheduler,
    view: KernelView,
    liveProcesses: () => number,
    paging: () => Paging | null = () => null,
    setPager: (through: Capability, memory: MemoryObject, storePages: number, batch: number) => number = () => Status.E_NOT_READY,
  ) {
    super();
    this.scheduler = scheduler;
    this.view = view;
    this.liveProcesses = liveProcesses;
    this.paging = paging;
    this.setPager = setPager;
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
    case Op.KERNEL_SET_PAGING: {
      if (!inv.cap.has(Rights.KERNEL_POLICY)) return Status.E_MISSING_RIGHT;
      const chosen = word(inv, 0);
      if (!POLICIES.has(chosen)) return Status.E_INVALID_ARGUMENT;
      const paging = policy.paging();
      if (!paging) return Status.E_NOT_READY;
      paging.policy = chosen as EvictionPolicyCode;
      return Status.OK;
    }
    case Op.KERNEL_SET_PIN: {
      if (!inv.cap.has(Rights.KERNEL_POLICY)) return Status.E_MISSING_RIGHT;
      const target = argumentObject<Process>(inv, 0, ObjectKind.PROCESS, 0);
      if (typeof target === "number") return target;
      // Its own level the holder of the policy may always set (its slot 1 has no control right):
      // process 1 must pin itself, as it restarts the pager.
      if (target !== inv.caller && !argumentCap(inv, 0)!.has(Rights.PROCESS_CONTROL)) return Status.E_MISSING_RIGHT;
      const level = word(inv, 0);
      if (level > PinLevel.PINNED) return Status.E_INVALID_ARGUMENT;
      target.pinLevel = level;
      return Status.OK;
    }
    case Op.KERNEL_SET_PAGER: {
      if (!inv.cap.has(Rights.KERNEL_POLICY)) return Status.E_MISSING_RIGHT;
      const through = argumentCap(inv, 0);
      if (!through) return Status.E_INVALID_CAP;
      if (through.object.kind !== ObjectKind.RECEIVER) return Status.E_WRONG_TYPE;
      if (!through.has(Rights.RECEIVER_SEND)) return Status.E_MISSING_RIGHT;
      const memory = argumentObject<MemoryObject>(inv, 1, ObjectKind.MEMORY, Rights.MEMORY_CREATE);
      if (typeof memory === "number") return memory;
      // The pages a PAGE_OUT or PAGE_IN may carry: 1 (the default) is one page a message.
      const batch = inv.message.words.length > 1 ? word(inv, 1) : 1;
      if (inv.message.words.length > 2 || batch < 1 || batch > PAGER_BATCH_MAX) return Status.E_INVALID_ARGUMENT;
      if (policy.paging()) return Status.E_NOT_READY;
      return policy.setPager(through.derive(0xffff_ffff), memory, word(inv, 0), batch);
    }
    case Op.KERNEL_PAGING_INFO: {
      const paging = policy.paging();
      return answer(inv, paging ? [1, paging.policy, paging.evictions, paging.pageIns, paging.stored.usedSlots, paging.stored.capacity, paging.refusals] : [0, 0, 0, 0, 0, 0, 0]);
    }
    default:
      return Status.E_INVALID_ARGUMENT;
  }
}

const POLICIES = new Set<number>(Object.values(EvictionPolicy));
