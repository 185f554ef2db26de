import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "../..");
const work = mkdtempSync(join(tmpdir(), "dogma-boot-"));

function dogma(args: string[], input = "") {
  const result = spawnSync(process.execPath, [join(root, "bin/dogma.js"), ...args], {
    cwd: root,
    encoding: "utf8",
    input,
    env: { ...process.env, DOGMA_CACHE_DIR: join(work, "cache"), DOGMA_DATA_DIR: join(work, "data") },
    timeout: 120_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * Boots with `args` until the console shows every line in `until` (then ends the host with
 * SIGTERM), or the host ends on its own: what it printed, and its exit code (null if killed).
 * The console's input stays open, so the shell's session goes on until then.
 */
function bootUntil(args: string[], until: RegExp[]): Promise<{ log: string; code: number | null }> {
  const child = spawn(process.execPath, [join(root, "bin/dogma.js"), ...args], {
    cwd: root,
    env: { ...process.env, DOGMA_CACHE_DIR: join(work, "cache"), DOGMA_DATA_DIR: join(work, "data") },
  });
  let log = "";
  const seen = () => until.every((pattern) => pattern.test(log));
  return new Promise((resolve) => {
    const give = setTimeout(() => child.kill("SIGTERM"), 100_000);
    const look = (data: Buffer) => {
      log += data.toString();
      if (seen()) child.kill("SIGTERM");
    };
    child.stdout.on("data", look);
    child.stderr.on("data", look);
    child.on("exit", (code) => {
      clearTimeout(give);
      resolve({ log, code });
    });
  });
}

describe("dogma boot", () => {
  it("boots the default config into the shell, which runs what is typed; the end of input halts the machine", () => {
    const run = dogma(["boot", "--disk", join(work, "shell.img"), "--share", root], "echo hello from the shell\necho a b | cat\nls /host/docs\n");
    const log = run.stdout + run.stderr;
    expect(log).toContain("boot: process 1 (init) started, pid 1");
    expect(log).toMatch(/init: \d+ modules, 4 devices, 11 services/);
    expect(log).toContain('hostfs: the host share, read-only; serving "host"');
    expect(log).toContain("dogma:/$ ls /host/docs\n"); // the folder given with --share, read-only
    expect(log).toContain("\nFS.md\n");
    expect(log).toContain("init: started registry (pid 2)");
    expect(log).toContain('console: serving "console"');
    expect(log).toContain("dogma:/$ echo hello from the shell\nhello from the shell\n");
    expect(log).toContain("dogma:/$ echo a b | cat\na b\n");
    expect(log).toMatch(/init: the session is over; stopped \d+ services; halting/);
    expect(log).toContain("dogma: process 1 halted the machine");
    expect(run.code).toBe(0);
  }, 120_000);

  it("pages through its pager on a machine smaller than what runs: memtest's 8 MiB in 10 MiB of memory", () => {
    const run = dogma(["boot", "--disk", join(work, "small.img"), "--memory", "10M"], "memtest\nmem\n");
    const log = run.stdout + run.stderr;
    expect(log).toContain("init: paging through the pager, a store of 4096 pages");
    // (The pager says how it is doing every 4096 page-ins, on the same console.)
    expect(log).toMatch(/dogma:\/\$ memtest\n(pager: \d+ pages stored, \d+ given back\n)*memtest ok\n/);
    const paging = /paging: by clock, (\d+) pages evicted, (\d+) paged back in, \d+ of 4096 pages of the store in use, 0 refused/.exec(log);
    expect(paging, log).not.toBe(null);
    expect(Number(paging![1])).toBeGreaterThan(1000);
    expect(Number(paging![2])).toBeGreaterThan(1000);
    expect(log).not.toContain("faulted");
    expect(run.code).toBe(0);
  }, 120_000);

  it("formats a new disk on first boot, and the second boot finds the file system it made", async () => {
    // The console's input stays open, so the session goes on until the file system serves.
    const disk = join(work, "disk.img");
    const serving = /fs: \d+ blocks of 4 KiB, .*serving "fs"/;
    const run = await bootUntil(["boot", "--disk", disk], [serving]);
    expect(run.log).toContain("fs: formatted the disk (a blank disk)");
    expect(run.log).toMatch(serving);
    expect(existsSync(disk) && statSync(disk).size).toBe(64 << 20);
    const again = await bootUntil(["boot", "--disk", disk], [serving]);
    expect(again.log).toMatch(serving);
    expect(again.log).not.toContain("fs: formatted");
  }, 240_000);

  it("keeps its disk in the data folder when no --disk is given", () => {
    const run = dogma(["boot"]);
    expect(run.stdout + run.stderr).toContain("boot: process 1 (init) started, pid 1");
    expect(statSync(join(work, "data", "disk.img")).size).toBe(64 << 20);
  }, 120_000);

  it("refuses a config it cannot read, and says which", () => {
    const run = dogma(["boot", "--config", join(work, "missing.conf")]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/dogma: cannot read the config .*missing\.conf: ENOENT/);
  });
});
