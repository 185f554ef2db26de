// Power cuts: a disk whose writes are volatile until a flush (VolatileCacheBackend) loses, at a
// cut, an arbitrary part of what was written since the last flush, in any order. The journal's
// flushes are what must make a disk that mounts and keeps what was synced; a SIGKILL of the host
// (crash.test.ts) can never show that, since the image file keeps every write the device answered.
// The crash writer syncs round after round; the power is cut at a seeded random moment; then
// fsck must find the disk clean and the checker every synced round there, intact.
import { describe, expect, it } from "vitest";
import type { BlockBackend } from "../../src/machine/devices/block-backend.ts";
import { bootBlockMachine } from "../drivers/block-machine.ts";
import { patience } from "../helpers/patience.ts";
import { FSCK_LINES, FS_LINES, bootToVerdict, verdict } from "./fs-machine.ts";
import { VolatileCacheBackend } from "./volatile-backend.ts";

const ITERATIONS = 12;
const DISK = 16 << 20;

/** mulberry32: a seeded generator, so a failing cut can be repeated. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("power cuts", () => {
  it(`a power cut at a random moment of synced writes, ${ITERATIONS} times, losing an arbitrary part of every write not yet flushed: fsck is clean, and every synced round is there`, async () => {
    const random = prng(0x90e4);
    let cutsWithUnflushed = 0;
    for (let i = 0; i < ITERATIONS; i++) {
      const disk = new VolatileCacheBackend(DISK);
      const m = await bootBlockMachine(`${FS_LINES}service writer fs-crash-writer use=fs memory=512\n`, ["registry", "block", "fs", "fs-crash-writer"], disk);
      const rounds = 2 + Math.floor(random() * 3);
      const synced = () => m.lines().flatMap((l) => /^fs-crash: synced (\d+)$/.exec(l)?.slice(1).map(Number) ?? []);
      let after;
      let last = -1;
      let unflushed = 0;
      try {
        await m.until(`${rounds} synced rounds`, () => synced().length >= rounds || /FAIL/.test(m.lines().join("\n")));
        // The power goes just as one of the next flushes is asked for (a commit's first or its
        // second, or an idle commit's), when most is at risk: the moments a SIGKILL cannot show.
        // The last round synced is the last one the writer said before the cut.
        disk.cutBeforeFlush(disk.flushes + 1 + Math.floor(random() * 6), random, () => (last = Math.max(...synced())));
        await m.until("the power cut", () => disk.lastCut !== null);
        after = disk.lastCut!;
        unflushed = disk.lastCutAtRisk;
      } finally {
        await m.halt();
      }
      if (unflushed > 0) cutsWithUnflushed++;
      const context = `iteration ${i} (cut after round ${last} was synced, ${unflushed} writes not flushed)`;
      const f = await bootBlockMachine(FSCK_LINES, ["registry", "block", "fsck"], after);
      try {
        await verdict(f, /^fsck: clean: /, /^fsck: (\d+ problems?|cannot .*)$/);
      } catch (error) {
        throw new Error(`${context}: ${(error as Error).message}`);
      } finally {
        await f.halt();
      }
      const c = await bootBlockMachine(`${FS_LINES}service check fs-crash-check use=fs memory=512\n`, ["registry", "block", "fs", "fs-crash-check"], after);
      try {
        await verdict(c, /^fs-crash-check: all intact$/, /FAIL/);
        const present = (c.lines().find((l) => l.startsWith("fs-crash-check: rounds")) ?? "").split(" ").slice(2).map(Number);
        expect(present, context).toContain(last);
        if (last > 0) expect(present, context).toContain(last - 1);
      } catch (error) {
        throw new Error(`${context}: ${(error as Error).message}\n${c.lines().join("\n")}`);
      } finally {
        await c.halt();
      }
    }
    // The cuts did lose writes (else this tested what a SIGKILL does).
    expect(cutsWithUnflushed).toBeGreaterThan(0);
  }, patience(180_000));
});

// A 16 MiB disk's journal (format.ts planLayout): blocks 1 to 512, the last the backup superblock;
// its two slots share blocks 1 to 511.
const JOURNAL_SLOTS = { from: 1 * 4096, to: 512 * 4096 };
const inJournal = (offset: number) => offset >= JOURNAL_SLOTS.from && offset < JOURNAL_SLOTS.to;
/** Where its data blocks begin: after the bitmap (block 513) and the inode table (514 to 545). */
const DATA_AT = 546 * 4096;

