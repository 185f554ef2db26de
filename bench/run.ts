// `npm run bench`: runs every benchmark, prints a table, writes bench/results.json and
// bench/RESULTS.md (figures, date, machine) from this run.
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { now, result, settle, type Result, type Section } from "./harness.ts";
import { machineInfo } from "./machine-info.ts";
import type { SECTIONS, SectionName } from "./sections.ts";

function format(value: number): string {
  const abs = Math.abs(value);
  if (abs === 0) return "0";
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 0.1) return value.toFixed(2);
  return value.toPrecision(2);
}

const COLUMNS = ["benchmark", "value", "unit", "baseline", "baseline value", "ratio"];
const row = (r: Result) => [r.name, format(r.value), r.unit, r.baseline.name, format(r.baseline.value), format(r.ratio)];

function textTable(results: readonly Result[]): string {
  const rows = [COLUMNS, ...results.map(row)];
  const widths = COLUMNS.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const numeric = new Set([1, 4, 5]);
  const line = (cells: string[]) => cells.map((cell, c) => (numeric.has(c) ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join("  ");
  return [line(rows[0]!), widths.map((w) => "-".repeat(w)).join("  "), ...rows.slice(1).map(line)].join("\n");
}

function markdownTable(results: readonly Result[]): string {
  return [
    `| ${COLUMNS.join(" | ")} |`,
    "| --- | ---: | --- | --- | ---: | ---: |",
    ...results.map((r) => `| ${row(r).join(" | ")} |`),
  ].join("\n");
}

function gitCommit(): string {
  try {
    const commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--", "src", "user", "scripts"], { encoding: "utf8" }).trim() !== "";
    return dirty ? `${commit} (with uncommitted changes in src/user/scripts)` : commit;
  } catch {
    return "unknown";
  }
}

const started = now();
const date = new Date();
const sections: Section[] = [];
function report(section: Section): void {
  settle();
  sections.push(section);
  console.log(`\n## ${section.title}\n`);
  console.log(textTable(section.results));
  for (const note of section.notes) console.log(/^[|-]/.test(note) || note === "" ? note : `- ${note}`);
}

const scratch = mkdtempSync(join(tmpdir(), "dogma-bench-"));
process.on("exit", () => rmSync(scratch, { recursive: true, force: true }));

type Returned<N extends SectionName> = Awaited<ReturnType<(typeof SECTIONS)[N]>>;

/**
 * Runs section `name` in a child process of its own (section-child.ts) and returns what it
 * returned. A fresh heap each: in one process, a section measured the garbage and the heap the
 * ones before it left (kernel.spawn went from 11-12 µs alone to 24 µs after the file system
 * sections, in major collections that fell inside its timed batches). Says on stderr what is
 * running, so that a run that stalls shows where.
 */
async function step<N extends SectionName>(label: string, name: N, ...args: Parameters<(typeof SECTIONS)[N]>): Promise<Returned<N>> {
  process.stderr.write(`[bench ${((now() - started) / 1000).toFixed(0)} s] ${label}\n`);
  const out = join(scratch, `${name}.json`);
  const child = spawn(process.execPath, [...process.execArgv, new URL("./section-child.ts", import.meta.url).pathname, name, JSON.stringify(args), out], { stdio: "inherit" });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on("error", reject);
    child.on("exit", (exitCode, signal) => resolve(signal ? null : exitCode));
  });
  if (code !== 0) throw new Error(`bench section ${label} (${name}) failed: its process ended with ${code ?? "a signal"}`);
  return JSON.parse(readFileSync(out, "utf8")) as Returned<N>;
}

