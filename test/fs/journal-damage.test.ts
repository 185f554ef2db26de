// A damaged journal must never roll the file system back (redteam14). A version 3 disk keeps its
// last two transactions, one per slot, and mounting replays every whole one, oldest first. When
// the newer one was damaged after it committed (one flipped bit in one of its images, or in its
// header: bit rot, or a hostile image), it used to be taken for torn and only the older one
// replayed: its older copies of the bitmap and inode blocks went over the newer ones in place, the
// files the newer transaction made vanished and their blocks were counted free, with no word said;
// fs-persist then found no /persist and made it anew. Now every commit flushes before its record,
// so a record that began says the one before it is on the disk: the older one is not replayed, the
// mount says why, and fsck finds the file system whole.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FSCK_LINES, bootOnDisk, verdict } from "./fs-machine.ts";
import { BLOCK, PERSIST, diskWithRecords } from "./journal-disk.ts";
import { patience } from "../helpers/patience.ts";

const work = mkdtempSync(join(tmpdir(), "dogma-fs-journal-damage-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A disk with fs-persist's files on it, and where the newer of its journal's two records lies. */
async function diskWithFiles(name: string): Promise<{ disk: string; bytes: Buffer; newer: { at: number; count: number } }> {
  const disk = join(work, name);
  const { bytes, newer } = await diskWithRecords(disk);
  return { disk, bytes, newer: { at: newer.at, count: newer.view.getUint32(16, true) } };
}

/** Boots the damaged disk: fs-persist must find its files, the fs say what it set aside; then fsck. */
async function findsEverything(disk: string, said: RegExp): Promise<void> {
  const again = await bootOnDisk(disk, PERSIST, ["fs", "fs-persist"]);
  try {
    expect(await verdict(again, /^fs-persist: (found|created)$/, /FAIL/)).toBe("fs-persist: found");
    expect(again.stderr()).toMatch(said);
  } finally {
    await again.close();
  }
  const f = await bootOnDisk(disk, FSCK_LINES, ["fsck"]);
  try {
    await verdict(f, /^fsck: clean: /, /^fsck: (\d+ problems?|cannot .*)$/);
  } finally {
    await f.close();
  }
}

describe("a damaged journal", () => {
  it("one flipped bit in the newer transaction's images loses no file", async () => {
    const { disk, bytes, newer } = await diskWithFiles("image.img");
    // One bit of its last image (a block it wrote in place when it committed).
    bytes[(newer.at + newer.count) * BLOCK + 372]! ^= 2;
    writeFileSync(disk, bytes);
    await findsEverything(disk, /fs: journal: the record after transaction \d+ is not whole \(torn by a crash, or damaged since\); transaction \d+ is on the disk already/);
  }, patience(60_000));

  it("one flipped bit in the newer transaction's header (its sequence) loses no file", async () => {
    const { disk, bytes, newer } = await diskWithFiles("header.img");
    // Its sequence's second bit: read alone, it could pass for an older record than the other.
    bytes[newer.at * BLOCK + 8]! ^= 2;
    writeFileSync(disk, bytes);
    await findsEverything(disk, /fs: journal: the record after transaction \d+ is damaged, its header too; transaction \d+ is on the disk already/);
  }, patience(60_000));
});
