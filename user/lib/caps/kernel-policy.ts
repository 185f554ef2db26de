// The kernel's policy, as process 1 holds it (docs/BOOT.md, slot 7): the time slice and a few
// figures about the machine; the paging policy.
import { OP_KERNEL_INFO, OP_KERNEL_SET_SLICE, OP_KERNEL_SET_PAGING, OP_KERNEL_PAGING_INFO, OP_KERNEL_SET_PIN } from "../abi";
import { msgWord } from "../message";
import { operation, operation1 } from "./operation";
import { msgBegin, msgAddWord, msgAddCap, msgInvoke } from "../message";

/** KERNEL_INFO's answer. */
export class KernelInfo {
  status: i32 = 0;
  sliceMicros: u32 = 0;
  frames: u32 = 0;
  freeFrames: u32 = 0;
  processes: u32 = 0;
}

/** KERNEL_PAGING_INFO's answer. */
export class PagingInfo {
  status: i32 = 0;
  enabled: bool = false;
  policy: u32 = 0;
  evictions: u32 = 0;
  pageIns: u32 = 0;
}

export class KernelPolicy {
  constructor(readonly cap: i32) {}

  info(): KernelInfo {
    const info = new KernelInfo();
    info.status = operation(this.cap, OP_KERNEL_INFO);
    if (info.status >= 0) {
      info.sliceMicros = msgWord(0);
      info.frames = msgWord(1);
      info.freeFrames = msgWord(2);
      info.processes = msgWord(3);
    }
    return info;
  }

  /** The eviction policy, PAGING_CLOCK or PAGING_AGING (E_NOT_READY without a backing store). */
  setPaging(policy: u32): i32 {
    return operation1(this.cap, OP_KERNEL_SET_PAGING, policy);
  }

  /** The pin level (PIN_PAGEABLE, PIN_RELUCTANT, PIN_PINNED) of the process `process` names (PROCESS_CONTROL). */
  setPin(process: i32, level: u32): i32 {
    msgBegin(OP_KERNEL_SET_PIN);
    msgAddWord(level);
    msgAddCap(<u32>process);
    return msgInvoke(this.cap);
  }

  pagingInfo(): PagingInfo {
    const info = new PagingInfo();
    info.status = operation(this.cap, OP_KERNEL_PAGING_INFO);
    if (info.status >= 0) {
      info.enabled = msgWord(0) != 0;
      info.policy = msgWord(1);
      info.evictions = msgWord(2);
      info.pageIns = msgWord(3);
    }
    return info;
  }

  /** Every process runs this long before it is preempted: 100 µs to 1 s. */
  setSlice(micros: u32): i32 {
    return operation1(this.cap, OP_KERNEL_SET_SLICE, micros);
  }
}
