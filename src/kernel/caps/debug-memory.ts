import { PAGE_SIZE } from "../constants.ts";
import { type FunctionTable, GlobalType, functionTable } from "../debug-functions.ts";
import { Status } from "../errors.ts";
import { ProcessFault } from "../fault.ts";
import { GLOBAL_EXPORT_PREFIX } from "../mmu-abi.ts";
import { PTE_READ, PTE_WRITE } from "../page-table.ts";
import { PageInRequired } from "../paging-hooks.ts";
import type { Process } from "../process.ts";
import { type Invocation, answer, word } from "./invocation.ts";
import { DebugAccessFlag } from "./object-abi.ts";
import type { ObjectKernel } from "./object-kernel.ts";

/**
 * A debugger's reads and writes of a target's memory and globals (PROCESS_DEBUG_READ, _WRITE,
 * _GLOBALS, _SET_GLOBAL; docs/DEBUGGING.md). Memory is reached through the target's own page
 * tables, as its own loads and stores would be (`AddressSpace.translate`): what it cannot reach
 * the debugger cannot either (the kernel's frames, other processes' memory, page 0 below its
 * data), a write to a copy-on-write page gives the target a frame of its own (the other sharers
 * never see it), a read of a page never touched reads zeros without allocating it, and a page with
 * the pager is brought back first while the debugger waits. With OVERRIDE_RIGHTS the rights the
 * target gave its own private pages (PROCESS_PROTECT) are set aside for the access and put back;
 * a shared mapping's rights (its binary, a view, a device's registers) never are.
 *
 * The target must be still: suspended (stopped by its debugger or PROCESS_SUSPEND), never
 * started, or held in a fault; otherwise E_NOT_READY.
 */

/** Bytes a read answers at most: 64 words. */
export const MAX_DEBUG_READ = 256;
/** Bytes a write carries at most: the 61 words after address, length and flags. */
export const MAX_DEBUG_WRITE = 244;
/** Globals one PROCESS_DEBUG_GLOBALS answers: 4 words each after 2. */
const GLOBALS_PER_ANSWER = 15;
/** Times a debugger waits for the target's pages before it is told E_NOT_READY (others may take them again meanwhile). */
const PAGE_ATTEMPTS = 3;

/** Whether nothing of the target can run until the debugger lets it: its memory holds still. */
export function still(target: Process): boolean {
  return target.suspended || target.state === "created" || target.debug?.heldFault != null;
}

export function readTarget(k: ObjectKernel, inv: Invocation, target: Process): number | Promise<number> {
  const length = word(inv, 1);
  const flags = word(inv, 2);
  if (length > MAX_DEBUG_READ || (flags & ~DebugAccessFlag.OVERRIDE_RIGHTS) !== 0) return Status.E_INVALID_ARGUMENT;
  const out = new Uint8Array(length);
  return withPages(k, inv.caller, target, word(inv, 0), length, false, (flags & DebugAccessFlag.OVERRIDE_RIGHTS) !== 0, out, PAGE_ATTEMPTS, () => answer(inv, packWords(out)));
}

export function writeTarget(k: ObjectKernel, inv: Invocation, target: Process): number | Promise<number> {
  const length = word(inv, 1);
  const flags = word(inv, 2);
  const words = inv.message.words;
  if (length > MAX_DEBUG_WRITE || length > (words.length - 3) * 4 || (flags & ~DebugAccessFlag.OVERRIDE_RIGHTS) !== 0) return Status.E_INVALID_ARGUMENT;
  const data = new Uint8Array(words.buffer, words.byteOffset + 12, length).slice();
  return withPages(k, inv.caller, target, word(inv, 0), length, true, (flags & DebugAccessFlag.OVERRIDE_RIGHTS) !== 0, data, PAGE_ATTEMPTS, () => Status.OK);
}

/**
 * Moves `bytes` out of (read) or into (write) the target at `address`, every page checked before
 * a byte moves; then `done`. Pages with the pager come back first, the debugger waiting.
 */
