import type { Process } from "../../kernel/process.ts";
import type { KernelServices } from "../../kernel/services.ts";

/** An iovec array longer than this is EINVAL (wasi-libc's IOV_MAX), before anything is read. */
export const MAX_IOVECS = 1024;

/** One buffer of an iovec array: its address and length. */
export type IoVec = readonly [address: number, length: number];

const encoder = new TextEncoder();

/**
 * Reading and writing WASI's structures in a process's memory. Addresses and lengths come from
 * the program as i32s and are taken as the u32s WASI means; nothing is read or written past what
 * a call asked, and an unmapped byte anywhere is EFAULT (null / false here), never a fault.
 */
export class GuestMemory {
  private readonly k: KernelServices;
  // Scratch arrays the kernel copies out of or into before a call returns: a call's small reads
  // and writes allocate nothing (each allocation cost more than the bytes it moved). Every use
  // is synchronous, so no two calls share one.
  private readonly word = new Uint8Array(4);
  private readonly double = new Uint8Array(8);
  private readonly vectors = new Uint8Array(8 * MAX_IOVECS);
  constructor(k: KernelServices) {
    this.k = k;
  }

  read(process: Process, address: number, length: number): Uint8Array | null {
    const at = guestRange(address, length >>> 0);
    return at === null ? null : this.k.readMemory(process, at, length >>> 0);
  }

  write(process: Process, address: number, bytes: Uint8Array): boolean {
    const at = guestRange(address, bytes.length);
    return at !== null && this.k.writeMemory(process, at, bytes);
  }

  putU32(process: Process, address: number, value: number): boolean {
    // Into a scratch array the kernel copies out before it returns (every read's count goes through here).
    const bytes = this.word;
    bytes[0] = value;
    bytes[1] = value >>> 8;
    bytes[2] = value >>> 16;
    bytes[3] = value >>> 24;
    return this.write(process, address, bytes);
  }

  /** A u64: a bigint (taken modulo 2^64), or a non-negative integer number below 2^64 (a time: split exactly, whatever its size). */
  putU64(process: Process, address: number, value: bigint | number): boolean {
    let low: number;
    let high: number;
    if (typeof value === "number") {
      low = value % 2 ** 32;
      high = Math.floor(value / 2 ** 32);
    } else {
      low = Number(value & 0xffffffffn);
      high = Number((value >> 32n) & 0xffffffffn);
    }
    const bytes = this.double;
    for (let i = 0; i < 4; i++) {
      bytes[i] = low >>> (8 * i);
      bytes[4 + i] = high >>> (8 * i);
    }
    return this.write(process, address, bytes);
  }

  /** The count and total size (with NULs) of `strings`, as args_sizes_get and environ_sizes_get give them. */
  putSizes(process: Process, countPtr: number, sizePtr: number, strings: readonly string[]): boolean {
    const size = strings.reduce((n, s) => n + utf8Length(s) + 1, 0);
    return this.putU32(process, countPtr, strings.length) && this.putU32(process, sizePtr, size);
  }

  /** Writes NUL-terminated strings to `buf` and their addresses to `pointers`. */
  putStrings(process: Process, pointers: number, buf: number, strings: readonly string[]): boolean {
    const table = new Uint8Array(4 * strings.length);
    const view = new DataView(table.buffer);
    const blocks: Uint8Array[] = [];
    let at = buf >>> 0;
    strings.forEach((s, i) => {
      const bytes = encoder.encode(s + "\0");
      view.setUint32(4 * i, at, true);
      blocks.push(bytes);
      at += bytes.length;
    });
    const all = new Uint8Array(at - (buf >>> 0));
    let offset = 0;
    for (const block of blocks) {
      all.set(block, offset);
      offset += block.length;
    }
    return this.write(process, pointers, table) && this.write(process, buf, all);
  }

  /** The buffers of an iovec array (a u32 address and a u32 length each), or null when the array is not readable. */
  iovecs(process: Process, iovs: number, count: number): IoVec[] | null {
    // The caller refused counts over MAX_IOVECS.
    const raw = this.vectors;
    if (count > MAX_IOVECS || !this.k.readInto(process, iovs >>> 0, raw, 8 * count)) return null;
    const buffers: IoVec[] = new Array<IoVec>(count);
    for (let i = 0; i < count; i++) {
      const at = 8 * i;
      const address = (raw[at]! | (raw[at + 1]! << 8) | (raw[at + 2]! << 16) | (raw[at + 3]! << 24)) >>> 0;
      const length = (raw[at + 4]! | (raw[at + 5]! << 8) | (raw[at + 6]! << 16) | (raw[at + 7]! << 24)) >>> 0;
      buffers[i] = [address, length];
    }
    return buffers;
  }

  /** Up to `limit` bytes from the start of `buffers`, or null when one of them is not readable. */
  gather(process: Process, buffers: readonly IoVec[], limit: number): Uint8Array | null {
    const total = Math.min(limit, buffers.reduce((n, [, length]) => n + length, 0));
    const out = new Uint8Array(total);
    let at = 0;
    for (const [address, length] of buffers) {
      if (at >= total) break;
      const part = this.read(process, address, Math.min(length, total - at));
      if (part === null) return null;
      out.set(part, at);
      at += part.length;
    }
    return out;
  }

  /** Spreads `data` over `buffers` in order: false when one of them is not writable. */
  scatter(process: Process, buffers: readonly IoVec[], data: Uint8Array): boolean {
    let at = 0;
    for (const [address, length] of buffers) {
      if (at >= data.length) break;
      const piece = data.subarray(at, at + length);
      if (!this.write(process, address, piece)) return false;
      at += piece.length;
    }
    return true;
  }

  /** Keeps the first `limit` bytes of `buffers` resident for the rest of the call (KernelServices.touch). */
  touch(process: Process, buffers: readonly IoVec[], limit: number): void {
    let left = limit;
    for (const [address, length] of buffers) {
      if (left <= 0) break;
      const n = Math.min(length, left);
      if (n > 0) this.k.touch(process, address >>> 0, n);
      left -= n;
    }
  }
}

/**
 * The u32 address WASI means for `address` (an i32 argument taken unsigned, or a buffer's start
 * plus what a call already wrote there), or null when the range runs past 4 GiB: a sum that
 * passed it would wrap (`>>> 0`) to the caller's low addresses, so fd_readdir or random_get
 * going on past the top of its buffer wrote at its address 0 and up (redteam17's leftover).
 */
function guestRange(address: number, length: number): number | null {
  const at = address < 0 ? address >>> 0 : address;
  return at + length > 2 ** 32 ? null : at;
}

/** The length of `text` in UTF-8, as TextEncoder would encode it (a lone surrogate as U+FFFD, 3 bytes), without encoding it. */
export function utf8Length(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}
