// A WASI program's fd_read of a file in the system, first pass and read again (the map answering
// with no call), beside node:wasi in the same run: io-bench (user/wasi/c/io-bench.c) with PASSES
// read passes, 4 MiB in 4 KiB calls and 16 MiB in 1 MiB calls, inside the booted system (the
// personality → the file system server) and under node:wasi. µs a call: the first read pass, and
// the least of the passes after it.
//   node bench/wasi-read.ts [PASSES]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cProgram, nodeWasiRun } from "../test/personality/wasi-programs.ts";
import { type Figure, figures, inSystem } from "./wasi-io.ts";

const passes = Number(process.argv[2] ?? 5);
const MIB = 1 << 20;
const RUNS = [
  { size: 4096, total: 4 * MIB, label: "4 KiB" },
  { size: MIB, total: 16 * MIB, label: "1 MiB" },
];
const perCall = (f: Figure) => f.ns / 1000 / (f.total / f.size);
const work = mkdtempSync(join(tmpdir(), "dogma-wasi-read-"));
try {
  const wasm = cProgram("io-bench");
  const system = await inSystem(work, wasm, RUNS, passes);
  const node: Figure[] = [];
  for (const run of RUNS) {
    const ran = await nodeWasiRun(wasm, work, ["data", String(run.size), String(run.total), String(passes)], {});
    if (ran.code !== 0) throw new Error(`io-bench under node:wasi: ${ran.stdout}${ran.stderr}`);
    node.push(...figures(ran.stdout));
  }
  for (const run of RUNS) {
    const first = (all: Figure[]) => perCall(all.find((f) => f.op === "read" && f.size === run.size)!);
    const again = (all: Figure[]) => Math.min(...all.filter((f) => f.op === "reread" && f.size === run.size).map(perCall));
    const [sf, sa, nf, na] = [first(system), again(system), first(node), again(node)];
    console.log(`fd_read ${run.label}: in the system first ${sf.toFixed(2)} µs, again ${sa.toFixed(2)}; node:wasi first ${nf.toFixed(2)}, again ${na.toFixed(2)} (ratio first ${(nf / sf).toFixed(3)}, again ${(na / sa).toFixed(3)})`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
