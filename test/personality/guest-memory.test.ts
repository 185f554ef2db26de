// The WASI personality's reading and writing of its structures (src/personality/wasi/guest-memory.ts)
// with no allocation a call: a u64 split by hand from a number or a bigint, the sizes of argument
// strings counted without encoding them, iovecs read into a scratch array.
import { describe, expect, it } from "vitest";
import type { Process } from "../../src/kernel/process.ts";
import type { KernelServices } from "../../src/kernel/services.ts";
import { GuestMemory, utf8Length } from "../../src/personality/wasi/guest-memory.ts";

const process = {} as Process;

function guest() {
  const memory = new Uint8Array(0x10000);
  const k = {
    readMemory: (_p: Process, address: number, length: number) => (address + length > memory.length ? null : memory.slice(address, address + length)),
    writeMemory: (_p: Process, address: number, data: Uint8Array) => {
      if (address + data.length > memory.length) return false;
      memory.set(data, address);
      return true;
    },
    readInto: (_p: Process, address: number, into: Uint8Array, length = into.length) => {
      if (address + length > memory.length) return false;
      into.set(memory.subarray(address, address + length));
      return true;
    },
  } as unknown as KernelServices;
  return { memory, view: new DataView(memory.buffer), g: new GuestMemory(k) };
}

describe("the WASI personality's guest memory", () => {
  it("writes a u64 from a number or a bigint, exactly", () => {
    const { view, g } = guest();
    const cases: [bigint | number, bigint][] = [
      [0, 0n], [1, 1n], [0xffffffff, 0xffffffffn], [2 ** 32, 2n ** 32n], [2 ** 53 - 1, 2n ** 53n - 1n], [2 ** 60, 2n ** 60n],
      [1_765_000_000_123_456_789n, 1_765_000_000_123_456_789n], [-1n, 2n ** 64n - 1n], [2n ** 64n + 5n, 5n],
    ];
    for (const [value, expected] of cases) {
      expect(g.putU64(process, 0x100, value)).toBe(true);
      expect(view.getBigUint64(0x100, true)).toBe(expected);
    }
    expect(g.putU64(process, 0xfffc, 1)).toBe(false);
  });

  it("refuses a buffer that runs past 4 GiB instead of wrapping to the caller's address 0 (a call writing on past its buffer's top)", () => {
    const { memory, g } = guest();
    // fd_readdir and random_get write their buffer piece by piece at (buf >>> 0) + written: past
    // 2^32 that sum wrapped to the low pages of the caller.
    expect(g.write(process, 2 ** 32 + 0x100, new Uint8Array([1, 2, 3, 4]))).toBe(false);
    expect(g.write(process, 0xfffffffe, new Uint8Array([1, 2, 3, 4]))).toBe(false);
    expect(g.read(process, 2 ** 32 + 0x100, 4)).toBe(null);
    expect(memory.subarray(0, 0x200).every((b) => b === 0)).toBe(true);
    expect(g.write(process, 0xfffc, new Uint8Array([7, 7, 7, 7]))).toBe(true);
    expect(memory[0xffff]).toBe(7);
  });

  it("counts argument sizes as their UTF-8 bytes and a NUL each", () => {
    const { view, g } = guest();
    const strings = ["", "ascii", "é", "€uro", "😀", "lone \ud800 surrogate", "\udc00", "a\ud83d"];
    for (const s of strings) expect(utf8Length(s)).toBe(new TextEncoder().encode(s).length);
    expect(g.putSizes(process, 0x10, 0x14, strings)).toBe(true);
    expect(view.getUint32(0x10, true)).toBe(strings.length);
    expect(view.getUint32(0x14, true)).toBe(strings.reduce((n, s) => n + new TextEncoder().encode(s).length + 1, 0));
  });

  it("reads iovecs as u32 pairs, and an unreadable array as null", () => {
    const { view, g } = guest();
    view.setUint32(0x200, 0xfffffff0, true);
    view.setUint32(0x204, 16, true);
    view.setUint32(0x208, 0x1234, true);
    view.setUint32(0x20c, 0x80000000, true);
    expect(g.iovecs(process, 0x200, 2)).toEqual([[0xfffffff0, 16], [0x1234, 0x80000000]]);
    expect(g.iovecs(process, 0xfff8, 2)).toBe(null);
    expect(g.iovecs(process, 0x200, 0)).toEqual([]);
  });
});
