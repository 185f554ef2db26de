import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FS_LINES, bootOnDisk, verdict } from "./fs-machine.ts";
import { patience } from "../helpers/patience.ts";

const work = mkdtempSync(join(tmpdir(), "dogma-fs-hoard-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

// redteam, Medium: a client whose quota is full keeps views of attached handles' read buffers the
// server frees at CLOSE; each freed buffer's range stays reserved, paid by the server's Memory.
describe("attached handles' read buffers", () => {
  it("a client that keeps views of freed read buffers with a full quota cannot wear down more than the half of the server's quota read buffers have", async () => {
    const m = await bootOnDisk(join(work, "hoard.img"), `${FS_LINES}service hoard fs-view-hoard use=fs memory=512 -- 900\n`, ["fs", "fs-view-hoard"]);
    try {
      await verdict(m, /^fs-view-hoard: an attach after: /, /FAIL/);
      // Read buffers and the ranges kept for them have half the server's quota: the attacker meets
      // E_QUOTA there, and the page cache keeps what it may hold (before: after 560 rounds it might
      // hold 0 pages, and the server's quota was all the attacker's).
      const rounds = m.lines().find((l) => l.startsWith("fs-view-hoard: ") && l.includes("may hold"))!;
      const [, before, after] = /may hold (\d+) pages before, (\d+) after/.exec(rounds)!;
      // (The cache's limit may also come down a chunk or two under the machine's memory pressure.)
      expect(Number(after), m.lines().join("\n")).toBeGreaterThan(Number(before) / 2);
      // The session that kept the views is refused once they hold its share (1/8 of the read
      // buffers' half); another session still attaches.
      expect(m.lines(), m.lines().join("\n")).toContain("fs-view-hoard: an attach after: E_QUOTA; from another session: ok");
      expect(m.faults).toEqual([]);
      expect(m.faults).toEqual([]);
    } finally {
      await m.close();
    }
  }, patience(120_000));

  // Before: 79 rounds, then every client's FS_MAP answered E_QUOTA (the server's quota held by the kept views).
  for (const [mode, what] of [
    ["map", "a client that keeps views of file maps the server frees, its quota full, is refused more maps, and another session still maps"],
    ["map-release", "the same when the client lets go of each map (FS_MAP_RELEASE) instead of closing its handle"],
  ] as const) {
    it(what, async () => {
      const m = await bootOnDisk(join(work, `${mode}.img`), `${FS_LINES}service hoard fs-view-hoard use=fs memory=512 -- 900 ${mode}\n`, ["fs", "fs-view-hoard"]);
      try {
        await verdict(m, /^fs-view-hoard: the page cache holds /, /FAIL/);
        expect(m.lines().find((l) => l.includes(" rounds ("))).toMatch(/^fs-view-hoard: \d+ rounds \(then E_QUOTA\)/);
        expect(m.lines(), m.lines().join("\n")).toContain("fs-view-hoard: a map from another session: ok");
        expect(m.faults).toEqual([]);
      } finally {
        await m.close();
      }
    }, patience(120_000));
  }
});
