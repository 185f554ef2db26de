import type { Clock } from "../../machine/devices.ts";
import { Status } from "../errors.ts";
import { FRAME_FREE, FRAME_KERNEL, type FrameAllocator } from "../frame-allocator.ts";
import type { Process } from "../process.ts";
import { type Invocation, answer, word } from "./invocation.ts";
import type { MemoryObject } from "./memory-object.ts";
import { Op } from "./object-abi.ts";
import { processStateWords } from "./process-control.ts";
import { FRAME_OBJECT } from "./shared-frames.ts";

/** What the introspection operations read: the kernel's tables, never changed through here. */
export interface KernelView {
  readonly frames: FrameAllocator;
  readonly clock: Clock;
  readonly rootMemory: MemoryObject;
  /** Live processes by pid. */
  readonly processes: ReadonlyMap<number, Process>;
}

/** Bytes of a name KERNEL_PROCESS answers (cut at a character boundary). */
export const INSPECT_NAME_BYTES = 32;
/** Capability entries (slot, kind, rights, badge) in one KERNEL_CAPS answer. */
export const CAPS_PER_ANSWER = 15;

const encoder = new TextEncoder();

/**
 * The KERNEL_INSPECT operations (docs/ABI.md): what `ps`, `caps`, `mem` and `uptime` show. Each
 * answers one bounded page of a table and where to go on, so no answer outgrows a message.
 */
export function invokeKernelInspect(inv: Invocation, view: KernelView): number {
  switch (inv.message.label) {
    case Op.KERNEL_PROCESS:
      return processEntry(inv, view);
    case Op.KERNEL_CAPS:
      return capsPage(inv, view);
    case Op.KERNEL_FRAMES:
      return answer(inv, frameCounts(view.frames));
    case Op.KERNEL_MEMORY:
      return memoryEntry(inv, view);
    case Op.KERNEL_UPTIME: {
      const ns = BigInt(Math.max(0, Math.round(view.clock.monotonicNs())));
      return answer(inv, [Number(ns & 0xffff_ffffn), Number(ns >> 32n)]);
    }
    default:
      return Status.E_INVALID_ARGUMENT;
  }
}

/** The live process with the lowest pid at or above word 0: its figures and its image's name. */
function processEntry(inv: Invocation, view: KernelView): number {
  const found = liveProcessFrom(view.processes, word(inv, 0));
  if (!found) return Status.E_NO_PROCESS;
  const [pid, state, , , , priority, cpu, pages] = processStateWords(found);
  return answer(inv, [pid!, found.descriptor.ppid, state!, priority!, cpu!, pages!, found.memory.id, processFlags(found), ...nameWords(found.image.name)]);
}

/** Walks of the process table KERNEL_PROCESS keeps going at once (several `ps` at a time). */
const WALKS = 8;
/** Per process table: where each walk left off, by the pid it asks from next. */
const walks = new WeakMap<ReadonlyMap<number, unknown>, Map<number, Iterator<{ readonly pid: number; readonly alive: boolean }>>>();

/**
 * The live process with the lowest pid at or above `from`, or null. `processes` is in pid order
 * (the kernel adds each at its creation, pids only grow), so the first live one at or above
 * `from` is it. A walk (`ps`: from 0, then each answer's pid + 1) goes on from where its last
 * answer left it (a Map's iterator sees later deletions and additions), so that walking N
 * processes costs N steps, not N² (100,000 live: issue 18).
 */
export function liveProcessFrom<P extends { readonly pid: number; readonly alive: boolean }>(processes: ReadonlyMap<number, P>, from: number): P | null {
  let cursors = walks.get(processes);
  if (!cursors) walks.set(processes, (cursors = new Map()));
  const iterator = (cursors.get(from) as Iterator<P> | undefined) ?? processes.values();
  cursors.delete(from);
  for (let next = iterator.next(); !next.done; next = iterator.next()) {
    const process = next.value;
    if (!process.alive || process.pid < from) continue;
    if (cursors.size === WALKS) cursors.delete(cursors.keys().next().value!);
    cursors.set(process.pid + 1, iterator);
    return process;
  }
  return null;
}

/** Capabilities of process word 0 from slot word 1: the next slot to ask for (0: none), then entries. */
function capsPage(inv: Invocation, view: KernelView): number {
  const process = view.processes.get(word(inv, 0));
  if (!process || !process.alive) return Status.E_NO_PROCESS;
  const from = word(inv, 1);
  const entries: number[] = [];
  let next = 0;
  for (const [slot, cap] of process.caps.entries()) {
    if (slot < from) continue;
    if (entries.length === CAPS_PER_ANSWER * 4) {
      next = slot;
      break;
    }
    entries.push(slot, cap.object.kind, cap.rights, cap.badge);
  }
  return answer(inv, [next, ...entries]);
}

/** Frames in all, free, the kernel's (tables, descriptors, images), objects' (Pages, Regions), processes' own. */
function frameCounts(frames: FrameAllocator): number[] {
  let kernel = 0;
  let objects = 0;
  let processes = 0;
  for (let frame = 0; frame < frames.frameCount; frame++) {
    const owner = frames.owner(frame);
    if (owner === FRAME_FREE) continue;
    if (owner === FRAME_KERNEL) kernel++;
    else if (owner === FRAME_OBJECT) objects++;
    else processes++;
  }
  return [frames.frameCount, frames.freeCount, kernel, objects, processes];
}

/** The live Memory with the lowest id at or above word 0: id, parent (0: none), quota, used, processes; no words past the last. */
function memoryEntry(inv: Invocation, view: KernelView): number {
  const memory = view.rootMemory.memoryFrom(word(inv, 0));
  if (!memory) return answer(inv, []);
  return answer(inv, [memory.id, memory.parent?.id ?? 0, Math.min(memory.quota, 0xffff_ffff), memory.used, memory.processCount]);
}

/** A name's byte length, then its first INSPECT_NAME_BYTES bytes zero-padded to words. */
/** KERNEL_PROCESS's flags word: bit 0, page 0 goes through the TLBs unchecked (docs/MEMORY.md "Page 0"). */
export const PROCESS_FLAG_PAGE_ZERO_UNCHECKED = 1;

function processFlags(process: Process): number {
  return process.space.pageZeroUnchecked ? PROCESS_FLAG_PAGE_ZERO_UNCHECKED : 0;
}

function nameWords(name: string): number[] {
  const bytes = encoder.encode(name);
  let length = Math.min(bytes.length, INSPECT_NAME_BYTES);
  while (length < bytes.length && length > 0 && (bytes[length]! & 0xc0) === 0x80) length--;
  const padded = new Uint8Array(Math.ceil(length / 4) * 4);
  padded.set(bytes.subarray(0, length));
  const view = new DataView(padded.buffer);
  const words = [length];
  for (let i = 0; i < padded.length; i += 4) words.push(view.getUint32(i, true));
  return words;
}
