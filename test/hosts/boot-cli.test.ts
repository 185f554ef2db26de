import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "../..");
const work = mkdtempSync(join(tmpdir(), "dogma-boot-"));

function dogma(args: string[]) {
  const result = spawnSync(process.execPath, [join(root, "bin/dogma.js"), ...args], {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, DOGMA_CACHE_DIR: join(work, "cache"), DOGMA_DATA_DIR: join(work, "data") },
    timeout: 120_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("dogma boot", () => {
  it("boots process 1 with the default config: registry, log, a service and its client", () => {
    const disk = join(work, "disk.img");
    const run = dogma(["boot", "--disk", disk, "--share", root]);
    const log = run.stdout + run.stderr;
    expect(log).toContain("boot: process 1 (init) started, pid 1");
    expect(log).toMatch(/init: 4 modules, 4 devices, 4 services/);
    expect(log).toContain("init: started registry (pid 2)");
    expect(log).toContain('hello-client: hello answered "hello, hello-client"');
    // Nothing the default config starts waits on a device yet: the machine goes idle and says so.
    expect(log).toMatch(/dogma: idle for good: process 1 and every other process are blocked/);
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
