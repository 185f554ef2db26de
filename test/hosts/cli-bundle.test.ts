import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUNDLE_FORMAT, CODE_CACHE_DIR, MANIFEST, freshBundle, stampOf } from "../../src/hosts/node/cli-bundle.js";
import { sourceIdentity } from "../../src/hosts/node/loader-identity.ts";

const root = join(import.meta.dirname, "../..");
const work = mkdtempSync(join(tmpdir(), "dogma-cli-bundle-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("freshBundle (which command line bin/dogma.js runs)", () => {
  /** A package folder with one source in src/ and a bundle built from it, as build-cli.mjs records it. */
  function fakePackage(): { pkg: string; source: string; bundle: string } {
    const pkg = mkdtempSync(join(work, "pkg-"));
    const bundle = join(pkg, "build/node");
    mkdirSync(join(pkg, "src"), { recursive: true });
    mkdirSync(bundle, { recursive: true });
    const source = join(pkg, "src/a.ts");
    writeFileSync(source, "export const a = 1;\n");
    writeFileSync(join(bundle, "cli.js"), "export const a = 1;\n");
    const manifest = { format: BUNDLE_FORMAT, entry: "cli.js", build: "b1", files: [["src/a.ts", ...stampOf(source)!]], dirs: [["src", stampOf(join(pkg, "src"))![0]]] };
    writeFileSync(join(bundle, MANIFEST), JSON.stringify(manifest));
    return { pkg, source, bundle };
  }

  it("gives the bundle's entry while its sources are as they were built", () => {
    const { pkg, bundle } = fakePackage();
    expect(freshBundle(pkg)).toBe(pathToFileURL(join(bundle, "cli.js")).href);
  });

  it("gives null once a source is changed, even to the same size, or removed", () => {
    const changed = fakePackage();
    writeFileSync(changed.source, "export const a = 2;\n");
    expect(freshBundle(changed.pkg)).toBeNull();
    const touched = fakePackage();
    utimesSync(touched.source, new Date(), new Date(Date.now() + 5_000));
    expect(freshBundle(touched.pkg)).toBeNull();
    const removed = fakePackage();
    rmSync(removed.source);
    expect(freshBundle(removed.pkg)).toBeNull();
  });

  it("gives null once a file is added beside the sources", () => {
    const { pkg } = fakePackage();
    writeFileSync(join(pkg, "src/b.ts"), "export const b = 1;\n");
    expect(freshBundle(pkg)).toBeNull();
  });

  it("gives null without a manifest, or with one of another format", () => {
    const missing = fakePackage();
    rmSync(join(missing.bundle, MANIFEST));
    expect(freshBundle(missing.pkg)).toBeNull();
    const other = fakePackage();
    const manifest = JSON.parse(readFileSync(join(other.bundle, MANIFEST), "utf8")) as { format: number };
    writeFileSync(join(other.bundle, MANIFEST), JSON.stringify({ ...manifest, format: BUNDLE_FORMAT + 1 }));
    expect(freshBundle(other.pkg)).toBeNull();
    // Without the build's id, which names its code caches.
    const unnamed = fakePackage();
    const { build: _, ...rest } = JSON.parse(readFileSync(join(unnamed.bundle, MANIFEST), "utf8")) as { build: string };
    writeFileSync(join(unnamed.bundle, MANIFEST), JSON.stringify(rest));
    expect(freshBundle(unnamed.pkg)).toBeNull();
  });
});

