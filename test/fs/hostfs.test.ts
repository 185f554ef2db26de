import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FolderShare } from "../../src/hosts/node/folder-share.ts";
import { MemoryBlockBackend } from "../../src/machine/devices/block-backend.ts";
import { BlockDevice } from "../../src/machine/devices/block.ts";
import { HostShareDevice } from "../../src/machine/devices/host-share.ts";
import { DeviceLine } from "../../src/machine/devices/standard-devices.ts";
import { bootMachine, testConsole, testTimer } from "../helpers/booted-machine.ts";
import { patience } from "../helpers/patience.ts";

const made: string[] = [];
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** A host folder to share: a.txt, sub/b.txt, big.txt (100 000 bytes), out (a symlink to a file outside it). */
function hostFolder(): string {
  const top = mkdtempSync(join(tmpdir(), "dogma-hostfs-"));
  made.push(top);
  writeFileSync(join(top, "secret.txt"), "outside the share\n");
  const share = join(top, "share");
  mkdirSync(join(share, "sub"), { recursive: true });
  writeFileSync(join(share, "a.txt"), "hello from the host\n");
  writeFileSync(join(share, "sub", "b.txt"), "bee\n");
  writeFileSync(join(share, "big.txt"), "0123456789".repeat(10_000));
  symlinkSync(join(top, "secret.txt"), join(share, "out"));
  return share;
}

describe("the host share server", () => {
  it("answers the file system's protocol read-only: reads, lists, refuses changes, escapes and bad requests, and keeps serving", async () => {
    const share = await FolderShare.open(hostFolder());
    const config = `service registry registry
driver  host     hostfs   device=share interrupt=share memory=1024 publish=host
service check    hostfs-check use=host memory=512
`;
    const m = await bootMachine(config, ["registry", "hostfs", "hostfs-check"], {
      devices: (t) => [new HostShareDevice(DeviceLine.SHARE, t.machine.interrupts, share)],
    });
    await m.until("the check's verdict", () => /hostfs-check: (all passed|FAIL)/.test(m.stdout() + m.stderr()));
    expect(m.stderr()).not.toContain("FAIL");
    expect(m.stdout()).toContain('hostfs: the host share, read-only; serving "host"\n');
    expect(m.stdout()).toContain("hostfs-check: ok: bad requests get statuses and the server keeps serving\n");
    expect(m.stdout()).toContain("hostfs-check: all passed\n");
    expect(m.faults).toEqual([]);
    await m.halt();
  }, patience(60_000));

  it("without a share device says so and exits 0", async () => {
    const config = `service registry registry
service host     hostfs   memory=1024 publish=host
`;
    const m = await bootMachine(config, ["registry", "hostfs"]);
    await m.line(/^init: host \(pid \d+\) exited with code 0; not restarting$/);
    expect(m.stdout()).toContain("hostfs: no host share device (boot with --share DIR): nothing to serve\n");
    await m.halt();
  }, patience(60_000));
});

const PROGRAMS = ["echo", "cat", "ls", "mkdir", "rm", "mv", "cp"];
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