console.log("Dogma benchmarks (ratio = value / baseline)");
report({
  title: "Context switch (ns per switch, median of 3)",
  results: await step("context switch", "contextSwitch"),
  notes: [
    "Dogma: two processes in one kernel, 100 000 yields each; a switch is a JSPI suspend of one stack, the scheduler's dispatch, and a resume of the other, all on one thread.",
    "Workers: the main thread and one worker_threads Worker on separate cores; a round trip is two switches.",
  ],
});
for (const section of await step("IPC", "ipc")) report(section);
report(await step("contract channels", "contractIpc"));
report(await step("file system under its contract", "fsContract"));
report({
  title: "File throughput through the whole stack (MiB/s, one run)",
  results: await step("file system", "fsThroughput"),
  notes: [
    "Dogma: fs-bench calls the file system server through an attached handle (FS_ATTACH: transfers of up to its 1 MiB buffer move no Region, only bytes), on a 128 MiB machine whose server may cache up to 64 MiB of file data (memory=16384 kernel-info); the server calls the block driver, whose device reads and writes a disk image file synchronously; one call in flight. Written data goes to the page cache and reaches the disk at the sync; the 16 MiB file is still cached when it is read back. FsClient.read copies the bytes out of the handle's read buffer into the client's own buffer; FsClient.readView leaves them there (the client maps it read-only): one copy, as readSync makes.",
    "Each fs-bench machine runs a warm-up round, then three rounds of the six passes; three machines. node:fs runs as many passes. Each row: the fastest pass of either side, the one the machine's other work disturbed least (a pass of a few milliseconds is as slow as the descheduling it meets).",
    "Baseline: node:fs on a file in the same temporary folder, the same call sizes, writes ending in an fsync like the fs sync. Host reads come from the page cache. Every node:fs pass, reads too, follows a write and fsync of the file, as each fs-bench read pass follows its write pass and SYNC (until 2026-12-06 node reread one warm file pass after pass: 18,000-19,000 MiB/s for 1 MiB reads against 12,600-14,500 read just after a write; bench/fs-read-profile.ts keeps the old, warmer baseline).",
    "The page cache rows: fs-cache-bench, 8192 random 4 KiB reads of a 4 MiB file written through the cache (then read once whole), and of one written and read through a direct handle (every read goes to the disk image through the driver); a 4 MiB file not in the cache read start to end in 4 KiB calls through a cached handle (read-ahead: 4 blocks, doubling to 64) and through a direct one. The STAT row is a round trip that moves no data. The cached random reads and the STATs: the fastest of three passes (node:fs too); the rest one pass each.",
  ],
});
report(await step("install", "install"));
const wasi = await step("WASI files and start", "wasiIo");
report({ title: "WASI programs: file throughput (MiB/s, one run) and start, beside node:wasi", results: wasi.results, notes: wasi.notes });
const start = await step("process start", "processStart");
report({
  title: "Process start from a loaded image (µs per process, median of 5 batches of 250)",
  results: start.results,
  notes: [
    "The module has one page of memory, a data segment and an empty _start. kernel.spawn allocates the TLB, page directory and a descriptor slot, copies the segment and instantiates the rewritten module. The first declares no maximum memory, so its TLB is the largest (4096 entries, 64 KiB, filled at spawn unless a clean one is at hand); the second declares a maximum of one page, so its TLB is one frame (docs/LOADER.md \"A TLB sized to the process\").",
    "Where a spawn's time goes (CPU profile, 20,000 spawns): instantiation about half (V8 spends about 0.4 µs on each import at every instantiation: a module importing 0 functions and the memory took 8.4 µs, 30 functions 17.2 µs, 60 30.8 µs; a rewritten module imports 12 of the kernel's and the program's own), filling a 64 KiB TLB about 4 µs, the rest the kernel's tables and objects (page directory zeroed, the data segment's frame zeroed and copied, the Process and its capability table). Before issue 18's work (main of 2026-12-06): 35-37 µs; merging the 19 slow-path imports into 4 and passing the TLB base as a number instead of a Global object: 27 µs.",
    ...start.notes,
  ],
});
const sched = await step("scheduling and spawn at scale", "scheduling");
const engine = await step("instantiation at scale, no kernel", "engineAtScale");
report({
  title: "Scheduling under load and process start at scale (µs)",
  results: [
    ...sched.results,
    ...engine.levels.map((live, i) => result(`no kernel: new WebAssembly.Instance with ${live.toLocaleString("en")} live instances (CPU time)`, engine.us[i]!, "µs", `the same with ${engine.levels[0]} live`, engine.us[0]!)),
    result(`kernel.spawn with ${engine.levels.at(-1)!.toLocaleString("en")} live (CPU time)`, sched.spawnCpuUs.at(-1)!, "µs", `new WebAssembly.Instance with as many live instances, no kernel`, engine.us.at(-1)!),
  ],
  notes: [
    ...sched.notes,
    "No kernel: new WebAssembly.Instance of the same server's rewritten module, with the kernel's imports (none runs), while as many instances of it stay alive, in a process of its own; the same batches and CPU time as the spawns. What grows with the count there is the engine's alone.",
  ],
});
report({
  title: "Fault handlers and copy-on-write (µs per round or copy, median of 3 runs; kernel alone: median of 5 batches of 50)",
  results: await step("fault handlers and copy-on-write", "memoryFaults"),
  notes: [
    "A fault round: PROCESS_PROTECT makes a page unreadable, a load from it faults, the process's handler (an export run on its own JSPI stack) makes it read-write with PROCESS_PROTECT and returns 0, the load is retried. The baseline does the same two invokes and the load, without the fault.",
    "Copies: 1 MiB (256 pages) copied in one process, copy-on-write (PROCESS_COPY_PAGES: frames shared, no bytes moved) or with memory.copy; the touched variants then write one word in each copied page, so every copy-on-write page splits (a frame allocated and 4 KiB copied). The kernel-alone rows call the same kernel code directly, without the invoke.",
  ],
});
report({
  title: "Cloning a process that has run (µs per process, created and ended; median of 5 batches of 50)",
  results: await step("process clone", "processClone"),
  notes: ["The source wrote its pages (1 MiB, then 8 MiB), registered a handler (PROCESS_SERVE) and returned: it waits in its serve loop, no frames anywhere. A clone instantiates the image, copies its globals and shares the pages copy-on-write; the baseline instantiates the image and writes the same bytes into it. Both end the process they made."],
});
const paged = await step("paging", "paging");
report({ title: "Demand paging with sealed pages (µs per page touched; median of 3 runs)", results: paged.results, notes: paged.notes });
const service = await step("pager service", "pagerService");
report({ title: "Paging through the pager service, the file system and the block driver (µs per page touched)", results: service.results, notes: service.notes });
report(await step("rewritten vs native", "rewrittenVsNative"));
report(await step("real programs", "realPrograms"));
report(await step("big tools", "bigTools"));
report(await step("the rewrite's choices", "rewriteVariants"));
report({
  title: "Where the rewritten kernels' time goes: safe points removed (ablation)",
  results: await step("safe-point ablation", "safePointCost"),
  notes: [
    "Same loader steps (bench/rewrite-steps.ts), the rewrite's `safePoints: false` variant: what remains over native is the inline software-TLB translation.",
    "Slow-path calls per run(1), one instrumented run each. A TLB slow-path call is a miss, an unaligned or a page-crossing access; a page's first touch is a miss no TLB avoids (the kernel allocates and zeroes the frame), and pages the kernel first touches itself (a memory.fill or memory.copy slow path) fill the TLB without any miss. Each safe-point slow path follows 10 000 safe points.",
    "",
    ...(await step("slow-path counts", "slowPaths")),
  ],
});
report(await step("debugging", "debugging"));
const throughput = await step("loader throughput", "loaderThroughput");
report({ title: "Loader throughput (MB = 10^6 bytes of original Wasm)", results: throughput.results, notes: throughput.notes });
const memory = await step("cold-load memory", "coldLoadMemory");
report({ title: "Host memory at the peak of a cold load (one fresh process each, the Node host's worker threads)", results: memory.results, notes: memory.notes });
report({
  title: "Where a cold load's time goes (median of 3)",
  results: await step("loader phases", "loaderPhases"),
  notes: ["ratio = share of the whole cold load, all on one thread. `validate` is the engine's validation of the original; `compile` is V8's (lazy) `WebAssembly.compile` of the rewritten bytes."],
});
report({
  title: "Warm start (ms, median of 9)",
  results: await step("warm start", "warmStart"),
  notes: ["Whole processes: `node bin/dogma.js run build/user/hello.wasm` with its rewritten module in the cache, the command line bundled (scripts/build-cli.mjs, which npm run bench runs first) and Node's compile cache warm (bin/dogma.js enables it), beside `node -e 0`."],
});
const nodeBoot = await step("boot", "boot");
report({
  title: "Boot (ms, median)",
  results: nodeBoot.results,
  notes: [
    "The default config (registry, console, timer and block drivers, log, pipes, the shell) booted through the bootloader, timed from the start of loading to the shell's prompt on the console.",
    "Cold: an empty loader cache (every module rewritten), on a disk the file system installed at the first boot; on a new disk: the file system installs every boot module (/bin, /etc/manifests) before the prompt; the first in a fresh process: the section's first boot (a new disk, and Dogma's own JavaScript not yet compiled: a user's first `dogma boot`); modules cached: the same loader again, so instantiation and the services' own start. Medians of 3, the first a single boot.",
    ...nodeBoot.notes,
  ],
});

