// A damaged journal must never roll the file system back (redteam14, left open: see the report).
// A version 3 disk keeps its last two transactions, one per slot, and mounting replays every whole
// one, oldest first. When the newer one is damaged after it committed (one flipped bit in one of
// its images: bit rot, or a hostile image), it is taken for torn and only the older one is
// replayed: its older copies of the bitmap and inode blocks go over the newer ones in place. The
// files the newer transaction made vanish and their blocks are counted free, with no word said
// (`journal replayed 2 blocks; serving "fs"`); fs-persist then finds no /persist and makes it anew.
// `it.fails` records the bug as it stands: when the mount stops rolling back, this test fails and
// must become a plain `it`.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FS_LINES, bootOnDisk, verdict } from "./fs-machine.ts";
import { patience } from "../helpers/patience.ts";

const work = mkdtempSync(join(tmpdir(), "dogma-fs-journal-damage-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const PERSIST = `${FS_LINES}service persist fs-persist use=fs memory=512\n`;
const BLOCK = 4096;
/** A 64 MiB disk's journal: blocks 1 to 768 and the backup superblock; two slots of 384 blocks. */
const SLOTS = [1, 385];
const MAGIC = 0x314c4e4a4d474f44n; // "DOGMJNL1"

describe("a damaged journal", () => {
  it.fails("one flipped bit in the newer transaction's images loses no file", async () => {
    const disk = join(work, "damaged.img");
    const m = await bootOnDisk(disk, PERSIST, ["fs", "fs-persist"]);
    try {
      await verdict(m, /^fs-persist: created$/, /FAIL/);
    } finally {
      await m.close();
    }
    const bytes = readFileSync(disk);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    // The newer of the two whole transactions: the slot whose header has the higher sequence.
    const headers = SLOTS.map((at) => ({ at, magic: view.getBigUint64(at * BLOCK, true), sequence: view.getBigUint64(at * BLOCK + 8, true), count: view.getUint32(at * BLOCK + 16, true) }));
    expect(headers.every((h) => h.magic === MAGIC && h.count > 0)).toBe(true);
    const newer = headers[0]!.sequence > headers[1]!.sequence ? headers[0]! : headers[1]!;
    // One bit of its last image (a block it wrote in place when it committed).
    bytes[(newer.at + newer.count) * BLOCK + 372]! ^= 2;
    writeFileSync(disk, bytes);
    const again = await bootOnDisk(disk, PERSIST, ["fs", "fs-persist"]);
    try {
      const said = await verdict(again, /^fs-persist: (found|created)$/, /FAIL/);
      expect(said).toBe("fs-persist: found");
    } finally {
      await again.close();
    }
  }, patience(60_000));
});
