// The shell when a service it uses is restarted under it: the file system (its root and working
// directory are handles of the one that ended) and the process manager (its session is one of
// the one that ended). Before (redteam3), every path the shell opened failed from then on, `cd /`
// included, and every command that was no builtin failed 126, until the session ended.
import { readFileSync } from "node:fs";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FolderShare } from "../../src/hosts/node/folder-share.ts";
import { bootShell } from "../helpers/booted-machine.ts";
import { patience } from "../helpers/patience.ts";

const config = readFileSync(join(import.meta.dirname, "../../user/boot/init.conf"), "utf8");
const folder = mkdtempSync(join(tmpdir(), "dogma-restarts-"));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe("the shell under services that are restarted", () => {
  it("goes on with the new file system and the new process manager, in the same working directory", async () => {
    const m = await bootShell(config, await FolderShare.open(folder));
    const run = (line: string) => m.command(line);
    await run("mkdir /d; cd /d; echo inside > f");
    const shell = m.kernel.stuck().find((p) => p.image.name === "shell")!.pid;
    for (const service of ["fs", "procman"]) {
      const pid = m.kernel.stuck().find((p) => p.image.name === service)!.pid;
      await m.kill(pid);
      await m.until(`${service} started again`, () => m.kernel.stuck().some((p) => p.image.name === service && p.pid !== pid));
      const after = await run("cat f; ls / | head -1; pwd");
      expect(after, `after ${service} was restarted`).toMatch(/^inside\nbin\n\/d\ndogma:\/d\$ $/);
    }
    expect(m.kernel.stuck().find((p) => p.image.name === "shell")!.pid).toBe(shell);
    expect(m.faults).toEqual([]);
    await m.halt();
  }, patience(120_000));
});
