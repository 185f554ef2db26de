#!/usr/bin/env node
// Bundles the Node host's command line (src/hosts/node/cli.ts and what it imports, and the loader
// workers' entry) into build/node/ with rolldown: a few files of plain JavaScript that Node loads
// at once, where the sources are ~190 TypeScript modules it resolves, reads, strips and links one
// by one at every start. bin/dogma.js runs the bundle while it is as new as its sources and the
// sources otherwise (src/hosts/node/cli-bundle.js), so a stale or missing bundle costs time only.
// The loader's identity (loader-identity.ts), a hash of the rewriting code's sources, is
// computed here and written into the bundle, which need not read those sources at each start.
//
//   node scripts/build-cli.mjs              build/node, unless it is up to date
//   node scripts/build-cli.mjs --out DIR    into DIR instead, a folder under build/ (the tests')
//
// Without rolldown (a `npm install --omit=dev`) it says so and builds nothing: the sources run.
import { randomUUID } from "node:crypto";
import { readdirSync } from "node:fs";
import { rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { BUNDLE_DIR, BUNDLE_FORMAT, MANIFEST, freshBundle, stampOf } from "../src/hosts/node/cli-bundle.js";

const script = fileURLToPath(import.meta.url);
const root = path.resolve(path.dirname(script), "..");
const outAt = process.argv.indexOf("--out");
const out = outAt >= 0 ? path.resolve(process.argv[outAt + 1]) : path.join(root, BUNDLE_DIR);
if (!out.startsWith(path.join(root, "build") + path.sep)) throw new Error(`--out ${out}: not a folder under build/ (the bundle finds the package above it, and the folder is emptied first)`);
const CLI_ENTRY = "src/hosts/node/cli.ts";
const WORKER_ENTRY = "src/hosts/node/loader-worker-entry.js";
/** Files besides the bundle's inputs whose change makes it stale: this script, the bundler's version. */
const BUILD_FILES = [path.relative(root, script), "package-lock.json"];

/** Every file and folder under `dir` (relative to the package), with its stamp now. */
function stampsUnder(dir, stamps = new Map()) {
  stamps.set(path.relative(root, dir), stampOf(dir));
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) stampsUnder(full, stamps);
    else stamps.set(path.relative(root, full), stampOf(full));
  }
  return stamps;
}

async function main() {
  if (freshBundle(root, out)) return;
  let rolldown;
  try {
    rolldown = await import("rolldown");
  } catch {
    console.log("build-cli: rolldown is not installed (npm install without --omit=dev): the command line runs from its sources");
    return;
  }
  const started = performance.now();
  // No manifest while the folder is being rewritten: nothing runs a half-written bundle.
  await rm(out, { recursive: true, force: true });
  // Stamps taken before anything is read: a source changed during the build leaves a stale bundle.
  const stamps = stampsUnder(path.join(root, "src"));
  for (const file of BUILD_FILES) stamps.set(file, stampOf(path.join(root, file)));
  const { sourceIdentity } = await import("../src/hosts/node/loader-identity.ts");
  const identity = sourceIdentity();
  const common = {
    platform: "node",
    // Packages (vite for `dogma web`, @noble/ciphers) load from node_modules as they do for the sources.
    external: (id) => !id.startsWith(".") && !path.isAbsolute(id) && !id.startsWith("\0"),
    transform: { define: { __DOGMA_LOADER_IDENTITY__: JSON.stringify(identity) } },
  };
  const output = {
    // Class and function names as in the sources (KernelObject's describe() prints its class's).
    keepNames: true,
    dir: out,
    // No comments and no characters past ASCII: Node reads the bundle as a one-byte string, half
    // the size of a two-byte one, without decoding UTF-8 (~15 ms of a start on the bench machine).
    comments: false,
    charset: "ascii",
  };
  // The command line: one script (CommonJS, its dynamic imports inlined, in the function Node
  // wraps such a module in), which bin/dogma.js compiles with vm.Script and V8's code cache of a
  // run before (cli-bundle.js runBundle).
  const cli = await rolldown.build({
    ...common,
    plugins: [lazyRequires],
    input: { cli: path.join(root, CLI_ENTRY) },
    output: { ...output, format: "cjs", entryFileNames: "[name].cjs", codeSplitting: false },
  });
  // The loader workers' entry, as a module: loader-workers.ts starts ./loader-worker-entry.js
  // beside the script it is in.
  const worker = await rolldown.build({
    ...common,
    plugins: [builtinsWithoutFacades],
    input: { "loader-worker-entry": path.join(root, WORKER_ENTRY) },
    output: { ...output, format: "esm", entryFileNames: "[name].js" },
  });
  const built = { output: [...cli.output, ...worker.output] };
  const inputs = new Set(BUILD_FILES);
  for (const chunk of built.output) {
    if (chunk.type !== "chunk") continue;
    for (const id of chunk.moduleIds) {
      if (path.isAbsolute(id) && id.startsWith(root + path.sep) && !id.includes(`${path.sep}node_modules${path.sep}`)) inputs.add(path.relative(root, id));
    }
  }
  // The rewriting code's files are all in the identity, imported or not.
  for (const [file, stamp] of stamps) if (/^src\/(loader|kernel)\//.test(file) && stamp?.[1] !== null) inputs.add(file);
  const folders = new Set([...inputs].filter((f) => f.startsWith("src/")).map((f) => path.dirname(f)));
  const files = [...inputs].sort().map((file) => [file, ...stampedBefore(stamps, file)]);
  const dirs = [...folders].sort().map((dir) => [dir, stampedBefore(stamps, dir)[0]]);
  // `build` names this build's code caches (cli-bundle.js): a cache of another build is never read.
  const manifest = { format: BUNDLE_FORMAT, entry: "cli.cjs", build: randomUUID(), identity, files, dirs };
  const temporary = path.join(out, `${MANIFEST}.${process.pid}.tmp`);
  await writeFile(temporary, `${JSON.stringify(manifest)}\n`);
  await rename(temporary, path.join(out, MANIFEST));
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`built the command line's bundle (${path.relative(root, out)}, ${inputs.size} files) in ${seconds} s`);
}

