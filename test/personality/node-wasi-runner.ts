// Runs a WASI program under Node's own node:wasi (the reference the conformance suite compares
// with): node node-wasi-runner.ts PROGRAM.wasm DIR [ARGS...], DIR as the only preopen ".", the
// environment from WASI_ENV (JSON), exiting with the program's code.
import { readFileSync } from "node:fs";
import { WASI } from "node:wasi";

const [file, dir, ...args] = process.argv.slice(2);
const env = JSON.parse(process.env.WASI_ENV ?? "{}") as Record<string, string>;
const wasi = new WASI({ version: "preview1", args: [file!, ...args], env, preopens: { ".": dir! }, returnOnExit: true });
const instance = await WebAssembly.instantiate(await WebAssembly.compile(readFileSync(file!)), wasi.getImportObject() as WebAssembly.Imports);
process.exitCode = wasi.start(instance);
