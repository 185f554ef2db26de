// A --dir share the sealed program may write must not hold Dogma's module cache (redteam11): its
// records run in place of a program, unchecked, past the software MMU, so a program given a share
// above the cache (--dir ~ with the cache in ~/.cache/dogma) could plant one for its own binary and
// run unsealed the next time. `dogma run` refuses such a share; read-only, or one beside the
// cache, is fine.
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { shareHoldingCache } from "../../src/hosts/node/cache-exposure.ts";

const root = join(import.meta.dirname, "../..");
const work = mkdtempSync(join(tmpdir(), "dogma-cache-exposure-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const home = join(work, "home");
const cache = join(home, ".cache", "dogma", "modules");
const beside = join(work, "data");
mkdirSync(join(home, "project"), { recursive: true });
mkdirSync(beside, { recursive: true });
symlinkSync(home, join(work, "home-link"));

function dogma(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [join(root, "bin/dogma.js"), ...args], { cwd: root, env: { ...process.env, DOGMA_CACHE_DIR: cache } });
  child.stdin.end();
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (data: Buffer) => void (stdout += data.toString()));
  child.stderr.on("data", (data: Buffer) => void (stderr += data.toString()));
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
}

const spec = (host: string, readOnly = false) => ({ host, guest: host, readOnly });

describe("a writable share holding the module cache", () => {
  it("is found, whether the cache is made yet or not, through links too; a read-only one or one beside it is not", async () => {
    expect(await shareHoldingCache([spec(beside), spec(home)], cache)).toEqual(spec(home));
    expect(await shareHoldingCache([spec(join(work, "home-link"))], cache)).not.toBeNull();
    expect(await shareHoldingCache([spec(cache)], cache)).not.toBeNull();
    expect(await shareHoldingCache([spec(home, true)], cache)).toBeNull();
    expect(await shareHoldingCache([spec(join(home, "project")), spec(beside)], cache)).toBeNull();
    mkdirSync(cache, { recursive: true });
    expect(await shareHoldingCache([spec(join(work, "home-link"))], cache)).not.toBeNull();
  });

  it("is found when a link on the cache's path leads into the share to a folder not made yet", async () => {
    // ~/.cache a link to data/cache, which does not exist: the program could make it, and the cache in it.
    const other = join(work, "other");
    const data = join(work, "other-data");
    mkdirSync(other, { recursive: true });
    mkdirSync(data, { recursive: true });
    symlinkSync(join(data, "cache"), join(other, ".cache"));
    expect(await shareHoldingCache([spec(data)], join(other, ".cache", "dogma", "modules"))).toEqual(spec(data));
    // A link relative to where it stands, dangling twice over.
    symlinkSync("../other-data/later", join(other, ".cache2"));
    symlinkSync("../more", join(data, "later"));
    expect(await shareHoldingCache([spec(join(work, "more"))], join(other, ".cache2", "x"))).toEqual(spec(join(work, "more")));
    expect(await shareHoldingCache([spec(join(work, "project-else"))], join(other, ".cache", "dogma"))).toBeNull();
  });

  it("is refused by dogma run, which says why; read-only it runs", async () => {
    const refused = await dogma(["run", "--dir", home, "build/user/echo.wasm", "x"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`--dir ${home} would let the program write Dogma's module cache`);
    expect(refused.stdout).toBe("");
    const readOnly = await dogma(["run", "--dir", `${home}:ro`, "build/user/echo.wasm", "x"]);
    expect(readOnly.stdout).toBe("x\n");
    expect(readOnly.code).toBe(0);
  }, 60_000);
});
