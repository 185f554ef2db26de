// The bundled command line (scripts/build-cli.mjs): build/node/cli.cjs, one file of JavaScript in
// place of the ~190 TypeScript modules `dogma run` imports, which Node would otherwise resolve,
// read, strip of their types and link one by one at every start (~100 ms of a warm `dogma run` on
// the slow bench machine, its biggest part). bin/dogma.js runs it only while it is as new as its
// sources: the bundle's manifest holds the modification time and size of every file it was built
// from (and of every folder holding one, so that a file added beside them counts too), and one
// that differs sends the command to the sources. Plain JavaScript, so that choosing costs no type
// stripping.
import { wordHash } from "./small-hashes.js";

// Node's modules as process.getBuiltinModule gives them: an ESM import of node:fs builds its
// facade, which loads fs/promises, readline and the streams (scripts/build-cli.mjs says more).
const { readFileSync, statSync } = process.getBuiltinModule("node:fs");
const { join, sep } = process.getBuiltinModule("node:path");
const { pathToFileURL } = process.getBuiltinModule("node:url");

/** The manifest's format: a build of another format is not used. */
export const BUNDLE_FORMAT = 3;

/** The manifest's name in the bundle's folder. */
export const MANIFEST = "manifest.json";

/** Where scripts/build-cli.mjs writes the bundle, relative to the package's folder. */
export const BUNDLE_DIR = "build/node";

/**
 * The file URL of the bundle's entry in `dir` (the package's BUNDLE_DIR by default) when it was
 * built from the files of `root` as they are now; null when there is none, or it is older than
 * one of them.
 * @param {string} root
 * @param {string} [dir]
 * @returns {string | null}
 */
export function freshBundle(root, dir = join(root, BUNDLE_DIR)) {
  const bundle = freshManifest(root, dir);
  return bundle && pathToFileURL(bundle.file).href;
}

/**
 * The bundle's entry (a path) and its build's id when the bundle in `dir` was built from the
 * files of `root` as they are now (freshBundle); null otherwise.
 * @param {string} root
 * @param {string} [dir]
 * @returns {{ file: string, build: string } | null}
 */
export function freshManifest(root, dir = join(root, BUNDLE_DIR)) {
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(join(dir, MANIFEST), "utf8"));
  } catch {
    return null;
  }
  if (manifest?.format !== BUNDLE_FORMAT || typeof manifest.entry !== "string" || typeof manifest.build !== "string" || !Array.isArray(manifest.files) || !Array.isArray(manifest.dirs)) return null;
  // Paths joined by hand: path.join's normalizing was a third of this check's time.
  const base = root.endsWith(sep) ? root : root + sep;
  for (const [path, mtimeMs, size] of manifest.files) if (!sameStamp(base + path, mtimeMs, size)) return null;
  for (const [path, mtimeMs] of manifest.dirs) if (!sameStamp(base + path, mtimeMs, null)) return null;
  return { file: join(dir, manifest.entry), build: manifest.build };
}

/** Where a bundle's code caches are kept, in its folder. */
export const CODE_CACHE_DIR = "code-cache";

/** Bytes after the cache: its wordHash (V8 checks a code cache's version, flags and size, not its bytes). */
const CHECK_BYTES = 8;

/**
 * Runs the bundled command line `bundle` (freshManifest) with `argv`: its script compiled with
 * the code cache V8 made at the end of an earlier run of the same command with the same build,
 * when there is one, and such a cache made at this run's end when there was none, or V8 refused
 * it. Node's compile cache (bin/dogma.js) keeps only what V8 compiles as it loads a script, and
 * V8 compiles a function at its first call: a warm `dogma run` compiled ~300 functions of the
 * bundle anew every time (callgrind: 233-245 M instructions in all, 175-179 with the cache).
 * Made at the end of a run, with V8's flags as they were at its start (V8 refuses a cache made
 * under other flags: engine-flags.ts restoreEngineFlags). One cache per command (run, boot, ...):
 * each compiles different parts. A cache whose hash does not match, or that is not the user's
 * own, is not used (and made again).
 * @param {{ file: string, build: string }} bundle
 * @param {string[]} argv
 * @returns {Promise<number>}
 */
