import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FS_LINES, bootOnDisk, verdict } from "./fs-machine.ts";
import { patience } from "../helpers/patience.ts";

const work = mkdtempSync(join(tmpdir(), "dogma-vanish-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/**
 * Redteam5: a client's buffer that an attached handle keeps a view of (docs/FS.md "Attached
 * handles") was unmapped from the file system server under it, and the server's next WRITE through
 * that handle faulted on the address, ending the server for every client: when the client
 * destroyed the Memory the buffer was made in (the Region was destroyed and unmapped from every
 * holder), or when it freed a ZERO_ON_FREE buffer and the server's quota (full of its page cache)
 * could not pay for the range it kept reserved (its view was taken back). The range then went to
 * the next Region made, here one of the server's own, which the WRITE read and wrote into the
 * client's file. A Region in a table now stays mapped until its holder drops it (zeros once freed
 * with ZERO_ON_FREE), and outlives its Memory meanwhile (test/caps/region.test.ts).
 */
describe("a client's buffer that goes while the file system keeps a view of it", () => {
  for (const how of ["destroy", "free"]) {
    it(`${how}: the server reads the buffer as its owner left it, never faults, and serves on`, async () => {
      const m = await bootOnDisk(join(work, `${how}.img`), `${FS_LINES}service v fs-buffer-vanish use=fs memory=256 -- ${how}\n`, ["fs", "fs-buffer-vanish"]);
      try {
        await verdict(m, /^fs-buffer-vanish: the server /, /FAIL/);
        expect(m.lines()).toContain("fs-buffer-vanish: write: 4096 bytes");
        expect(m.lines()).toContain(`fs-buffer-vanish: the file holds ${how === "destroy" ? "the buffer's bytes" : "zeros"}`);
        expect(m.lines()).toContain("fs-buffer-vanish: the server still answers");
        expect(m.faults).toEqual([]);
      } finally {
        await m.close();
      }
    }, patience(60_000));
  }
});

/**
 * Redteam6: a filler narrowed by CAP_COPY to RIGHT_REGION_FILL maps nothing where it is held, yet
 * REGION_INFO answers its address and size: a client that gave one as an attached handle's buffer,
 * or as a WRITE's Region, had the server read the WRITE's bytes from an address it does not have
 * mapped, and the fault ended the server for every client. The kernel's REGION_INFO now answers only
 * a range mapped in the caller (E_MISSING_RIGHT otherwise), so no server can read such a range.
 */
describe("a client whose buffer is a filler that maps nothing", () => {
  for (const how of ["attach", "region"]) {
    it(`${how}: the server refuses it, never faults, and serves on`, async () => {
      const m = await bootOnDisk(join(work, `fill-only-${how}.img`), `${FS_LINES}service v fs-fill-only use=fs memory=256 -- ${how}\n`, ["fs", "fs-fill-only"]);
      try {
        await verdict(m, /^fs-fill-only: the server /, /FAIL/);
        expect(m.lines()).toContain("fs-fill-only: the server still answers");
        expect(m.lines().some((line) => /^fs-fill-only: write: \d+ bytes/.test(line))).toBe(false);
        expect(m.faults).toEqual([]);
      } finally {
        await m.close();
      }
    }, patience(60_000));
  }
});