describe("/host in the shell", () => {
  it("lists, reads, cds into and copies from the host share, refuses writes and escapes, and runs a binary from it", async () => {
    const folder = hostFolder();
    copyFileSync(join(import.meta.dirname, "../../build/user/echo.wasm"), join(folder, "echo.wasm"));
    copyFileSync(join(import.meta.dirname, "../../build/user/wasi-cat.wasm"), join(folder, "wasi-cat.wasm"));
    const share = await FolderShare.open(folder);
    const m = await bootMachine(CONFIG, MODULES, {
      devices: (t) => [
        testConsole(t),
        new BlockDevice(DeviceLine.BLOCK, t.machine.interrupts, new MemoryBlockBackend(64 << 20)),
        testTimer(t),
        new HostShareDevice(DeviceLine.SHARE, t.machine.interrupts, share),
      ],
      interactive: true,
    });
    await m.until("the servers", () => /serving "fs"/.test(m.stdout()) && /serving "host"/.test(m.stdout()));
    await m.until("the prompt", () => m.stdout().includes("dogma:/$ "));
    const run = async (line: string) => {
      const before = m.stdout().length;
      const errors = m.stderr().length;
      m.type(line + "\r");
      await m.until(`the prompt after ${JSON.stringify(line)}`, () => /dogma:\/[^\n]*\$ $/.test(m.stdout().slice(before + line.length)));
      return { out: m.stdout().slice(before + line.length), err: m.stderr().slice(errors) };
    };
    expect((await run("ls -p /host")).out).toMatch(/^\na\.txt\nbig\.txt\necho\.wasm\nout\nsub\/\nwasi-cat\.wasm\ndogma:\/\$ $/);
    expect((await run("cat /host/a.txt")).out).toMatch(/^\nhello from the host\ndogma:\/\$ $/);
    expect((await run("ls -l /host/a.txt")).out).toMatch(/\n- +20 {2}\d{4}-\d\d-\d\d \d\d:\d\d {2}\/host\/a\.txt\n/);
    // cd: the working directory is a handle of the host share's server; programs work unchanged.
    expect((await run("cd /host/sub")).out).toMatch(/dogma:\/host\/sub\$ $/);
    expect((await run("pwd")).out).toContain("\n/host/sub\n");
    expect((await run("ls")).out).toMatch(/^\nb\.txt\ndogma:\/host\/sub\$ $/);
    expect((await run("cat b.txt")).out).toMatch(/^\nbee\ndogma:\/host\/sub\$ $/);
    expect((await run("cat < b.txt | cat")).out).toContain("\nbee\n");
    expect((await run("cat < ../a.txt")).out).toContain("\nhello from the host\n");
    expect((await run("cd ..")).out).toMatch(/dogma:\/host\$ $/);
    expect((await run("cd /")).out).toMatch(/dogma:\/\$ $/);
    // Copies into the disk's file system.
    expect((await run("cp /host/a.txt copy")).out).toMatch(/^\ndogma:\/\$ $/);
    expect((await run("cat copy")).out).toMatch(/^\nhello from the host\ndogma:\/\$ $/);
    expect((await run("cp /host/big.txt big")).out).toMatch(/^\ndogma:\/\$ $/);
    expect((await run("ls -l big")).out).toMatch(/\n- +100000 {2}/);
    // Read-only.
    let r = await run("echo x > /host/y");
    expect(r.out).toMatch(/\[1\]\$ $/);
    expect(r.err).toContain("shell: /host/y: permission denied\n");
    r = await run("echo x >> /host/a.txt");
    expect(r.err).toContain("shell: /host/a.txt: permission denied\n");
    r = await run("rm /host/a.txt");
    expect(r.out).toMatch(/\[1\]\$ $/);
    expect(r.err).toContain("rm: /host/a.txt: permission denied\n");
    r = await run("mkdir /host/d");
    expect(r.err).toContain("mkdir: /host/d: permission denied\n");
    r = await run("cp copy /host/copy");
    expect(r.err).toContain("cp: /host/copy: permission denied\n");
    r = await run("mv /host/a.txt /host/c.txt");
    expect(r.err).toMatch(/mv: .*permission denied\n/);
    // Nothing outside the share, nothing missing.
    r = await run("cat /host/out");
    expect(r.err).toContain("cat: /host/out: leads outside the directory it was given\n");
    r = await run("cat /host/../secret.txt");
    expect(r.err).toContain("cat: /host/../secret.txt: leads outside the directory it was given\n");
    r = await run("cat /host/missing.txt");
    expect(r.err).toContain("cat: /host/missing.txt: no such file or directory\n");
    r = await run("cd /host/nowhere");
    expect(r.err).toContain("cd: /host/nowhere: no such file or directory\n");
    // A binary on the host share runs like one on the disk.
    expect((await run("/host/echo.wasm hi from the host")).out).toMatch(/^\nhi from the host\ndogma:\/\$ $/);
    // A WASI program from the share, its input a file of the share (stream READ through the server).
    r = await run("/host/wasi-cat.wasm < /host/sub/b.txt");
    expect(r.out).toMatch(/^\nbee\ndogma:\/\$ $/);
    expect(r.err).toContain("wasi-cat: copying\n");
    expect((await run("cd /host")).out).toMatch(/dogma:\/host\$ $/);
    expect((await run("./echo.wasm again")).out).toMatch(/^\nagain\ndogma:\/host\$ $/);
    expect((await run("ls /")).out).toContain("\ncopy\n");
    expect(m.faults).toEqual([]);
    m.type("exit\r");
    await m.line(/halting$/);
    await m.halt();
  }, patience(120_000));
});
