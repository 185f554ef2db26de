import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FS_LINES, bootOnDisk, verdict } from "./fs-machine.ts";
import { patience } from "../helpers/patience.ts";

const work = mkdtempSync(join(tmpdir(), "dogma-fs-fuzz-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("random requests", () => {
  it("6000 seeded random requests (any label, flags, paths, offsets, handles open and closed): the server answers them all and the disk stays clean", async () => {
    const disk = join(work, "fuzz.img");
    const m = await bootOnDisk(disk, `${FS_LINES}service fuzz fs-fuzz use=fs memory=1024\n`, ["fs", "fs-fuzz"]);
    try {
      const done = await verdict(m, /^fs-fuzz: done 6000 requests, \d+ refused$/, /FAIL/);
      const refused = Number(/(\d+) refused/.exec(done)![1]);
      // Most random requests are refused, and some are not: both paths ran.
      expect(refused).toBeGreaterThan(1000);
      expect(refused).toBeLessThan(6000);
      expect(m.lines().filter((l) => /^init: fs /.test(l))).toEqual([]);
      expect(m.faults).toEqual([]);
    } finally {
      await m.close();
    }
    const f = await bootOnDisk(disk, "service registry registry\ndriver block block device=block interrupt=block memory=512\nservice fsck fsck memory=1024\n", ["fsck"]);
    try {
      const clean = await verdict(f, /^fsck: clean: /, /^fsck: (\d+ problems?|cannot .*)$/);
      // The requests made things: files and directories beside the root.
      const [, files, dirs] = /clean: (\d+) files, (\d+) directories/.exec(clean)!;
      expect(Number(files) + Number(dirs)).toBeGreaterThan(3);
    } finally {
      await f.close();
    }
  }, patience(180_000));
});
