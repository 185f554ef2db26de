// The module cache on disk: bounded by size, the records used longest ago dropped first; `dogma
// cache` shows and clears it. And `dogma run`'s code never imports binaryen.
import { mkdtempSync, readFileSync, readdirSync, utimesSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { cacheCommand } from "../../src/hosts/node/cache-command.ts";
import { DiskModuleCache } from "../../src/hosts/node/disk-cache.ts";
import { loaderIdentity } from "../../src/hosts/node/loader-identity.ts";
import { standardImportModules } from "../../src/hosts/standard-imports.ts";
import { Loader } from "../../src/loader/loader.ts";

const record = (n: number, fill: number) => new Uint8Array(n).fill(fill);

describe("DiskModuleCache", () => {
  it("keeps what it is given within its bound, dropping the records used longest ago", async () => {
    const dir = mkdtempSync(join(tmpdir(), "dogma-lru-"));
    const cache = new DiskModuleCache(dir, 3000);
    await cache.put("a", record(1000, 1));
    await cache.put("b", record(1000, 2));
    // Make "a" older than "b", then use it: "b" becomes the one used longest ago.
    const old = new Date(Date.now() - 60_000);
    utimesSync(join(dir, "a.dgm"), old, old);
    utimesSync(join(dir, "b.dgm"), new Date(Date.now() - 30_000), new Date(Date.now() - 30_000));
    expect(await cache.get("a")).toEqual(record(1000, 1));
    await cache.put("c", record(1000, 3));
    expect((await cache.entries()).map((e) => e.key).sort()).toEqual(["a", "b", "c"]);
    await cache.put("d", record(1000, 4));
    expect((await cache.entries()).map((e) => e.key).sort()).toEqual(["a", "c", "d"]);
    expect(await cache.get("b")).toBeNull();
    expect((await cache.entries()).reduce((n, e) => n + e.bytes, 0)).toBeLessThanOrEqual(3000);
    // A record larger than the whole bound is not kept.
    await cache.put("huge", record(4000, 5));
    expect(await cache.get("huge")).toBeNull();
  });

  it("writes a record given in parts as the parts joined", async () => {
    const cache = new DiskModuleCache(mkdtempSync(join(tmpdir(), "dogma-parts-")), 1 << 20);
    await cache.putParts("p", [record(3, 1), record(0, 2), record(70000, 3), record(1, 4)]);
    expect(await cache.get("p")).toEqual(Uint8Array.from([...record(3, 1), ...record(70000, 3), 4]));
  });

  it("never hands one build's rewrite to another: the rewriting code's digest is in every key", async () => {
    const cache = new DiskModuleCache(mkdtempSync(join(tmpdir(), "dogma-identity-")), 64 << 20);
    const bytes = new Uint8Array(readFileSync(resolve(import.meta.dirname, "../../build/user/echo.wasm")));
    const loader = (codeIdentity: string) => new Loader({ importModules: standardImportModules(), cache, codeIdentity });
    const first = loader("build a");
    await first.load(bytes, "echo");
    expect(first.stats).toEqual({ rewrites: 1, diskHits: 0, memoryHits: 0 });
    const other = loader("build b");
    await other.load(bytes, "echo");
    expect(other.stats).toEqual({ rewrites: 1, diskHits: 0, memoryHits: 0 });
    const same = loader("build a");
    await same.load(bytes, "echo");
    expect(same.stats).toEqual({ rewrites: 0, diskHits: 1, memoryHits: 0 });
    // The Node host's digest: of the loader's and the kernel's source, the same for the whole process.
    expect(loaderIdentity()).toMatch(/^[0-9a-f]{32}$/);
    expect(loaderIdentity()).toBe(loaderIdentity());
  });

  it("dogma cache shows the records and clears them", async () => {
    const dir = mkdtempSync(join(tmpdir(), "dogma-cache-cmd-"));
    const cache = new DiskModuleCache(dir, 1 << 20);
    await cache.put("x", record(2048, 1));
    await cache.put("y", record(1024, 2));
    let text = "";
    expect(await cacheCommand([], (t) => (text += t), cache)).toBe(0);
    expect(text).toBe(`${dir}: 2 records, 3.0 KiB of at most 1.0 MiB\n`);
    text = "";
    expect(await cacheCommand(["clear"], (t) => (text += t), cache)).toBe(0);
    expect(text).toBe(`removed 2 records from ${dir}\n`);
    expect(await cache.entries()).toEqual([]);
    expect(await cacheCommand(["bogus"], () => {}, cache)).toBe(2);
  });
});

/** Files reachable by static or dynamic import from `file`. */
function importGraph(file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen;
  seen.add(file);
  const text = readFileSync(file, "utf8");
  for (const m of text.matchAll(/(?:import|export)[^"']*?from\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g)) {
    const spec = m[1] ?? m[2]!;
    if (spec.startsWith(".")) importGraph(resolve(dirname(file), spec), seen);
    else seen.add(spec);
  }
  return seen;
}

it("nothing `dogma run` and `dogma boot` can load imports binaryen", () => {
  const root = resolve(import.meta.dirname, "../..");
  const graph = importGraph(join(root, "src/hosts/node/cli.ts"));
  importGraph(join(root, "src/hosts/node/loader-worker.ts"), graph);
  expect([...graph].filter((f) => /binaryen/.test(f)).map((f) => relative(root, f))).toEqual([]);
  expect(readdirSync(join(root, "src/loader")).length).toBeGreaterThan(5);
});
