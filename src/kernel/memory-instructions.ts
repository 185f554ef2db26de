import type { PhysicalMemory } from "../machine/physical-memory.ts";
import type { AddressSpace, DeviceRegisters } from "./address-space.ts";
import { GLOBAL_SPACE_BASE, PAGE_SIZE } from "./constants.ts";
import { ProcessFault, hex } from "./fault.ts";
import type { AccessKind } from "./mmu-abi.ts";

/**
 * The slow paths of rewritten memory instructions: a TLB miss, an unaligned or page-crossing
 * access, and the bulk operations. Each checks the whole access before touching a byte, so a
 * fault never leaves a partial write; a debugger's watchpoints are checked first (watchpoints.ts),
 * here only: these are the process's own instructions, never the kernel's accesses for it.
 */
export type WasmValue = number | bigint;

const scratch = new DataView(new ArrayBuffer(8));
const scratchBytes = new Uint8Array(scratch.buffer);

/**
 * Rewritten code passes `address = ptr + offset` wrapped to 32 bits, and the offset. A sum that
 * wrapped is smaller than the offset; its true value lies past 4 GiB, which must trap.
 */
function effectiveAddress(address: number, offset: number): number {
  const wrapped = address >>> 0;
  return wrapped < offset >>> 0 ? wrapped + 2 ** 32 : wrapped;
}

/**
 * The physical addresses of an access's two parts when it crosses into the next page (`second`
 * is -1 when it does not), each checked; an access past 4 GiB faults. Allocates nothing.
 */
const parts = { first: 0, second: -1, firstLength: 0 };

function translateAccess(space: AddressSpace, address: number, bytes: number, write: boolean): typeof parts {
  const last = address + bytes - 1;
  if (last >= 2 ** 32) {
    throw new ProcessFault("out-of-bounds", last, `access of ${bytes} bytes at ${hex(address)} passes the end of the 32-bit address space`);
  }
  const nextPage = (Math.floor(address / PAGE_SIZE) + 1) * PAGE_SIZE;
  parts.first = space.translate(address, write);
  if (last < nextPage) {
    parts.second = -1;
    parts.firstLength = bytes;
  } else {
    parts.firstLength = nextPage - address;
    parts.second = space.translate(nextPage, write);
  }
  return parts;
}

export function loadValue(space: AddressSpace, memory: PhysicalMemory, kind: AccessKind, address32: number, offset: number): WasmValue {
  const address = effectiveAddress(address32, offset);
  space.watches?.check(address, kind.bytes, false);
  const { first, second, firstLength } = translateAccess(space, address, kind.bytes, false);
  if (second < 0) return decode(memory.view, first, kind);
  const bytes = memory.bytes;
  for (let i = 0; i < firstLength; i++) scratchBytes[i] = bytes[first + i]!;
  for (let i = firstLength; i < kind.bytes; i++) scratchBytes[i] = bytes[second + i - firstLength]!;
  return decode(scratch, 0, kind);
}

export function storeValue(space: AddressSpace, memory: PhysicalMemory, kind: AccessKind, address32: number, offset: number, value: WasmValue): void {
  const address = effectiveAddress(address32, offset);
  space.watches?.check(address, kind.bytes, true);
  const device = space.deviceAt(address);
  if (device) return storeToDevice(device, kind, address, value);
  const { first, second, firstLength } = translateAccess(space, address, kind.bytes, true);
  encode(scratch, 0, kind, value);
  const bytes = memory.bytes;
  if (second < 0) {
    for (let i = 0; i < kind.bytes; i++) bytes[first + i] = scratchBytes[i]!;
    return;
  }
  for (let i = 0; i < firstLength; i++) bytes[first + i] = scratchBytes[i]!;
  for (let i = firstLength; i < kind.bytes; i++) bytes[second + i - firstLength] = scratchBytes[i]!;
}

/**
 * MMIO: an aligned 32-bit store to a register page reaches its device; anything else is a fault.
 * `i64.store32` counts: it stores 32 bits, and compilers emit it for a 64-bit value's low word.
 */
function storeToDevice(device: DeviceRegisters, kind: AccessKind, address: number, value: WasmValue): void {
  if ((kind.type !== "i32" && kind.type !== "i64") || kind.bytes !== 4 || address % 4 !== 0) {
    throw new ProcessFault("read-only", address, "device registers take aligned 32-bit integer stores only");
  }
  const word = typeof value === "bigint" ? Number(BigInt.asUintN(32, value)) : value >>> 0;
  device.write((address % PAGE_SIZE) >>> 2, word);
}

