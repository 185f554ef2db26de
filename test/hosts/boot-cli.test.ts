import { spawnSync } from "node:child_process";
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

describe("dogma boot", () => {
  it("boots the default config into the shell, which runs what is typed; the end of input halts the machine", () => {
    const disk = join(work, "disk.img");
    const run = dogma(["boot", "--disk", disk, "--share", root], "echo hello from the shell\necho a b | cat\n");
    const log = run.stdout + run.stderr;
    expect(log).toContain("boot: process 1 (init) started, pid 1");
    expect(log).toMatch(/init: \d+ modules, 4 devices, 8 services/);
    expect(log).toContain("init: started registry (pid 2)");
    expect(log).toContain('console: serving "console"');
    expect(log).toContain("dogma:/$ echo hello from the shell\nhello from the shell\n");
    expect(log).toContain("dogma:/$ echo a b | cat\na b\n");
    expect(log).toMatch(/init: the session is over; stopped \d+ services; halting/);
    expect(log).toContain("dogma: process 1 halted the machine");
    expect(run.code).toBe(0);
    expect(existsSync(disk) && statSync(disk).size).toBe(64 << 20);
  });

  it("keeps its disk in the data folder when no --disk is given", () => {
    const run = dogma(["boot"]);
    expect(run.stdout + run.stderr).toContain("boot: process 1 (init) started, pid 1");
    expect(statSync(join(work, "data", "disk.img")).size).toBe(64 << 20);
  });

  it("refuses a config it cannot read, and says which", () => {
    const run = dogma(["boot", "--config", join(work, "missing.conf")]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/dogma: cannot read the config .*missing\.conf: ENOENT/);
  });
});
