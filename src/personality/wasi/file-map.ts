import type { Process } from "../../kernel/process.ts";
import type { KernelServices } from "../../kernel/services.ts";
import type { IoVec } from "./guest-memory.ts";

/** The file system's MAP request and its map's header (docs/FS.md "Mapped reads"; user/lib/fs-protocol.ts FS_MAP_*). */
export const FS_MAP = 20;
/** MAP's word 0: the handle lets go of its map (user/lib/fs-protocol.ts FS_MAP_RELEASE). */
export const FS_MAP_RELEASE = 1;
const MAGIC = 0x50414d46;
const SEQUENCE_AT = 4;
const SIZE_AT = 8;
const VALID_AT = 64;
const PAGE = 4096;

/** A file's map as this process sees it: the view's slot, the Region's address, its data pages; when it last answered a read. */
export interface FileMap {
  readonly view: number;
  readonly address: number;
  readonly pages: number;
  /** Bytes of valid bits: one per 8 data pages. */
  readonly validBytes: number;
  lastUse: number;
}

/** readMapped's answers besides a count: the map does not hold it all (ask the server), or the copy out faulted. */
export const MAP_MISS = -1;
export const MAP_FAULT = -2;

/** The header's words a read looks at: magic, sequence, size. */
const HEADER_BYTES = 16;
/** Offsets below this are exact as Numbers (and far past any map's file). */
const EXACT_OFFSETS = 2n ** 52n;
/** Where a map's header and valid bits are read to (every use synchronous): a read from a map allocates nothing. */
let scratch = new Uint8Array(64);

/**
 * A read answered from a file's map with no call to the server (docs/FS.md "Mapped reads"):
 * `length` bytes at `offset`, copied over `buffers` in order (the process's own memory: the
 * kernel's copyWithin, no copy between) when every page they lie in is valid and the sequence is
 * even and the same after the copy: the count (0 at the end), MAP_MISS, or MAP_FAULT. Synchronous:
 * no process runs in between; the sequence guards against a server preempted inside a change of
 * the map. A map that is gone (magic 0) is a miss: its caller forgets it.
 */
export function readMapped(k: KernelServices, process: Process, map: FileMap, offset: bigint, length: number, buffers: readonly IoVec[]): number {
  // The header's words, then the valid bits of the pages read: no process runs in between, so two
  // reads see what one would. No BigInt past the offset: a map's file is under 4 GiB (FS_E_TOO_BIG
  // past it), and a Number holds that exactly.
  const head = scratch;
  if (!k.readInto(process, map.address, head, HEADER_BYTES)) return MAP_MISS;
  const sequence = word(head, SEQUENCE_AT);
  if ((sequence & 1) !== 0 || word(head, 0) !== MAGIC) return MAP_MISS;
  const size = word(head, SIZE_AT) + word(head, SIZE_AT + 4) * 2 ** 32;
  const from = offset < EXACT_OFFSETS ? Number(offset) : Number.MAX_SAFE_INTEGER;
  let n = 0;
  if (from < size) {
    n = Math.min(length, size - from);
    const first = Math.floor(from / PAGE);
    const last = Math.floor((from + n - 1) / PAGE);
    if (last >= map.pages) return MAP_MISS;
    const validFrom = first >>> 3;
    const validBytes = (last >>> 3) - validFrom + 1;
    if (scratch.length < validBytes) scratch = new Uint8Array(validBytes);
    const valid = scratch;
    if (!k.readInto(process, map.address + VALID_AT + validFrom, valid, validBytes)) return MAP_MISS;
    for (let page = first; page <= last; page++) {
      if ((valid[(page >>> 3) - validFrom]! & (1 << (page & 7))) === 0) return MAP_MISS;
    }
    let at = 0;
    for (const [address, room] of buffers) {
      if (at >= n) break;
      const piece = Math.min(room, n - at);
      if (!k.copyWithin(process, address, map.address + PAGE + from + at, piece)) return MAP_FAULT;
      at += piece;
    }
  }
  if (!k.readInto(process, map.address + SEQUENCE_AT, scratch, 4) || word(scratch, 0) !== sequence) return MAP_MISS;
  return n;
}

/** The little-endian u32 at `at` of `bytes`. */
function word(bytes: Uint8Array, at: number): number {
  return (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) >>> 0;
}

/** Whether the map is gone (the server freed it: its view reads zeros). */
export function mapGone(k: KernelServices, process: Process, map: FileMap): boolean {
  const magic = k.readMemory(process, map.address, 4);
  return magic === null || word(magic, 0) !== MAGIC;
}