function decode(view: DataView, at: number, kind: AccessKind): WasmValue {
  switch (kind.type) {
    case "f32":
      return view.getFloat32(at, true);
    case "f64":
      return view.getFloat64(at, true);
    case "i32":
      if (kind.bytes === 4) return view.getInt32(at, true);
      if (kind.bytes === 2) return kind.signed ? view.getInt16(at, true) : view.getUint16(at, true);
      return kind.signed ? view.getInt8(at) : view.getUint8(at);
    case "i64":
      if (kind.bytes === 8) return view.getBigInt64(at, true);
      if (kind.bytes === 4) return BigInt(kind.signed ? view.getInt32(at, true) : view.getUint32(at, true));
      if (kind.bytes === 2) return BigInt(kind.signed ? view.getInt16(at, true) : view.getUint16(at, true));
      return BigInt(kind.signed ? view.getInt8(at) : view.getUint8(at));
  }
}

/** Writes the value's little-endian bytes (its low `kind.bytes` of them count); allocates nothing. */
function encode(view: DataView, at: number, kind: AccessKind, value: WasmValue): void {
  if (kind.type === "f32") return view.setFloat32(at, value as number, true);
  if (kind.type === "f64") return view.setFloat64(at, value as number, true);
  if (kind.type === "i64") return view.setBigInt64(at, value as bigint, true);
  view.setInt32(at, value as number, true);
}

/**
 * WebAssembly traps a bulk operation of length 0 only when its address is past the end of
 * memory; longer ones are checked page by page in `pieces`. In the global space "memory" is what
 * is mapped: the address must lie in a mapped page, or just past the end of one.
 */
function checkEmptyRange(space: AddressSpace, address: number): void {
  const end = space.wasmPages * 65536;
  if (address < GLOBAL_SPACE_BASE) {
    if (address > end) throw new ProcessFault("out-of-bounds", address, `bulk memory operation at ${hex(address)} is past the end of memory`);
    return;
  }
  if (space.mapping(address) === null && space.mapping(address - 1) === null) {
    throw new ProcessFault("unmapped", address, `bulk memory operation at ${hex(address)}, where nothing is mapped`);
  }
}

export function copyMemory(space: AddressSpace, memory: PhysicalMemory, dest: number, src: number, length: number): void {
  dest >>>= 0;
  src >>>= 0;
  length >>>= 0;
  space.watches?.checkCopy(dest, src, length);
  if (length === 0) {
    checkEmptyRange(space, dest);
    checkEmptyRange(space, src);
    return;
  }
  const from = space.pieces(src, length, false);
  const to = space.pieces(dest, length, true);
  const overlaps = dest < src + length && src < dest + length;
  if (overlaps && !(from.length === 1 && to.length === 1)) {
    copyStaged(memory, from, to, length);
    return;
  }
  // Disjoint ranges (or one frame each, where copyWithin has memmove semantics): walk both
  // lists of pieces together, copying frame to frame.
  let i = 0;
  let j = 0;
  let fromAt = 0;
  let toAt = 0;
  while (i < from.length && j < to.length) {
    const [src, srcLength] = from[i]!;
    const [dst, dstLength] = to[j]!;
    const chunk = Math.min(srcLength - fromAt, dstLength - toAt);
    memory.bytes.copyWithin(dst + toAt, src + fromAt, src + fromAt + chunk);
    fromAt += chunk;
    toAt += chunk;
    if (fromAt === srcLength) (i++, (fromAt = 0));
    if (toAt === dstLength) (j++, (toAt = 0));
  }
}

/** Overlapping ranges over several frames: read everything first, as memmove must. */
function copyStaged(memory: PhysicalMemory, from: Array<[number, number]>, to: Array<[number, number]>, length: number): void {
  const staged = new Uint8Array(length);
  let at = 0;
  for (const [physical, chunk] of from) {
    staged.set(memory.bytes.subarray(physical, physical + chunk), at);
    at += chunk;
  }
  at = 0;
  for (const [physical, chunk] of to) {
    memory.bytes.set(staged.subarray(at, at + chunk), physical);
    at += chunk;
  }
}

export function fillMemory(space: AddressSpace, memory: PhysicalMemory, dest: number, value: number, length: number): void {
  dest >>>= 0;
  length >>>= 0;
  space.watches?.check(dest, length, true);
  if (length === 0) return checkEmptyRange(space, dest);
  for (const [physical, chunk] of space.pieces(dest, length, true)) memory.bytes.fill(value & 0xff, physical, physical + chunk);
}

/** memory.init from a data segment whose live bytes are `segment` (empty once dropped). */
export function initMemory(space: AddressSpace, memory: PhysicalMemory, segment: Uint8Array, dest: number, src: number, length: number): void {
  dest >>>= 0;
  src >>>= 0;
  length >>>= 0;
  if (src + length > segment.length) {
    throw new ProcessFault("out-of-bounds", null, `memory.init reads ${length} bytes at ${src} from a data segment of ${segment.length} bytes`);
  }
  space.watches?.check(dest, length, true);
  if (length === 0) return checkEmptyRange(space, dest);
  let at = src;
  for (const [physical, chunk] of space.pieces(dest, length, true)) {
    memory.bytes.set(segment.subarray(at, at + chunk), physical);
    at += chunk;
  }
}
