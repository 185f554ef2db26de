// A full disk from the shell (issue 16): a write that fails reaches the user — cp says so, and a
// redirection's failed write is answered by the file system when the shell syncs the file, so
// `echo hi > /x` prints the error and the job's status is not 0, whether or not echo looked.
import { describe, expect, it } from "vitest";
import { MemoryBlockBackend } from "../../src/machine/devices/block-backend.ts";
import { bootMachine, diskShellConfig, diskShellDevices } from "../helpers/booted-machine.ts";
import { patience } from "../helpers/patience.ts";

const PROGRAMS = ["echo", "cat", "ls", "cp", "rm", "df"];
const { config: CONFIG, modules: MODULES } = diskShellConfig(PROGRAMS);

describe("a full disk", () => {
  it("cp says the disk is full; echo into a file on it prints the error and the status is 1, and the file system goes on", async () => {
    const disk = new MemoryBlockBackend(2 << 20); // 512 blocks: a few hundred KiB free after /bin
    const m = await bootMachine(CONFIG, MODULES, {
      devices: diskShellDevices(disk),
      interactive: true,
    });
    await m.until("the prompt", () => m.stdout().includes("dogma:/$ "));
    const run = async (line: string) => {
      const before = m.stdout().length;
      m.type(line + "\r");
      await m.until(`the prompt after ${JSON.stringify(line)}`, () => /dogma:\/[^\n]*\$ $/.test(m.stdout().slice(before + line.length)));
      return m.stdout().slice(before);
    };
    // Fill it: copies of the shell's binary until one does not fit.
    let copies = 0;
    while (!m.stderr().includes("cp: ")) {
      expect(copies, "the disk never filled").toBeLessThan(40);
      await run(`cp /bin/shell f${copies++}`);
    }
    // A short write answers the bytes written and keeps the reason for the sync: cp says "writing" or
    // "syncing" as the copy that fills the disk ends in the middle of a chunk or in its last one.
    expect(m.stderr()).toMatch(/cp: (writing|syncing) f\d+: no space left on the disk\n/);
    expect(await run("echo hi > /x")).toMatch(/\[1\]\$ $/);
    expect(m.stderr()).toContain("shell: /x: no space left on the disk\n");
    expect(await run("echo more >> /x")).toMatch(/\[1\]\$ $/);
    // Room again: the same redirection works, and says nothing.
    expect(await run("rm f0 f1")).toMatch(/dogma:\/\$ $/);
    const before = m.stderr().length;
    expect(await run("echo hi > /x")).toMatch(/dogma:\/\$ $/);
    expect(await run("cat /x")).toContain("\nhi\n");
    expect(m.stderr().slice(before)).toBe("");
    expect(m.faults).toEqual([]);
    m.type("exit\r");
    await m.halt();
  }, patience(120_000));

  // The red team's finding: the blocks a transaction frees are given again only once it commits,
  // and nothing made it commit when they were all the disk had: a write right after removing the
  // file that filled the disk was refused "no space" (and the file left empty) until a commit
  // happened to come, half a second later.
  it("gives the blocks of a file removed at once to the next write", async () => {
    // Large enough that removing the file does not fill the journal (which commits at once).
    const disk = new MemoryBlockBackend(16 << 20);
    const m = await bootMachine(CONFIG, MODULES, {
      devices: diskShellDevices(disk),
      interactive: true,
    });
    await m.until("the prompt", () => m.stdout().includes("dogma:/$ "));
    const run = async (line: string) => {
      const before = m.stdout().length;
      m.type(line + "\r");
      await m.until(`the prompt after ${JSON.stringify(line)}`, () => /dogma:\/[^\n]*\$ $/.test(m.stdout().slice(before + line.length)));
      return m.stdout().slice(before + line.length);
    };
    await run("while cat /bin/* /bin/* /bin/* >> /big; do :; done");
    expect(m.stderr()).toContain("no space left on the disk");
    expect(await run("df")).toMatch(/dogma-fs +\d+ +\d+ +0 +100%/);
    const before = m.stderr().length;
    // One line: no pause between the removal and the write for a commit to come on its own.
    expect(await run("rm /big; echo again > /other; cat /other")).toContain("\nagain\n");
    expect(m.stderr().slice(before)).toBe("");
    expect(m.faults).toEqual([]);
    m.type("exit\r");
    await m.halt();
  }, patience(120_000));
});
