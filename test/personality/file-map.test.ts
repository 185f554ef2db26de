// The WASI personality's reads from a file's map (src/personality/wasi/file-map.ts, docs/FS.md
// "Mapped reads"), against a map laid out by hand in a fake process memory: each check the reader
// makes (the odd sequence, the sequence again after the copy, the magic, the size, the valid bits,
// the map's pages) is what turns a wrong answer into a miss, and each case below fails when that
// check is skipped.
import { describe, expect, it } from "vitest";
import type { Process } from "../../src/kernel/process.ts";
import type { KernelServices } from "../../src/kernel/services.ts";
import { MAP_MISS, type FileMap, readMapped } from "../../src/personality/wasi/file-map.ts";

const PAGE = 4096;
const MAP_AT = 0x10000;
const MAGIC = 0x50414d46;
const process = {} as Process;

/** A process memory of 1 MiB holding a map of `pages` data pages, every byte of the file its offset's low byte. */
function mapped(size: number, pages: number, valid: (page: number) => boolean) {
  const memory = new Uint8Array(1 << 20);
  const view = new DataView(memory.buffer);
  view.setUint32(MAP_AT, MAGIC, true);
  view.setUint32(MAP_AT + 4, 2, true); // the sequence: even, stable
  view.setBigUint64(MAP_AT + 8, BigInt(size), true);
  // Valid bits past the map's pages too (a server's mistake): the reader must not go past the map.
  for (let page = 0; page < 64; page++) {
    if (!valid(page)) continue;
    memory[MAP_AT + 64 + (page >>> 3)]! |= 1 << (page & 7);
    if (page >= pages) continue;
    for (let i = 0; i < PAGE && page * PAGE + i < size; i++) memory[MAP_AT + PAGE * (page + 1) + i] = (page * PAGE + i) & 0xff;
  }
  let duringCopy: (() => void) | null = null;
  const k = {
    readMemory: (_p: Process, address: number, length: number) => memory.slice(address, address + length),
    readInto: (_p: Process, address: number, into: Uint8Array, length = into.length) => {
      into.set(memory.subarray(address, address + length));
      return true;
    },
    copyWithin: (_p: Process, to: number, from: number, length: number) => {
      memory.copyWithin(to, from, from + length);
      duringCopy?.();
      return true;
    },
  } as unknown as KernelServices;
  const map: FileMap = { view: 1, address: MAP_AT, pages, validBytes: 8, lastUse: 0 };
  return { memory, view, k, map, setDuringCopy: (f: () => void) => void (duringCopy = f) };
}

const OUT = 0x80000;
const read = (m: ReturnType<typeof mapped>, offset: number, length: number, iovecs: [number, number][] = [[OUT, length]]) =>
  readMapped(m.k, process, m.map, BigInt(offset), length, iovecs);

describe("reads from a file's map (the WASI personality)", () => {
  it("answers the bytes, spread over the iovecs, and short at the end, 0 past it", () => {
    const m = mapped(10_000, 16, () => true);
    expect(read(m, 100, 5000, [[OUT, 3000], [OUT + 8192, 2000]])).toBe(5000);
    for (let i = 0; i < 3000; i++) expect(m.memory[OUT + i]).toBe((100 + i) & 0xff);
    for (let i = 0; i < 2000; i++) expect(m.memory[OUT + 8192 + i]).toBe((3100 + i) & 0xff);
    expect(read(m, 9000, 4096)).toBe(1000); // the size, not the map's pages, says where the file ends
    expect(read(m, 10_000, 4096)).toBe(0);
  });

  it("misses while the server is changing the map (odd sequence), and when it changed during the copy", () => {
    const m = mapped(10_000, 16, () => true);
    m.view.setUint32(MAP_AT + 4, 3, true);
    expect(read(m, 0, 4096)).toBe(MAP_MISS);
    m.view.setUint32(MAP_AT + 4, 4, true);
    // The server (preempting the reader) cut the file while the bytes were being copied.
    m.setDuringCopy(() => m.view.setUint32(MAP_AT + 4, 6, true));
    expect(read(m, 0, 4096)).toBe(MAP_MISS);
  });

  it("misses a map that is gone (magic 0), a page not valid, and pages past the map's", () => {
    const gone = mapped(10_000, 16, () => true);
    gone.view.setUint32(MAP_AT, 0, true);
    expect(read(gone, 0, 100)).toBe(MAP_MISS);
    const holey = mapped(5 * PAGE, 16, (page) => page !== 2);
    expect(read(holey, PAGE, PAGE)).toBe(PAGE);
    expect(read(holey, 2 * PAGE - 10, 20)).toBe(MAP_MISS); // spans into the page not valid
    // Valid bits of pages in two bytes of the map's bitmap (pages 7 and 8, then 8 to 16 or 17): each byte looked at.
    const across = mapped(30 * PAGE, 32, (page) => page !== 17);
    expect(read(across, 7 * PAGE + 100, PAGE)).toBe(PAGE);
    expect(across.memory[OUT + PAGE - 1]).toBe((8 * PAGE + 99) & 0xff);
    expect(read(across, 8 * PAGE, 9 * PAGE)).toBe(9 * PAGE);
    expect(read(across, 8 * PAGE, 9 * PAGE + 1)).toBe(MAP_MISS);
    expect(read(mapped(30 * PAGE, 32, (page) => page !== 7), 7 * PAGE + 100, PAGE)).toBe(MAP_MISS);
    expect(read(mapped(30 * PAGE, 32, (page) => page !== 8), 7 * PAGE + 100, PAGE)).toBe(MAP_MISS);
    const small = mapped(40 * PAGE, 16, () => true);
    expect(read(small, 15 * PAGE, 2 * PAGE)).toBe(MAP_MISS); // the file goes on past the map
  });
});
