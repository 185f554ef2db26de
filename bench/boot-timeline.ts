// One cold boot's timeline (issue 20's boot goal): what the machine's thread does and when it
// sits idle, between the start of loading and the shell's prompt. The boot is bench/boot.ts's
// cold boot (a fresh loader, the installed disk, after a first boot in the process and a full
// collection). Prints: each module's load (start, end, the engine's compile and validation in
// it), each process's first run, the machine's idle waits (the scheduler waiting for an
// interrupt) and what ended them, and the event loop's idle time.
//
//   node bench/boot-timeline.ts [RUNS] [PROFILE.cpuprofile]   (the profile: the last cold boot's)
import { Session } from "node:inspector/promises";
import { performance } from "node:perf_hooks";
import { readFileSync, writeFileSync } from "node:fs";
import { startInit } from "../src/boot/bootloader.ts";
import { standardImportModules } from "../src/hosts/standard-imports.ts";
import { nodeLoader } from "../src/hosts/node/node-loader.ts";
import { MemoryBlockBackend } from "../src/machine/devices/block-backend.ts";
import { bootImage, bootMachine, PROMPT, threadCpuMs } from "./boot.ts";
import { settle } from "./harness.ts";


/** This thread's time waiting for a CPU (runnable, not running), in ms: /proc's schedstat. */
const runQueueMs = (): number => Number(readFileSync("/proc/thread-self/schedstat", "utf8").split(" ")[1]) / 1e6;

type Event = { at: number; cpu: number; what: string };

async function boot(disk: MemoryBlockBackend, trace: boolean): Promise<{ events: Event[]; wall: number; cpu: number; idle: number; queued: number }> {
  const loader = nodeLoader(standardImportModules(), { cache: false }); // as bench/boot.ts
  const { t, devices } = bootMachine(disk);
  const events: Event[] = [];
  const start = performance.now();
  const cpuStart = threadCpuMs();
  const queuedStart = runQueueMs();
  const note = (what: string) => {
    if (trace) events.push({ at: performance.now() - start, cpu: threadCpuMs() - cpuStart, what });
  };
  // The loader's misses, and the engine's compiles and validations.
  const l = loader as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  const loadMissing = l["loadMissing"]!.bind(loader);
  l["loadMissing"] = async (...args: unknown[]) => {
    const name = String(args[2]);
    note(`load ${name} start`);
    try {
      return await loadMissing(...args);
    } finally {
      note(`load ${name} end`);
    }
  };
  const seen = new Set<number>();
  // The machine thread's CPU time while each process ran (pid 0: the kernel, the loads, the host).
  const cpuOf = new Map<string, number>();
  let runningName = "(other)";
  let switchedAt = 0;
  t.kernel["scheduler"].observer = {
    running(p) {
      if (trace) {
        const c = threadCpuMs();
        cpuOf.set(runningName, (cpuOf.get(runningName) ?? 0) + c - switchedAt);
        switchedAt = c;
        runningName = p ? p.image.name : "(other)";
      }
      if (p && !seen.has(p.pid)) {
        seen.add(p.pid);
        note(`pid ${p.pid} first run (${p.image.name})`);
      }
    },
    ended() {},
  };
  const interrupts = t.machine.interrupts;
  const wait = interrupts.wait.bind(interrupts);
  const drain = interrupts.drain.bind(interrupts);
  let waitAt = 0;
  const idle: { from: number; to: number; by: string }[] = [];
  let lastDrained = "";
  interrupts.drain = () => {
    const taken = drain();
    if (taken.length > 0) lastDrained = taken.map((i) => (i.line === "irq" ? `irq${i.number}` : i.line)).join(",");
    return taken;
  };
  interrupts.wait = () => {
    waitAt = performance.now() - start;
    return wait().then(() => {
      const to = performance.now() - start;
      if (to - waitAt > 0.2) idle.push({ from: waitAt, to, by: interrupts.hasPending() ? "interrupt" : "poke" });
    });
  };
  const elu0 = performance.eventLoopUtilization();
  const init = await startInit(t.kernel, loader, bootImage(), devices);
  note("init spawned");
  t.kernel.setCritical(init);
  const running = t.kernel.run();
  const give = Date.now() + 120_000;
  while (!t.stdout().includes(PROMPT)) {
    if (Date.now() > give) throw new Error("no prompt");
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  const wall = performance.now() - start;
  const cpu = threadCpuMs() - cpuStart;
  const queued = runQueueMs() - queuedStart;
  const elu = performance.eventLoopUtilization(elu0);
  note("prompt");
  // Each process's time on the CPU (the scheduler's count, wall time while it ran: CPU on an idle host).
  if (trace) note(`the machine thread's CPU while each ran: ${[...cpuOf].map(([name, ms]) => `${name} ${ms.toFixed(1)}`).join(", ")} ms`);
  if (trace) note(`processes' time: ${[...t.kernel.processes.values()].map((p) => `${p.image.name} ${(p.descriptor.cpuTimeUs / 1000).toFixed(1)}`).join(", ")} ms`);
  if (trace) for (const i of idle) events.push({ at: i.from, cpu: NaN, what: `  idle ${(i.to - i.from).toFixed(1)} ms until ${i.to.toFixed(1)} (${i.by}${lastDrained ? "" : ""})` });
  while (t.kernel.kill(init.pid) !== 0) await new Promise((resolve) => setImmediate(resolve));
  await running;
  t.kernel.endEveryProcess();
  for (const device of devices) device.reset();
  t.machine.powerOff();
  return { events: events.sort((a, b) => a.at - b.at), wall, cpu, idle: elu.idle, queued };
}

const runs = Number(process.argv[2] ?? 1);
const profileTo = process.argv[3];
const session = new Session();
session.connect();
const newDisk = new MemoryBlockBackend(64 << 20);
const first = await boot(newDisk, false);
console.log(`first boot (new disk): ${first.wall.toFixed(0)} ms wall, ${first.cpu.toFixed(0)} ms CPU`);
const installed = newDisk.bytes.slice();
for (let r = 0; r < runs; r++) {
  await new Promise((resolve) => setImmediate(resolve));
  settle();
  const disk = new MemoryBlockBackend(installed.length);
  disk.bytes.set(installed);
  const profiling = profileTo !== undefined && r === runs - 1;
  if (profiling) {
    await session.post("Profiler.enable");
    await session.post("Profiler.setSamplingInterval", { interval: 100 });
    await session.post("Profiler.start");
  }
  const from = process.hrtime.bigint();
  const b = await boot(disk, true);
  // For `perf record -k CLOCK_MONOTONIC`: the boot's window on that clock, in seconds.
  console.log(`monotonic window ${Number(from) / 1e9} ${Number(process.hrtime.bigint()) / 1e9}`);
  if (profiling) writeFileSync(profileTo, JSON.stringify((await session.post("Profiler.stop")).profile));
  console.log(`cold boot: ${b.wall.toFixed(0)} ms wall, ${b.cpu.toFixed(0)} ms CPU, event loop idle ${b.idle.toFixed(0)} ms, waiting for a CPU ${b.queued.toFixed(0)} ms, the rest (blocked) ${(b.wall - b.cpu - b.idle - b.queued).toFixed(0)} ms`);
  for (const e of b.events) console.log(`${e.at.toFixed(1).padStart(7)} ${Number.isNaN(e.cpu) ? "       " : e.cpu.toFixed(1).padStart(7)}  ${e.what}`);
}
