// Scheduling under load and process start at scale (issue 18):
// - how late a process that sleeps 5 ms at a time runs while 3 processes of its priority spin,
//   beside the same sleeper alone (its lateness: from the end of its nap to its next dispatch);
// - kernel.spawn while 1, 1,000, 10,000 and 100,000 processes live (each blocked in a receive,
//   with pages of its own), the physical and host memory each costs, and ps at that count.
import { Rights } from "../src/kernel/caps/object-abi.ts";
import { Receiver } from "../src/kernel/caps/receiver.ts";
import type { LoadedImage } from "../src/kernel/image.ts";
import { KernelInspector } from "../src/kernel/inspect.ts";
import { SERVER, callEach, endServers, startServers, type ServerFarm } from "../test/helpers/many-servers.ts";
import { testMachine, type TestMachine } from "../test/helpers/test-host.ts";
import { dogma, median, now, program, result, wat, type Result } from "./harness.ts";

const NAP_NS = 5_000_000;
/** Live processes at which spawn is measured (DOGMA_BENCH_LIVE="1,1000" for a shorter run). */
const LEVELS = (process.env.DOGMA_BENCH_LIVE ?? "1,1000,10000,100000").split(",").map(Number);
const NAPS = 40;

const napper = wat(`(module
  (import "dogma" "sleep" (func $sleep (param i64)))
  (memory 1)
  (func (export "_start") (local $i i32)
    (loop $again
      (call $sleep (i64.const ${NAP_NS}))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $again (i32.lt_u (local.get $i) (i32.const ${NAPS}))))))`);

/** Median lateness (µs) of the napper's wake-ups, with `spinners` processes of its priority spinning. */
async function lateness(spinners: number): Promise<number> {
  const m = dogma(64);
  const kernel = m.kernel;
  const spin = await m.loader.load(program("spin"), "spin");
  const busy = Array.from({ length: spinners }, () => kernel.spawn(spin));
  const sleeper = kernel.spawn(await m.loader.load(napper, "napper"));
  const late: number[] = [];
  let lastDispatch = -1;
  kernel.scheduler.observer = {
    running(process, at) {
      if (process !== sleeper) return;
      if (lastDispatch >= 0) late.push((at - (lastDispatch + NAP_NS)) / 1000);
      lastDispatch = at;
    },
    ended() {},
  };
  const done = sleeper.wait().then(() => busy.forEach((p) => kernel.kill(p.pid)));
  await kernel.run();
  await done;
  return median(late.filter((us) => us >= 0));
}

/** Timed batches of 200 at each count (after three to warm up): 6,000 spawns, so that the engine's full collections (one per 64 MB of module estimates: docs/MEMORY.md "How many processes") fall in them more than once. */
const BATCHES = 30;

interface Batches {
  cpuUs: number;
  wallUs: number;
  gcUs: number;
  /** `new WebAssembly.Instance` of the same module with the kernel's imports, in the same host heap, in batches alternating with the spawns' (CPU µs each). */
  engineUs: number;
}

/**
 * µs per kernel.spawn of a server at this many live: the mean over BATCHES batches of 200 (after
 * three to warm up), each batch killed after, in CPU time (the machine is shared) and wall time.
 * A mean, not a median: the engine's collections of the whole heap (1 GB at 100,000 live) fall
 * in some batches and not others, and their cost is part of what spawning there costs. Between
 * the spawn batches, as many `new WebAssembly.Instance` of the same module with the kernel's
 * imports (none runs), dropped after: the engine's own cost at the same heap, exposed to the same
 * collections.
 */
async function spawnBatches(t: TestMachine, image: LoadedImage, receiver: Receiver): Promise<Batches> {
  const kernel = t.kernel;
  const imports = kernel.imports.forProcess(0, 0);
  let cpu = 0;
  let wall = 0;
  let engine = 0;
  let spawned = 0;
  const pauses: Array<{ start: number; duration: number }> = [];
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) pauses.push({ start: e.startTime, duration: e.duration });
  });
  observer.observe({ entryTypes: ["gc"] });
  const windows: Array<[number, number]> = [];
  for (let b = -3; b < BATCHES; b++) {
    const made = [];
    const c0 = cpuMs();
    const w0 = now();
    for (let i = 0; i < 200; i++) made.push(kernel.spawn(image, { entry: "run", mapImage: false, caps: [kernel.capability(receiver, Rights.RECEIVER_RECEIVE)] }));
    if (b >= 0) {
      cpu += cpuMs() - c0;
      wall += now() - w0;
      spawned += 200;
      windows.push([w0, now()]);
    }
    for (const p of made) kernel.kill(p.pid);
    const instances = [];
    const e0 = cpuMs();
    for (let i = 0; i < 200; i++) instances.push(new WebAssembly.Instance(image.module, imports));
    if (b >= 0) engine += cpuMs() - e0;
  }
  await new Promise((resolve) => setTimeout(resolve, 10)); // the observer's entries arrive on a later turn
  observer.disconnect();
  const gc = pauses.filter((p) => windows.some(([from, to]) => p.start >= from && p.start < to)).reduce((sum, p) => sum + p.duration, 0);
  return { cpuUs: (cpu * 1000) / spawned, wallUs: (wall * 1000) / spawned, gcUs: (gc * 1000) / spawned, engineUs: (engine * 1000) / spawned };
}