function withPages(k: ObjectKernel, waiter: Process, target: Process, address: number, length: number, write: boolean, override: boolean, bytes: Uint8Array, attempts: number, done: () => number): number | Promise<number> {
  if (!still(target)) return Status.E_NOT_READY;
  if (address + length > 2 ** 32) return Status.E_BAD_ADDRESS;
  let pieces: number[] | number;
  try {
    pieces = physicalPieces(target, address, length, write, override);
  } catch (error) {
    if (!(error instanceof PageInRequired)) throw error;
    if (attempts === 0) return Status.E_NOT_READY;
    return k.readyPageFor(target, error.address!, waiter).then((ready) =>
      ready && target.alive ? withPages(k, waiter, target, address, length, write, override, bytes, attempts - 1, done) : Status.E_NOT_READY,
    );
  }
  if (typeof pieces === "number") return pieces;
  const memory = k.services.memory.bytes;
  let at = 0;
  for (let i = 0; i < pieces.length; i += 2) {
    const physical = pieces[i]!;
    const chunk = pieces[i + 1]!;
    if (write) memory.set(bytes.subarray(at, at + chunk), physical);
    else if (physical >= 0) bytes.set(memory.subarray(physical, physical + chunk), at);
    at += chunk;
  }
  return done();
}

/**
 * `[address, address + length)` as physical (address, length) pairs, each page translated as the
 * target's own access would be; -1 for a page never touched, on a read (zeros). A status when a
 * page is out of reach; throws PageInRequired for a page with the pager (or wanting a frame).
 */
function physicalPieces(target: Process, address: number, length: number, write: boolean, override: boolean): number[] | number {
  const pieces: number[] = [];
  let cursor = address;
  const end = address + length;
  // A write gives an untouched page a frame as it translates it: every page a write would be
  // refused at is found first, and the pages it would charge are weighed against the target's
  // quota, so that a refused write leaves no page behind (all or nothing).
  if (write) {
    for (let page = cursor - (cursor % PAGE_SIZE); page < end; page += PAGE_SIZE) {
      const refused = refusedBeforeTouching(target, Math.max(page, address), override);
      if (refused !== Status.OK) return refused;
    }
    if (length > 0 && target.space.chargeToWrite(address, length) > target.space.chargeRoom) return Status.E_QUOTA;
  }
  while (cursor < end) {
    const chunk = Math.min(end - cursor, PAGE_SIZE - (cursor % PAGE_SIZE));
    const physical = translate(target, cursor, write, override);
    if (physical < -1) return physical;
    pieces.push(physical, chunk);
    cursor += chunk;
  }
  return pieces;
}

/**
 * Why a write at `address` is refused, found without touching the target's pages (OK when only
 * translating can tell): below page 0's limit, a private page whose rights refuse it, a shared
 * mapping the target may not write (a view, a read-only Page, its binary: never overridden), or
 * nothing mapped there (past its memory, or an unmapped global address). Every page is asked
 * before any is translated, since translating a private page may give it a frame.
 */
function refusedBeforeTouching(target: Process, address: number, override: boolean): number {
  const space = target.space;
  if (address < space.nullLimit) return Status.E_BAD_ADDRESS;
  const rights = space.privateRights(address);
  if (rights !== null) return override || rights & PTE_WRITE ? Status.OK : Status.E_BAD_ADDRESS;
  if (space.ownerAt(address) === null) return Status.E_BAD_ADDRESS;
  return space.sharedWritable(address) ? Status.OK : Status.E_BAD_ADDRESS;
}

/** One page's physical address for the access; -1: untouched (a read sees zeros); below -1: a status. */
function translate(target: Process, address: number, write: boolean, override: boolean): number {
  const space = target.space;
  if (address < space.nullLimit) return Status.E_BAD_ADDRESS;
  const rights = space.privateRights(address);
  if (space.firstPagedOut(address, 1) >= 0) throw new PageInRequired(address);
  if (!write && rights !== null && space.mapping(address) === null) return override || rights & PTE_READ ? -1 : Status.E_BAD_ADDRESS;
  try {
    return space.translate(address, write);
  } catch (error) {
    if (error instanceof PageInRequired) throw error;
    if (!(error instanceof ProcessFault)) throw error;
    if (error.kind === "out-of-memory") return Status.E_QUOTA;
    if (!override || rights === null || (error.kind !== "read-only" && error.kind !== "no-access")) return Status.E_BAD_ADDRESS;
  }
  return withRightsSetAside(target, address, write, rights);
}