/** fs-order-writer (user/services/fs-order-writer.ts) in `mode`, on the fs. */
const writer = (mode: string) => `${FS_LINES}service w fs-order-writer use=fs memory=512 -- ${mode}\n`;
const WRITER = ["registry", "block", "fs", "fs-order-writer"];


/** After a cut: fsck finds the disk clean, and the writer's check finds every synced file intact. */
async function cleanAndIntact(disk: BlockBackend): Promise<void> {
  await bootToVerdict(FSCK_LINES, ["registry", "block", "fsck"], disk, /^fsck: clean: /, /^fsck: (\d+ problems?|cannot .*)$/);
  await bootToVerdict(writer("check"), WRITER, disk, /^fs-order: intact$/, /FAIL/);
}

describe("the journal's data ordering under a power cut", () => {
  const cases = [
    ["new", "a new file given new blocks"],
    ["grow", "a file grown within its last block"],
    ["fill", "a file's hole given new blocks"],
  ] as const;
  for (const [mode, what] of cases) {
    it(`a cut that keeps a commit's journal writes and loses every other write not flushed: ${what} never shows a block's old bytes`, async () => {
      const disk = new VolatileCacheBackend(DISK);
      await bootToVerdict(writer("prepare"), WRITER, disk, /^fs-order: ready$/, /FAIL/);
      // The first flush asked for with a journal write at risk: the commit's last. Its data must
      // have been flushed before the record was written (a flush of its own), since the record
      // alone is kept.
      disk.cutBeforeFlushIf((pending) => pending.some((w) => inJournal(w.offset)), inJournal);
      const write = await bootBlockMachine(writer(mode), WRITER, disk);
      try {
        await write.until("the power cut", () => disk.lastCut !== null || /FAIL/.test(write.stderr()));
      } finally {
        await write.halt();
      }
      expect(disk.lastCut, write.stderr()).not.toBeNull();
      expect(disk.lastCutAtRisk).toBeGreaterThan(0);
      await cleanAndIntact(disk.lastCut!);
    }, patience(60_000));
  }

  it("an overwrite in place is committed with two flushes: the last checkpoint, then the record with its data", async () => {
    const disk = new VolatileCacheBackend(DISK);
    for (const mode of ["prepare", "overwrite"]) {
      await bootToVerdict(writer(mode), WRITER, disk, mode == "prepare" ? /^fs-order: ready$/ : /^fs-order: synced$/, /FAIL/);
      if (mode == "prepare") disk.flushLog.length = 0;
    }
    // The overwrite's commit: the one flush with journal writes (a record) since. A flush came
    // before it, and between them nothing was written in place but the data (a block outside the
    // journal the file had, within its size): every checkpoint before the record was on the disk
    // before it — a record that stands says so (journal.ts), which is what lets a mount tell a
    // damaged record from a torn one (journal-damage.test.ts). The data needs nothing of its own
    // before the record (it overwrites a block the committed state names), so it goes with it:
    // the flush before the record finds nothing written since the last one, and a disk image
    // that synced on its own meanwhile has nothing to sync again (background-sync.ts).
    const log = JSON.stringify(disk.flushLog);
    const records = disk.flushLog.flatMap((offsets, i) => (offsets.some(inJournal) ? [i] : []));
    expect(records.length, log).toBe(1);
    const [record] = records;
    expect(record, log).toBeGreaterThan(0);
    expect(disk.flushLog[record!]!.every((offset) => inJournal(offset) || offset >= DATA_AT), log).toBe(true);
    expect(disk.flushLog[record!]!.some((offset) => offset >= DATA_AT), log).toBe(true);
    expect(disk.flushLog[record! - 1]!.some((offset) => offset >= DATA_AT), log).toBe(false);
  }, patience(60_000));

  it("a write that fails leaves no block it gave the file holding the disk's old bytes, when a TRUNCATE then covers them", async () => {
    const disk = new VolatileCacheBackend(DISK);
    await bootToVerdict(writer("prepare"), WRITER, disk, /^fs-order: ready$/, /FAIL/);
    // The direct write of 0x44s fails on the device: its blocks were given to /direct (maybe
    // /old's, freed), and nothing was written there.
    disk.failWriteIf((offset, data) => offset >= DATA_AT && data.length > 0 && data.every((byte) => byte === 0x44));
    await bootToVerdict(writer("direct"), WRITER, disk, /^fs-order: direct intact$/, /FAIL/);
    await bootToVerdict(FSCK_LINES, ["registry", "block", "fsck"], disk, /^fsck: clean: /, /^fsck: (\d+ problems?|cannot .*)$/);
  }, patience(60_000));

  it("a TRUNCATE whose copy of the block's head fails gives back the block it took for the copy (fsck finds no leak)", async () => {
    const disk = new VolatileCacheBackend(DISK);
    await bootToVerdict(writer("prepare"), WRITER, disk, /^fs-order: ready$/, /FAIL/);
    // /grow's block (100 bytes of 0x47, zeros after): not in the cache of a new boot, so the
    // TRUNCATE reads it to copy its head into a new block, and that read fails.
    disk.failReadIf((_offset, data) => data.length >= 4096 && data.subarray(0, 100).every((byte) => byte === 0x47) && data[100] === 0);
    await bootToVerdict(writer("cut"), WRITER, disk, /^fs-order: cut FS_E_IO$/, /FAIL|fs-order: cut done/);
    await bootToVerdict(FSCK_LINES, ["registry", "block", "fsck"], disk, /^fsck: clean: /, /^fsck: (\d+ problems?|cannot .*)$/);
  }, patience(60_000));

  it("a checkpoint that fails leaves its transaction whole in its slot: the next commit goes to the other, and a cut that tears that one replays the first", async () => {
    const disk = new VolatileCacheBackend(DISK);
    // prepare, then an overwrite: its commit (the one before the next) names the inode table only.
    for (const [mode, done] of [["prepare", /^fs-order: ready$/], ["overwrite", /^fs-order: synced$/]] as const) {
      await bootToVerdict(writer(mode), WRITER, disk, done, /FAIL/);
    }
    // /made's commit: the bitmap, the inode table and the root's directory block. After the flush
    // that commits it, its checkpoint's second write (the directory block) fails; the blocks stay
    // dirty, and the next commit (idle, half a second on) holds them again. Its record's flush is
    // cut, keeping of the journal only the slots' headers: that record is torn.
    let checkpointWrites = 0;
    const before = disk.flushLog.length; // (the mount's replay comes first: none of its writes)
    disk.failWriteIf((offset) => disk.flushLog.length > before && disk.flushLog.at(-1)!.some(inJournal) && !inJournal(offset) && ++checkpointWrites == 2);
    const slotHeaders = [JOURNAL_SLOTS.from, JOURNAL_SLOTS.from + 255 * 4096];
    let failed = false;
    const m = await bootBlockMachine(writer("create"), WRITER, disk);
    try {
      await m.line(/^fs-order: sync (?!done)/);
      failed = true;
      disk.cutBeforeFlushIf((pending) => pending.some((w) => inJournal(w.offset)), (offset) => slotHeaders.includes(offset));
      await m.until("the power cut", () => disk.lastCut !== null);
    } finally {
      await m.halt();
    }
    expect(failed).toBe(true);
    await cleanAndIntact(disk.lastCut!);
  }, patience(60_000));
});