const cpuMs = (): number => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
};

interface AtScale {
  live: number;
  spawn: Batches;
  framesEach: number;
  hostKiBEach: number;
  psMs: number;
  /** The inspector's view of one server's capabilities (it names who receives on its Receiver). */
  capsMs: number;
}

/**
 * One 4 GiB machine whose population of servers (test/helpers/many-servers.ts: each blocked in a
 * receive, with two pages of its own) grows to each count of `levels`; at each, spawns measured,
 * the physical and host memory each live process costs, and a `ps` (the inspector's process view).
 * Then every server answers a call and all are ended.
 */
async function spawnAtScale(levels: readonly number[]): Promise<{ rows: AtScale[]; callUs: number; wrong: number; framesBack: boolean }> {
  const t = testMachine({ memory: 4 * 2 ** 30 - 65536 });
  const kernel = t.kernel;
  const image = await t.loader.load(SERVER(), "server");
  const spare = new Receiver(1);
  kernel.rootMemory.adopt(spare, 1);
  const free = kernel.frames.freeCount;
  const rss0 = process.memoryUsage().rss;
  const rows: AtScale[] = [];
  const farm: ServerFarm = { servers: [], groups: [] };
  for (const live of levels) {
    await startServers(t, live - farm.servers.length, farm);
    const spawn = await spawnBatches(t, image, spare);
    await kernel.run(); // the killed batches end
    const inspector = new KernelInspector(kernel);
    inspector.processes();
    const p0 = now();
    const listed = inspector.processes().live.length;
    const psMs = now() - p0;
    if (listed !== live) throw new Error(`bench bug: ps listed ${listed} of ${live}`);
    const k0 = now();
    inspector.capabilities(farm.servers.at(-1)!.pid);
    const capsMs = now() - k0;
    rows.push({ live, spawn, capsMs, framesEach: live > 0 ? (free - kernel.frames.freeCount) / live : 0, hostKiBEach: live > 0 ? (process.memoryUsage().rss - rss0 - (free - kernel.frames.freeCount) * 4096) / 1024 / live : 0, psMs });
  }
  const c0 = now();
  const wrong = await callEach(t, farm);
  const callUs = ((now() - c0) * 1000) / farm.servers.length;
  await endServers(t, farm);
  return { rows, callUs, wrong, framesBack: kernel.frames.freeCount === free };
}

/**
 * The same measure with no kernel: µs per `new WebAssembly.Instance` of the server's rewritten
 * module while this many instances of it stay alive (the kernel's own imports; none runs), the
 * mean over BATCHES batches of 200 after 3, in CPU time as spawnBatches. What this grows by is the
 * engine's, whatever the kernel does.
 */
function instancesAtScale(module: WebAssembly.Module, imports: WebAssembly.Imports, levels: readonly number[]): number[] {
  const live: WebAssembly.Instance[] = [];
  return levels.map((level) => {
    while (live.length < level) live.push(new WebAssembly.Instance(module, imports));
    let cpu = 0;
    for (let b = -3; b < BATCHES; b++) {
      const c0 = cpuMs();
      for (let i = 0; i < 200; i++) new WebAssembly.Instance(module, imports);
      if (b >= 0) cpu += cpuMs() - c0;
    }
    return (cpu * 1000) / (BATCHES * 200);
  });
}

