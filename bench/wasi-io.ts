// A WASI program's file throughput and start, beside node:wasi in the same run (issue 19):
// io-bench (user/wasi/c/io-bench.c, clang's default flags) writes and reads a file in calls of
// 4 KiB and of 1 MiB: under `dogma run --dir` (the personality → the host folder server → the
// host folder device → the host's file), inside the booted system from the shell (the
// personality → the file system server → the block driver → a disk image file), and under
// node:wasi with the same folder as its preopen. And a WASI hello world's start, its rewrite
// cached: `dogma run` from the host's shell beside `node` running it with node:wasi, and a spawn
// in a running kernel beside instantiating it with node:wasi in the same process.
import { closeSync, copyFileSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WASI } from "node:wasi";
import { DiskImage } from "../src/hosts/node/disk-image.ts";
import { FolderShare } from "../src/hosts/node/folder-share.ts";
import { BlockDevice } from "../src/machine/devices/block.ts";
import { HostShareDevice } from "../src/machine/devices/host-share.ts";
import { DeviceLine } from "../src/machine/devices/standard-devices.ts";
import { bootMachine, testConsole, testTimer } from "../test/helpers/booted-machine.ts";
import { cProgram, dogmaRun, nodeWasiRun } from "../test/personality/wasi-programs.ts";
import { dogma, median, now, result, type Result } from "./harness.ts";

const MIB = 1 << 20;
/** Calls and how much they move in all: 4 MiB in 4 KiB calls, 16 MiB in 1 MiB calls. */
const RUNS = [
  { size: 4096, total: 4 * MIB, label: "4 KiB" },
  { size: MIB, total: 16 * MIB, label: "1 MiB" },
] as const;
const STARTS = 7;
/** io-bench's read passes: the first (the rows "fd_read"), then the file read again (the rows "read again": the best of the rest). */
const PASSES = 3;

export interface Figure {
  readonly op: string;
  readonly size: number;
  readonly total: number;
  readonly ns: number;
}

export function figures(output: string): Figure[] {
  return [...output.matchAll(/^io-bench: (write|read|reread) (\d+) (\d+) (\d+)$/gm)].map((m) => ({ op: m[1]!, size: Number(m[2]), total: Number(m[3]), ns: Number(m[4]) }));
}

const mibPerSecond = (f: Figure) => f.total / MIB / (f.ns / 1e9);

function pick(all: readonly Figure[], op: string, size: number): Figure {
  const found = all.find((f) => f.op === op && f.size === size);
  if (!found) throw new Error(`io-bench printed no ${op} of ${size}`);
  return found;
}

/**
 * io-bench inside the booted system: the file system on a disk image, the binary on /host, run
 * from the shell; with `passes`, the read pass that many times (bench/wasi-read.ts).
 */
export async function inSystem(work: string, wasm: string, runs: readonly { size: number; total: number; label: string }[] = RUNS, passes = 1, more?: { wasm: string; run: (m: Awaited<ReturnType<typeof bootMachine>>) => Promise<void> }): Promise<Figure[]> {
  const share = join(work, "share");
  mkdirSync(share);
  copyFileSync(wasm, join(share, "io-bench"));
  if (more) copyFileSync(more.wasm, join(share, "more"));
  const image = await DiskImage.open(join(work, "disk.img"), 128 << 20);
  const folder = await FolderShare.open(share);
  const config = `service registry registry
driver  console  console  device=console interrupt=console memory=64
driver  block    block    device=block interrupt=block memory=512
service fs       fs       memory=8192 publish=fs kernel-info
driver  host     hostfs   device=share interrupt=share memory=1024 publish=host
service pipe     pipe     memory=64
service proc     procman  memory=128 kernel images bootinfo control
service shell    shell    memory=8192 bootinfo use=fs use=host session
`;
  const m = await bootMachine(config, ["registry", "console", "block", "fs", "hostfs", "pipe", "procman", "shell"], {
    devices: (t) => [testConsole(t), new BlockDevice(DeviceLine.BLOCK, t.machine.interrupts, image), testTimer(t), new HostShareDevice(DeviceLine.SHARE, t.machine.interrupts, folder)],
    interactive: true,
    memory: 256 << 20,
  });
  await m.until("the prompt", () => m.stdout().includes("dogma:/$ "));
  const all: Figure[] = [];
  m.type("mkdir /bench; cd /bench\r");
  for (const run of runs) {
    const before = m.stdout().length;
    m.type(`/host/io-bench data ${run.size} ${run.total}${passes > 1 ? ` ${passes}` : ""}\r`);
    await m.until(`io-bench of ${run.label} calls`, () => figures(m.stdout().slice(before)).length === 1 + passes || /io-bench: cannot/.test(m.stderr()));
    all.push(...figures(m.stdout().slice(before)));
  }
  if (more) await more.run(m); // another program, at /host/more
  await m.halt();
  await image.close();
  return all;
}

