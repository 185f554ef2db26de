import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FS_LINES, bootOnDisk, verdict } from "./fs-machine.ts";

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
  }, 120_000);

  it("fsck reports a damaged disk precisely: a block in use that the bitmap calls free, a lost inode", async () => {
    const disk = join(work, "damaged.img");
    const m = await bootOnDisk(disk, PERSIST, ["fs", "fs-persist"]);
    try {
      await verdict(m, /^fs-persist: created$/, /FAIL/);
    } finally {
      await m.close();
    }
    // Layout of a 64 MiB disk (format.ts planLayout): 16384 blocks, journal at 1 (769 blocks),
    // bitmap at 770 (1 block), inodes at 771. Clear the journal (already checkpointed), then damage.
    const bytes = new Uint8Array(readFileSync(disk));
    const block = (n: number) => n * 4096;
    bytes.fill(0, block(1), block(2));
    const bitmap = block(770);
    // The first data block (the first directory's block): mark it free.
    const data = 771 + 128;
    bytes[bitmap + (data >> 3)]! &= ~(1 << (data & 7));
    // Inode 2 (the first made: /persist) loses its name: the root's first entry is emptied.
    const rootInode = block(771) + 128;
    const rootBlock = new DataView(bytes.buffer).getUint32(rootInode + 32, true);
    bytes.fill(0, block(rootBlock), block(rootBlock) + 272);
    writeFileSync(disk, bytes);
    const lines = await fsck(disk);
    expect(lines).toContain(`fsck: block ${data}: in use, but free in the bitmap`);
    expect(lines.some((l) => /^fsck: inode 2: in use, but no directory names it$/.test(l))).toBe(true);
    expect(lines.at(-1)).toMatch(/^fsck: \d+ problems$/);
  }, 120_000);
});
