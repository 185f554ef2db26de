import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { bootOnDisk, verdict, FS_LINES } from "./fs-machine.ts";
import { patience } from "../helpers/patience.ts";

const work = mkdtempSync(join(tmpdir(), "dogma-lent-buffers-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/**
 * One FsClient talking to two servers (redteam11): before, it lent both the same Regions, so that
 * `cat /secret /host/x` showed the host share's server the end of /secret (a READ moves the
 * Region that last held it), and a server that kept a WRITE's view, an attach's filler or the
 * long-path page's view read everything that passed through them to the other server after.
 * The spy (user/services/fs-spy.ts) keeps all it is lent and looks for the secret the client
 * writes to and reads from the file system in every size class, attached and not.
 */
describe("an FsClient's servers", () => {
  it("never see what passes to or from another server, and the data still arrives whole", async () => {
    const config = `${FS_LINES}service spy fs-spy publish=spy memory=256 -- server
service spyc fs-spy memory=512 use=fs use=spy -- client
`;
    const m = await bootOnDisk(join(work, "spy.img"), config, ["fs", "fs-spy"]);
    try {
      await verdict(m, /^fs-spy: client: done/, /FAIL|faulted/);
      expect(m.lines()).toContain("fs-spy: client: the secret went to the file system and back whole");
      expect(m.lines().filter((l) => l.startsWith("fs-spy: saw"))).toEqual([]);
      expect(m.lines()).toContain("fs-spy: verdict: saw nothing of the secret");
      expect(m.faults).toEqual([]);
    } finally {
      await m.close();
    }
  }, patience(60_000));
});
