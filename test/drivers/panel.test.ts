/**
 * The front panel (src/machine/devices/panel.ts) and its driver (user/drivers/panel.ts): a command
 * the host gives reaches a service only through the driver's control capability and process 1's
 * own capability to that service; what init did not start, or a line without `supervise`, is refused.
 */
import { describe, expect, it } from "vitest";
import { Status } from "../../src/kernel/errors.ts";
import { PanelDevice } from "../../src/machine/devices/panel.ts";
import { DeviceLine } from "../../src/machine/devices/standard-devices.ts";
import { bootMachine, testTimer } from "../helpers/booted-machine.ts";

const { E_MISSING_RIGHT, E_NO_PROCESS } = Status;

function config(panelGrants: string): string {
  return `service registry registry
driver  timer    timer device=timer interrupt=timer memory=64
driver  panel    panel device=panel interrupt=panel memory=64 ${panelGrants}
`;
}

async function bootWithPanel(panelGrants: string) {
  let panel: PanelDevice | null = null;
  const m = await bootMachine(config(panelGrants), ["registry", "timer", "panel"], {
    devices: (t) => [testTimer(t), (panel = new PanelDevice(DeviceLine.PANEL, t.machine.interrupts))],
  });
  return { m, panel: panel! };
}

describe("front panel", () => {
  it("kills, suspends and resumes a service through init; a killed driver comes back; others are refused", async () => {
    const { m, panel } = await bootWithPanel("control supervise");
    await m.line('timer: serving "timer"');
    const timer = await m.pidOf("timer");
    await m.line("panel: taking commands");

    expect(await panel.request("suspend", timer)).toBe(0);
    expect(m.kernel.processes.get(timer)?.suspended).toBe(true);
    expect(await panel.request("resume", timer)).toBe(0);
    expect(m.kernel.processes.get(timer)?.suspended).toBe(false);

    expect(await panel.request("kill", timer)).toBe(0);
    await m.line(`init: kill timer (pid ${timer}) asked by panel`);
    await m.line(new RegExp(`^init: timer \\(pid ${timer}\\) was killed \\(exit code 137\\); restarting in 100 ms$`));
    await m.line(/^init: restarted timer \(pid \d+\)$/);
    expect(await m.pidOf("timer")).not.toBe(timer);

    // init itself, and a pid no service of init's runs as: process 1 holds nothing to act with.
    expect(await panel.request("kill", 1)).toBe(E_NO_PROCESS);
    expect(await panel.request("kill", 4000)).toBe(E_NO_PROCESS);
    await expect(panel.request("kill", 0)).rejects.toThrow("0 is not a pid");
    expect(m.faults).toEqual([]);
    await m.halt();
  });

  it("refuses a panel whose line lacks supervise, and drops what was waiting when its driver restarts", async () => {
    const { m, panel } = await bootWithPanel("control");
    const timer = await m.pidOf("timer");
    await m.line("panel: taking commands");
    expect(await panel.request("kill", timer)).toBe(E_MISSING_RIGHT);
    expect(m.kernel.processes.get(timer)?.alive).toBe(true);

    // Nobody answers a command shown while the driver is gone; the reset of its restart refuses it.
    const driver = await m.pidOf("panel");
    await m.kill(driver);
    const waiting = panel.request("suspend", timer).then(
      (status) => `answered ${status}`,
      (error: Error) => error.message,
    );
    await m.line(/^init: restarted panel \(pid \d+\)$/);
    expect(await waiting).toBe("the panel was reset (its driver restarted) before it answered");
    await m.until("the restarted driver takes commands", (lines) => lines.filter((l) => l === "panel: taking commands").length === 2);
    expect(await panel.request("suspend", timer)).toBe(E_MISSING_RIGHT);
    await m.halt();
  });
});
