// The shell beside a service that holds the file system's whole handle table and uses every
// handle each second (redteam, Medium). The shell's root is a session of its own (docs/FS.md
// "Sessions"), and the programs it runs open through copies of it, so they get their share; before,
// every file the shell or a program opened answered FS_E_TABLE_FULL for as long as the hog ran.
import { readFileSync } from "node:fs";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FolderShare } from "../../src/hosts/node/folder-share.ts";
import { bootShell } from "../helpers/booted-machine.ts";
import { patience } from "../helpers/patience.ts";

const config = readFileSync(join(import.meta.dirname, "../../user/boot/init.conf"), "utf8").replace("start shell", "service hog fs-hog use=fs memory=256\nstart shell");
const folder = mkdtempSync(join(tmpdir(), "dogma-fs-hog-"));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe("the shell beside a client holding the file system's handle table", () => {
  it("still opens files, and so do the programs it runs", async () => {
    const m = await bootShell(config, await FolderShare.open(folder));
    const run = (line: string) => m.command(line);
    // The console shows the shell alone: fs-hog says in /hog that it holds the table (each try a command).
    let said = "";
    for (let tries = 0; tries < 200 && !said.startsWith("full\n"); tries++) said = await run("cat /hog");
    expect(said).toMatch(/^full\n/);
    expect(await run("mkdir /d; cd /d; echo inside > f; cat f; ls / | head -1; pwd")).toMatch(/^inside\nbin\n\/d\ndogma:\/d\$ $/);
    expect(m.faults).toEqual([]);
    await m.halt();
  }, patience(120_000));
});
