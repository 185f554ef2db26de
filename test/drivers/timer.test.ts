import { describe, expect, it } from "vitest";
import { bootMachine, testTimer } from "../helpers/booted-machine.ts";
import { patience } from "../helpers/patience.ts";

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
