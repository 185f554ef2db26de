import { Status } from "../errors.ts";
import { contractRefusalWords } from "./contract-ops.ts";
import { canWrite } from "../message.ts";
import { FAULT_KINDS, ProcessFault } from "../fault.ts";
import { PageInRequired } from "../paging-hooks.ts";
import { MAX_HANDLER_NAME_BYTES, registerFaultHandler } from "../fault-handler.ts";
import { MAX_PAGE_WORK, chargeFuel } from "../fuel.ts";
import { PROCESS_STATES } from "../process-descriptor.ts";
import type { Process } from "../process.ts";
import { PRIORITY_LEVELS, TIMED_OUT } from "../scheduler.ts";
import { type Invocation, answer, argumentCap, argumentObject, deadlineFrom, takeCaps, word } from "./invocation.ts";
import { Capability } from "./capability.ts";
import type { MemoryObject } from "./memory-object.ts";
import { ALL_RIGHTS, KernelMessage, ObjectKind, Op, PageRights, Rights } from "./object-abi.ts";
import { PTE_READ, PTE_WRITE } from "../page-table.ts";
import type { ObjectKernel } from "./object-kernel.ts";
import { DEBUG_OPS, invokeDebug } from "./debug-control.ts";
import { readArgsBlock } from "./process-args.ts";
import { registerServe } from "../serving.ts";

const RIGHT_FOR: Record<number, number> = {
  [Op.PROCESS_START]: Rights.PROCESS_CONTROL,
  [Op.PROCESS_SUSPEND]: Rights.PROCESS_CONTROL,
  [Op.PROCESS_RESUME]: Rights.PROCESS_CONTROL,
  [Op.PROCESS_KILL]: Rights.PROCESS_KILL,
  [Op.PROCESS_STATE]: Rights.PROCESS_INFO,
  [Op.PROCESS_SET_PRIORITY]: Rights.PROCESS_PRIORITY,
  [Op.PROCESS_GIVE]: Rights.PROCESS_GIVE,
  [Op.PROCESS_MONITOR]: Rights.PROCESS_INFO,
  [Op.PROCESS_WAIT]: Rights.PROCESS_INFO,
  [Op.PROCESS_HOLDS]: Rights.PROCESS_INFO,
  [Op.PROCESS_LISTEN]: Rights.PROCESS_LISTEN,
  [Op.PROCESS_CONTRACT_REFUSAL]: Rights.PROCESS_INFO,
  [Op.PROCESS_SET_ARGS]: Rights.PROCESS_CONTROL,
  [Op.PROCESS_PROTECT]: Rights.PROCESS_MEMORY,
  [Op.PROCESS_SET_FAULT_HANDLER]: Rights.PROCESS_MEMORY,
  [Op.PROCESS_COPY_PAGES]: Rights.PROCESS_MEMORY,
  [Op.PROCESS_CLONE]: Rights.PROCESS_MEMORY,
  [Op.PROCESS_SERVE]: Rights.PROCESS_LISTEN,
  [Op.PROCESS_DISCARD]: Rights.PROCESS_MEMORY,
  ...Object.fromEntries([...DEBUG_OPS].map((op) => [op, Rights.PROCESS_DEBUG])),
};

/** PROCESS_PROTECT's rights words, as page-table rights bits. */
const PTE_RIGHTS_OF = new Map<number, number>([
  [PageRights.NONE, 0],
  [PageRights.READ, PTE_READ],
  [PageRights.READ_WRITE, PTE_READ | PTE_WRITE],
]);

/** A process blocked in PROCESS_WAIT on another: woken by the kernel when the other ends. */
const ENDED = Symbol("ended");

/**
 * The invoke handler of Process capabilities (the Process object itself lives in ../process.ts):
 * control, state, capabilities in, monitoring. Operations that need a live process answer
 * E_PEER_DEAD once it has ended; state and wait keep working.
 */
