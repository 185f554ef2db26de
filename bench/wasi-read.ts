// A WASI program's fd_read of a file in the system, first pass and read again (the map answering
// with no call), beside node:wasi in the same run: io-bench (user/wasi/c/io-bench.c) with PASSES
// read passes, 4 MiB in 4 KiB calls and 16 MiB in 1 MiB calls, inside the booted system (the
// personality → the file system server) and under node:wasi; µs a call: the first read pass, and
// the least of the passes after it. Then what one call costs by kind, in CPU time
// (user/wasi/c/read-cost.c): a call answered at once (clock_time_get), one that suspends
// (fd_seek), mapped reads (fd_pread of 4 KiB and 16 bytes) — this thread's CPU time around each
// phase: the whole system runs on it, and what other work on the machine takes does not count.
//   node bench/wasi-read.ts [PASSES] [4k]     (4k: the 4 KiB calls only; COST_CALLS=N calls a phase)
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WASI } from "node:wasi";
import { cProgram, nodeWasiRun } from "../test/personality/wasi-programs.ts";
import { type Figure, figures, inSystem } from "./wasi-io.ts";

const passes = Number(process.argv[2] ?? 5);
const cpuUs = () => {
  const u = process.threadCpuUsage();
  return u.user + u.system;
};
const MIB = 1 << 20;
const RUNS = [
  { size: 4096, total: 4 * MIB, label: "4 KiB" },
  { size: MIB, total: 16 * MIB, label: "1 MiB" },
].filter((run) => process.argv[3] !== "4k" || run.size === 4096);
const costCalls = Number(process.env.COST_CALLS ?? 50_000);
const perCall = (f: Figure) => f.ns / 1000 / (f.total / f.size);
type Booted = Parameters<NonNullable<Parameters<typeof inSystem>[4]>["run"]>[0];

/**
 * read-cost under node:wasi in this thread, each phase's CPU time a call: its naps (poll_oneoff,
 * one after each phase line and each phase-end line) mark the phases, as the system's output does.
 */
function nodeCosts(wasm: string, dir: string, calls: number): Map<string, number> {
  const wasi = new WASI({ version: "preview1", args: ["read-cost", "costs-node.dat", String(calls)], preopens: { ".": dir }, returnOnExit: true, stdout: 2 });
  const imports = wasi.getImportObject() as { wasi_snapshot_preview1: Record<string, (...args: never[]) => number> };
  const names = ["clock_time_get", "fd_seek", "fd_pread-4096", "fd_pread-16"];
  const costs = new Map<string, number>();
  const poll = imports.wasi_snapshot_preview1.poll_oneoff!;
  let naps = 0;
  let start = 0;
  imports.wasi_snapshot_preview1.poll_oneoff = (...args: never[]) => {
    const at = cpuUs();
    if (naps % 2 === 1) {
      const name = names[((naps - 1) / 2) % names.length]!;
      costs.set(name, Math.min(costs.get(name) ?? Infinity, (at - start) / calls));
    }
    naps++;
    const result = poll(...args);
    start = cpuUs();
    return result;
  };
  const instance = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(wasm)), imports as unknown as WebAssembly.Imports);
  const code = wasi.start(instance);
  if (code !== 0 || naps !== 2 * 3 * names.length) throw new Error(`read-cost under node:wasi: exit ${code} after ${naps} naps`);
  return costs;
}

const work = mkdtempSync(join(tmpdir(), "dogma-wasi-read-"));
try {
  const wasm = cProgram("io-bench");
  const cpu = new Map<string, number>();
  const cost = {
    wasm: cProgram("read-cost"),
    run: async (m: Booted) => {
      const calls = costCalls;
      const before = m.stdout().length;
      const lines = () => m.stdout().slice(before).split("\n");
      const count = (text: string) => lines().filter((l) => l.startsWith(text)).length;
      m.type(`/host/more costs.dat ${calls}\r`);
      for (let phase = 1; phase <= 12; phase++) {
        await m.until(`phase ${phase}`, () => count("read-cost: phase ") >= phase || /cannot|usage/.test(m.stderr()));
        const name = lines().filter((l) => l.startsWith("read-cost: phase "))[phase - 1]!.split(" ")[2]!.trim();
        const start = cpuUs();
        const wallStart = process.hrtime.bigint();
        await m.until(`phase-end ${phase}`, () => count("read-cost: phase-end") >= phase);
        cpu.set(name, Math.min(cpu.get(name) ?? Infinity, (cpuUs() - start) / calls));
        // For slicing a --cpu-prof profile by phase (its timestamps are this monotonic clock's µs).
        if (process.env.COST_WINDOWS) console.error(`window ${name} ${wallStart / 1000n} ${process.hrtime.bigint() / 1000n}`);
      }
      await m.until("read-cost done", () => count("read-cost: done") >= 1);
    },
  };
  const system = await inSystem(work, wasm, RUNS, passes, cost);
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
  const nodeCpu = nodeCosts(cost.wasm, work, costCalls);
  console.log(`one call, µs of CPU (least of 3 phases), in the system / node:wasi: ${[...cpu].map(([name, us]) => `${name} ${us.toFixed(2)} / ${nodeCpu.get(name)?.toFixed(2)}`).join(", ")}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
