/**
 * The process manager booted through init, as a session at the console would see it: a client
 * spawns boot modules and a binary handed over in a Region, passes arguments and capabilities,
 * waits for exit codes, is refused with reasons, kills within its session only, and runs the
 * tools (ps, caps, mem, uptime, kill, halt); halt ends process 1 cleanly.
 */
import { afterEach, describe, expect, it } from "vitest";
import { startInit } from "../../src/boot/bootloader.ts";
import { type Contract, Direction } from "../../src/kernel/caps/contract.ts";
import { Receiver } from "../../src/kernel/caps/receiver.ts";
import { program } from "../helpers/programs.ts";
import { testMachine } from "../helpers/test-host.ts";

const MODULES = ["registry", "procman", "proc-test-client", "echo", "sleeper", "ps", "kill", "caps", "mem", "uptime", "halt"];

async function boot(config: string) {
  const t = testMachine({ memory: 64 << 20 });
  const image = { init: { name: "init", bytes: program("init") }, modules: MODULES.map((name) => ({ name, bytes: program(name) })), config, params: {} };
  const init = await startInit(t.kernel, t.loader, image, []);
  t.kernel.setCritical(init);
  await t.kernel.run();
  return { lines: t.stdout().split("\n").filter((line) => line.length > 0), stderr: t.stderr(), faults: t.faults, init };
}

// The tools and programs are boot modules nothing starts: "module NAME" lines.
const CONFIG = `service registry registry
service proc     procman          memory=128 kernel images bootinfo control
service client   proc-test-client memory=4096
module echo
module sleeper
module ps
module kill
module caps
module mem
module uptime
module halt
module no-such-tool
`;

