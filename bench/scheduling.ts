// Scheduling under load and process start at scale (issue 18):
// - how late a process that sleeps 5 ms at a time runs while 3 processes of its priority spin,
//   beside the same sleeper alone (its lateness: from the end of its nap to its next dispatch);
// - kernel.spawn while N processes live (each blocked for ever in a futex wait), beside spawn on
//   an empty machine, and the physical memory each live process costs.
import { testMachine } from "../test/helpers/test-host.ts";
import { dogma, median, now, program, result, wat, type Result } from "./harness.ts";

const NAP_NS = 5_000_000;
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

/** A process that waits for ever: what each of the N live processes does. */
const waiter = wat(`(module
  (import "dogma" "futex_wait" (func $wait (param i32 i32 i64) (result i32)))
  (memory 1)
  (data (i32.const 4096) "w")
  (func (export "_start") (drop (call $wait (i32.const 8192) (i32.const 0) (i64.const -1)))))`);

/** µs per kernel.spawn (median of 5 batches of 200) while `live` processes wait, and frames per live process. */
async function spawnAmong(live: number): Promise<{ spawnUs: number; framesEach: number }> {
  const m = testMachine({ memory: 3 * 2 ** 30 });
  const kernel = m.kernel;
  const image = await m.loader.load(waiter, "waiter");
  const before = kernel.frames.freeCount;
  for (let i = 0; i < live; i++) kernel.spawn(image);
  const running = kernel.run();
  // Let each of them run to its wait.
  await new Promise((resolve) => setTimeout(resolve, 50));
  const framesEach = live > 0 ? (before - kernel.frames.freeCount) / live : 0;
  const batches: number[] = [];
  for (let b = 0; b < 5; b++) {
    const start = now();
    const made = [];
    for (let i = 0; i < 200; i++) made.push(kernel.spawn(image));
    batches.push(((now() - start) * 1000) / 200);
    for (const p of made) kernel.kill(p.pid);
  }
  for (const p of [...kernel.processes.values()]) kernel.kill(p.pid);
  await running;
  return { spawnUs: median(batches), framesEach };
}

export async function scheduling(): Promise<{ results: Result[]; notes: string[] }> {
  const alone = await lateness(0);
  const loaded = await lateness(3);
  const empty = await spawnAmong(0);
  const results: Result[] = [
    result("sleeper's lateness, 3 spinners of its priority", loaded, "µs", "the same sleeper alone", alone),
  ];
  const notes: string[] = [];
  for (const live of [1000, 10_000, 20_000]) {
    const among = await spawnAmong(live);
    results.push(result(`kernel.spawn with ${live} processes waiting`, among.spawnUs, "µs", "kernel.spawn on an empty machine", empty.spawnUs));
    notes.push(`${live} waiting processes: ${among.framesEach.toFixed(1)} frames (${((among.framesEach * 4096) / 1024).toFixed(0)} KiB of physical memory) each, 64 KiB of it their TLBs.`);
  }
  notes.push(
    "Lateness: from the end of each 5 ms nap to the sleeper's next dispatch (scheduler observer), median of 40. The kernel looks at the sleepers' deadlines at each look at the clock (the host's timer cannot fire while a process runs), and a process woken after waiting 1 ms or more goes to the front of its queue (src/kernel/scheduler.ts). Alone, the sleeper waits for the host's timer, which fires late.",
    "Spawn at scale: a 3 GiB machine; each live process has waited in futex_wait since it started. Physical memory limits the count: 4 GiB, the most a machine can have, holds about 45,000 such processes, the TLBs being most of each (docs/MEMORY.md).",
  );
  return { results, notes };
}
