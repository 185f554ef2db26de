// A hostile disk image must not pass fsck and then mount as something fsck never saw (redteam15).
// fsck is what vets an image before it is trusted: it reads the disk as the server will after
// mounting, the journal's committed records in place of the blocks they name. Two records the
// server replayed were read otherwise by fsck: one naming a block twice (the server writes its
// images in order, the last stays; fsck read the first), and a DOGMJNL2 record whose header
// checksum fails while its whole checksum holds (fsck ignored it as damaged; the server replayed
// it). Either way an image could carry a bitmap with every block free past a clean fsck, and the
// server would then give the blocks of existing files to new ones: one client's new file would
// hold, and be read through, another's file. And a record whose sequence is the last a u64 holds
// made the next commit's wrap to 0, older than it: one commit and a crash later, the mount replayed
// the stale record over the newer one's blocks.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FSCK_LINES, FS_LINES, bootOnDisk, verdict } from "./fs-machine.ts";
import { BLOCK, PERSIST, SLOTS, checksum, diskWithRecords, type JournalRecord } from "./journal-disk.ts";
import { patience } from "../helpers/patience.ts";

const work = mkdtempSync(join(tmpdir(), "dogma-fs-journal-hostile-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A 64 MiB disk: the bitmap's one block after the journal. */
const BITMAP = 770;
/** The backup superblock: the journal's last block. */
const BACKUP = BITMAP - 1;
/** The last sequence a u64 holds. */
const M64 = (1n << 64n) - 1n;

/** A disk with fs-persist's files on it, and the newer of its journal's records. */
async function diskWithFiles(name: string): Promise<{ disk: string; bytes: Buffer; newer: JournalRecord }> {
  const disk = join(work, name);
  return { disk, ...(await diskWithRecords(disk)) };
}

/**
 * Appends to the record two images of the bitmap block: first as the file system has it (what
 * fsck read), then one with every block free (what the server's replay left). `headerSum`: the
 * header checksum to write (else the right one). The whole checksum is made to hold.
 */
function appendBitmapImages(bytes: Buffer, record: JournalRecord, headerSum?: number): void {
  const count = record.view.getUint32(16, true);
  // The bitmap as the server sees it after replay: the record's own image of it if it has one.
  let current = bytes.subarray(BITMAP * BLOCK, (BITMAP + 1) * BLOCK);
  for (let i = 0; i < count; i++) {
    if (record.view.getUint32(32 + 4 * i, true) === BITMAP) current = bytes.subarray((record.at + 1 + i) * BLOCK, (record.at + 2 + i) * BLOCK);
  }
  bytes.set(Buffer.from(current), (record.at + 1 + count) * BLOCK);
  bytes.fill(0, (record.at + 2 + count) * BLOCK, (record.at + 3 + count) * BLOCK);
  record.view.setUint32(32 + 4 * count, BITMAP, true);
  record.view.setUint32(32 + 4 * (count + 1), BITMAP, true);
  record.view.setUint32(16, count + 2, true);
  seal(bytes, record, headerSum);
}

/** Writes the record's header checksum (`headerSum`, else the right one) and its whole checksum, which holds. */
function seal(bytes: Buffer, record: JournalRecord, headerSum?: number): void {
  const count = record.view.getUint32(16, true);
  record.view.setUint32(20, 0, true);
  record.view.setBigUint64(24, 0n, true);
  const right = Number(checksum(record.header, 0x6a6e6c32n) & 0xffffffffn);
  record.view.setUint32(20, headerSum ?? right, true);
  let sum = checksum(record.header, 0n);
  for (let i = 0; i < count; i++) sum = checksum(bytes.subarray((record.at + 1 + i) * BLOCK, (record.at + 2 + i) * BLOCK), sum);
  record.view.setBigUint64(24, sum, true);
}

/** fsck's verdict line on the disk. */
async function fsck(disk: string): Promise<string> {
  const f = await bootOnDisk(disk, FSCK_LINES, ["fsck"]);
  try {
    return await verdict(f, /^fsck: (clean: .*|\d+ problems?)$/, /^fsck: cannot .*$/);
  } finally {
    await f.close();
  }
}

/** Boots on `disk` with fs-persist, which must find the files it made before (none replayed over them). */
async function expectFilesFound(disk: string): Promise<void> {
  const again = await bootOnDisk(disk, PERSIST, ["fs", "fs-persist"]);
  try {
    expect(await verdict(again, /^fs-persist: (found|created)$/, /FAIL/)).toBe("fs-persist: found");
  } finally {
    await again.close();
  }
}

describe("a hostile journal record", () => {
  it("naming a block twice is read by fsck as the server replays it: the last image", async () => {
    const { disk, bytes, newer } = await diskWithFiles("twice.img");
    expect(await fsck(disk)).toMatch(/^fsck: clean: /);
    appendBitmapImages(bytes, newer);
    writeFileSync(disk, bytes);
    // The server would mount a bitmap with every block free: fsck must see that bitmap too.
    expect(await fsck(disk)).toMatch(/^fsck: \d+ problems?$/);
  }, patience(90_000));

  it("with a damaged header checksum is replayed by neither, as fsck says", async () => {
    const { disk, bytes, newer } = await diskWithFiles("header.img");
    // Whole by its own checksum, its header checksum wrong: fsck ignores it as damaged.
    appendBitmapImages(bytes, newer, 0x12345678);
    writeFileSync(disk, bytes);
    expect(await fsck(disk)).toMatch(/^fsck: clean: /);
    // The server must not replay it either: the files fs-persist made are all there, fsck clean after.
    await expectFilesFound(disk);
    expect(await fsck(disk)).toMatch(/^fsck: clean: /);
  }, patience(90_000));

  it("with the last sequence number is damaged: the records after it do not wrap to 0", async () => {
    const { disk, bytes, newer } = await diskWithFiles("wrap.img");
    const sequence = newer.view.getBigUint64(8, true);
    // Whole and true but for its sequence. The next transaction's would wrap to 0, older than this
    // one: after one more commit and a crash, a mount would take this one for the newer, leave the
    // one after it unreplayed and replay this one over its blocks (a rollback fsck never saw).
    newer.view.setBigUint64(8, M64, true);
    seal(bytes, newer);
    writeFileSync(disk, bytes);
    expect(await fsck(disk)).toMatch(/^fsck: clean: /);
    // fs-truncate makes /t and /u and syncs, then stops with nothing else committed.
    const first = await bootOnDisk(disk, `${FS_LINES}service t fs-truncate use=fs memory=512\n`, ["fs", "fs-truncate"]);
    try {
      await verdict(first, /^fs-truncate: ready$/, /FAIL/);
    } finally {
      await first.close();
    }
    const after = readFileSync(disk);
    for (const at of SLOTS) expect(after.readBigUInt64LE(at * BLOCK + 8)).toBeGreaterThanOrEqual(sequence);
    expect(await fsck(disk)).toMatch(/^fsck: clean: /);
  }, patience(120_000));

  // redteam19: a record whole by both its checksums that names the superblock, the backup
  // superblock (the journal's last block) or a block past the disk's end: replayed by neither
  // (whole() and fsck's checkSlot refuse a target below the bitmap or past the file system's
  // end), the disk left as it was.
  for (const [what, target] of [["the superblock", () => 0], ["the backup superblock", () => BACKUP], ["a block past the disk's end", (blocks: number) => blocks]] as const) {
    it(`naming ${what} is replayed by neither`, async () => {
      const { disk, bytes, newer } = await diskWithFiles(`target-${target(1)}.img`);
      const count = newer.view.getUint32(16, true);
      bytes.fill(0xaa, (newer.at + 1 + count) * BLOCK, (newer.at + 2 + count) * BLOCK);
      newer.view.setUint32(32 + 4 * count, target(bytes.length / BLOCK), true);
      newer.view.setUint32(16, count + 1, true);
      seal(bytes, newer);
      writeFileSync(disk, bytes);
      const superblock = Buffer.from(bytes.subarray(0, BLOCK));
      const backup = Buffer.from(bytes.subarray(BACKUP * BLOCK, (BACKUP + 1) * BLOCK));
      expect(await fsck(disk)).toMatch(/^fsck: clean: /);
      await expectFilesFound(disk);
      const after = readFileSync(disk);
      expect(after.length).toBe(bytes.length);
      expect(after.subarray(0, BLOCK).equals(superblock)).toBe(true);
      expect(after.subarray(BACKUP * BLOCK, (BACKUP + 1) * BLOCK).equals(backup)).toBe(true);
      expect(await fsck(disk)).toMatch(/^fsck: clean: /);
    }, patience(120_000));
  }
});
