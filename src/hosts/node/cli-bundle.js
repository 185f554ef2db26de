// The bundled command line (scripts/build-cli.mjs): build/node/cli.js, one file of JavaScript in
// place of the ~190 TypeScript modules `dogma run` imports, which Node would otherwise resolve,
// read, strip of their types and link one by one at every start (~100 ms of a warm `dogma run` on
// the slow bench machine, its biggest part). bin/dogma.js runs it only while it is as new as its
// sources: the bundle's manifest holds the modification time and size of every file it was built
// from (and of every folder holding one, so that a file added beside them counts too), and one
// that differs sends the command to the sources. Plain JavaScript, so that choosing costs no type
// stripping.
// Node's modules as process.getBuiltinModule gives them: an ESM import of node:fs builds its
// facade, which loads fs/promises, readline and the streams (scripts/build-cli.mjs says more).
const { readFileSync, statSync } = process.getBuiltinModule("node:fs");
const { join, sep } = process.getBuiltinModule("node:path");
const { pathToFileURL } = process.getBuiltinModule("node:url");

/** The manifest's format: a build of another format is not used. */
export const BUNDLE_FORMAT = 1;

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
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(join(dir, MANIFEST), "utf8"));
  } catch {
    return null;
  }
  if (manifest?.format !== BUNDLE_FORMAT || typeof manifest.entry !== "string" || !Array.isArray(manifest.files) || !Array.isArray(manifest.dirs)) return null;
  // Paths joined by hand: path.join's normalizing was a third of this check's time.
  const base = root.endsWith(sep) ? root : root + sep;
  for (const [path, mtimeMs, size] of manifest.files) if (!sameStamp(base + path, mtimeMs, size)) return null;
  for (const [path, mtimeMs] of manifest.dirs) if (!sameStamp(base + path, mtimeMs, null)) return null;
  return pathToFileURL(join(dir, manifest.entry)).href;
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