export async function scheduling(): Promise<{ results: Result[]; notes: string[]; spawnCpuUs: number[] }> {
  const alone = await lateness(0);
  const loaded = await lateness(3);
  const results: Result[] = [
    result("sleeper's lateness, 3 spinners of its priority", loaded, "µs", "the same sleeper alone", alone),
  ];
  const notes: string[] = [];
  const scale = await spawnAtScale(LEVELS);
  const first = scale.rows[0]!;
  for (const row of scale.rows) {
    results.push(result(`kernel.spawn with ${row.live.toLocaleString("en")} live (CPU time)`, row.spawn.cpuUs, "µs", `the same with ${first.live} live`, first.spawn.cpuUs));
  }
  for (const row of scale.rows) {
    results.push(result(`kernel.spawn with ${row.live.toLocaleString("en")} live (CPU time)`, row.spawn.cpuUs, "µs", "new WebAssembly.Instance of its module, same heap, batches between", row.spawn.engineUs));
  }
  for (const row of scale.rows) {
    notes.push(
      `${row.live.toLocaleString("en")} live: spawn ${row.spawn.cpuUs.toFixed(1)} µs CPU, ${row.spawn.wallUs.toFixed(1)} µs wall, of which ${row.spawn.gcUs.toFixed(1)} µs the engine's garbage-collection pauses; the engine's instantiation of its module in the same heap ${row.spawn.engineUs.toFixed(1)} µs; ` +
        `${row.framesEach.toFixed(2)} frames (${((row.framesEach * 4096) / 1024).toFixed(1)} KiB of physical memory)${row.live >= 1000 ? ` and ${row.hostKiBEach.toFixed(1)} KiB of host memory besides` : ""} each; ` +
        `ps (the inspector's process view) ${row.psMs.toFixed(1)} ms, one server's capabilities ${row.capsMs.toFixed(2)} ms.`,
    );
  }
  if (scale.wrong !== 0 || !scale.framesBack) throw new Error(`bench bug: ${scale.wrong} calls answered wrongly, frames back: ${scale.framesBack}`);
  notes.push(
    "Lateness: from the end of each 5 ms nap to the sleeper's next dispatch (scheduler observer), median of 40. The kernel looks at the sleepers' deadlines at each look at the clock (the host's timer cannot fire while a process runs), and a process woken after waiting 1 ms or more goes to the front of its queue (src/kernel/scheduler.ts). Alone, the sleeper waits for the host's timer, which fires late.",
    `Spawn at scale: one 4 GiB machine (the most a WebAssembly memory holds) whose live servers (test/helpers/many-servers.ts: \`(memory 1 1)\`, so a one-frame TLB; each blocked in a receive through PROCESS_SERVE, so no stack between messages; two pages of its own) grow to each count; at each, ${BATCHES} batches of 200 spawns of the same server after 3 to warm up, each batch killed after, and between them as many new WebAssembly.Instance of its module with the kernel's imports (the engine's own cost in the same heap); the mean, in CPU time (the machine is shared; V8's collector threads count too) and wall time. A mean, since the engine's collections of the whole heap (1.2 GB at 100,000) fall in some batches only: medians of single runs went from 24 to 159 µs. Then each of the ${scale.rows.at(-1)!.live.toLocaleString("en")} answered a call (${scale.callUs.toFixed(1)} µs each, wall, callers included) and all were ended, every frame back. Host memory: the resident set's growth less the frames, per live process.`,
    "Why the engine's instantiation grows with the count: V8 charges every instance its module's size estimate (the module's code space at compile time and its metadata, about 200 bytes a declared function: 13 KB for the server's rewritten module of 13 functions, 31 KB before the loader left out the helpers it does not call (77 functions)) as external memory, returned only by a full collection, and starts one after each 64 MB of it (V8 14.6's default; a collection every ~5,000 spawns of the server). A full collection marks the whole heap, about 8.5 KiB a live process (about half of it the engine's instance), so its cost per spawn grows with the count: docs/MEMORY.md \"How many processes\".",
    "What grows with the count is the engine's, not a scan of the kernel's (none is left: frames, descriptors and TLBs are found in constant time, ps is linear): a CPU profile of spawn and kill at 20,000 live put instantiation at 52-76 µs a process against 29 µs with 1 live (the same for a module no live process was made from), the collector's marking of a heap of 12-16 KiB per live process on the two cores, and the kernel's own functions at about the same 15-20 µs as with 1 live (zeroing and first touches of fresh frames, the TLB, the tables).",
  );
  return { results, notes, spawnCpuUs: scale.rows.map((row) => row.spawn.cpuUs) };
}

/**
 * A section of its own (a fresh process: measured right after spawnAtScale, the engine's threads
 * were still collecting its 100,000 processes): instancesAtScale of the server's rewritten module.
 */
export async function engineAtScale(): Promise<{ levels: number[]; us: number[] }> {
  const t = testMachine();
  const image = await t.loader.load(SERVER(), "server");
  // The kernel's own imports (a TLB base the instances never use: they never run).
  return { levels: LEVELS, us: instancesAtScale(image.module, t.kernel.imports.forProcess(0, 0), LEVELS) };
}

