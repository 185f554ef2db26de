#!/usr/bin/env node
// Compiles the user programs: every user/<folder>/<name>.ts of the folders below (programs,
// examples, init, services, drivers) into build/user/<name>.wasm with the AssemblyScript compiler
// API, and user/wasi/*.wat with binaryen (a name in two folders is an error: they share one output
// folder). Only a folder's top-level files are programs; its subfolders hold modules they import
// (user/init/parts). A program that imports libdogma (`from "../lib"`) gets its abort, which
// reports and exits; any other (the bench-* kernels, spin) gets a trap instead, so that it can
// import nothing. A program is rebuilt only when a source it imports (followed through every
// relative import, so the shell's parts rebuild the shell alone), its manifest or this script is
// newer than its .wasm.
//
//   node scripts/build-user.mjs            everything (npm test, npm run bench, npm run build)
//   node scripts/build-user.mjs --boot     what `dogma boot` boots: init and every module the
//                                          default config names (npm start)
//
// Programs compile in parallel, one worker thread per core, each keeping one compiler loaded;
// a terminal sees one progress line, a pipe one line at the end. The compiler is loaded only
// when something is out of date, so a warm check costs a few stat calls.
import os from "node:os";
import { mkdir, readFile, readdir, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Worker, isMainThread, parentPort } from "node:worker_threads";
import { embedManifest, manifestMtime } from "./manifest-section.mjs";
import { sourcesOf } from "./source-imports.mjs";

const script = fileURLToPath(import.meta.url);
const root = path.resolve(path.dirname(script), "..");
const userDir = path.join(root, "user");
// The folders of programs, each compiled the same way; internal paths are <folder>/<name>.
const SOURCE_FOLDERS = ["programs", "examples", "init", "services", "drivers"];
const libDir = path.join(userDir, "lib");
const outDir = path.join(root, "build", "user");
const wasiDir = path.join(userDir, "wasi");
const DEFAULT_CONFIG = path.join(userDir, "boot", "init.conf");

const COMMON = [
  "--baseDir", userDir, // internal paths become programs/<name>, examples/<name> and lib/<file>
  "--shrinkLevel", "0",
  // Keeps the name section (binaryen strips it otherwise), so fault records can name functions.
  "--debug",
  "--runtime", "stub",
  // Dogma never maps the first 4 KiB; starting static data at the second wasm page keeps it well
  // clear of page 0 and leaves the rest of the first wasm page untouched (so never allocated).
  "--memoryBase", "65536",
  // Top-level code becomes the export _start instead of a start section: the kernel calls _start
  // like any export, so the loader has no start section to turn into one.
  "--exportStart", "_start",
  // Already off by default in AssemblyScript 0.28; said explicitly because user space must not
  // depend on them (the ABI refuses shared memory, and the loader need not handle the others).
  "--disable", "simd,threads,exception-handling",
  "--noColors",
];

// -O3 for what runs the system (servers, drivers, init) and for the benchmark kernels, whose speed
// is measured; -O1 for the tools and the shell, which compile in half the time (most of what a
// first `npm start` waits for) and spend their lives waiting for a person or a server (grep over
// 2 MB: 1.3 s at -O1, 1.05 s at -O2, 1.7 s at -O0).
const optimizeLevel = ({ folder, name }) => (folder === "programs" && !name.startsWith("bench-") ? "1" : "3");

// A program that allocates for ever (the shell) asks for the garbage-collected runtime with this
// line in its source; everything else keeps the stub, which never frees.
const wantsIncremental = (source) => /^\/\/ dogma:runtime incremental$/m.test(source);

