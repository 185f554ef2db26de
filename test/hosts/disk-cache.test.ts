// The module cache on disk: bounded by size, the records used longest ago dropped first; `dogma
// cache` shows and clears it. And `dogma run`'s code never imports binaryen.
import { chmodSync, mkdtempSync, readFileSync, readdirSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { randomBytes } from "node:crypto";
import { crc32 } from "node:zlib";
import { describe, expect, it } from "vitest";
import { cacheCommand } from "../../src/hosts/node/cache-command.ts";
import { DiskModuleCache } from "../../src/hosts/node/disk-cache.ts";
import { loaderIdentity } from "../../src/hosts/node/loader-identity.ts";
import { standardImportModules } from "../../src/hosts/standard-imports.ts";
import { Loader } from "../../src/loader/loader.ts";
import { expectSameBytes } from "../helpers/bytes.ts";
import { testMachine } from "../helpers/test-host.ts";
import { watToBinary } from "../loader/wat.ts";

const record = (n: number, fill: number) => new Uint8Array(n).fill(fill);

describe("DiskModuleCache", () => {
  it("keeps what it is given within its bound, dropping the records used longest ago", async () => {
    const dir = mkdtempSync(join(tmpdir(), "dogma-lru-"));
    const cache = new DiskModuleCache(dir, 3100);
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
    expect((await cache.entries()).reduce((n, e) => n + e.bytes, 0)).toBeLessThanOrEqual(3100);
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

// redteam4: a record is the code Dogma runs in place of the program, unchecked (with V8's lazy
// validation, not even validated). One bit flipped on disk in a group member's `offset=` (the
// distance from the address its group's head checked) keeps the module valid and moves the access
// past the checked span, out of the process's page into whatever frame follows: a read of memory
// the process was never given. A record damaged on disk must be a miss, however small the damage.
describe("a record damaged on disk", () => {
  // p + 4 and p read as one group (check-sharing): the member reads the head's frame at `offset=4`.
  const program = watToBinary(`(module
    (memory 1 1)
    (func (export "main") (result i32)
      (local $p i32)
      (local.set $p (i32.const 0x1ff8))
      (i32.store offset=4 (i32.const 0x1ff8) (i32.const 0x1234))
      (i32.add (i32.load (local.get $p)) (i32.load offset=4 (local.get $p)))))`);

  /** Loads and runs `program` with a fresh Loader on the disk cache in `dir`; its result and the loader's counts. */
  async function run(dir: string) {
    const t = testMachine({ loader: { cache: new DiskModuleCache(dir, 1 << 20) } });
    const image = await t.loader.load(program, "p.wasm");
    const process = t.kernel.spawn(image, { entry: "main" });
    await t.kernel.run();
    return { stats: { ...t.loader.stats }, value: process.returnValue, outcome: process.outcome };
  }

  it("one bit of a member's offset flipped: the record is not run (rewritten), and the program reads its own bytes", async () => {
    const dir = mkdtempSync(join(tmpdir(), "dogma-bitflip-"));
    expect(await run(dir)).toMatchObject({ stats: { rewrites: 1 }, value: 0x1234 });
    const file = join(dir, readdirSync(dir).find((name) => name.endsWith(".dgm"))!);
    const bytes = new Uint8Array(readFileSync(file));
    // The member's fast path: `local.get g; if (result i32); local.get g; i32.load align=2 offset=4`.
    const at = findMember(bytes);
    expect(at).toBeGreaterThan(0);
    bytes[at] ^= 0x40; // offset=4 -> offset=68: 60 bytes into the next frame
    writeFileSync(file, bytes);
    const again = await run(dir);
    expect(again.stats).toEqual({ rewrites: 1, diskHits: 0, memoryHits: 0 });
    expect(again).toMatchObject({ value: 0x1234, outcome: { kind: "exited", code: 0 } });
  });

  it("a record others may write (group or world write bit) is a miss; records are written for their owner alone", async () => {
    const dir = mkdtempSync(join(tmpdir(), "dogma-shared-"));
    const cache = new DiskModuleCache(dir, 1 << 20);
    await cache.put("r", record(100, 3));
    const file = join(dir, "r.dgm");
    expect(statSync(file).mode & 0o077).toBe(0);
    expect(await cache.get("r")).toEqual(record(100, 3));
    chmodSync(file, 0o664);
    expect(await cache.get("r")).toBeNull();
    chmodSync(file, 0o646);
    expect(await cache.get("r")).toBeNull();
    chmodSync(file, 0o644);
    expect(await cache.get("r")).toEqual(record(100, 3));
  });

  it("any one byte changed, or the file cut short, is a miss", async () => {
    const dir = mkdtempSync(join(tmpdir(), "dogma-damage-"));
    const cache = new DiskModuleCache(dir, 1 << 20);
    const good = record(5000, 7);
    for (const spoil of [(b: Uint8Array) => (b[4321] ^= 1), (b: Uint8Array) => (b[0] ^= 0x80)]) {
      await cache.put("r", good);
      const file = join(dir, "r.dgm");
      const bytes = new Uint8Array(readFileSync(file));
      spoil(bytes);
      writeFileSync(file, bytes);
      expect(await cache.get("r")).toBeNull();
    }
    await cache.put("r", good);
    expect(await cache.get("r")).toEqual(good);
    writeFileSync(join(dir, "r.dgm"), readFileSync(join(dir, "r.dgm")).subarray(0, 4000));
    expect(await cache.get("r")).toBeNull();
    writeFileSync(join(dir, "r.dgm"), new Uint8Array(0));
    expect(await cache.get("r")).toBeNull();
    // Another key's record, whole, under this key's name (one program's code for another's).
    await cache.put("r", good);
    await cache.put("s", record(5000, 9));
    writeFileSync(join(dir, "r.dgm"), readFileSync(join(dir, "s.dgm")));
    expect(await cache.get("s")).toEqual(record(5000, 9));
    expect(await cache.get("r")).toBeNull();
  });
});

describe("a record's check", () => {
  it("is node:zlib's CRC-32 of its key and bytes, on either side of the small records' line (small-hashes.js below, node:zlib above)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "dogma-check-"));
    const cache = new DiskModuleCache(dir, 8 << 20);
    for (const size of [5000, (1 << 20) - 4, (1 << 20) - 3, 2 << 20]) {
      const bytes = randomBytes(size);
      await cache.put("k", bytes);
      const file = readFileSync(join(dir, "k.dgm"));
      expect(file.readUInt32LE(size), `${size} bytes`).toBe(crc32(bytes, crc32("k")));
      const read = await cache.get("k");
      expect(read).not.toBeNull();
      expectSameBytes(read!, bytes);
      file[size >> 1] ^= 4;
      writeFileSync(join(dir, "k.dgm"), file);
      expect(await cache.get("k")).toBeNull();
    }
  });
});

/** Where the first group member's `offset=4` byte is in `bytes` (a record), or -1. */
function findMember(bytes: Uint8Array): number {
  for (let i = 0; i + 9 < bytes.length; i++) {
    // local.get g; if (result i32); local.get g; i32.load 2 4
    if (bytes[i] === 0x20 && bytes[i + 2] === 0x04 && bytes[i + 3] === 0x7f && bytes[i + 4] === 0x20 && bytes[i + 5] === bytes[i + 1] && bytes[i + 6] === 0x28 && bytes[i + 7] === 0x02 && bytes[i + 8] === 0x04) return i + 8;
  }
  return -1;
}
