// The file system never formats a disk that holds something unless asked (issue 16): a damaged
// superblock is stood in for by its backup, a disk it cannot read is refused and left exactly as it
// was (its bytes compared), a blank disk is formatted, and `param format ID` (dogma boot --format)
// formats once per boot. fsck says what is wrong and --repair mends it.
import { spawn } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DISK_BYTES, FSCK_LINES, FS_LINES, bootOnDisk, verdict } from "./fs-machine.ts";
import { patience } from "../helpers/patience.ts";
import { PERSIST, checksum } from "./journal-disk.ts";

const work = mkdtempSync(join(tmpdir(), "dogma-fs-superblock-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const root = join(import.meta.dirname, "../..");

const REPAIR = "service registry registry\ndriver block block device=block interrupt=block memory=512\nservice fsck fsck memory=4096 -- --repair\n";
/** A 64 MiB disk keeps its backup superblock in the journal's last block (format.ts planLayout). */
const BACKUP = 769;
const block = (n: number) => n * 4096;

/** A disk holding fs-persist's files: made once, copied for each test. */
let template: Promise<string> | null = null;
async function diskWithFiles(name: string): Promise<string> {
  template ??= (async () => {
    const made = join(work, "template.img");
    const m = await bootOnDisk(made, PERSIST, ["fs", "fs-persist"]);
    try {
      await verdict(m, /^fs-persist: created$/, /FAIL/);
    } finally {
      await m.close();
    }
    return made;
  })();
  const disk = join(work, name);
  copyFileSync(await template, disk);
  return disk;
}

function flipBit(disk: string, byte: number, bit: number): void {
  const bytes = readFileSync(disk);
  bytes[byte]! ^= 1 << bit;
  writeFileSync(disk, bytes);
}

async function fsck(disk: string, config = FSCK_LINES): Promise<string[]> {
  const m = await bootOnDisk(disk, config, ["fsck"]);
  try {
    await m.until("fsck's verdict", (lines) => lines.some((l) => /^fsck: (clean: .*|\d+ problems?)$/.test(l)));
    return m.lines().filter((l) => l.startsWith("fsck: "));
  } finally {
    await m.close();
  }
}

/** Boots the server on `disk`, which it must refuse: its message, and the disk's bytes unchanged. */
async function refused(disk: string): Promise<string> {
  const before = readFileSync(disk);
  const m = await bootOnDisk(disk, PERSIST, ["fs", "fs-persist"]);
  let why: string;
  try {
    why = await m.line(/^fs: the disk holds no file system this server can mount: /);
    await m.line(/^init: fs \(pid \d+\) exited with code 0; not restarting$/);
    expect(m.lines().some((l) => l.startsWith("fs: formatted"))).toBe(false);
  } finally {
    await m.close();
  }
  expect(Buffer.compare(readFileSync(disk), before), "the refused disk was written to").toBe(0);
  return why.slice("fs: the disk holds no file system this server can mount: ".length);
}

describe("the superblock", () => {
  it("one flipped bit of the formatted-at time: fsck says so and the backup is whole; the server mounts with the backup and writes it back; every file is there", async () => {
    const disk = await diskWithFiles("flipped.img");
    flipBit(disk, block(0) + 56, 3);
    const before = readFileSync(disk);
    const lines = await fsck(disk);
    expect(lines).toContain(`fsck: superblock: superblock checksum mismatch; its backup (block ${BACKUP}) is whole`);
    expect(lines.at(-1)).toBe("fsck: 1 problem");
    expect(Buffer.compare(readFileSync(disk), before), "fsck without --repair wrote to the disk").toBe(0);
    const m = await bootOnDisk(disk, PERSIST, ["fs", "fs-persist"]);
    try {
      await m.line("fs: the superblock was damaged (superblock checksum mismatch); mounted with its backup, and wrote it back");
      await verdict(m, /^fs-persist: found$/, /FAIL/);
      expect(m.lines().some((l) => l.startsWith("fs: formatted"))).toBe(false);
    } finally {
      await m.close();
    }
    expect((await fsck(disk)).at(-1)).toMatch(/^fsck: clean: /);
  }, patience(120_000));

  it("both copies damaged: refused, the disk left exactly as it was, and the server ends as done", async () => {
    const disk = await diskWithFiles("both.img");
    flipBit(disk, block(0) + 20, 0);
    flipBit(disk, block(BACKUP) + 20, 0);
    expect(await refused(disk)).toBe(`superblock checksum mismatch; and no backup superblock at block ${BACKUP}`);
    const lines = await fsck(disk);
    expect(lines[0]).toBe(`fsck: superblock: superblock checksum mismatch; and no backup superblock at block ${BACKUP}`);
  }, patience(120_000));

  it("an image 1000 bytes short, or cut to 32 MiB: refused, unchanged", async () => {
    const disk = await diskWithFiles("short.img");
    truncateSync(disk, DISK_BYTES - 1000);
    expect(await refused(disk)).toBe("the file system has 16384 blocks but the disk only 16383 (the image was cut short, or is not this disk)");
    truncateSync(disk, 32 << 20);
    expect(await refused(disk)).toBe("the file system has 16384 blocks but the disk only 8192 (the image was cut short, or is not this disk)");
  }, patience(120_000));

  it("a disk of something else is refused; a blank one is formatted", async () => {
    const other = join(work, "other.img");
    const junk = Buffer.alloc(4 << 20);
    for (let i = 0; i < junk.length; i += 4096) junk.write("not a Dogma disk", i);
    writeFileSync(other, junk);
    expect(await refused(other)).toBe("no superblock (bad magic); and no backup superblock at block 128");
    const blank = join(work, "blank.img");
    writeFileSync(blank, Buffer.alloc(4 << 20));
    const m = await bootOnDisk(blank, PERSIST, ["fs", "fs-persist"]);
    try {
      await m.line("fs: formatted the disk (a blank disk)");
      await verdict(m, /^fs-persist: created$/, /FAIL/);
    } finally {
      await m.close();
    }
  }, patience(120_000));

  it("asked to format (param format ID): a disk holding files is formatted, once — a server restarted in the same boot keeps what was written since", async () => {
    const disk = await diskWithFiles("asked.img");
    const config = PERSIST.replace("publish=fs", "publish=fs boot-modules");
    const m = await bootOnDisk(disk, config, ["fs", "fs-persist"], { params: { format: "5eed1e55c0ffee" } });
    try {
      await m.line("init: param format 5eed1e55c0ffee: for the file system, which formats the disk (dogma boot --format)");
      await m.line("fs: formatted the disk (asked to: dogma boot --format)");
      await verdict(m, /^fs-persist: created$/, /FAIL/);
      await m.kill(await m.pidOf("fs"));
      await m.line(/^init: restarted fs \(pid \d+\)$/);
      await m.until("the restarted server serves", (lines) => lines.filter((l) => /serving "fs"$/.test(l)).length == 2);
      expect(m.lines().filter((l) => l.startsWith("fs: formatted"))).toHaveLength(1);
    } finally {
      await m.close();
    }
    const again = await bootOnDisk(disk, PERSIST, ["fs", "fs-persist"]);
    try {
      await verdict(again, /^fs-persist: found$/, /FAIL/);
    } finally {
      await again.close();
    }
  }, patience(120_000));

  it("dogma boot --format formats the disk it is given", async () => {
    const disk = await diskWithFiles("cli.img");
    const config = join(work, "format.conf");
    writeFileSync(config, PERSIST.replace("publish=fs", "publish=fs boot-modules").replace("fs-persist use=fs", "fs-persist session use=fs"));
    const run = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn(process.execPath, [join(root, "bin/dogma.js"), "boot", "--disk", disk, "--format", "--config", config], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      child.stdout.on("data", (d: Buffer) => (out += d.toString()));
      child.stderr.on("data", (d: Buffer) => (out += d.toString()));
      child.on("exit", (code) => resolve({ code, out }));
    });
    expect(run.out).toContain("fs: formatted the disk (asked to: dogma boot --format)");
    expect(run.out).toContain("fs-persist: created");
    expect(run.code, run.out).toBe(0);
  }, patience(120_000));
});


/** Turns a version 4 disk into what version 1 wrote: its superblock, no backup, no links or access and change times. */
function toVersion1(disk: string): void {
  const bytes = new Uint8Array(readFileSync(disk));
  const view = new DataView(bytes.buffer);
  // Version 1 has one journal slot: the transactions in both of version 4's (checkpointed: the
  // machine stopped cleanly) must not be replayed as one.
  bytes.fill(0, block(1), block(2));
  bytes.fill(0, block(385), block(386));
  view.setUint32(8, 1, true);
  bytes.fill(0, 64, 4096);
  view.setBigUint64(64, checksum(bytes.subarray(0, 64)), true);
  bytes.fill(0, block(BACKUP), block(BACKUP + 1));
  const inodes = view.getUint32(36, true);
  const count = view.getUint32(44, true);
  for (let ino = 1; ino < count; ino++) {
    const at = block(inodes) + ino * 128;
    if (view.getUint32(at, true) !== 0) bytes.fill(0, at + 96, at + 128);
  }
  writeFileSync(disk, bytes);
}

describe("a version 1 disk", () => {
  it("is upgraded in place at mount: every file is there, and fsck is clean", async () => {
    const disk = await diskWithFiles("v1.img");
    // fs-persist left a file it unlinked while open: a mount frees it (version 1 had no such thing).
    const mount = await bootOnDisk(disk, FS_LINES, ["fs"]);
    try {
      await mount.line("fs: freed 1 file unlinked while open when the machine stopped");
    } finally {
      await mount.close();
    }
    toVersion1(disk);
    const lines = await fsck(disk);
    expect(lines).toContain("fsck: format version 1: the file system server upgrades it to version 2 when it mounts it");
    expect(lines.at(-1), lines.join("\n")).toMatch(/^fsck: clean: /);
    const m = await bootOnDisk(disk, PERSIST, ["fs", "fs-persist"]);
    try {
      await m.line(/^fs: upgraded the disk to format version 2 \(\d+ inodes\)$/);
      await m.line("fs: upgraded the disk to format version 4 (a journal of two slots)");
      await verdict(m, /^fs-persist: found$/, /FAIL/);
    } finally {
      await m.close();
    }
    const after = await fsck(disk);
    expect(after.at(-1), after.join("\n")).toMatch(/^fsck: clean: /);
    expect(after[0]).toBe("fsck: 16384 blocks, 4096 inodes, journal 769 blocks, format version 4");
    expect(after.at(-1)).toMatch(/^fsck: clean: /);
  }, patience(120_000));
});

/** Turns a version 4 disk into what version 2 wrote: its superblocks say 2, and its one journal slot is empty (it stopped cleanly). */
function toVersion2(disk: string): void {
  const bytes = new Uint8Array(readFileSync(disk));
  const view = new DataView(bytes.buffer);
  bytes.fill(0, block(1), block(2));
  bytes.fill(0, block(385), block(386));
  bytes.fill(0x5a, block(385), block(385) + 64); // an old image's bytes where slot 1's header goes
  view.setUint32(8, 2, true);
  view.setBigUint64(120, checksum(bytes.subarray(0, 120)), true);
  bytes.copyWithin(block(BACKUP), 0, 4096);
  writeFileSync(disk, bytes);
}

describe("a version 2 disk", () => {
  it("is upgraded to version 4 at mount (a journal of two slots), once: every file is there and fsck is clean", async () => {
    const disk = await diskWithFiles("v2.img");
    const first = await bootOnDisk(disk, FS_LINES, ["fs"]);
    try {
      await first.line("fs: freed 1 file unlinked while open when the machine stopped");
    } finally {
      await first.close();
    }
    toVersion2(disk);
    const before = await fsck(disk);
    expect(before[0]).toBe("fsck: 16384 blocks, 4096 inodes, journal 769 blocks, format version 2");
    expect(before.at(-1), before.join("\n")).toMatch(/^fsck: clean: /);
    const m = await bootOnDisk(disk, PERSIST, ["fs", "fs-persist"]);
    try {
      await m.line("fs: upgraded the disk to format version 4 (a journal of two slots)");
      await verdict(m, /^fs-persist: found$/, /FAIL/);
    } finally {
      await m.close();
    }
    const after = await fsck(disk);
    expect(after[0]).toBe("fsck: 16384 blocks, 4096 inodes, journal 769 blocks, format version 4");
    expect(after.at(-1), after.join("\n")).toMatch(/^fsck: clean: /);
    const again = await bootOnDisk(disk, PERSIST, ["fs", "fs-persist"]);
    try {
      await verdict(again, /^fs-persist: found$/, /FAIL/);
      expect(again.lines().some((l) => l.includes("upgraded"))).toBe(false);
    } finally {
      await again.close();
    }
  }, patience(120_000));
});

/** Sets the version both superblocks say (the rest of the disk as it is). */
function setVersion(disk: string, version: number): void {
  const bytes = new Uint8Array(readFileSync(disk));
  const view = new DataView(bytes.buffer);
  view.setUint32(8, version, true);
  view.setBigUint64(120, checksum(bytes.subarray(0, 120)), true);
  bytes.copyWithin(block(BACKUP), 0, 4096);
  writeFileSync(disk, bytes);
}

/** The magic of each journal slot's header ("" for an empty slot). */
function journalMagics(disk: string): string[] {
  const bytes = readFileSync(disk);
  return [1, 385].map((b) => (bytes.readBigUint64LE(block(b)) === 0n ? "" : bytes.toString("latin1", block(b), block(b) + 8)));
}

describe("a version 3 disk", () => {
  it("becomes version 4 at mount before its first record (a version 3 server would not replay DOGMJNL2 records): every file is there and fsck is clean", async () => {
    const disk = await diskWithFiles("v3.img");
    // What a version 3 server left when it stopped: superblocks that say 3 (its records checkpointed:
    // emptied here, since a version 3 server's would say DOGMJNL1).
    const bytes = readFileSync(disk);
    bytes.fill(0, block(1), block(2));
    bytes.fill(0, block(385), block(386));
    writeFileSync(disk, bytes);
    setVersion(disk, 3);
    const before = await fsck(disk);
    expect(before[0]).toBe("fsck: 16384 blocks, 4096 inodes, journal 769 blocks, format version 3");
    const m = await bootOnDisk(disk, PERSIST, ["fs", "fs-persist"]);
    try {
      await m.line("fs: upgraded the disk to format version 4 (journal records that a version 3 server would not replay)");
      await m.line("fs: freed 1 file unlinked while open when the machine stopped"); // (a commit, after the upgrade)
      await verdict(m, /^fs-persist: found$/, /FAIL/);
    } finally {
      await m.close();
    }
    const after = readFileSync(disk);
    expect(after.readUint32LE(8), "the superblock's version").toBe(4);
    expect(after.readUint32LE(block(BACKUP) + 8), "the backup's version").toBe(4);
    expect(journalMagics(disk)).toContain("DOGMJNL2");
    const checked = await fsck(disk);
    expect(checked[0]).toBe("fsck: 16384 blocks, 4096 inodes, journal 769 blocks, format version 4");
    expect(checked.at(-1), checked.join("\n")).toMatch(/^fsck: clean: /);
  }, patience(120_000));

  it("a version this server does not read (5): refused, the disk unchanged", async () => {
    const disk = await diskWithFiles("v5.img");
    setVersion(disk, 5);
    expect(await refused(disk)).toMatch(/^format version 5, which this server does not read \(it reads 1 to 4\)/);
  }, patience(120_000));
});

describe("a read-only disk (dogma boot --read-only)", () => {
  it("is mounted without a write: the journal's transaction is read where it lies, not replayed; files read, changes refused, the bytes unchanged", async () => {
    const disk = await diskWithFiles("read-only.img");
    // As if the host had stopped before the last transaction's checkpoint: its blocks in place are
    // zeros, and only the journal holds them (the newer of the two slots', at 1 and 385:
    // format.ts; the older one's checkpoint was flushed before the newer record was written).
    const bytes = readFileSync(disk);
    const records = [1, 385].map((slot) => new DataView(bytes.buffer, bytes.byteOffset + block(slot), 4096));
    expect(records.every((journal) => journal.getBigUint64(0, true) === 0x324c4e4a4d474f44n)).toBe(true); // "DOGMJNL2"
    const newer = records[0]!.getBigUint64(8, true) > records[1]!.getBigUint64(8, true) ? records[0]! : records[1]!;
    const count = newer.getUint32(16, true);
    for (let i = 0; i < count; i++) bytes.fill(0, block(newer.getUint32(32 + 4 * i, true)), block(newer.getUint32(32 + 4 * i, true) + 1));
    expect(count).toBeGreaterThan(0);
    writeFileSync(disk, bytes);
    const config = `${FS_LINES}service ls fs-install-check use=fs memory=512 -- /persist\nservice w fs-no-sync use=fs memory=256\n`;
    const m = await bootOnDisk(disk, config, ["fs", "fs-install-check", "fs-no-sync"], { readOnly: true });
    try {
      await m.line("fs: the disk is read-only: serving it read-only (nothing is written to it)");
      await m.line(/^fs-install-check: \/persist\/notes\.txt 17 \d+$/);
      await m.line("fs-install-check: done");
      await m.until("the refused change", () => m.stderr().includes("fs-no-sync: FAIL: mkdir: E_MISSING_RIGHT"));
    } finally {
      await m.close();
    }
    expect(Buffer.compare(readFileSync(disk), bytes), "the read-only disk was written to").toBe(0);
    const writable = await bootOnDisk(disk, PERSIST, ["fs", "fs-persist"]);
    try {
      await writable.line(/^fs: 16384 blocks of 4 KiB.* journal replayed \d+ blocks; serving "fs"$/);
      await verdict(writable, /^fs-persist: found$/, /FAIL/);
    } finally {
      await writable.close();
    }
    expect((await fsck(disk)).at(-1)).toMatch(/^fsck: clean: /);
  }, patience(120_000));
});

describe("fsck --repair", () => {
  it("writes a damaged superblock back from its backup", async () => {
    const disk = await diskWithFiles("repair-sb.img");
    flipBit(disk, block(0) + 40, 5);
    const lines = await fsck(disk, REPAIR);
    expect(lines).toContain(`fsck: superblock: superblock checksum mismatch; its backup (block ${BACKUP}) is whole: written back`);
    expect((await fsck(disk)).at(-1)).toMatch(/^fsck: clean: /);
  }, patience(120_000));

  it("mends a bitmap that calls a used block free, an inode no directory names (into /lost+found), a name twice; then fsck is clean", async () => {
    const disk = await diskWithFiles("repair.img");
    // As persist.test.ts damages a disk: the journal cleared (it is checkpointed), a block in use
    // marked free, notes.txt's name cleared, entry 0 ("a", a directory) copied into entry 14.
    const bytes = new Uint8Array(readFileSync(disk));
    bytes.fill(0, block(1), block(2));
    bytes.fill(0, block(385), block(386));
    const bitmap = block(770);
    const data = 771 + 128;
    bytes[bitmap + (data >> 3)]! &= ~(1 << (data & 7));
    const view = new DataView(bytes.buffer);
    const persistBlock = view.getUint32(block(771) + 2 * 128 + 32, true);
    const entry = (i: number) => block(persistBlock) + i * 272;
    const notes = view.getUint32(entry(1), true);
    bytes.fill(0, entry(1), entry(1) + 272);
    bytes.copyWithin(entry(14), entry(0), entry(0) + 272);
    writeFileSync(disk, bytes);
    const lines = await fsck(disk, REPAIR);
    expect(lines).toContain(`fsck: inode ${notes}: in use, but no directory names it`);
    expect(lines.some((l) => /^fsck: repaired: \d+ fixes, in \d rounds?; checking again$/.test(l)), lines.join("\n")).toBe(true);
    expect(lines.at(-1)).toMatch(/^fsck: clean: /);
    expect((await fsck(disk)).at(-1)).toMatch(/^fsck: clean: /);
    // notes.txt is in /lost+found, whole.
    const m = await bootOnDisk(disk, `${FS_LINES}service ls fs-install-check use=fs memory=512 -- /lost+found\n`, ["fs", "fs-install-check"]);
    try {
      await m.line(new RegExp(`^fs-install-check: /lost\\+found/#${notes} 17 \\d+$`));
    } finally {
      await m.close();
    }
  }, patience(120_000));
});
