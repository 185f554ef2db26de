// Process start from an already-loaded image: spawn a batch of processes of a module whose
// _start returns at once, run them all, divide. Baseline: `new WebAssembly.Instance` of the same
// original module (already compiled) and a call of its _start.
import { PerformanceObserver } from "node:perf_hooks";
import type { LoadedImage } from "../src/kernel/image.ts";
import { deadline, dogma, median, now, result, schedulerState, wat, type Result } from "./harness.ts";

const BATCH = 250;
const BATCHES = 5;

// One page of memory and a data segment, like the smallest real program; declaring no maximum, it
// gets the largest TLB (64 KiB to fill at spawn), as compilers' output does. SMALL declares its
// maximum, one page: a one-frame TLB (src/kernel/constants.ts tlbEntriesFor).
const trivial = (maximum: string) => wat(`(module
  (memory (export "memory") 1 ${maximum})
  (data (i32.const 4096) "hi")
  (func (export "_start")))`);
const TRIVIAL = trivial("");
const SMALL = trivial("1");

const threadCpuMs = (): number => {
  const usage = process.threadCpuUsage();
  return (usage.user + usage.system) / 1000;
};

export async function processStart(): Promise<{ results: Result[]; notes: string[] }> {
  const spawnWindows: Array<{ from: number; to: number; cpuMs: number }> = [];
  let measuring = false;
  const pauses: Array<{ start: number; duration: number }> = [];
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) pauses.push({ start: e.startTime, duration: e.duration });
  });
  observer.observe({ entryTypes: ["gc"] });
  // Each image on a machine of its own, so that neither's frames fragment the other's.
  const machine = dogma(64);
  const smallMachine = dogma(64);
  const image = await machine.loader.load(TRIVIAL, "trivial");
  const small = await smallMachine.loader.load(SMALL, "small");
  const batch = async (image: LoadedImage, kernel = image === small ? smallMachine.kernel : machine.kernel): Promise<{ spawnUs: number; totalUs: number; spawnCpuUs: number }> => {
    const start = now();
    const cpu0 = threadCpuMs();
    const processes = [];
    for (let i = 0; i < BATCH; i++) processes.push(kernel.spawn(image));
    const spawned = now();
    const spawnCpuMs = threadCpuMs() - cpu0;
    if (image !== small && measuring) spawnWindows.push({ from: start, to: spawned, cpuMs: spawnCpuMs });
    await deadline("process start: kernel.run", 60_000, kernel.run(), () => schedulerState(kernel));
    const end = now();
    for (const p of processes) if (p.outcome?.kind !== "exited" || p.outcome.code !== 0) throw new Error(`trivial process ended with ${JSON.stringify(p.outcome)}`);
    return { spawnUs: ((spawned - start) * 1000) / BATCH, totalUs: ((end - start) * 1000) / BATCH, spawnCpuUs: (spawnCpuMs * 1000) / BATCH };
  };
  const native = new WebAssembly.Module(TRIVIAL);
  const nativeBatch = (): { instantiateUs: number; totalUs: number; cpuUs: number } => {
    let instantiateMs = 0;
    const start = now();
    const cpu0 = threadCpuMs();
    for (let i = 0; i < BATCH; i++) {
      const t = now();
      const instance = new WebAssembly.Instance(native, {});
      instantiateMs += now() - t;
      (instance.exports._start as () => void)();
    }
    return { instantiateUs: (instantiateMs * 1000) / BATCH, totalUs: ((now() - start) * 1000) / BATCH, cpuUs: ((threadCpuMs() - cpu0) * 1000) / BATCH };
  };

  // Warm-up: enough batches for next-fit allocation to have touched every frame of the machine
  // once, so that no measured batch pays the host's first touch of its pages.
  for (let i = 0; i < 4; i++) {
    await batch(image);
    await batch(small);
  }
  nativeBatch();
  measuring = true;
  const dogmaSamples = [];
  const smallSamples = [];
  const nativeSamples = [];
  for (let i = 0; i < BATCHES; i++) {
    dogmaSamples.push(await batch(image));
    smallSamples.push(await batch(small));
    nativeSamples.push(nativeBatch());
  }
  await new Promise((resolve) => setTimeout(resolve, 10));
  observer.disconnect();
  const inWindows = pauses.filter((p) => spawnWindows.some((w) => p.start >= w.from && p.start < w.to));
  const wall = spawnWindows.reduce((sum, w) => sum + w.to - w.from, 0);
  const cpu = spawnWindows.reduce((sum, w) => sum + w.cpuMs, 0);
  const gcMs = inWindows.reduce((sum, p) => sum + p.duration, 0);
  const perSpawn = (ms: number) => ((ms * 1000) / (spawnWindows.length * BATCH)).toFixed(1);
  const notes = [
    `kernel.spawn alone, the largest TLB, over its ${BATCHES} timed batches: ${perSpawn(wall)} µs wall, ${perSpawn(cpu)} µs of the main thread's CPU, ${perSpawn(gcMs)} µs in the engine's garbage-collection pauses (${inWindows.length} pauses; batches ${spawnWindows.map((w) => ((w.to - w.from) * 1000 / BATCH).toFixed(1)).join(", ")} µs a spawn).`,
  ];
  const nativeTotal = median(nativeSamples.map((s) => s.totalUs));
  const results = [
    result("process start: spawn+run+exit of a cached image", median(dogmaSamples.map((s) => s.totalUs)), "µs", "native Instance + _start()", nativeTotal),
    result("process start: kernel.spawn alone", median(dogmaSamples.map((s) => s.spawnUs)), "µs", "native new WebAssembly.Instance", median(nativeSamples.map((s) => s.instantiateUs))),
    // The main thread's own CPU time: what a spawn costs when the machine's other work (another
    // process's, the engine's collector threads) takes cores from the wall-clock figures.
    result("process start: kernel.spawn alone, main thread CPU", median(dogmaSamples.map((s) => s.spawnCpuUs)), "µs", "native Instance + _start(), main thread CPU", median(nativeSamples.map((s) => s.cpuUs))),
    result("process start: kernel.spawn alone, memory declared (1 1): a one-frame TLB", median(smallSamples.map((s) => s.spawnUs)), "µs", "native new WebAssembly.Instance", median(nativeSamples.map((s) => s.instantiateUs))),
  ];
  return { results, notes };
}