for (const section of await step("browser (headless Chromium)", "webBenchmarks", nodeBoot.results)) report(section);

const seconds = (now() - started) / 1000;
const machine = machineInfo();
const all = sections.flatMap((s) => s.results);
const rounded = (v: number) => Number(v.toPrecision(6));
writeFileSync(
  new URL("./results.json", import.meta.url),
  `${JSON.stringify(all.map((r) => ({ name: r.name, value: rounded(r.value), unit: r.unit, baseline: { name: r.baseline.name, value: rounded(r.baseline.value) }, ratio: rounded(r.ratio) })), null, 2)}\n`,
);

const markdown = [
  "# Dogma benchmark results",
  "",
  "Generated by `npm run bench` (bench/run.ts); do not edit by hand. Every figure sits beside a",
  "baseline measured in the same run; ratio = value / baseline. Other work on the machine adds noise.",
  "",
  `- Date: ${date.toISOString()}`,
  `- Commit: ${gitCommit()}`,
  `- CPU: ${machine.cpu}, ${machine.cores} cores available`,
  `- Node ${machine.node}, V8 ${machine.v8}, ${machine.os}`,
  `- Whole run: ${seconds.toFixed(0)} s`,
  "",
  ...sections.flatMap((s) => [
    `## ${s.title}`,
    "",
    markdownTable(s.results),
    "",
    ...s.notes.map((n) => (n.startsWith("|") || n.startsWith("-") || n === "" ? n : `- ${n}`)),
    "",
  ]),
].join("\n");
writeFileSync(new URL("./RESULTS.md", import.meta.url), markdown);
console.log(`\nWrote bench/results.json and bench/RESULTS.md (${seconds.toFixed(0)} s).`);