/**
 * Node's own modules imported as `process.getBuiltinModule(...)`'s exports, not through ESM: an
 * ESM import of one builds its facade, which reads every export, and so runs every lazy getter:
 * `import { readFileSync } from "node:fs"` loads fs/promises, readline and the streams (33
 * modules), node:util the worker threads. A warm `dogma run` loaded 60 of Node's modules more for
 * them (callgrind: the bundle's imports of them 44 million instructions as facades, 24 as
 * getBuiltinModule). The bundle's imports of them are all named (`import { a, b as c } from
 * "node:x"`) at the top of a chunk, where a declaration of the same names does the same.
 */
const builtinsWithoutFacades = {
  name: "builtins-without-facades",
  renderChunk(code) {
    const replaced = code.replace(/^import \{([^}]*)\} from "(node:[a-z0-9_/]+)";$/gm, (_, names, id) => `const {${names.replace(/\s+as\s+/g, ": ")}} = process.getBuiltinModule(${JSON.stringify(id)});`);
    const left = /^import[^"]*"node:.*$/m.exec(replaced);
    if (left) throw new Error(`build-cli: an import of Node's own module in a form builtinsWithoutFacades does not rewrite: ${left[0]}`);
    return replaced;
  },
};

/**
 * Node's modules that `dogma run` needs (with the V8 code cache, loading them costs less than
 * reaching them through a proxy); the CommonJS output requires every external module at its top,
 * and any other is made a proxy that requires it at its first use: node:crypto (the page cipher,
 * `dogma boot`'s first disk), node:sqlite, vite (`dogma web`), which most starts never touch, and
 * node:fs/promises, which a warm `dogma run` does without (fd-file.ts) and a cache miss, a boot
 * or a shared folder loads.
 */
const EAGER_REQUIRES = new Set(["node:fs", "node:path", "node:url", "node:util", "node:os", "node:v8", "node:worker_threads", "node:module"]);

const lazyRequires = {
  name: "lazy-requires",
  renderChunk(code) {
    return lazyInits(code).replace(/^let ([\w$]+) = require\(("[^"]+")\);$/gm, (line, name, id) => {
      if (EAGER_REQUIRES.has(JSON.parse(id))) return line;
      return `let ${name}$loaded; let ${name} = new Proxy({}, { get: (_, key) => (${name}$loaded ??= require(${id}))[key] });`;
    });
  },
  // On the chunk as written (rolldown prints the code renderChunk gives it again). The file holds
  // the script runBundle compiles: the module in CommonJS's function, its first line on the
  // wrapper's (the line numbers stay the bundle's), so that its text goes to V8 as read, where
  // a wrapper added at each start made V8 copy all of it once more (a flattened string).
  generateBundle(_, bundle) {
    for (const chunk of Object.values(bundle)) {
      if (chunk.type !== "chunk") continue;
      if (/__esmMin\(\((\(\)|0,)/.test(chunk.code)) throw new Error("build-cli: a module body still in parentheses in the bundle written (lazyInits)");
      chunk.code = `(function (exports, require, module, __filename, __dirname) {${chunk.code}\n})`;
    }
  },
};

/**
 * Each module's body (rolldown's `init_x = __esmMin((() => {...}))`, run at its first import) as
 * a function V8 compiles at its first call, not with the script: V8 takes a parenthesized function
 * for one called at once and compiles it eagerly, so every module's body was compiled at each
 * start and went into the code cache, those `dogma run` never imports too (the rewriter's, boot's,
 * web's: about a quarter of the bundle). Written `(0, () => {...})` here, the same function, which
 * rolldown prints again as `__esmMin(() => {...})` (checked in generateBundle): V8 compiles
 * what is inside parentheses eagerly too (they might be an arrow function's parameters).
 * `dogma run`'s code cache 844 → 554 KB, callgrind 211 → 199 M instructions a warm run.
 */
function lazyInits(code) {
  const marked = "= __esmMin((() => {";
  const count = code.split(marked).length - 1;
  if (count === 0) throw new Error("build-cli: no module body in rolldown's form `= __esmMin((() => {`: lazyInits needs updating");
  return code.replaceAll(marked, "= __esmMin((0, () => {");
}

/** The stamp `file` had before the build; throws when it appeared during it. */
function stampedBefore(stamps, file) {
  const stamp = stamps.get(file);
  if (!stamp) throw new Error(`${file} appeared during the build: run it again`);
  return stamp;
}

await main();
