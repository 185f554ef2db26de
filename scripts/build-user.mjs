#!/usr/bin/env node
// Compiles every user/<folder>/<name>.ts of the folders below (programs, examples, init,
// services, drivers) into build/user/<name>.wasm with the AssemblyScript compiler API (a name in two
// folders is an error: they share one output folder). Only a folder's top-level files are
// programs; its subfolders hold modules they import (user/init/parts). A program that imports
// libdogma (`from "../lib"`) gets its abort, which reports and exits; any other (the bench-*
// kernels, spin) gets a trap instead, so that it can import nothing. A program is rebuilt only
// when a source it may use (its folder's modules, user/lib, or this script and its options) is
// newer than its .wasm.
import asc from "assemblyscript/asc";
import { mkdir, readFile, readdir, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const userDir = path.join(root, "user");
// The folders of programs, each compiled the same way; internal paths are <folder>/<name>.
const SOURCE_FOLDERS = ["programs", "examples", "init", "services", "drivers"];
const libDir = path.join(userDir, "lib");
const outDir = path.join(root, "build", "user");

const COMMON = [
  "--baseDir", userDir, // internal paths become programs/<name>, examples/<name> and lib/<file>
  "--optimizeLevel", "3",
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

// A program that allocates for ever (the shell) asks for the garbage-collected runtime with this
// line in its source; everything else keeps the stub, which never frees.
const wantsIncremental = (source) => /^\/\/ dogma:runtime incremental$/m.test(source);

// lib/abort.ts is only compiled into programs that import the library's index, which exports it.
const importsLibdogma = (source) => /from\s+["']\.\.\/lib(\/index)?["']/.test(source);

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

async function build({ folder, name }, libSources) {
  const source = path.join(userDir, folder, `${name}.ts`);
  const output = path.join(outDir, `${name}.wasm`);
  const inputs = [source, fileURLToPath(import.meta.url), ...libSources, ...(await modulesIn(folder))];
  if ((await outputMtime(output)) > (await newestMtime(inputs))) return `up to date  ${name}`;

  const stderr = asc.createMemoryStream();
  const stdout = asc.createMemoryStream();
  const text = await readFile(source, "utf8");
  const argv = [
    path.join(folder, `${name}.ts`),
    "--outFile", output,
    "--use", importsLibdogma(text) ? "abort=lib/abort/dogmaAbort" : "abort=",
    ...COMMON,
    ...(wantsIncremental(text) ? ["--runtime", "incremental"] : []),
  ];
  const { error } = await asc.main(argv, { stdout, stderr });
  const messages = stderr.toString().trim();
  if (error) throw new Error(`${name}: ${error.message}\n${messages}`);
  const { size } = await stat(output);
  return `built       ${name} (${size} bytes)${messages ? `\n${messages}` : ""}`;
}

// .ts files of a folder and its subfolders: any of them may be compiled into a program there.
async function sourcesUnder(dir) {
  const files = await readdir(dir, { recursive: true }).catch(() => []);
  return files.filter((f) => f.endsWith(".ts")).map((f) => path.join(dir, f));
}

// The modules in a program folder's subfolders (its top-level files are programs themselves).
const folderModules = new Map();
async function modulesIn(folder) {
  if (!folderModules.has(folder)) {
    const dir = path.join(userDir, folder);
    folderModules.set(folder, (await sourcesUnder(dir)).filter((f) => path.dirname(f) !== dir));
  }
  return folderModules.get(folder);
}

// lib/ and its subfolders (lib/caps): any of them may be compiled into any program.
const libSources = await sourcesUnder(libDir);

async function programsIn(folder) {
  const files = await readdir(path.join(userDir, folder)).catch(() => []);
  return files.filter((f) => f.endsWith(".ts")).map((f) => ({ folder, name: f.slice(0, -3) }));
}

const programs = (await Promise.all(SOURCE_FOLDERS.map(programsIn))).flat();
const seen = new Map();
for (const { folder, name } of programs) {
  if (seen.has(name)) {
    console.error(`failed      ${name}: both ${seen.get(name)}/${name}.ts and ${folder}/${name}.ts would build build/user/${name}.wasm`);
    process.exit(1);
  }
  seen.set(name, folder);
}
programs.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
await mkdir(outDir, { recursive: true });

// Programs already built are counted, not listed: `npm start` and `npm test` run this every time.
let upToDate = 0;

// WASI programs written in WebAssembly text (user/wasi/*.wat), assembled with binaryen.
const wasiDir = path.join(userDir, "wasi");
for (const file of (await readdir(wasiDir).catch(() => [])).filter((f) => f.endsWith(".wat")).sort()) {
  const name = file.slice(0, -4);
  if (seen.has(name)) {
    console.error(`failed      ${name}: both ${seen.get(name)}/${name}.ts and wasi/${file} would build build/user/${name}.wasm`);
    process.exit(1);
  }
  const source = path.join(wasiDir, file);
  const output = path.join(outDir, `${name}.wasm`);
  if ((await outputMtime(output)) > (await newestMtime([source, fileURLToPath(import.meta.url)]))) {
    upToDate++;
    continue;
  }
  const { default: binaryen } = await import("binaryen");
  const module = binaryen.parseText(await readFile(source, "utf8"));
  if (!module.validate()) {
    console.error(`failed      ${name}: binaryen does not validate ${file}`);
    process.exit(1);
  }
  const bytes = module.emitBinary();
  module.dispose();
  await writeFile(output, bytes);
  console.log(`built       ${name} (${bytes.length} bytes)`);
}

// One at a time, so that output comes in order and a failure stops the build at once.
for (const program of programs) {
  try {
    const line = await build(program, libSources);
    if (line.startsWith("up to date")) upToDate++;
    else console.log(line);
  } catch (e) {
    console.error(`failed      ${e.message}`);
    process.exit(1);
  }
}
if (upToDate > 0) console.log(`up to date  ${upToDate} programs`);