export function invokeProcess(k: ObjectKernel, inv: Invocation, target: Process): number | Promise<number> {
  const op = inv.message.label;
  const right = RIGHT_FOR[op];
  if (right === undefined) return Status.E_INVALID_ARGUMENT;
  if (!inv.cap.has(right)) return Status.E_MISSING_RIGHT;
  if (op === Op.PROCESS_STATE) return answer(inv, processStateWords(target));
  if (op === Op.PROCESS_WAIT) return waitForEnd(k, inv, target);
  if (op === Op.PROCESS_MONITOR) return monitor(k, inv, target);
  if (op === Op.PROCESS_CONTRACT_REFUSAL) return answer(inv, contractRefusalWords(target));
  if (DEBUG_OPS.has(op)) return invokeDebug(k, inv, target);
  if (!target.alive) return Status.E_PEER_DEAD;
  switch (op) {
    case Op.PROCESS_START:
      if (target.state !== "created") return Status.E_NOT_READY;
      k.scheduler.makeReady(target);
      return Status.OK;
    case Op.PROCESS_SUSPEND:
      k.scheduler.suspend(target);
      if (target === inv.caller) return k.scheduler.yield<number>(target, Status.OK);
      return Status.OK;
    case Op.PROCESS_RESUME:
      k.scheduler.resume(target);
      return Status.OK;
    case Op.PROCESS_KILL:
      k.terminate(target);
      return Status.OK;
    case Op.PROCESS_SET_PRIORITY: {
      const priority = word(inv, 0);
      if (priority >= PRIORITY_LEVELS || priority < inv.caller.descriptor.priority) return Status.E_INVALID_ARGUMENT;
      const queued = target.state === "ready";
      if (queued) k.scheduler.remove(target);
      target.descriptor.priority = priority;
      if (queued) k.scheduler.makeReady(target, target.wakeValue);
      return Status.OK;
    }
    case Op.PROCESS_GIVE:
      return give(inv, target);
    case Op.PROCESS_HOLDS: {
      const cap = argumentCap(inv, 0);
      if (!cap) return Status.E_INVALID_CAP;
      let holds = 0;
      for (const [, held] of target.caps.entries()) if (held.object === cap.object) holds = 1;
      return answer(inv, [holds]);
    }
    case Op.PROCESS_LISTEN:
      target.listening = word(inv, 0) !== 0;
      return Status.OK;
    case Op.PROCESS_SET_ARGS: {
      // Only before it runs: a program reads its arguments whenever it likes, and they must not change under it.
      if (target.state !== "created") return Status.E_NOT_READY;
      const block = readArgsBlock(inv);
      if (typeof block === "number") return block;
      target.args = block.args;
      target.env = block.env;
      return Status.OK;
    }
    case Op.PROCESS_PROTECT: {
      const rights = PTE_RIGHTS_OF.get(word(inv, 2));
      if (rights === undefined) return Status.E_INVALID_ARGUMENT;
      // Work in proportion to the pages named: charged, so that no call stretches a slice (fuel.ts).
      chargeFuel(inv.caller, Math.min(word(inv, 1), MAX_PAGE_WORK));
      return target.space.protect(word(inv, 0), word(inv, 1), rights);
    }
    case Op.PROCESS_DISCARD:
      // Only its own pages: another process may be blocked in a call whose buffer they hold.
      if (target !== inv.caller) return Status.E_INVALID_ARGUMENT;
      chargeFuel(inv.caller, Math.min(word(inv, 1), MAX_PAGE_WORK));
      return target.space.discard(word(inv, 0), word(inv, 1));
    case Op.PROCESS_SET_FAULT_HANDLER:
      return setFaultHandler(inv, target);
    case Op.PROCESS_SERVE:
      return registerServe(inv, target);
    case Op.PROCESS_COPY_PAGES: {
      const source = argumentObject<Process>(inv, 0, ObjectKind.PROCESS, Rights.PROCESS_MEMORY);
      if (typeof source === "number") return source;
      if (!source.alive) return Status.E_PEER_DEAD;
      chargeFuel(inv.caller, Math.min(word(inv, 2), MAX_PAGE_WORK));
      return target.space.copyOnWriteFrom(source.space, word(inv, 0), word(inv, 1), word(inv, 2), false, (frames) => k.mayWireFor(inv.caller.pid, frames));
    }
    case Op.PROCESS_CLONE: {
      const memory = argumentObject<MemoryObject>(inv, 0, ObjectKind.MEMORY, Rights.MEMORY_CREATE);
      if (typeof memory === "number") return memory;
      const answerable = canWrite(inv.caller, inv.buffer, 0, 1);
      if (answerable !== Status.OK) return answerable;
      const cloned = k.cloneProcess(target, memory, inv.caller);
      const answered = (clone: Process | number): number => {
        if (typeof clone === "number") return clone;
        const status = answer(inv, [], [new Capability(clone, ALL_RIGHTS)]);
        // As MEMORY_CREATE_PROCESS: a process nobody holds and nobody can start must not stay.
        if (status !== Status.OK) k.terminate(clone);
        return status;
      };
      // The source had pages out: the caller waited for them to come back.
      return cloned instanceof Promise ? cloned.then(answered) : answered(cloned);
    }
    default:
      return Status.E_INVALID_ARGUMENT;
  }
}