/** The access with the private page's rights read-write for its length, then the rights put back. */
function withRightsSetAside(target: Process, address: number, write: boolean, rights: number): number {
  const space = target.space;
  const page = address - (address % PAGE_SIZE);
  if (space.protect(page, 1, PTE_READ | PTE_WRITE) !== Status.OK) return Status.E_QUOTA;
  try {
    return space.translate(address, write);
  } catch (error) {
    if (error instanceof PageInRequired) throw error;
    if (error instanceof ProcessFault) return error.kind === "out-of-memory" ? Status.E_QUOTA : Status.E_BAD_ADDRESS;
    throw error;
  } finally {
    space.protect(page, 1, rights);
  }
}

/** Little-endian words of `bytes`, the last one zero-padded. */
export function packWords(bytes: Uint8Array): number[] {
  const words: number[] = [];
  for (let i = 0; i < bytes.length; i += 4) words.push((bytes[i]! | ((bytes[i + 1] ?? 0) << 8) | ((bytes[i + 2] ?? 0) << 16) | ((bytes[i + 3] ?? 0) << 24)) >>> 0);
  return words;
}

/** The program's mutable globals the loader exports (`__dogma_global_N`), by N. */
function exportedGlobals(target: Process): Map<number, WebAssembly.Global> {
  const globals = new Map<number, WebAssembly.Global>();
  for (const [name, value] of Object.entries(target.instance?.exports ?? {})) {
    if (!name.startsWith(GLOBAL_EXPORT_PREFIX) || !(value instanceof WebAssembly.Global)) continue;
    globals.set(Number(name.slice(GLOBAL_EXPORT_PREFIX.length)), value);
  }
  return globals;
}

const scratch = new DataView(new ArrayBuffer(8));

/** A global's value as two words (low, high): an integer's bits, a float's IEEE bits. */
function globalWords(global: WebAssembly.Global, type: GlobalType): [number, number] {
  const value: unknown = global.value;
  if (type === GlobalType.I64) scratch.setBigInt64(0, value as bigint, true);
  else if (type === GlobalType.F32) scratch.setFloat32(0, value as number, true);
  else if (type === GlobalType.F64) scratch.setFloat64(0, value as number, true);
  else scratch.setInt32(0, value as number, true);
  return [scratch.getUint32(0, true), type === GlobalType.I64 || type === GlobalType.F64 ? scratch.getUint32(4, true) : 0];
}

/** PROCESS_DEBUG_GLOBALS: `next, count`, then `index, type, low, high` for each global from `from`. */
export function readGlobals(inv: Invocation, target: Process): number {
  if (!still(target)) return Status.E_NOT_READY;
  const table = functionTable(target.image);
  const from = word(inv, 0);
  const indices = [...exportedGlobals(target).keys()].filter((n) => n >= from && table.globalType(n) !== null).sort((a, b) => a - b);
  const globals = exportedGlobals(target);
  const shown = indices.slice(0, GLOBALS_PER_ANSWER);
  const words: number[] = [indices.length > shown.length ? indices[shown.length]! : 0xffff_ffff, shown.length];
  for (const n of shown) words.push(n, table.globalType(n)!, ...globalWords(globals.get(n)!, table.globalType(n)!));
  return answer(inv, words);
}

/** PROCESS_DEBUG_SET_GLOBAL: `index, low, high`. */
export function writeGlobal(inv: Invocation, target: Process): number {
  if (!still(target)) return Status.E_NOT_READY;
  const table: FunctionTable = functionTable(target.image);
  const n = word(inv, 0);
  const global = exportedGlobals(target).get(n);
  const type = table.globalType(n);
  if (!global || type === null) return Status.E_INVALID_ARGUMENT;
  scratch.setUint32(0, word(inv, 1), true);
  scratch.setUint32(4, word(inv, 2), true);
  if (type === GlobalType.I64) global.value = scratch.getBigInt64(0, true);
  else if (type === GlobalType.F32) global.value = scratch.getFloat32(0, true);
  else if (type === GlobalType.F64) global.value = scratch.getFloat64(0, true);
  else global.value = scratch.getInt32(0, true);
  return Status.OK;
}
