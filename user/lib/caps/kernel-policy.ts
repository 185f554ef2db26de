// The kernel's policy, as process 1 holds it (docs/BOOT.md, slot 7): the time slice and a few
// figures about the machine (and, with KERNEL_INSPECT, its tables); the paging policy.
import {
  OP_KERNEL_INFO, OP_KERNEL_SET_SLICE, OP_KERNEL_PROCESS, OP_KERNEL_CAPS, OP_KERNEL_FRAMES, OP_KERNEL_MEMORY,
  OP_KERNEL_UPTIME, OP_KERNEL_SET_PAGING, OP_KERNEL_PAGING_INFO, OP_KERNEL_SET_PIN,
} from "../abi";
import { msgWord, msgWord64, msgWordCount, msgBegin, msgAddWord, msgAddCap, msgInvoke } from "../message";
import { operation, operation1, operation2 } from "./operation";

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

/** KERNEL_PROCESS's answer: one live process. */
export class KernelProcess {
  status: i32 = 0;
  pid: u32 = 0;
  ppid: u32 = 0;
  state: u32 = 0;
  priority: u32 = 0;
  cpuMicros: u32 = 0;
  pages: u32 = 0;
  memory: u32 = 0;
  /** KERNEL_PROCESS_FLAG_*: bit 0, its page 0 runs unchecked (no null faults below its data). */
  flags: u32 = 0;
  name: string = "";
}

export const KERNEL_PROCESS_FLAG_PAGE_ZERO_UNCHECKED: u32 = 1;

/** KERNEL_FRAMES' answer: frames in all, free, and whose the rest are. */
export class KernelFrames {
  status: i32 = 0;
  frames: u32 = 0;
  free: u32 = 0;
  kernel: u32 = 0;
  objects: u32 = 0;
  processes: u32 = 0;
}

/** KERNEL_MEMORY's answer: one Memory (status 0 and id 0 past the last). */
export class KernelMemory {
  status: i32 = 0;
  id: u32 = 0;
  parent: u32 = 0;
  quota: u32 = 0;
  used: u32 = 0;
  processes: u32 = 0;
}

/** Decodes `length` UTF-8 bytes held in the answer's words from `first`. Allocates. */
export function msgBytesText(first: i32, length: u32): string {
  const bytes = new Uint8Array(<i32>length);
  for (let i: u32 = 0; i < length; i++) bytes[i] = <u8>(msgWord(first + <i32>(i >> 2)) >> (8 * (i & 3)));
  return String.UTF8.decode(bytes.buffer);
}

/**
 * The KERNEL_INSPECT operations, on a Kernel capability with that right (init's slot 7, or the
 * copy init grants with `kernel`). Each works without one too and answers E_MISSING_RIGHT.
 */
export class KernelInspector {
  constructor(readonly cap: i32) {}

  /** The live process with the lowest pid at or above `pid` (E_NO_PROCESS past the last). Allocates the name. */
  process(pid: u32): KernelProcess {
    const p = new KernelProcess();
    p.status = operation1(this.cap, OP_KERNEL_PROCESS, pid);
    if (p.status >= 0) readKernelProcess(p);
    return p;
  }

  /** Frames: in all, free, the kernel's, objects', processes'. */
  frames(): KernelFrames {
    const f = new KernelFrames();
    f.status = operation(this.cap, OP_KERNEL_FRAMES);
    if (f.status >= 0) readKernelFrames(f);
    return f;
  }

  /** The Memory with the lowest id at or above `id`; id 0 past the last. */
  memory(id: u32): KernelMemory {
    const m = new KernelMemory();
    m.status = operation1(this.cap, OP_KERNEL_MEMORY, id);
    if (m.status >= 0) readKernelMemory(m);
    return m;
  }

  /** Nanoseconds since the machine started, or a negative status. */
  uptime(): i64 {
    const status = operation(this.cap, OP_KERNEL_UPTIME);
    return status < 0 ? <i64>status : <i64>msgWord64(0);
  }

  /** Asks for `pid`'s capabilities from `slot`: the answer is in the message (see capsEntries). */
  caps(pid: u32, slot: u32): i32 {
    return operation2(this.cap, OP_KERNEL_CAPS, pid, slot);
  }
}

/** Reads a KERNEL_PROCESS answer from the message (also what the process manager relays). */
export function readKernelProcess(p: KernelProcess): void {
  p.pid = msgWord(0);
  p.ppid = msgWord(1);
  p.state = msgWord(2);
  p.priority = msgWord(3);
  p.cpuMicros = msgWord(4);
  p.pages = msgWord(5);
  p.memory = msgWord(6);
  p.flags = msgWord(7);
  p.name = msgBytesText(9, min(msgWord(8), 32));
}

export function readKernelFrames(f: KernelFrames): void {
  f.frames = msgWord(0);
  f.free = msgWord(1);
  f.kernel = msgWord(2);
  f.objects = msgWord(3);
  f.processes = msgWord(4);
}

export function readKernelMemory(m: KernelMemory): void {
  m.id = msgWord(0);
  m.parent = msgWord(1);
  m.quota = msgWord(2);
  m.used = msgWord(3);
  m.processes = msgWord(4);
}

/** In a KERNEL_CAPS answer: the slot to ask from next (0: done) and the entries (4 words each). */
export function capsNext(): u32 {
  return msgWord(0);
}

export function capsEntries(): i32 {
  return (msgWordCount() - 1) / 4;
}

/** Entry `i`'s slot, kind, rights, badge. */
export function capsEntry(i: i32, field: i32): u32 {
  return msgWord(1 + i * 4 + field);
}