/** Tells monitors and waiters that `process` has ended (called once, by the kernel). */
export function announceEnd(k: ObjectKernel, process: Process): void {
  const [, state, code] = processStateWords(process);
  for (const monitor of process.monitors.splice(0)) {
    k.ipc.kernelSend(monitor, KernelMessage.PROCESS_ENDED, [process.pid, state!, code!]);
    monitor.dispose();
  }
  for (const waiter of process.endWaiters.splice(0)) k.scheduler.wake(waiter, ENDED);
}

/** PROCESS_STATE's words (KERNEL_PROCESS reads them too). */
export function processStateWords(process: Process): number[] {
  const d = process.descriptor;
  const state = process.alive && process.suspended ? PROCESS_STATES.indexOf("suspended") : PROCESS_STATES.indexOf(d.state);
  const faultKind = process.fault ? FAULT_KINDS.indexOf(process.fault.kind) : -1;
  const faultAddress = process.fault?.address ?? -1;
  const pages = process.alive ? process.space.residentPages + process.chargedPages : 0;
  return [process.pid, state, d.exitCode, faultKind, faultAddress, d.priority, Math.min(Math.floor(d.cpuTimeUs), 0xffff_ffff), pages];
}

function give(inv: Invocation, target: Process): number {
  // Checked first, so that a refused give leaves every capability where it was.
  const writable = canWrite(inv.caller, inv.buffer, inv.message.caps.length, 0);
  if (writable !== Status.OK) return writable;
  if (target.caps.free < inv.message.caps.length) return Status.E_QUOTA;
  const caps = takeCaps(inv.caller, inv.message.caps);
  if (typeof caps === "number") return caps;
  return answer(inv, caps.map((cap) => {
    const index = target.caps.install(cap);
    if (index === 0) cap.dispose(); // taken back as it came (a view of a freed Region the target cannot pay for)
    return index;
  }));
}

/**
 * Monitors a process may have at once (PROCESS_MONITOR): the kernel keeps each one's capability
 * until the process ends, charged to nobody, so a program monitoring itself in a loop kept
 * 1,000,000 of them, 112 MB of the host's memory in 2.5 s, without bound (redteam13).
 */
export const MAX_MONITORS = 256;

function monitor(k: ObjectKernel, inv: Invocation, target: Process): number {
  const cap = argumentCap(inv, 0);
  if (!cap) return Status.E_INVALID_CAP;
  if (cap.object.kind !== ObjectKind.RECEIVER) return Status.E_WRONG_TYPE;
  if (!cap.has(Rights.RECEIVER_SEND)) return Status.E_MISSING_RIGHT;
  if (target.monitors.length >= MAX_MONITORS) return Status.E_QUOTA;
  const taken = takeCaps(inv.caller, inv.message.caps.subarray(0, 1));
  if (typeof taken === "number") return taken;
  target.monitors.push(taken[0]!);
  if (!target.alive) announceEnd(k, target);
  return Status.OK;
}

function waitForEnd(k: ObjectKernel, inv: Invocation, target: Process): number | Promise<number> {
  if (!target.alive) return answer(inv, processStateWords(target).slice(1, 3));
  if (target === inv.caller) return Status.E_INVALID_ARGUMENT;
  const deadline = deadlineFrom(inv.message.words, 0, k.clock.monotonicNs());
  if (deadline <= k.clock.monotonicNs()) return Status.E_TIMEOUT;
  const waiter = inv.caller;
  target.endWaiters.push(waiter);
  waiter.waitCancel = () => {
    const at = target.endWaiters.indexOf(waiter);
    if (at >= 0) target.endWaiters.splice(at, 1);
  };
  return k.scheduler.waitUntil<typeof ENDED>(waiter, deadline).then((value) => {
    if (value === TIMED_OUT) return Status.E_TIMEOUT;
    return answer(inv, processStateWords(target).slice(1, 3));
  });
}

/** PROCESS_SET_FAULT_HANDLER: the export's name is read from the caller's memory. */
function setFaultHandler(inv: Invocation, target: Process): number {
  const length = word(inv, 1);
  if (length > MAX_HANDLER_NAME_BYTES) return Status.E_INVALID_ARGUMENT;
  let bytes: Uint8Array;
  try {
    bytes = inv.caller.space.read(word(inv, 0), length);
  } catch (error) {
    // Paged out: invoke pages it in and is called again (nothing has happened yet).
    if (error instanceof PageInRequired) throw error;
    if (error instanceof ProcessFault) return Status.E_BAD_ADDRESS;
    throw error;
  }
  const name = new TextDecoder("utf-8", { fatal: false }).decode(bytes);
  return registerFaultHandler(target, name, word(inv, 2), word(inv, 3));
}
