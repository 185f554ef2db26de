import { describe, expect, it } from "vitest";
import { program } from "../helpers/programs.ts";
import { testMachine } from "../helpers/test-host.ts";
import { wat } from "../helpers/wat.ts";

describe("scheduler", () => {
  it("interleaves processes that yield", async () => {
    const t = testMachine();
    const image = await t.loader.load(program("counter"), "counter");
    t.kernel.spawn(image, { args: ["counter", "3"] });
    t.kernel.spawn(image, { args: ["counter", "3"] });
    await t.kernel.run();
    expect(t.stdout()).toBe("counter 0\ncounter 0\ncounter 1\ncounter 1\ncounter 2\ncounter 2\n");
  });

  it("preempts a process that spins forever, so others finish", async () => {
    const t = testMachine();
    t.kernel.scheduler.sliceNs = 2_000_000;
    const spin = t.kernel.spawn(await t.loader.load(program("spin"), "spin"));
    const hello = t.kernel.spawn(await t.loader.load(program("hello"), "hello"), { args: ["hello", "x"] });
    const finished = hello.wait().then(() => t.kernel.kill(spin.pid));
    await t.kernel.run();
    await finished;
    expect(t.stdout()).toContain("hello from dogma pid 2\nx\n");
    expect(spin.outcome).toEqual({ kind: "exited", code: 137 });
    expect(spin.descriptor.cpuTimeUs).toBeGreaterThan(1000);
  });

  it("runs higher priorities first", async () => {
    const t = testMachine();
    const image = await t.loader.load(program("counter"), "counter");
    t.kernel.spawn(image, { args: ["low", "2"], priority: 6 });
    t.kernel.spawn(image, { args: ["high", "2"], priority: 1 });
    await t.kernel.run();
    expect(t.stdout()).toBe("counter 0\ncounter 1\ncounter 0\ncounter 1\n");
  });

  it("runs a process the host spawns while every other one sleeps, at once", async () => {
    // The scheduler, idle, waits for an interrupt or the next sleeper's deadline: a spawn from the
    // host made a process ready without ending that wait, so it ran only when the sleeper woke.
    const t = testMachine();
    const sleeper = t.kernel.spawn(await t.loader.load(program("sleeper"), "sleeper"), { args: ["sleeper", "10000"] });
    const hello = await t.loader.load(program("hello"), "hello");
    const running = t.kernel.run();
    while (!t.kernel.scheduler.hasSleepers()) await new Promise((resolve) => setTimeout(resolve, 1));
    const late = t.kernel.spawn(hello, { args: ["hello", "late"] });
    await late.wait();
    expect(sleeper.alive).toBe(true);
    expect(t.stdout()).toContain("late\n");
    t.kernel.kill(sleeper.pid);
    await running;
  });

  it("wakes a sleeper after its time, while others run", async () => {
    const t = testMachine();
    const started = performance.now();
    t.kernel.spawn(await t.loader.load(program("sleeper"), "sleeper"), { args: ["sleeper", "30"] });
    t.kernel.spawn(await t.loader.load(program("hello"), "hello"));
    await t.kernel.run();
    expect(performance.now() - started).toBeGreaterThanOrEqual(29);
    expect(t.stdout()).toMatch(/^hello from dogma pid 2\n[\s\S]*slept\n$/);
  });

  it("wakes sleepers in the order of their deadlines, whatever the order they went to sleep in", async () => {
    // The earliest deadline is kept as sleepers come and go (Scheduler.addSleeper, removeSleeper):
    // one kept too late would wake the idle machine late, past the next sleeper's time.
    const t = testMachine();
    const sleeper = await t.loader.load(program("sleeper"), "sleeper");
    // 100 ms apart, so mostly they end in the order of their lengths; but a host that stalls more
    // than 100 ms while they go to sleep (a loaded machine: seen at load 21) moves a later sleeper's
    // deadline past an earlier one's, so the order expected is that of the deadlines they got.
    const byDeadline = [400, 100, 300, 200, 500].map((ms) => ({ ms, process: t.kernel.spawn(sleeper, { args: ["sleeper", String(ms)] }) }));
    const ended: number[] = [];
    t.kernel.scheduler.observer = { running: () => {}, ended: (p) => ended.push(byDeadline.find((s) => s.process === p)!.ms) };
    await t.kernel.run();
    // Each slept once; its last deadline stays on the record.
    const expected = [...byDeadline].sort((a, b) => a.process.sleepUntilNs - b.process.sleepUntilNs).map((s) => s.ms);
    expect(byDeadline.every(({ process }) => Number.isFinite(process.sleepUntilNs))).toBe(true);
    expect(ended).toEqual(expected);
  });

  it("runs sleepers due at the same look at the clock in the order of their deadlines", async () => {
    // A host turn late (a busy machine), several deadlines have passed at once: each sleeper that
    // waited long goes to the front of its queue, and woken one by one they ran latest first.
    const t = testMachine();
    const sleeper = await t.loader.load(program("sleeper"), "sleeper");
    const byDeadline = [4000, 1000, 3000, 2000, 5000].map((ms) => ({ ms, process: t.kernel.spawn(sleeper, { args: ["sleeper", String(ms)] }) }));
    const ended: number[] = [];
    t.kernel.scheduler.observer = { running: () => {}, ended: (p) => ended.push(byDeadline.find((s) => s.process === p)!.ms) };
    const running = t.kernel.run();
    while (!byDeadline.every(({ process }) => process.descriptor.state === "blocked")) await new Promise((r) => setImmediate(r));
    t.advanceClock(10e9);
    await running;
    expect(ended).toEqual([1000, 2000, 3000, 4000, 5000]);
  });

  it("runs a process that waited long before the ones that kept the CPU busy meanwhile", async () => {
    const t = testMachine();
    const spin = await t.loader.load(program("spin"), "spin");
    const napper = wat(`(module
      (import "dogma" "sleep" (func $sleep (param i64)))
      (memory 1)
      (func (export "_start") (local $i i32)
        (loop $again
          (call $sleep (i64.const 5000000))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $again (i32.lt_u (local.get $i) (i32.const 10))))))`);
    const spinners = [1, 2, 3].map(() => t.kernel.spawn(spin));
    const sleeper = t.kernel.spawn(await t.loader.load(napper, "napper"));
    const dispatches: Array<[pid: number, atNs: number]> = [];
    t.kernel.scheduler.observer = { running: (p, at) => void (p && dispatches.push([p.pid, at])), ended: () => {} };
    const done = sleeper.wait().then(() => spinners.forEach((p) => t.kernel.kill(p.pid)));
    await t.kernel.run();
    await done;
    // After each of the sleeper's naps ends (5 ms after it was last dispatched), nobody else is
    // dispatched before it: it waited long, so it wakes at the front of its queue. At the back it
    // would wait for the two spinners queued before it, every time.
    const mine = dispatches.filter(([pid]) => pid === sleeper.pid).map(([, at]) => at);
    let overtaken = 0;
    for (let i = 0; i + 1 < mine.length; i++) {
      const deadline = mine[i]! + 5_500_000;
      overtaken += dispatches.filter(([pid, at]) => pid !== sleeper.pid && at > deadline && at < mine[i + 1]!).length;
    }
    expect(mine.length).toBeGreaterThanOrEqual(10);
    expect(overtaken).toBeLessThanOrEqual(3);
  });

  it("wakes a sleeper at its time, not at the end of the slice running then", async () => {
    const t = testMachine();
    // Slices of 10 s: a kernel that woke the sleeper only at the end of the running slice would take
    // 150 s for its 15 naps (past the test's patience) and make each wake-up seconds late; one that
    // looks at the deadlines at each look at the clock, microseconds. No bound near a busy host's
    // stalls is asserted.
    t.kernel.scheduler.sliceNs = 10_000_000_000;
    const spin = await t.loader.load(program("spin"), "spin");
    const napper = wat(`(module
      (import "dogma" "sleep" (func $sleep (param i64)))
      (memory 1)
      (func (export "_start") (local $i i32)
        (loop $again
          (call $sleep (i64.const 3000000))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $again (i32.lt_u (local.get $i) (i32.const 15))))))`);
    // The sleeper first: its first run must not wait for the spinner's first slice.
    const sleeper = t.kernel.spawn(await t.loader.load(napper, "napper"));
    const spinner = t.kernel.spawn(spin);
    const late: number[] = [];
    let last = -1;
    t.kernel.scheduler.observer = {
      running(p, at) {
        if (p !== sleeper) return;
        if (last >= 0) late.push(at - (last + 3_000_000));
        last = at;
      },
      ended: () => {},
    };
    const done = sleeper.wait().then(() => t.kernel.kill(spinner.pid));
    await t.kernel.run();
    await done;
    expect(late.length).toBe(15);
    // Every wake-up far inside the slice (a tenth of it: a second, beyond any host's stall).
    expect(Math.max(...late)).toBeLessThan(t.kernel.scheduler.sliceNs / 10);
  });

  it("yield_to runs the named process next and refuses unknown pids", async () => {
    const t = testMachine();
    const bytes = wat(`(module
      (import "dogma" "yield_to" (func $yield_to (param i32) (result i32)))
      (import "dogma" "console_write" (func $write (param i32 i32 i32) (result i32)))
      (import "dogma" "getpid" (func $getpid (result i32)))
      (memory 1) (data (i32.const 4096) "A" "B" "C")
      (func (export "_start")
        (if (i32.eq (call $getpid) (i32.const 1))
          (then
            (if (i32.ne (call $yield_to (i32.const 99)) (i32.const -10)) (then unreachable))
            (drop (call $write (i32.const 1) (i32.const 4096) (i32.const 1)))
            (drop (call $yield_to (i32.const 3)))
            (drop (call $write (i32.const 1) (i32.const 4096) (i32.const 1))))
          (else (drop (call $write (i32.const 1) (i32.add (i32.const 4095) (call $getpid)) (i32.const 1)))))))`);
    const image = await t.loader.load(bytes, "yielder");
    for (let i = 0; i < 3; i++) t.kernel.spawn(image);
    await t.kernel.run();
    // pid 1 writes A and hands the CPU to pid 3 (C) ahead of pid 2 (B); it goes to the back itself.
    expect(t.stdout()).toBe("ACBA");
  });

  it("reports exit codes and leaves no frames behind", async () => {
    const t = testMachine();
    const image = await t.loader.load(program("exitcode"), "exitcode");
    t.kernel.spawn(image, { args: ["exitcode", "0"] });
    await t.kernel.run();
    const free = t.kernel.frames.freeCount;
    const process = t.kernel.spawn(image, { args: ["exitcode", "42"] });
    await t.kernel.run();
    expect(process.outcome).toEqual({ kind: "exited", code: 42 });
    expect(process.state).toBe("exited");
    expect(t.kernel.frames.freeCount).toBe(free);
  });
});
