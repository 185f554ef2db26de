import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, it } from "vitest";
import { FS_LINES, bootOnDisk, verdict } from "./fs-machine.ts";
import { patience } from "../helpers/patience.ts";

const work = mkdtempSync(join(tmpdir(), "dogma-fs-truncate-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("uncommitted changes at a crash", () => {
  it("a truncate that did not commit leaves the synced bytes whole; bytes past a file's end never show when it grows", async () => {
    const disk = join(work, "truncate.img");
    const config = `${FS_LINES}service t fs-truncate use=fs memory=512\n`;
    const first = await bootOnDisk(disk, config, ["fs", "fs-truncate"]);
    try {
      await verdict(first, /^fs-truncate: ready$/, /FAIL/);
    } finally {
      await first.close(); // the machine stops here: a crash for everything not committed
    }
    const second = await bootOnDisk(disk, config, ["fs", "fs-truncate"]);
    try {
      await verdict(second, /^fs-truncate: ok$/, /FAIL/);
    } finally {
      await second.close();
    }
  }, patience(120_000));
});
