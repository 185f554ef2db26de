// Names from the shell: links made with ln and ln -s, shown by ls -l, followed by cat, removed
// alone by rm; mv across directories (one rename); and names with control characters — an escape
// sequence from a host folder — shown quoted by ls, never raw on the terminal (issue 16).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FolderShare } from "../../src/hosts/node/folder-share.ts";
import { bootShell } from "../helpers/booted-machine.ts";
import { patience } from "../helpers/patience.ts";

const folder = mkdtempSync(join(tmpdir(), "dogma-fs-names-"));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

const PROGRAMS = ["echo", "cat", "ls", "mkdir", "rm", "mv", "ln"];
const CONFIG = `service registry registry
driver  console  console  device=console interrupt=console memory=64
driver  block    block    device=block interrupt=block memory=512
service fs       fs       memory=2048 publish=fs
driver  host     hostfs   device=share interrupt=share memory=1024 publish=host
service pipe     pipe     memory=64
service proc     procman  memory=128 kernel images bootinfo control
service shell    shell    memory=8192 bootinfo use=fs use=host session
${PROGRAMS.map((p) => `module ${p}`).join("\n")}
`;
const MODULES = ["registry", "console", "block", "fs", "hostfs", "pipe", "procman", "shell", ...PROGRAMS];

describe("names in the shell", () => {
  it("ln, ln -s, ls -l, cat through a link, rm of a link, mv across directories; names with escape sequences shown quoted", async () => {
    writeFileSync(join(folder, "\x1b[2Jclear"), "x");
    writeFileSync(join(folder, "two\nlines"), "x");
    writeFileSync(join(folder, "c1-\u009b31m"), "x");
    writeFileSync(join(folder, "plain"), "x");
    const share = await FolderShare.open(folder);
    const m = await bootShell(CONFIG, share, { modules: MODULES });
    const run = async (line: string) => {
      const before = m.stdout().length;
      const errors = m.stderr().length;
      m.type(line + "\r");
      await m.until(`the prompt after ${JSON.stringify(line)}`, () => /dogma:\/[^\n]*\$ $/.test(m.stdout().slice(before + line.length)));
      return { out: m.stdout().slice(before + line.length), err: m.stderr().slice(errors) };
    };
    // Links.
    expect((await run("echo hello > a")).err).toBe("");
    expect((await run("ln a b")).err).toBe("");
    expect((await run("ln -s a c")).err).toBe("");
    expect((await run("ln -s nowhere dangling")).err).toBe("");
    const listed = (await run("ls -l")).out;
    expect(listed).toMatch(/\nl +1 {2}\d{4}-\d\d-\d\d \d\d:\d\d {2}c -> a\n/);
    expect(listed).toMatch(/\nl +7 {2}\d{4}-\d\d-\d\d \d\d:\d\d {2}dangling -> nowhere\n/);
    expect(listed).toMatch(/\n- +6 {2}\d{4}-\d\d-\d\d \d\d:\d\d {2}b\n/);
    expect((await run("cat c")).out).toContain("\nhello\n");
    let r = await run("cat dangling");
    expect(r.err).toContain("cat: dangling: no such file or directory\n");
    expect((await run("rm a")).err).toBe("");
    expect((await run("cat b")).out).toContain("\nhello\n");
    r = await run("cat c");
    expect(r.err).toContain("cat: c: no such file or directory\n");
    expect((await run("rm c dangling")).err).toBe("");
    // mv across directories: the cwd's handle and the root's.
    expect((await run("mkdir d")).err).toBe("");
    expect((await run("cd d")).out).toMatch(/dogma:\/d\$ $/);
    expect((await run("mv /b moved")).err).toBe("");
    expect((await run("cat /d/moved")).out).toContain("\nhello\n");
    r = await run("mv moved /host/moved");
    expect(r.err).toContain("mv: moved to /host/moved: not on one file system (cp, then rm)\n");
    expect((await run("cd /")).out).toMatch(/dogma:\/\$ $/);
    expect((await run("ls -p")).out).toMatch(/^\nd\/\ndogma:\/\$ $/);
    // Names with control characters, from the host: quoted, never raw.
    const shown = (await run("ls /host")).out;
    expect(shown).toContain("\n$'\\e[2Jclear'\n");
    expect(shown).toContain("\n$'two\\nlines'\n");
    expect(shown).toContain("\n$'c1-\\xc2\\x9b31m'\n");
    expect(shown).toContain("\nplain\n");
    expect(shown).not.toContain("\x1b");
    const long = (await run("ls -l /host")).out;
    expect(long).toMatch(/ {2}\$'\\e\[2Jclear'\n/);
    expect(long).not.toContain("\x1b");
    expect(m.faults).toEqual([]);
    await m.halt();
  }, patience(120_000));
});