// lib/abort.ts is only compiled into programs that import the library's index, which exports it.
const importsLibdogma = (source) => /from\s+["']\.\.\/lib(\/index)?["']/.test(source);

// ---- The worker: one compiler, many programs ---------------------------------------------------

/** Compiles one program: its size and the compiler's messages, or throws with them. */
async function compile(asc, { folder, name }) {
  const source = path.join(userDir, folder, `${name}.ts`);
  const output = path.join(outDir, `${name}.wasm`);
  const stderr = asc.createMemoryStream();
  const stdout = asc.createMemoryStream();
  const text = await readFile(source, "utf8");
  const argv = [
    path.join(folder, `${name}.ts`),
    "--outFile", output,
    "--use", importsLibdogma(text) ? "abort=lib/abort/dogmaAbort" : "abort=",
    "--optimizeLevel", optimizeLevel({ folder, name }),
    ...COMMON,
    ...(wantsIncremental(text) ? ["--runtime", "incremental"] : []),
  ];
  const { error } = await asc.main(argv, { stdout, stderr });
  // The compiler's INFO notes (AS210, "expression is never null", on a `!` the flow analysis made
  // redundant) are style, not trouble: warnings and errors are shown, notes are not.
  const messages = stderr
    .toString()
    .split(/\n(?=INFO |WARNING |ERROR )/)
    .filter((block) => !block.startsWith("INFO "))
    .join("\n")
    .trim();
  if (error) throw new Error(`${name}: ${error.message}\n${messages}`);
  await (await import("./contract-modules.mjs")).embedContractSection(output, source, root);
  await embedManifest(userDir, { folder, name }, output);
  return { size: (await stat(output)).size, messages };
}


// ---- The main thread: what is out of date, and who builds it -------------------------------------

async function newestMtime(files) {
  const times = await Promise.all(files.map(async (f) => (await stat(f)).mtimeMs));
  return Math.max(...times);
}

async function outputMtime(file) {
  try {
    return (await stat(file)).mtimeMs;
  } catch {
    return -Infinity;
  }
}

async function programsIn(folder) {
  const files = await readdir(path.join(userDir, folder)).catch(() => []);
  return files.filter((f) => f.endsWith(".ts")).map((f) => ({ folder, name: f.slice(0, -3) }));
}

/** The names `dogma boot` boots with the default config: init and every module it names. */
async function bootNames() {
  const { modulesOf } = await import("../src/boot/config-modules.ts");
  return new Set(["init", ...modulesOf(await readFile(DEFAULT_CONFIG, "utf8"))]);
}

/** One line on a terminal, rewritten as programs finish; nothing on a pipe until the end. */
class Progress {
  constructor(total) {
    this.total = total;
    this.done = 0;
    this.tty = process.stderr.isTTY;
  }
  step(name) {
    this.done++;
    if (!this.tty) return;
    const width = 24;
    const filled = Math.round((this.done / this.total) * width);
    process.stderr.write(`\r\x1b[Kbuilding user programs [${"#".repeat(filled)}${" ".repeat(width - filled)}] ${this.done}/${this.total} ${name}`);
  }
  end() {
    if (this.tty) process.stderr.write("\r\x1b[K");
  }
}

/** Compiles `programs` on up to one worker per core; resolves with each one's result, in order. */
function compileAll(programs, progress) {
  const count = Math.max(1, Math.min(os.availableParallelism(), programs.length));
  const queue = [...programs];
  const results = new Map();
  return new Promise((resolve, reject) => {
    let running = count;
    for (let i = 0; i < count; i++) {
      const worker = new Worker(script);
      const next = () => {
        const program = queue.shift();
        if (program) return worker.postMessage(program);
        void worker.terminate();
        if (--running === 0) resolve(programs.map((p) => results.get(p.name)));
      };
      worker.on("message", (result) => {
        results.set(result.name, result);
        progress.step(result.name);
        if (result.error) {
          queue.length = 0; // a failure stops the build: nothing new is started
        }
        next();
      });
      worker.on("error", reject);
      next();
    }
  });
}

async function assembleWat(names, seen) {
  let upToDate = 0;
  const built = [];
  for (const file of (await readdir(wasiDir).catch(() => [])).filter((f) => f.endsWith(".wat")).sort()) {
    const name = file.slice(0, -4);
    if (names && !names.has(name)) continue;
    if (seen.has(name)) throw new Error(`${name}: both ${seen.get(name)}/${name}.ts and wasi/${file} would build build/user/${name}.wasm`);
    const source = path.join(wasiDir, file);
    const output = path.join(outDir, `${name}.wasm`);
    if ((await outputMtime(output)) > (await newestMtime([source, script]))) {
      upToDate++;
      continue;
    }
    const { default: binaryen } = await import("binaryen");
    const module = binaryen.parseText(await readFile(source, "utf8"));
    if (!module.validate()) throw new Error(`${name}: binaryen does not validate ${file}`);
    const bytes = module.emitBinary();
    module.dispose();
    await writeFile(output, bytes);
    built.push(name);
  }
  return { upToDate, built };
}

async function main() {
  const started = performance.now();
  const onlyBoot = process.argv.includes("--boot");
  const names = onlyBoot ? await bootNames() : null;
  let programs = (await Promise.all(SOURCE_FOLDERS.map(programsIn))).flat();
  const seen = new Map();
  for (const { folder, name } of programs) {
    if (seen.has(name)) {
      console.error(`failed: ${name}: both ${seen.get(name)}/${name}.ts and ${folder}/${name}.ts would build build/user/${name}.wasm`);
      process.exit(1);
    }
    seen.set(name, folder);
  }
  if (names) programs = programs.filter((p) => names.has(p.name));
  programs.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  await mkdir(outDir, { recursive: true });
  try {
    await (await import("./contract-modules.mjs")).writeContractModules(root);
  } catch (error) {
    console.error(`failed: ${error.message}`);
    process.exit(1);
  }

  let wat;
  try {
    wat = await assembleWat(names, seen);
  } catch (error) {
    console.error(`failed: ${error.message}`);
    process.exit(1);
  }
  const texts = new Map();
  const shared = await newestMtime([script]);
  const stale = [];
  for (const program of programs) {
    const source = path.join(userDir, program.folder, `${program.name}.ts`);
    const files = [...(await sourcesOf(source, texts)), path.join(libDir, "abort.ts")];
    const newest = Math.max(shared, await newestMtime(files), await manifestMtime(userDir, program));
    if ((await outputMtime(path.join(outDir, `${program.name}.wasm`))) <= newest) stale.push(program);
  }
  const upToDate = programs.length - stale.length + wat.upToDate;
  if (stale.length === 0) {
    if (wat.built.length > 0) console.log(`built ${wat.built.length} WASI programs; ${upToDate} up to date`);
    return;
  }
  const progress = new Progress(stale.length);
  const results = await compileAll(stale, progress);
  progress.end();
  const failed = results.filter((r) => r?.error);
  for (const r of results) if (r && !r.error && r.messages) console.log(`${r.name}:\n${r.messages}`);
  if (failed.length > 0) {
    for (const r of failed) console.error(`failed: ${r.error}`);
    process.exit(1);
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const what = onlyBoot ? "programs the system boots with" : "user programs";
  console.log(`built ${stale.length + wat.built.length} ${what} in ${seconds} s${upToDate > 0 ? ` (${upToDate} up to date)` : ""}`);
}

// The worker compiles what it is sent; the main thread finds what is out of date and sends it.
if (!isMainThread) {
  const { default: asc } = await import("assemblyscript/asc");
  parentPort.on("message", async (program) => {
    try {
      parentPort.postMessage({ name: program.name, ...(await compile(asc, program)) });
    } catch (error) {
      parentPort.postMessage({ name: program.name, error: error.message });
    }
  });
} else {
  await main();
}
