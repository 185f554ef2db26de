import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FS_LINES, bootOnDisk, verdict } from "./fs-machine.ts";
import { patience } from "../helpers/patience.ts";

const work = mkdtempSync(join(tmpdir(), "dogma-fs-driver-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const synced = (lines: string[]) => lines.filter((l) => /^fs-crash: synced \d+$/.test(l)).length;

describe("the file system when the block driver dies, or it does", () => {
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
  }, patience(180_000));

  it("publishes a new root in the same Cappage when init restarts it: a client started again finds it and goes on", async () => {
    const disk = join(work, "fs-restart.img");
    const m = await bootOnDisk(disk, `${FS_LINES}service writer fs-crash-writer use=fs memory=512\n`, ["fs", "fs-crash-writer"]);
    try {
      await m.until("two synced rounds", (lines) => synced(lines) >= 2);
      const pid = await m.pidOf("fs");
      await m.kill(pid);
      await m.line(new RegExp(`^init: fs \\(pid ${pid}\\) was killed`));
      await m.line(/^init: restarted fs \(pid \d+\)$/);
      // The writer's call met the dead server (E_PEER_DEAD): it ends, init starts it again, and
      // it takes the new root from the Cappage and carries on after the rounds on the disk.
      await m.until("the writer starts again", (lines) => lines.filter((l) => l.startsWith("fs-crash: starting at round ")).length === 2);
      const restarted = synced(m.lines());
      await m.until("rounds with the new server", (lines) => synced(lines) >= restarted + 2);
      expect(m.stderr()).toMatch(/fs-crash: FAIL: .*E_PEER_DEAD/);
    } finally {
      await m.close();
    }
  }, patience(120_000));
});
