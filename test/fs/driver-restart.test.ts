import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FS_LINES, bootOnDisk, verdict } from "./fs-machine.ts";

const work = mkdtempSync(join(tmpdir(), "dogma-fs-driver-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const synced = (lines: string[]) => lines.filter((l) => /^fs-crash: synced \d+$/.test(l)).length;

describe("the file system when the block driver dies", () => {
  it("carries on through two restarts of the block driver (the writer's rounds go on, the server never ends), and the disk is clean", async () => {
    const disk = join(work, "restart.img");
    const m = await bootOnDisk(disk, `${FS_LINES}service writer fs-crash-writer use=fs memory=512\n`, ["fs", "fs-crash-writer"]);
    try {
      for (let kill = 0; kill < 2; kill++) {
        const before = synced(m.lines());
        await m.until("two more synced rounds", (lines) => synced(lines) >= before + 2);
        const pid = await m.pidOf("block");
        await m.kill(pid);
        await m.line(new RegExp(`^init: block \\(pid ${pid}\\) was killed`));
        const after = synced(m.lines());
        await m.until("rounds after the restart", (lines) => synced(lines) >= after + 3);
      }
      expect(m.lines().filter((l) => /^init: (re)?started fs /.test(l))).toHaveLength(1);
      // Each death met a call of the server (or its next call found the dead driver).
      expect(m.lines().filter((l) => /^fs: the block driver died; its successor answers/.test(l)).length).toBeGreaterThanOrEqual(2);
      expect(m.lines().some((l) => l.includes("fs-crash: FAIL") || /^init: fs .*(faulted|exited)/.test(l))).toBe(false);
      expect(m.stderr()).not.toMatch(/fs-crash: FAIL|fs: /);
    } finally {
      await m.close();
    }
    const f = await bootOnDisk(disk, "service registry registry\ndriver block block device=block interrupt=block memory=512\nservice fsck fsck memory=1024\n", ["fsck"]);
    try {
      await verdict(f, /^fsck: clean: /, /^fsck: (\d+ problems?|cannot .*)$/);
    } finally {
      await f.close();
    }
    const c = await bootOnDisk(disk, `${FS_LINES}service check fs-crash-check use=fs memory=512\n`, ["fs", "fs-crash-check"]);
    try {
      await verdict(c, /^fs-crash-check: all intact$/, /FAIL/);
    } finally {
      await c.close();
    }
  }, 180_000);
});
