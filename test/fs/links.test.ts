// Symbolic links, hard links, renames across directories, times and tokens (issue 19's file
// system part): the protocol from a client's side (fs-links-check), then fsck on what it left.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FSCK_LINES, FS_LINES, bootOnDisk, verdict } from "./fs-machine.ts";
import { patience } from "../helpers/patience.ts";

const work = mkdtempSync(join(tmpdir(), "dogma-fs-links-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("links, renames and times", () => {
  it("loops, dangling links, escapes, trailing slashes, link counts, an unlinked open file, renames, tokens, times, . and ..; fsck is clean after", async () => {
    const disk = join(work, "links.img");
    const m = await bootOnDisk(disk, `${FS_LINES}service check fs-links-check use=fs memory=1024\n`, ["fs", "fs-links-check"]);
    try {
      await verdict(m, /^fs-links-check: all passed$/, /FAIL/);
      expect(m.lines().filter((l) => l.startsWith("fs-links-check: ok: "))).toHaveLength(12);
      expect(m.faults).toEqual([]);
    } finally {
      await m.close();
    }
    const f = await bootOnDisk(disk, FSCK_LINES, ["fsck"]);
    try {
      const clean = await verdict(f, /^fsck: clean: /, /^fsck: \d+ problems?$/);
      expect(clean).toMatch(/^fsck: clean: \d+ files, \d+ directories, [1-9]\d* symbolic links, \d+ blocks in use$/);
    } finally {
      await f.close();
    }
  }, patience(120_000));
});