/** A WASI hello world's start in a running kernel (its rewrite loaded once), beside node:wasi instantiating the compiled module in this process. */
async function startInProcess(wasm: string): Promise<{ dogmaUs: number; nodeUs: number }> {
  const machine = dogma(64);
  const bytes = new Uint8Array(readFileSync(wasm));
  const image = await machine.loader.load(bytes, "hello");
  const samples: number[] = [];
  for (let i = 0; i < STARTS + 1; i++) {
    const start = now();
    const process = machine.kernel.spawn(image, { args: ["hello"] });
    await machine.kernel.run();
    if (process.outcome?.kind !== "exited" || process.outcome.code !== 0) throw new Error(`hello ended with ${JSON.stringify(process.outcome)}`);
    if (i > 0) samples.push((now() - start) * 1000);
  }
  const module = new WebAssembly.Module(bytes);
  const nodeSamples: number[] = [];
  const discard = openSync("/dev/null", "w");
  for (let i = 0; i < STARTS + 1; i++) {
    const start = now();
    const wasi = new WASI({ version: "preview1", args: ["hello"], returnOnExit: true, stdout: discard });
    const instance = new WebAssembly.Instance(module, wasi.getImportObject() as WebAssembly.Imports);
    wasi.start(instance);
    if (i > 0) nodeSamples.push((now() - start) * 1000);
  }
  closeSync(discard);
  return { dogmaUs: median(samples), nodeUs: median(nodeSamples) };
}

export async function wasiIo(): Promise<{ results: Result[]; notes: string[] }> {
  const work = mkdtempSync(join(tmpdir(), "dogma-wasi-bench-"));
  try {
    const wasm = cProgram("io-bench");
    const hello = cProgram("hello");
    const dir: Figure[] = [];
    const node: Figure[] = [];
    for (const run of RUNS) {
      const args = ["data", String(run.size), String(run.total)];
      const viaDir = await dogmaRun(["--dir", `${work}::.`, wasm, ...args]);
      if (viaDir.code !== 0) throw new Error(`io-bench under dogma run: ${viaDir.stdout}${viaDir.stderr}`);
      dir.push(...figures(viaDir.stdout));
      const viaNode = await nodeWasiRun(wasm, work, [...args, String(PASSES)], {});
      if (viaNode.code !== 0) throw new Error(`io-bench under node:wasi: ${viaNode.stdout}${viaNode.stderr}`);
      node.push(...figures(viaNode.stdout));
    }
    const system = await inSystem(work, wasm, RUNS, PASSES);
    const results: Result[] = [];
    const again = (all: readonly Figure[], size: number) => Math.max(...all.filter((f) => f.op === "reread" && f.size === size).map(mibPerSecond));
    for (const run of RUNS) {
      for (const op of ["write", "read"]) {
        const baseline = mibPerSecond(pick(node, op, run.size));
        results.push(result(`WASI fd_${op}, ${run.label} calls, dogma run --dir`, mibPerSecond(pick(dir, op, run.size)), "MiB/s", "node:wasi, same calls", baseline));
        results.push(result(`WASI fd_${op}, ${run.label} calls, in the system (fs, disk image)`, mibPerSecond(pick(system, op, run.size)), "MiB/s", "node:wasi, same calls", baseline));
      }
      // The file read again: at 4 KiB from its map (no call); at 1 MiB through the server (reads over 64 KiB do not map a file).
      const how = run.size <= 64 * 1024 ? "from its map, no call" : "through the server";
      results.push(result(`WASI fd_read, ${run.label} calls, in the system, the file read again (${how})`, again(system, run.size), "MiB/s", "node:wasi, the same file read again", again(node, run.size)));
    }
    await dogmaRun([hello]); // its rewrite goes into the cache
    const cli: number[] = [];
    const nodeCli: number[] = [];
    for (let i = 0; i < STARTS; i++) {
      let start = now();
      const ran = await dogmaRun([hello]);
      if (ran.stdout !== "hello, world\n") throw new Error(`hello under dogma run: ${ran.stdout}${ran.stderr}`);
      cli.push(now() - start);
      start = now();
      await nodeWasiRun(hello, work, [], {});
      nodeCli.push(now() - start);
    }
    results.push(result("WASI hello world: dogma run, cached, from the host's shell", median(cli), "ms", "node running it with node:wasi", median(nodeCli)));
    const inProcess = await startInProcess(hello);
    results.push(result("WASI hello world: spawn to exit in a running kernel", inProcess.dogmaUs, "µs", "node:wasi: Instance + start", inProcess.nodeUs));
    return {
      results,
      notes: [
        `io-bench (clang -O2, default flags) writes ${RUNS.map((r) => `${r.total / MIB} MiB in ${r.label} calls`).join(" and ")}, then reads them back, timed inside the program with the monotonic clock; no sync.`,
        "dogma run --dir: each call goes personality → host folder server (IPC, the data in a Region) → host folder device (one request of up to 1 MiB) → Node's fs on the host file. In the system: personality → file system server → block driver → disk image file. node:wasi: uvwasi's direct system calls on the same folder.",
        "Hello world: the whole command, from the host starting it to its exit, Node's own start included on both sides; and, in one process, spawn + run + exit of the loaded image beside Instance + start of the compiled module.",
      ],
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

// `node bench/wasi-io.ts` runs this one alone.
if (import.meta.url === `file://${process.argv[1]}`) {
  const { results, notes } = await wasiIo();
  for (const r of results) console.log(`${r.name}: ${r.value.toFixed(2)} ${r.unit} vs ${r.baseline.name} ${r.baseline.value.toFixed(2)} (ratio ${r.ratio.toFixed(3)})`);
  for (const note of notes) console.log(`- ${note}`);
}