describe("the process manager", () => {
  it("spawns, passes arguments and capabilities, reports exits, refuses with reasons, kills by session, runs the tools and halts", async () => {
    const r = await boot(CONFIG);
    const client = r.lines.filter((line) => line.startsWith("proc-test-client: "));
    expect(r.faults).toEqual([]);
    expect(r.stderr).toBe("caps: 99999: no such process\n");
    expect(r.lines).toContain('procman: registered "proc"');
    expect(r.lines.filter((line) => line.includes("skipped"))).toEqual(["init: config line 12: no boot module named no-such-tool; skipped: module no-such-tool"]);
    expect(r.lines).toContain("spawned by procman");
    expect(client).toEqual([
      "proc-test-client: echo spawned by procman: exited with code 0",
      expect.stringMatching(/^proc-test-client: spawned self-copy as pid \d+$/),
      "proc-test-client: gave it slot 4",
      expect.stringMatching(/^proc-test-client: child \(pid \d+\) runs from a Region with args child x; slot 4 holds a Memory$/),
      "proc-test-client: self-copy: exited with code 7",
      "proc-test-client: waiting again: E_PEER_DEAD",
      "proc-test-client: junk binary: E_INVALID_ARGUMENT: junk: header: not a WebAssembly binary (it does not start with \\0asm)",
      "proc-test-client: no such module: E_INVALID_CAP",
      "proc-test-client: a Memory without MEMORY_CREATE: E_MISSING_RIGHT",
      "proc-test-client: a Memory of 4 pages: E_QUOTA",
      "proc-test-client: arguments too long: E_INVALID_ARGUMENT",
      "proc-test-client: a malformed argument block: E_INVALID_ARGUMENT",
      "proc-test-client: start after kill: E_PEER_DEAD",
      // Contract ProcessManager: refused by the kernel, never delivered (procman answered these
      // E_INVALID_ARGUMENT, E_INVALID_ARGUMENT, E_BAD_MESSAGE and E_WRONG_TYPE before it had one).
      expect.stringMatching(/^proc-test-client: label 99: E_CONTRACT: contract ProcessManager, state Ready: does not allow \? label 99 \(allowed: NewSession\?, Spawn\?, /),
      "proc-test-client: a reply's label as a request: E_CONTRACT",
      "proc-test-client: give nothing: E_CONTRACT",
      expect.stringMatching(/^proc-test-client: spawn paid by a Region: E_CONTRACT: contract ProcessManager, state Ready: takes Spawn's capability 0 as a memory, not a view /),
      "proc-test-client: watch it: OK",
      "proc-test-client: suspend it: OK; resume it: OK",
      "proc-test-client: its state: OK, pid its own",
      "proc-test-client: kill through the registry's capability: E_MISSING_RIGHT",
      "proc-test-client: kill from another session: E_MISSING_RIGHT",
      "proc-test-client: kill a pid procman did not spawn: E_NO_PROCESS",
      "proc-test-client: halt through the registry's capability: E_MISSING_RIGHT",
      "proc-test-client: debug through the registry's capability: E_MISSING_RIGHT",
      "proc-test-client: debug from another session: E_MISSING_RIGHT",
      "proc-test-client: debug from its session: rights 0x84",
      "proc-test-client: debug through the job: rights 0x84",
      "proc-test-client: ps: exited with code 0",
      expect.stringMatching(/^proc-test-client: caps \d+: exited with code 0$/),
      "proc-test-client: mem: exited with code 0",
      "proc-test-client: uptime: exited with code 0",
      "proc-test-client: caps 99999: exited with code 1",
      expect.stringMatching(/^proc-test-client: kill \d+: exited with code 0$/),
      "proc-test-client: sleeper: exited with code 137",
    ]);
    // ps: every live process, init first, with its image's name.
    const ps = r.lines.slice(r.lines.indexOf("  PID  PPID STATE     PRI  PAGES     CPU ms  MEM NAME") + 1);
    expect(ps[0]).toMatch(/^ {4}1 {5}0 blocked +0 +\d+ +\d+ +2 init$/);
    expect(ps.some((line) => / sleeper$/.test(line))).toBe(true);
    // procman is running (it relays KERNEL_PROCESS), ps waits for its answer.
    expect(ps.some((line) => /^ +3 +1 running .* procman$/.test(line))).toBe(true);
    expect(ps.some((line) => /^ +\d+ +3 blocked .* ps$/.test(line))).toBe(true);
    // caps PID: the client's own table: itself, the registry, its Memory, procman...
    const caps = r.lines.slice(r.lines.indexOf("SLOT KIND       RIGHTS     BADGE") + 1);
    expect(caps.slice(0, 3)).toEqual(["   1 process    0x64 0", expect.stringMatching(/^ {3}2 receiver {3}0x8 \d+$/), "   3 memory     0xffffffff 0"]);
    expect(r.lines).toContainEqual(expect.stringMatching(/^frames 16384 \(64 MiB\): \d+ free, \d+ kernel, \d+ pages and regions, \d+ process pages$/));
    expect(r.lines).toContain("MEMORY PARENT      QUOTA       USED PROCS");
    expect(r.lines).toContainEqual(expect.stringMatching(/^ {5}1 {6}0 +\d+ +\d+ +\d+$/));
    expect(r.lines).toContainEqual(expect.stringMatching(/^up 0:00:\d\d\.\d\d\d$/));
    expect(r.lines).toContainEqual(expect.stringMatching(/^kill: \d+ killed$/));
    // halt: procman asks init, which stops every service and ends with 0: the machine powers off.
    expect(r.lines).toContain("procman: halting the machine");
    expect(r.lines).toContain("init: halt requested by proc");
    expect(r.lines).toContain("init: stopped 3 services; halting");
    expect(r.init.outcome).toEqual({ kind: "exited", code: 0 });
  });

  // Contract ProcessManager's coverage (as test/contracts/coverage.test.ts does for the others):
  // every request and every success answer is taken by this client and its tools, but those
  // listed; failures are procman's relays of the kernel's statuses, most never provoked here.
  const contracts: Contract[] = [];
  const setContract = Receiver.prototype.setContract;
  afterEach(() => {
    Receiver.prototype.setContract = setContract;
  });
  it("takes every request and every success of contract ProcessManager, but those listed", async () => {
    Receiver.prototype.setContract = function (this: Receiver, contract: Contract) {
      contracts.push(contract);
      setContract.call(this, contract);
    };
    await boot(CONFIG);
    const contract = contracts.find((c) => c.name === "ProcessManager");
    expect(contract).toBeDefined();
    const missed: string[] = [];
    contract!.states.forEach((messages, state) => {
      for (const m of messages) {
        const request = m.direction === Direction.TO_SERVER;
        if (contract!.taken[m.index] === 0 && (request || m.label === 0)) missed.push(`${contract!.stateNames[state]}.${m.name}${request ? "?" : "!"}`);
      }
    });
    expect(missed.sort()).toEqual([
      // A binary over 16 MiB loaded through an image builder: the shell's (test/programs/shell.test.ts).
      "Ready.SpawnImage?",
    ]);
  });
});