describe("the bundled command line (scripts/build-cli.mjs)", () => {
  // As deep in the package as build/node: where the sources' relative paths lead elsewhere.
  const out = join(root, "build", `node-test-${process.pid}`);
  const cacheDir = join(work, "cache");
  beforeAll(() => void execFileSync(process.execPath, [join(root, "scripts/build-cli.mjs"), "--out", out], { cwd: root, stdio: "pipe" }));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  /**
   * `dogma ARGS` through the bundle in `out` (or the sources), in a child that records every
   * module it loads (by URL) and Node's own modules it loads ("NativeModule NAME").
   */
  function dogma(args: string[], from: "bundle" | "sources" = "bundle"): { status: number | null; stdout: string; stderr: string; loaded: string[] } {
    const entry =
      from === "sources"
        ? JSON.stringify(pathToFileURL(join(root, "src/hosts/node/cli.ts")).href)
        : `(await import(${JSON.stringify(join(root, "src/hosts/node/cli-bundle.js"))})).freshManifest(${JSON.stringify(root)}, ${JSON.stringify(out)})`;
    // As bin/dogma.js runs either.
    const run = from === "sources" ? `(await import(entry)).main(args)` : `(await import(${JSON.stringify(join(root, "src/hosts/node/cli-bundle.js"))})).runBundle(entry, args)`;
    const script = `
      import { registerHooks } from "node:module";
      const loaded = [];
      registerHooks({ load(url, context, next) { loaded.push(url); return next(url, context); } });
      process.on("exit", () => process.stderr.write("LOADED " + JSON.stringify([...loaded, ...process.moduleLoadList]) + "\\n"));
      const entry = ${entry};
      if (entry === null) throw new Error("the bundle just built is not fresh");
      const args = ${JSON.stringify(args)};
      process.exitCode = await ${run};`;
    const result = spawnSync(process.execPath, ["--input-type=module", "-e", script], { cwd: root, encoding: "utf8", env: { ...process.env, DOGMA_CACHE_DIR: cacheDir } });
    const match = /^LOADED (.*)\n/m.exec(result.stderr);
    return { status: result.status, stdout: result.stdout, stderr: result.stderr.replace(/^LOADED .*\n/m, ""), loaded: match ? (JSON.parse(match[1]!) as string[]) : [] };
  }

  it("runs a cached program loading no TypeScript and no rewriter, with the sources' module cache key", () => {
    expect(JSON.parse(readFileSync(join(out, MANIFEST), "utf8")).identity).toBe(sourceIdentity());
    // The sources fill the module cache; the bundle finds the same record there (its identity is the sources').
    const fromSources = dogma(["run", "build/user/hello.wasm"], "sources");
    expect(fromSources).toMatchObject({ status: 0, stdout: "hello from dogma pid 1\n", stderr: "" });
    expect(fromSources.loaded.filter((url) => url.endsWith(".ts")).length).toBeGreaterThan(100);
    const records = readdirSync(cacheDir).filter((name) => name.endsWith(".dgm"));
    expect(records).toHaveLength(1);
    const run = dogma(["run", "build/user/hello.wasm", "one"]);
    expect(run).toMatchObject({ status: 0, stdout: "hello from dogma pid 1\none\n", stderr: "" });
    expect(run.loaded.filter((url) => url.endsWith(".ts"))).toEqual([]);
    // The sources load the rewriter at a cache miss only (loader.ts rewriter); the bundle's one
    // script holds it, compiled only if called.
    expect(fromSources.loaded.filter((url) => /rewrite-module\.ts$/.test(url))).toHaveLength(1);
    expect(readdirSync(join(out, CODE_CACHE_DIR))).toEqual([`${bundleBuild()}.run.v8`]);
    // Node's own modules come from process.getBuiltinModule, not through ESM facades, which run
    // every lazy getter of a module's exports: these two only node:fs's and node:util's load.
    expect(run.loaded.filter((name) => /^NativeModule internal\/(streams\/fast-utf8-stream|util\/diff)$/.test(name))).toEqual([]);
    // The cache key's SHA-256 and the small record's CRC-32 come from small-hashes.ts.
    expect(run.loaded.filter((name) => /^NativeModule (crypto|zlib)$/.test(name))).toEqual([]);
    // The program, its record and the digests are read with node:fs's calls (fd-file.ts).
    expect(run.loaded.filter((name) => /^NativeModule (fs\/promises|internal\/readline\/interface)$/.test(name))).toEqual([]);
    expect(readdirSync(cacheDir).filter((name) => name.endsWith(".dgm"))).toEqual(records);
  });

  it("writes one function expression whose module bodies V8 compiles at their first call", () => {
    const code = readFileSync(join(out, "cli.cjs"), "latin1");
    // The script runBundle compiles as read: CommonJS's function, its body on the bundle's lines.
    expect(code.startsWith("(function (exports, require, module, __filename, __dirname) {Object.defineProperty(exports")).toBe(true);
    expect(code.endsWith("\n})")).toBe(true);
    // A parenthesized function is compiled with the script (and kept in each code cache): the
    // bodies of modules `dogma run` never imports (the rewriter's) among them.
    expect(code.match(/__esmMin\(\(\) => \{/g)?.length).toBeGreaterThan(100);
    expect(code).not.toMatch(/__esmMin\(\(\(\) =>|__esmMin\(\(0, \(\) =>/);
  });

  /** The id of the build in `out` (its code caches are named by it). */
  const bundleBuild = () => (JSON.parse(readFileSync(join(out, MANIFEST), "utf8")) as { build: string }).build;

  it("makes V8's code cache at a command's first run and uses it after; a damaged one is made again", () => {
    rmSync(join(out, CODE_CACHE_DIR), { recursive: true, force: true });
    const file = join(out, CODE_CACHE_DIR, `${bundleBuild()}.run.v8`);
    expect(dogma(["run", "build/user/hello.wasm"])).toMatchObject({ status: 0, stdout: "hello from dogma pid 1\n", stderr: "" });
    const made = readFileSync(file);
    const madeAt = statSync(file).mtimeMs;
    // Used, so not made again: V8 took it (made under the flags a start has: restoreEngineFlags).
    expect(dogma(["run", "build/user/hello.wasm"])).toMatchObject({ status: 0, stdout: "hello from dogma pid 1\n", stderr: "" });
    expect(statSync(file).mtimeMs).toBe(madeAt);
    expect(readFileSync(file).equals(made)).toBe(true);
    // One bit flipped in the middle (V8 checks no byte of a cache): not used, made again.
    const damaged = Buffer.from(made);
    damaged[damaged.length >> 1] ^= 0x10;
    writeFileSync(file, damaged);
    expect(dogma(["run", "build/user/hello.wasm", "x"])).toMatchObject({ status: 0, stdout: "hello from dogma pid 1\nx\n", stderr: "" });
    expect(readFileSync(file).equals(damaged)).toBe(false);
    // Another command has its own.
    expect(dogma(["--version"]).status).toBe(0);
    expect(readdirSync(join(out, CODE_CACHE_DIR)).sort()).toEqual([`${bundleBuild()}.other.v8`, `${bundleBuild()}.run.v8`]);
  });

  it("finds the package's files from build/: its version, a folder's server", () => {
    const { version } = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string };
    expect(dogma(["--version"]).stdout).toBe(`dogma ${version} (Node.js ${process.versions.node})\n`);
    const shared = mkdtempSync(join(work, "shared-"));
    // The folder's server (build/user/folderfs.wasm) is pid 1, the program pid 2.
    expect(dogma(["run", "--dir", shared, "build/user/hello.wasm"])).toMatchObject({ status: 0, stdout: "hello from dogma pid 2\n", stderr: "" });
  });
});
