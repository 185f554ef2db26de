// A clean halt keeps what was written (issue 17): init stops the session (and its jobs), then the
// services, then asks the file system to finish — it commits — and only then stops it and the
// drivers. A directory made just before `exit`, well within the half second the server lets
// changes wait, is there after a reboot.
import { describe, expect, it } from "vitest";
import { MemoryBlockBackend } from "../../src/machine/devices/block-backend.ts";
import { BlockDevice } from "../../src/machine/devices/block.ts";
import { DeviceLine } from "../../src/machine/devices/standard-devices.ts";
import { bootMachine, diskShellConfig, diskShellDevices, testTimer } from "../helpers/booted-machine.ts";
import { patience } from "../helpers/patience.ts";

const PROGRAMS = ["ls", "mkdir", "halt"];
const { config: CONFIG, modules: MODULES } = diskShellConfig(PROGRAMS, "publish=fs control");

async function session(disk: MemoryBlockBackend) {
  const m = await bootMachine(CONFIG, MODULES, {
    devices: diskShellDevices(disk),
    interactive: true,
  });
  await m.until("the prompt", () => m.stdout().includes("dogma:/$ "));
  const run = async (line: string) => {
    const before = m.stdout().length;
    m.type(line + "\r");
    await m.until(`the prompt after ${JSON.stringify(line)}`, () => /dogma:\/[^\n]*\$ $/.test(m.stdout().slice(before + line.length)));
    return m.stdout().slice(before + line.length);
  };
  return { m, run };
}

const UNSYNCED = `service registry registry
driver  block    block    device=block interrupt=block memory=512
service fs       fs       memory=2048 publish=fs control
service writer   fs-no-sync use=fs memory=256 session
`;

describe("halting", () => {
  it("a session that ends the moment it changed something: init asks the file system to finish before it stops it, and the change is there after a reboot", async () => {
    const disk = new MemoryBlockBackend(64 << 20);
    const boot = () =>
      bootMachine(UNSYNCED, ["registry", "block", "fs", "fs-no-sync"], {
        devices: (t) => [new BlockDevice(DeviceLine.BLOCK, t.machine.interrupts, disk), testTimer(t)],
      });
    const first = await boot();
    await first.line("fs-no-sync: made");
    await first.line(/^init: the session is over; stopped \d+ services; halting$/);
    expect(first.lines()).toContain("init: halting: asked fs to finish; it has");
    await first.halt();
    const second = await boot();
    await second.line("fs-no-sync: found");
    await second.halt();
  }, patience(60_000));

  it("exit at once after a change: the file system is told before it is stopped, commits, and the change is there after a reboot", async () => {
    const disk = new MemoryBlockBackend(64 << 20);
    const first = await session(disk);
    // Typed ahead: exit comes the moment mkdir ends, well within the half second a change may wait.
    first.m.type("mkdir kept\rexit\r");
    await first.m.line(/^init: the session is over; stopped \d+ services; halting$/);
    const log = first.m.lines();
    const asked = log.indexOf("init: halting: asked fs to finish; it has");
    expect(asked, log.join("\n")).toBeGreaterThan(log.indexOf("init: shell (pid 8) exited with code 0; the session is over"));
    await first.m.halt();

    const second = await session(disk);
    expect(await second.run("ls -p")).toMatch(/^\nkept\/\ndogma:\/\$ $/);
    // halt (through the process manager) goes the same way.
    second.m.type("mkdir also\rhalt\r");
    await second.m.line(/^init: stopped \d+ services; halting$/);
    expect(second.m.lines()).toContain("init: halting: asked fs to finish; it has");
    await second.m.halt();

    const third = await session(disk);
    expect(await third.run("ls -p")).toMatch(/^\nalso\/\nkept\/\ndogma:\/\$ $/);
    await third.m.halt();
  }, patience(120_000));
});
