import { describe, expect, it } from "vitest";
import { MemoryBlockBackend } from "../../src/machine/devices/block-backend.ts";
import { bootMachine, diskShellConfig, diskShellDevices } from "../helpers/booted-machine.ts";
import { patience } from "../helpers/patience.ts";

const PROGRAMS = ["echo", "cat", "ls", "mkdir", "rm", "mv", "cp", "wasi-files", "halt", "grep"];
const { config: CONFIG, modules: MODULES } = diskShellConfig(PROGRAMS);

describe("the shell on the file system", () => {
  it("makes, lists, copies, moves and removes files and directories, cd walks the tree, redirection writes and reads files; after a reboot the files are there", async () => {
    const disk = new MemoryBlockBackend(64 << 20);
    const m = await bootMachine(CONFIG, MODULES, {
      devices: diskShellDevices(disk),
      interactive: true,
    });
    await m.until("the file system", () => /serving "fs"/.test(m.stdout()));
    await m.until("the prompt", () => m.stdout().includes("dogma:/$ "));
    const run = async (line: string) => {
      const before = m.stdout().length;
      m.type(line + "\r");
      await m.until(`the prompt after ${JSON.stringify(line)}`, () => /dogma:\/[^\n]*\$ $/.test(m.stdout().slice(before + line.length)));
      return m.stdout().slice(before);
    };
    // First boot installed the boot modules as /bin and the config as /etc/init.conf.
    expect(await run("ls /bin")).toContain("\ncat\n");
    expect(await run("cat /etc/init.conf")).toContain("service shell    shell    memory=8192 bootinfo use=fs session\n");
    expect(await run("mkdir docs notes")).toMatch(/dogma:\/\$ $/);
    expect(await run("ls")).toMatch(/\nbin\ndocs\netc\nnotes\n/);
    expect(await run("ls -p")).toMatch(/\nbin\/\ndocs\/\netc\/\nnotes\/\n/);
    expect(await run("cd docs")).toMatch(/dogma:\/docs\$ $/);
    const copied = await run("cp /etc/init.conf conf");
    expect(copied + m.stderr()).toMatch(/dogma:\/docs\$ $/);
    expect(await run("ls -l")).toMatch(/\n- +\d+ {2}\d{4}-\d\d-\d\d \d\d:\d\d {2}conf\n/);
    expect(await run("mv conf init.copy")).toMatch(/dogma:\/docs\$ $/);
    expect(await run("cat init.copy | cat")).toContain("module cp\n");
    // A copy onto itself is refused, not an empty file (cp truncates what it writes to).
    expect(await run("cp init.copy /docs/init.copy")).toMatch(/\[1\]\$ $/);
    expect(m.stderr()).toContain("cp: init.copy and /docs/init.copy are the same file\n");
    expect(await run("cat init.copy")).toContain("module cp\n");
    expect(await run("cat conf")).toMatch(/\[1\]\$ $/);
    expect(m.stderr()).toContain("cat: conf: no such file or directory\n");
    // Redirection: a file is a stream, as the console and pipes are.
    expect(await run("echo first line > notes.txt")).toMatch(/docs\$ $/);
    expect(await run("echo second line >> notes.txt")).toMatch(/docs\$ $/);
    expect(await run("cat < notes.txt | cat")).toContain("\nfirst line\nsecond line\n");
    expect(await run("echo replaced > notes.txt")).toMatch(/docs\$ $/);
    expect(await run("cat notes.txt")).toContain("\nreplaced\n");
    expect(await run("cat < missing.txt")).toMatch(/\[1\]\$ $/);
    expect(m.stderr()).toContain("shell: missing.txt: no such file or directory\n");
    expect(await run("rm notes.txt")).toMatch(/docs\$ $/);
    // A binary on the disk runs like a boot module: the process manager loads it from a Region.
    expect(await run("cp /bin/echo myecho")).toMatch(/docs\$ $/);
    expect(await run("./myecho run from the disk")).toContain("\nrun from the disk\n");
    expect(await run("echo not a binary > bad.wasm")).toMatch(/docs\$ $/);
    expect(await run("./bad.wasm")).toMatch(/\[126\]\$ $/);
    expect(m.stderr()).toMatch(/shell: \.\/bad\.wasm: not a program the loader takes: .+\n/);
    expect(await run("rm myecho bad.wasm")).toMatch(/docs\$ $/);
    // A WASI program's files: its preopen is the working directory.
    const listed = await run("wasi-files");
    expect(listed).toMatch(/\nwritten by wasi\nsize 16\nlisting:\n[^]*dogma:\/docs\$ $/);
    // fd_readdir: what the directory holds then, each name once, after "." and "..".
    const names = listed.slice(listed.indexOf("listing:\n") + 9, listed.lastIndexOf("dogma:")).split("\n").filter((n) => n.length > 0).sort();
    expect(names).toEqual([".", "..", "init.copy", "wasi-dir", "wasi.txt"]);
    expect(await run("ls -F")).toMatch(/\nwasi-dir\/\n/);
    expect(await run("rm wasi-dir")).toMatch(/\[1\]\$ $/);
    expect(m.stderr()).toContain("rm: wasi-dir: is a directory\n");
    expect(await run("rm -d wasi-dir")).toMatch(/docs\$ $/);
    expect(await run("cd ..")).toMatch(/dogma:\/\$ $/);
    expect(await run("rm -d docs")).toMatch(/\[1\]\$ $/);
    expect(m.stderr()).toContain("rm: docs: directory not empty\n");
    expect(await run("rm -d docs/init.copy docs notes")).toMatch(/dogma:\/\$ $/);
    expect(await run("ls")).toMatch(/\nbin\netc\n/);
    expect(await run("cd nowhere")).toMatch(/\[1\]\$ $/);
    expect(m.stderr()).toContain("cd: nowhere: no such file or directory\n");
    expect(await run("pwd")).toContain("\n/\n");
    // A program of the system (in /bin) is removed only after a yes, or with -f.
    expect(await run("rm /bin/echo < /dev/null")).toMatch(/\[1\]\$ $/);
    expect(m.stderr()).toContain("rm: remove the system program /bin/echo? (y/n; rm -f removes without asking)\nrm: /bin/echo: not removed\n");
    expect(await run("echo yes | rm /bin/echo; ls /bin | grep -c echo")).toContain("\n0\n");
    expect(await run("cd /bin; rm -f cat; cd /; ls /bin | grep -c cat")).toContain("\n0\n");
    expect(await run("echo kept across a reboot > keep.txt")).toMatch(/dogma:\/\$ $/);
    expect(m.faults).toEqual([]);
    // halt: the file system is synced, then process 1 stops everything.
    m.type("halt\r");
    await m.line(/^init: stopped \d+ services; halting$/);
    await m.halt();

    // Boot again on the same disk: the file system mounts what it wrote, and the file is there.
    const again = await bootMachine(CONFIG, MODULES, {
      devices: diskShellDevices(disk),
      interactive: true,
    });
    await again.until("the prompt", () => again.stdout().includes("dogma:/$ "));
    expect(again.stdout()).not.toContain("fs: formatted");
    again.type("cat keep.txt\r");
    await again.until("the file", () => again.stdout().includes("\nkept across a reboot\n"));
    again.type("exit\r");
    await again.line(/halting$/);
    await again.halt();
  }, patience(120_000));
});
