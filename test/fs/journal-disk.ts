// What the journal and superblock tests read and write of a 64 MiB disk image by hand: the
// journal's slots, its records' headers, and format.ts's checksum.
import { readFileSync } from "node:fs";
import { expect } from "vitest";
import { FS_LINES, bootOnDisk, verdict } from "./fs-machine.ts";

export const BLOCK = 4096;
export const PERSIST = `${FS_LINES}service persist fs-persist use=fs memory=512\n`;
/** A 64 MiB disk's journal: blocks 1 to 768 and the backup superblock; two slots of 384 blocks. */
export const SLOTS = [1, 385];
export const MAGIC_FLUSHED = 0x324c4e4a4d474f44n; // "DOGMJNL2": written after a flush
const M64 = (1n << 64n) - 1n;

/** format.ts's checksum: a word-wise multiply-rotate hash of `bytes` (a multiple of 8), continuing from `seed`. */
export function checksum(bytes: Uint8Array, seed = 0n): bigint {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let h = seed ^ 0x9e3779b97f4a7c15n;
  for (let p = 0; p < bytes.byteLength; p += 8) {
    const x = ((h ^ view.getBigUint64(p, true)) * 0xff51afd7ed558ccdn) & M64;
    h = ((x << 29n) | (x >> 35n)) & M64;
  }
  return h ^ (h >> 32n);
}

/** A journal slot's header block in a disk's bytes (a view: writes change the disk's bytes). */
export interface JournalRecord {
  readonly at: number;
  readonly header: Uint8Array;
  readonly view: DataView;
}

/**
 * Makes `disk` with fs-persist's files on it (a first boot: both slots hold DOGMJNL2 records with
 * images): its bytes, and the newer of its records.
 */
export async function diskWithRecords(disk: string): Promise<{ bytes: Buffer; newer: JournalRecord }> {
  const m = await bootOnDisk(disk, PERSIST, ["fs", "fs-persist"]);
  try {
    await verdict(m, /^fs-persist: created$/, /FAIL/);
  } finally {
    await m.close();
  }
  const bytes = readFileSync(disk);
  const records = SLOTS.map((at) => {
    const header = bytes.subarray(at * BLOCK, (at + 1) * BLOCK);
    return { at, header, view: new DataView(header.buffer, header.byteOffset, BLOCK) };
  });
  expect(records.every((r) => r.view.getBigUint64(0, true) === MAGIC_FLUSHED && r.view.getUint32(16, true) > 0)).toBe(true);
  const newer = records[0]!.view.getBigUint64(8, true) > records[1]!.view.getBigUint64(8, true) ? records[0]! : records[1]!;
  return { bytes, newer };
}
