import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FS_LINES, bootOnDisk, verdict } from "./fs-machine.ts";
import { patience } from "../helpers/patience.ts";

const work = mkdtempSync(join(tmpdir(), "dogma-fs-persist-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const FSCK = "service registry registry\ndriver block block device=block interrupt=block memory=512\nservice fsck fsck memory=1024\n";
const PERSIST = `${FS_LINES}service persist fs-persist use=fs memory=512\n`;

async function fsck(disk: string): Promise<string[]> {
  const m = await bootOnDisk(disk, FSCK, ["fsck"]);
  try {
    await m.until("fsck's verdict", (lines) => lines.some((l) => /^fsck: (clean: .*|\d+ problems?)$/.test(l)));
    return m.lines().filter((l) => l.startsWith("fsck: "));
  } finally {
    await m.close();
  }
}

describe("file system on a disk image", () => {
  it("keeps files and directories across a reboot, with their times", async () => {
    const disk = join(work, "persist.img");
    const first = await bootOnDisk(disk, PERSIST, ["fs", "fs-persist"]);
    let created: string;
    try {
      await verdict(first, /^fs-persist: created$/, /FAIL/);
      created = await first.line(/^fs-persist: notes.txt created at \d+ ns$/);
    } finally {
      await first.close();
    }
    const second = await bootOnDisk(disk, PERSIST, ["fs", "fs-persist"]);
    try {
      expect(second.lines().some((l) => l.startsWith("fs: formatted"))).toBe(false);
      await verdict(second, /^fs-persist: found$/, /FAIL/);
      expect(await second.line(/^fs-persist: notes.txt created at \d+ ns$/)).toBe(created);
    } finally {
      await second.close();
    }
    expect((await fsck(disk)).at(-1)).toMatch(/^fsck: clean: /);
  }, patience(120_000));

  it("fsck reports a damaged disk precisely: a block in use that the bitmap calls free, a lost inode, a name twice", async () => {
    const disk = join(work, "damaged.img");
    const m = await bootOnDisk(disk, PERSIST, ["fs", "fs-persist"]);
    try {
      await verdict(m, /^fs-persist: created$/, /FAIL/);
    } finally {
      await m.close();
    }
    // Layout of a 64 MiB disk (format.ts planLayout): 16384 blocks, journal at 1 (769 blocks: two
    // slots of 384, their headers at 1 and 385, and the backup superblock), bitmap at 770 (1
    // block), inodes at 771. Clear the journal (already checkpointed), then damage.
    const bytes = new Uint8Array(readFileSync(disk));
    const block = (n: number) => n * 4096;
    bytes.fill(0, block(1), block(2));
    bytes.fill(0, block(385), block(386));
    const bitmap = block(770);
    // The first data block (the first directory's block): mark it free.
    const data = 771 + 128;
    bytes[bitmap + (data >> 3)]! &= ~(1 << (data & 7));
    // /persist (inode 2, the first made) holds a (entry 0) and notes.txt (entry 1): notes.txt loses
    // its name, and a gets a second one (entry 0 copied into the free last slot).
    const view = new DataView(bytes.buffer);
    const persistBlock = view.getUint32(block(771) + 2 * 128 + 32, true);
    const entry = (i: number) => block(persistBlock) + i * 272;
    const notes = view.getUint32(entry(1), true);
    bytes.fill(0, entry(1), entry(1) + 272);
    bytes.copyWithin(entry(14), entry(0), entry(0) + 272);
    writeFileSync(disk, bytes);
    const lines = await fsck(disk);
    expect(lines).toContain(`fsck: block ${data}: in use, but free in the bitmap`);
    expect(lines).toContain(`fsck: inode ${notes}: in use, but no directory names it`);
    expect(lines).toContain("fsck: directory inode 2, entry 14: the same name as entry 0");
    expect(lines.some((l) => /^fsck: directory inode 2, entry 14: inode \d+ has a name elsewhere already$/.test(l))).toBe(true);
    expect(lines.at(-1)).toMatch(/^fsck: \d+ problems$/);
  }, patience(120_000));
});
