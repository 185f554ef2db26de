import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FS_LINES, bootOnDisk, verdict } from "./fs-machine.ts";
import { patience } from "../helpers/patience.ts";

const work = mkdtempSync(join(tmpdir(), "dogma-fs-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("file system server", () => {
  it("formats a new disk, serves the protocol (rights, escapes, stale handles, bad requests, a 1 GiB sparse file), and fsck finds the disk clean", async () => {
    const disk = join(work, "check.img");
    const m = await bootOnDisk(disk, `${FS_LINES}service check fs-check use=fs memory=1024\n`, ["fs", "fs-check"]);
    try {
      await m.line("fs: formatted the disk (a blank disk)");
      await verdict(m, /^fs-check: all passed$/, /FAIL/);
      const steps = m.lines().filter((l) => l.startsWith("fs-check: ok: "));
      expect(steps.length).toBe(8);
      expect(m.faults).toEqual([]);
    } finally {
      await m.close();
    }
    const f = await bootOnDisk(disk, "service registry registry\ndriver block block device=block interrupt=block memory=512\nservice fsck fsck memory=1024\n", ["fsck"]);
    try {
      const clean = await verdict(f, /^fsck: clean: /, /^fsck: \d+ problems?$/);
      expect(clean).toMatch(/^fsck: clean: \d+ files, \d+ directories, \d+ symbolic links, \d+ blocks in use$/);
    } finally {
      await f.close();
    }
  }, patience(120_000));

  it("bounds the handle table (FS_E_TABLE_FULL, a close frees an entry) and takes back the handle used longest ago once it has been idle (10 s; here 1 s: handle-idle-ms) (a dead client's handles do not hold it for good)", async () => {
    const lines = FS_LINES.replace("publish=fs", "publish=fs -- handle-idle-ms=1000");
    expect(lines).toContain("handle-idle-ms=1000");
    const m = await bootOnDisk(join(work, "handles.img"), `${lines}service h fs-handles use=fs memory=256 -- 1000\n`, ["fs", "fs-handles"]);
    try {
      await verdict(m, /^fs-handles: ok$/, /FAIL/);
    } finally {
      await m.close();
    }
  }, patience(120_000));

  it("shares the attached handles between sessions: one holding all 32 and using them leaves another session its share (it answered FS_E_TABLE_FULL before)", async () => {
    const m = await bootOnDisk(join(work, "attach-fair.img"), `${FS_LINES}service a fs-attach-fair use=fs memory=512\n`, ["fs", "fs-attach-fair"]);
    try {
      await verdict(m, /^fs-attach-fair: ok$/, /FAIL/);
      expect(m.faults).toEqual([]);
    } finally {
      await m.close();
    }
  }, patience(120_000));

  it("gives a read= service the readers' root alone: it cannot take the all-rights root, write, unlink or make a directory, and its sessions are one, so that splitting the table into one-entry sessions still leaves another client its even share (redteam9)", async () => {
    const m = await bootOnDisk(join(work, "reader.img"), `${FS_LINES}service reader fs-reader read=fs memory=256\nservice fair fs-fair use=fs memory=256 -- beside-a-session\n`, ["fs", "fs-reader", "fs-fair"]);
    try {
      await verdict(m, /^fs-reader: refused every write$/, /FAIL/);
      await m.line("fs-reader: holding 509"); // 512 less the published roots and the swap door
      await verdict(m, /^fs-fair: ok$/, /FAIL/);
      expect(m.faults).toEqual([]);
    } finally {
      await m.close();
    }
  }, patience(120_000));

  it("gives a swap= service (the pager) the swap door alone: /swap opens through it, read-write, and nothing else does, not even a /swap that is a symbolic link (redteam11)", async () => {
    const image = join(work, "swap-door.img");
    let m = await bootOnDisk(image, `${FS_LINES}service door fs-reader swap=fs memory=256 -- swap\n`, ["fs", "fs-reader"]);
    try {
      await verdict(m, /^fs-reader: the swap door opens \/swap alone$/, /FAIL/);
      expect(m.faults).toEqual([]);
    } finally {
      await m.close();
    }
    m = await bootOnDisk(image, `${FS_LINES}service plant fs-reader use=fs memory=256 -- plant\n`, ["fs", "fs-reader"]);
    try {
      await verdict(m, /^fs-reader: planted$/, /FAIL/);
    } finally {
      await m.close();
    }
    m = await bootOnDisk(image, `${FS_LINES}service door fs-reader swap=fs memory=256 -- swap linked\n`, ["fs", "fs-reader"]);
    try {
      await verdict(m, /^fs-reader: the swap door refuses a linked \/swap$/, /FAIL/);
      expect(m.faults).toEqual([]);
    } finally {
      await m.close();
    }
  }, patience(120_000));

  it("shares a full handle table evenly between sessions: a client holding every entry and keeping each fresh leaves a new session half of them and a third session a third (it denied every other client before)", async () => {
    const m = await bootOnDisk(join(work, "fair.img"), `${FS_LINES}service hog fs-hog use=fs memory=256\nservice fair fs-fair use=fs memory=256\n`, ["fs", "fs-hog", "fs-fair"]);
    try {
      await m.line("fs-hog: holding 509");
      await verdict(m, /^fs-fair: ok$/, /FAIL/);
      expect(m.faults).toEqual([]);
    } finally {
      await m.close();
    }
  }, patience(120_000));

  it("keeps a program in its shell's session: a SESSION asked through a session's handle opens a handle in that session, so 500 one-entry sessions cannot take every share (they denied every new session before)", async () => {
    const m = await bootOnDisk(join(work, "fair-sessions.img"), `${FS_LINES}service hog fs-hog use=fs memory=256 -- sessions\nservice fair fs-fair use=fs memory=256 -- beside-a-session\n`, ["fs", "fs-hog", "fs-fair"]);
    try {
      await m.line("fs-hog: holding 508"); // and the session it holds them through
      await verdict(m, /^fs-fair: ok$/, /FAIL/);
      expect(m.faults).toEqual([]);
    } finally {
      await m.close();
    }
  }, patience(120_000));
});
