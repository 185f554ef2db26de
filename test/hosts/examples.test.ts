import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

/**
 * The user/examples programs, run as a person would run them: whole machines driven through
 * `dogma run`, several processes talking through capabilities, checked by what they print.
 */
const root = join(import.meta.dirname, "../..");
const cacheDir = mkdtempSync(join(tmpdir(), "dogma-examples-cache-"));
const built = (name: string) => join("build/user", `${name}.wasm`);

function dogma(args: string[]) {
  const result = spawnSync(process.execPath, [join(root, "bin/dogma.js"), "run", ...args], {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, DOGMA_CACHE_DIR: cacheDir },
    timeout: 60_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("the capability examples", () => {
  it("echo: a client calls a server it was introduced to; the parent monitors and kills", () => {
    const run = dogma(["--module", built("echo-server"), "--module", built("echo-client"), built("echo-demo")]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("echo-client: 8 of 8 echoes matched");
    expect(run.stdout).toContain("echo-client: the server sees me as badge 42");
    expect(run.stdout).toMatch(/echo-demo: client pid \d+ ended: exited, exit code 0/);
    expect(run.stdout).toContain("echo-demo: server exited with code 137 (killed)");
    expect(run.stdout.trimEnd().split("\n").at(-1)).toBe("echo-demo: ok");
  });

  it("region hand-off: the sender loses the range in the same step, the child reads and answers", () => {
    const run = dogma(["--module", built("region-child"), built("region-handoff")]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/region-handoff: sent; slot \d+ is empty, owner no/);
    expect(run.stdout).toContain("region-child: 4096 of 4096 words match");
    expect(run.stdout).toContain("region-handoff: 4096 of 4096 words hold the child's answer");
    expect(run.stdout.trimEnd().split("\n").at(-1)).toBe("region-handoff: ok");
  });

  it("monitor: a child's fault arrives as PROCESS_ENDED with its fault record", () => {
    const run = dogma(["--module", built("fault-null"), built("monitor")]);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/^dogma: fault-null\.wasm \(pid 2\): null-page at 0x00000000/);
    expect(run.stdout).toContain("monitor: PROCESS_ENDED pid 2, faulted, exit code -1");
    expect(run.stdout).toContain("monitor: fault null-page at 0x0");
    expect(run.stdout.trimEnd().split("\n").at(-1)).toBe("monitor: ok");
  });

  it("server pool: a counter served by the kernel is cloned after three calls, and both go on from there", () => {
    const run = dogma(["--module", built("counter-server"), built("server-pool")]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("server-pool: call 3: pid 2 count 3 history 3");
    expect(run.stdout).toMatch(/server-pool: cloned pid 2 as pid (\d+)/);
    const copy = /cloned pid 2 as pid (\d+)/.exec(run.stdout)![1];
    // Each continues from the original's state: its 4th call, global and heap string alike.
    expect(run.stdout).toContain("pid 2 count 4 history 4");
    expect(run.stdout).toContain(`pid ${copy} count 4 history 4`);
    expect(run.stdout.trimEnd().split("\n").at(-1)).toBe("server-pool: both went on from where the original was: ok");
  });

  it("says what is wrong when the examples are started without their modules", () => {
    const run = dogma([built("echo-demo")]);
    expect(run.code).toBe(2);
    expect(run.stdout + run.stderr).toMatch(/slot|module/i);
  });
});
