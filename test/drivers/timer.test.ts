import { describe, expect, it } from "vitest";
import { bootMachine, testTimer } from "../helpers/booted-machine.ts";
import { patience } from "../helpers/patience.ts";
import { CAP_TABLE_SLOTS, ObjectKind } from "../../src/kernel/caps/object-abi.ts";
import type { Process } from "../../src/kernel/process.ts";

/** How many Reply capabilities `process` holds: each a caller it has not answered yet. */
function repliesHeld(process: Process): number {
  let held = 0;
  for (let slot = 1; slot < CAP_TABLE_SLOTS; slot++) if (process.caps.get(slot)?.object.kind === ObjectKind.REPLY) held++;
  return held;
}

describe("timer driver", () => {
  it("tells the time and wakes each sleeper once its time has passed, each on its own deadline, never early", async () => {
    const clients = ["t1", "t2", "t3"];
    const m = await bootMachine(
      `service registry registry
driver  timer    timer device=timer interrupt=timer memory=64
${clients.map((name) => `service ${name} timer-test-client`).join("\n")}
`,
      ["registry", "timer", "timer-test-client"],
      { devices: (t) => [testTimer(t)] },
    );
    await m.line('timer: serving "timer"');
    const pids = await Promise.all(clients.map((name) => m.pidOf(name)));
    for (const pid of pids) await m.line(`init: t${pids.indexOf(pid) + 1} (pid ${pid}) exited with code 0; not restarting`);
    const lines = m.lines();
    for (const pid of pids) {
      const prefix = `timer-test-client (pid ${pid}): `;
      expect(lines).toContain(`${prefix}the wall clocks agree`);
      expect(lines).toContain(`${prefix}slept ${((pid % 3) + 1) * 30} ms`);
      expect(lines).toContain(`${prefix}slept until a deadline`);
      expect(lines).toContain(`${prefix}a sleep without words: E_CONTRACT; label 9: E_CONTRACT`);
    }
    expect(m.faults).toEqual([]);
    await m.halt();
  }, patience(60_000));
});

describe("timer driver under a flood of sleepers", () => {
  // Before: a table of 64, which 64 processes sleeping for ever filled, so that every other sleep
  // was answered Busy (E_QUEUE_FULL) until one of them ended; then a heap of 1000, which one
  // program with 1000 processes filled the same way (each sleeper held a Reply in the driver's
  // table). Now each sleeper waits in the kernel (REPLY_AT) and the driver holds none of them.
  it("still wakes a late sleeper while 70 processes sleep through it for ever, holding nothing for them", async () => {
    const hogs = 70;
    const m = await bootMachine(
      `service registry registry
driver  timer    timer device=timer interrupt=timer memory=64
${Array.from({ length: hogs }, (_, i) => `service h${i} timer-hog -- hog`).join("\n")}
service late timer-hog -- late
`,
      ["registry", "timer", "timer-hog"],
      { devices: (t) => [testTimer(t)], interactive: true },
    );
    const hogProcesses = () => m.kernel.stuck().filter((p) => p.image.name === "timer-hog" && p.args[1] === "hog");
    // Each says so just before its call to the driver, and is then blocked in nothing else.
    await m.until(`${hogs} hogs asleep in the driver`, (lines) =>
      lines.filter((l) => l === "timer-hog: sleeping").length === hogs &&
      hogProcesses().length === hogs &&
      hogProcesses().every((p) => p.descriptor.state === "blocked"),
    );
    const driver = m.kernel.stuck().find((p) => p.image.name === "timer")!;
    expect(repliesHeld(driver)).toBe(0);
    expect(m.kernel.scheduler.hasSleepers()).toBe(true);
    m.type("go\n");
    await m.line(/^timer-hog: the late sleeper's 1 ms sleep: /);
    expect(m.lines()).toContain("timer-hog: the late sleeper's 1 ms sleep: woken");
    expect(m.lines().filter((l) => l.startsWith("timer-hog: the endless sleep ended"))).toEqual([]);
    expect(m.faults).toEqual([]);
    await m.halt();
  }, patience(60_000));
});
