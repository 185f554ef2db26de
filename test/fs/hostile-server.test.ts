import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { bootOnDisk, verdict } from "./fs-machine.ts";
import { patience } from "../helpers/patience.ts";

const work = mkdtempSync(join(tmpdir(), "dogma-hostile-fs-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const ATTACKS = ["attach", "map", "read", "readdir"];

/**
 * A file server is a process like any other: its client (FsClient, libdogma) must not trust the
 * Regions it hands back. Before, a hostile server made its clients fault: an attached handle's read
 * buffer smaller than the server said (a read copied past its end), a map whose header names more
 * pages than its Region holds (a read loaded past it), a READ that kept the client's Region and gave
 * back another (the client copied from the range it no longer had), a READDIR that counted entries
 * past the buffer (a lister walked off its end). Now each fails E_BAD_MESSAGE (user/services/fs-hostile.ts).
 */
describe("fs clients talking to a hostile server", () => {
  it("fail each call the server lies in with E_BAD_MESSAGE, and never fault", async () => {
    const config = [
      "service registry registry",
      "service evil fs-hostile publish=evil memory=256 -- server",
      ...ATTACKS.map((how) => `service ${how} fs-hostile use=evil memory=256 -- ${how}`),
      "",
    ].join("\n");
    const m = await bootOnDisk(join(work, "hostile.img"), config, ["fs-hostile"]);
    try {
      for (const how of ATTACKS) {
        await verdict(m, new RegExp(`^fs-hostile: ${how}: the client is unharmed`), /FAIL|faulted/);
        expect(m.lines()).toContain(`fs-hostile: ${how}: E_BAD_MESSAGE`);
      }
      expect(m.faults).toEqual([]);
    } finally {
      await m.close();
    }
  }, patience(60_000));

  it("a block client fails a READ whose driver gives back another Region with E_BAD_MESSAGE, and never faults", async () => {
    // The file system is the block driver's client: it read the sectors from the Region it sent.
    const config = ["service registry registry", "service blk fs-hostile memory=256 -- block", "service b fs-hostile memory=256 -- blockread", ""].join("\n");
    const m = await bootOnDisk(join(work, "hostile-block.img"), config, ["fs-hostile"]);
    try {
      await verdict(m, /^fs-hostile: blockread: the client is unharmed/, /FAIL|faulted/);
      expect(m.lines()).toContain("fs-hostile: blockread: E_BAD_MESSAGE");
      expect(m.faults).toEqual([]);
    } finally {
      await m.close();
    }
  }, patience(60_000));
});
