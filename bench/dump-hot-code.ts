// Runs one C program of bench/c rewritten (and natively) a few times so that V8 tiers its hot
// functions up; run it with `node --print-wasm-code` to read the machine code TurboFan made of
// the rewritten sequences. `node --print-wasm-code bench/dump-hot-code.ts interp '{}' > out`.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RewriteVariant } from "../src/loader/output-layout.ts";
import { dogma } from "./harness.ts";
import { rewriteSteps } from "./rewrite-steps.ts";

const name = process.argv[2] ?? "interp";
const variant = JSON.parse(process.argv[3] ?? "{}") as RewriteVariant;
const dir = mkdtempSync(join(tmpdir(), "dogma-dump-"));
const out = join(dir, `${name}.wasm`);
execFileSync("clang", ["--target=wasm32-wasi", "-O2", new URL(`./c/${name}.c`, import.meta.url).pathname, "-o", out]);
const steps = await rewriteSteps(new Uint8Array(readFileSync(out)), name, variant);
if (process.argv[4]) writeFileSync(process.argv[4], steps.rewritten);
const machine = dogma(256);
for (let run = 0; run < 3; run++) {
  machine.kernel.spawn(steps.image, { args: [name] });
  await machine.kernel.run();
}
console.error(machine.stdout());
process.exit(0);
