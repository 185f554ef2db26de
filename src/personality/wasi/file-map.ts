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

/** Where a map's header is read to (every use synchronous): a read from a map allocates nothing. */
let scratch = new Uint8Array(VALID_AT + 512);

/**
 * A read answered from a file's map with no call to the server (docs/FS.md "Mapped reads"):
 * `length` bytes at `offset`, copied over `buffers` in order (the process's own memory: the
 * kernel's copyWithin, no copy between) when every page they lie in is valid and the sequence is
 * even and the same after the copy: the count (0 at the end), MAP_MISS, or MAP_FAULT. Synchronous:
 * no process runs in between; the sequence guards against a server preempted inside a change of
 * the map. A map that is gone (magic 0) is a miss: its caller forgets it.
 */
export function readMapped(k: KernelServices, process: Process, map: FileMap, offset: bigint, length: number, buffers: readonly IoVec[]): number {
  // The header's words and every valid bit in one read (at most 576 bytes): each read of the
  // process's memory costs more than the bytes it copies. No BigInt past the offset: a map's file
  // is under 4 GiB (FS_E_TOO_BIG past it), and a Number holds that exactly.
  const headBytes = VALID_AT + map.validBytes;
  if (scratch.length < headBytes) scratch = new Uint8Array(headBytes);
  const head = scratch;
  if (!k.readInto(process, map.address, head, headBytes)) return MAP_MISS;
  const sequence = word(head, SEQUENCE_AT);
  if ((sequence & 1) !== 0 || word(head, 0) !== MAGIC) return MAP_MISS;
  const size = word(head, SIZE_AT) + word(head, SIZE_AT + 4) * 2 ** 32;
  const from = offset < 2n ** 52n ? Number(offset) : Number.MAX_SAFE_INTEGER;
  let n = 0;
  if (from < size) {
    n = Math.min(length, size - from);
    const first = Math.floor(from / PAGE);
    const last = Math.floor((from + n - 1) / PAGE);
    if (last >= map.pages) return MAP_MISS;
    for (let page = first; page <= last; page++) {
      if ((head[VALID_AT + (page >>> 3)]! & (1 << (page & 7))) === 0) return MAP_MISS;
    }
    let at = 0;
    for (const [address, room] of buffers) {
      if (at >= n) break;
      const piece = Math.min(room, n - at);
      if (!k.copyWithin(process, address, map.address + PAGE + from + at, piece)) return MAP_FAULT;
      at += piece;
    }
  }
  if (!k.readInto(process, map.address + SEQUENCE_AT, head, 4) || word(head, 0) !== sequence) return MAP_MISS;
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