export async function runBundle(bundle, argv) {
  const vm = process.getBuiltinModule("node:vm");
  const { createRequire } = process.getBuiltinModule("node:module");
  const { dirname } = process.getBuiltinModule("node:path");
  const command = /^[a-z]+$/.test(argv[0] ?? "") ? argv[0] : "other";
  const cacheFile = join(dirname(bundle.file), CODE_CACHE_DIR, `${bundle.build}.${command}.v8`);
  const cachedData = readCodeCache(cacheFile);
  // The module as a function expression, as build-cli.mjs wrote it: V8 compiles the string read.
  const script = new vm.Script(readFileSync(bundle.file, "latin1"), {
    filename: bundle.file,
    cachedData,
    // Its dynamic imports (@noble/ciphers, node:child_process) through Node's own loader.
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  const module = { exports: /** @type {Record<string, any>} */ ({}) };
  script.runInThisContext()(module.exports, createRequire(bundle.file), module, bundle.file, dirname(bundle.file));
  const code = await module.exports.main(argv);
  if (cachedData === undefined || script.cachedDataRejected) {
    module.exports.restoreEngineFlags();
    writeCodeCache(cacheFile, script.createCachedData());
  }
  return code;
}

/**
 * The code cache in `file` without its check, or undefined when there is none, it is not the
 * user's own file (or others may write it), or its check fails.
 * @param {string} file
 * @returns {Buffer | undefined}
 */
function readCodeCache(file) {
  const { openSync, fstatSync, readSync, closeSync } = process.getBuiltinModule("node:fs");
  let fd;
  try {
    fd = openSync(file, "r");
  } catch {
    return undefined;
  }
  try {
    const info = fstatSync(fd);
    if ((process.getuid && info.uid !== process.getuid()) || (info.mode & 0o022) !== 0 || info.size <= CHECK_BYTES) return undefined;
    const bytes = Buffer.allocUnsafe(info.size);
    if (readSync(fd, bytes, 0, info.size, 0) !== info.size) return undefined;
    const data = bytes.subarray(0, info.size - CHECK_BYTES);
    return wordHash(data) === bytes.readBigInt64LE(info.size - CHECK_BYTES) ? data : undefined;
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes `data` and its check to `file` (a temporary name first: a reader never sees half of
 * one); a folder that cannot be written (a package installed read-only) only costs the cache.
 * @param {string} file
 * @param {Buffer} data
 */
function writeCodeCache(file, data) {
  const { mkdirSync, writeFileSync, renameSync } = process.getBuiltinModule("node:fs");
  const { dirname } = process.getBuiltinModule("node:path");
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    const check = Buffer.alloc(CHECK_BYTES);
    check.writeBigInt64LE(wordHash(data));
    const temporary = `${file}.${process.pid}.tmp`;
    writeFileSync(temporary, Buffer.concat([data, check]), { mode: 0o600 });
    renameSync(temporary, file);
  } catch {
    // The next start compiles what this one did.
  }
}

/**
 * A file's stamp as the manifest keeps it: its modification time, then its size (null for a
 * folder, whose size says nothing), or null when it is not there.
 * @param {string} path
 * @returns {[number, number | null] | null}
 */
export function stampOf(path) {
  const info = statSync(path, { throwIfNoEntry: false });
  if (!info) return null;
  return [info.mtimeMs, info.isDirectory() ? null : info.size];
}

/**
 * @param {string} path
 * @param {number} mtimeMs
 * @param {number | null} size
 */
function sameStamp(path, mtimeMs, size) {
  const stamp = stampOf(path);
  return stamp !== null && stamp[0] === mtimeMs && stamp[1] === size;
}
