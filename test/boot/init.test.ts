import { describe, expect, it } from "vitest";
import { startInit } from "../../src/boot/bootloader.ts";
import type { MmioDevice } from "../../src/machine/mmio.ts";
import { program } from "../helpers/programs.ts";
import { testMachine } from "../helpers/test-host.ts";
import { bootMachine } from "../helpers/booted-machine.ts";
import { patience } from "../helpers/patience.ts";
import { Direction } from "../../src/kernel/caps/contract.ts";
import { Receiver } from "../../src/kernel/caps/receiver.ts";

/** A device that does nothing: enough for init to hand out its Device and Interrupt. */
const quietDevice = (name: string, line: number): MmioDevice => ({
  name,
  line,
  attachRegisters() {},
  write() {},
  attachDma() {},
  reset() {},
});

interface BootOptions {
  params?: Record<string, string>;
  devices?: MmioDevice[];
}

/**
 * Boots user/init with `config` and the named boot modules (built by `npm run build`) and runs
 * until every process is done or waits for ever. The console's lines, what init logged, the
 * faults the kernel reported, and how init ended (null: it is still watching, as it should be).
 */
async function boot(config: string, modules: string[], options: BootOptions = {}) {
  const t = testMachine();
  const image = {
    init: { name: "init", bytes: program("init") },
    modules: modules.map((name) => ({ name, bytes: program(name) })),
    config,
    params: options.params ?? {},
  };
  const init = await startInit(t.kernel, t.loader, image, options.devices ?? []);
  await t.kernel.run();
  const kernel = t.kernel;
  const lines = () => t.stdout().split("\n").filter((line) => line.length > 0);
  return {
    lines: lines(),
    log: lines().filter((line) => line.startsWith("init: ")),
    stderr: t.stderr(),
    faults: t.faults,
    initEnd: init.outcome,
    sliceNs: kernel.scheduler.sliceNs,
    priorities: () => [...kernel.processes.values()].map((p) => [p.image.name, p.descriptor.priority]),
    /** The transitions of contract `name` no message has taken yet, on the Receiver a live process holds (null: none has it). */
    untaken(name: string): string[] | null {
      for (const process of kernel.processes.values()) {
        if (!process.alive) continue;
        for (const [, cap] of process.caps.entries()) {
          const contract = cap.object instanceof Receiver ? cap.object.contract : null;
          if (contract === null || contract.name !== name) continue;
          const missed: string[] = [];
          contract.states.forEach((messages, state) => {
            for (const m of messages) if (contract.taken[m.index] === 0) missed.push(`${contract.stateNames[state]}.${m.name}${m.direction === Direction.TO_SERVER ? "?" : "!"}`);
          });
          return missed;
        }
      }
      return null;
    },
    /** Kills `pid` from the host, runs until all is quiet again, and answers the lines since. */
    async kill(pid: number) {
      const before = lines().length;
      expect(t.kernel.kill(pid)).toBe(0);
      await t.kernel.run();
      return lines().slice(before);
    },
  };
}

/** Fails unless `wanted` occur in `lines` in this order (other lines may come between). */
function expectInOrder(lines: string[], wanted: string[]): void {
  let at = 0;
  for (const line of lines) if (at < wanted.length && line === wanted[at]) at++;
  expect(at, `missing in order: ${JSON.stringify(wanted[at])}\n${lines.join("\n")}`).toBe(wanted.length);
}

describe("init and the service registry", () => {
  it("starts the registry first, then each service in order; a client finds a service through the registry and calls it", async () => {
    const r = await boot(
      `# kind   name     module         grants
service    registry registry
service    hello    hello-service  memory=64
service    client   hello-client   registry
`,
      ["registry", "hello-service", "hello-client"],
    );
    expect(r.log).toEqual([
      "init: 3 modules, 0 devices, 3 services",
      "init: started registry (pid 2)",
      "init: started hello (pid 3)",
      "init: started client (pid 4)",
      "init: client (pid 4) exited with code 0; not restarting",
    ]);
    expectInOrder(r.lines, [
      'hello-service: registered "hello"',
      'hello-client: hello answered "hello, hello-client"',
      "hello-client: the registry lists: hello",
      "hello-client: looking up no-such-service: E_INVALID_CAP",
      "init: client (pid 4) exited with code 0; not restarting",
    ]);
    expect(r.faults).toEqual([]);
    expect(r.initEnd).toBeNull();
  });

  it("answers REGISTER, LOOKUP and LIST as docs/BOOT.md says: replacing, bad names, a full table, names whose object is gone", async () => {
    const r = await boot("service registry registry\nservice check registry-check memory=64\n", ["registry", "registry-check"]);
    // What contract Registry forbids is refused by the kernel, which says why (the checks that it
    // never reached the registry are registry-check's: nothing it brought was registered).
    expect(r.lines.filter((line) => line.startsWith("registry-check: "))).toEqual([
      "registry-check: refused: contract Registry, state Ready: takes Register with 1 to 16 words, not 0 (allowed: Register?, Lookup?, List?, ForPrograms?, RegisterForServices?)",
      "registry-check: refused: contract Registry, state Ready: does not allow ? label 99 (allowed: Register?, Lookup?, List?, ForPrograms?, RegisterForServices?)",
      "registry-check: ok",
    ]);
    // Every transition of contract Registry but the failures this boot cannot provoke.
    expect(r.untaken("Registry")).toEqual([
      "Registering.InvalidCap!", // a capability the Cappage refuses: none is
      "Registering.QueueFull!", // a copy of a contract endpoint whose queue is full
      "LookingUp.QueueFull!", // the same, for the copy a LOOKUP answers
      "Minting.InvalidCap!", // the registry's Receiver gone while it mints
      "Minting.MissingRight!", // a registry without the mint right
      "Minting.QueueFull!", // the registry's queue full of programs' capabilities
      "Minting.Quota!", // the registry's table of capabilities full
    ]);
    expect(r.log.at(-1)).toBe("init: check (pid 3) exited with code 0; not restarting");
  });

  it("gives exactly the capabilities a line grants, in order from slot 2, the registry first", async () => {
    const r = await boot(
      `service registry registry
driver  disk     caps-report device=block interrupt=block memory=256
service plain    caps-report
service console  caps-report interrupt=console device=console
`,
      ["registry", "caps-report"],
      { devices: [quietDevice("console", 2), quietDevice("block", 3)] },
    );
    expect(r.log.slice(0, 5)).toEqual([
      "init: 2 modules, 2 devices, 4 services",
      "init: started registry (pid 2)",
      "init: started disk (pid 3)",
      "init: started plain (pid 4)",
      "init: started console (pid 5)",
    ]);
    expect(r.lines.filter((line) => line.startsWith("caps-report: "))).toEqual([
      "caps-report: receiver device interrupt memory",
      "caps-report: receiver",
      "caps-report: receiver interrupt device",
    ]);
  });

  it("grants publish=NAME and use=NAME (one Cappage init makes per name) and boot-modules (the Images to map, the boot info)", async () => {
    const r = await boot(
      `service registry registry
service pub      caps-report publish=shared boot-modules
service sub      caps-report use=shared memory=64
`,
      ["registry", "caps-report"],
    );
    expect(r.lines.filter((line) => line.startsWith("caps-report: ")).sort()).toEqual([
      "caps-report: receiver cappage cappage region",
      "caps-report: receiver cappage memory",
    ]);
    expect(r.faults).toEqual([]);
  });

  it("restarts a service that faults with a doubling backoff, gives up after 5 failures and says why, and keeps serving the others meanwhile", async () => {
    const r = await boot(
      "service registry registry\nservice crasher crasher\nservice hello hello-service memory=64\nservice client hello-client\n",
      ["registry", "crasher", "hello-service", "hello-client"],
    );
    expect(r.log.filter((line) => line.includes("crasher"))).toEqual([
      "init: started crasher (pid 3)",
      "init: crasher (pid 3) faulted: unreachable; restarting in 100 ms",
      "init: restarted crasher (pid 6)",
      "init: crasher (pid 6) faulted: unreachable; restarting in 200 ms",
      "init: restarted crasher (pid 7)",
      "init: crasher (pid 7) faulted: unreachable; restarting in 400 ms",
      "init: restarted crasher (pid 8)",
      "init: crasher (pid 8) faulted: unreachable; restarting in 800 ms",
      "init: restarted crasher (pid 9)",
      "init: crasher (pid 9) faulted: unreachable; giving up: 5 failures within 60 s",
    ]);
    expect(r.lines.filter((line) => line.startsWith("crasher: "))).toHaveLength(5);
    expect(r.faults).toHaveLength(5);
    expect(r.lines).toContain('hello-client: hello answered "hello, hello-client"');
    expect(r.log).toContain("init: client (pid 5) exited with code 0; not restarting");
    expect(r.initEnd).toBeNull();
  });

  it("refuses a config line of 100 KB with its length; the process manager, which reads the boot info, runs (it ran out of memory and was given up on)", async () => {
    const r = await boot(
      `service registry registry\n# ${"x".repeat(100_000)}\nservice proc procman memory=128 kernel images bootinfo control\nservice ${"y".repeat(100_000)} hello\n`,
      ["registry", "procman"],
    );
    expect(r.log).toContain("init: config line 2: 100002 characters, more than a line may have (1024); skipped");
    expect(r.log).toContain(`init: config line 4: ${`service ${"y".repeat(100_000)} hello`.length} characters, more than a line may have (1024); skipped`);
    expect(r.lines).toContain('procman: registered "proc"');
    expect(r.faults).toEqual([]);
  });

  it("gives up on a service that fails slowly too: 5 failures in a row, none up for a minute, each well apart (the 5-in-a-minute limit never saw them)", async () => {
    // Each attempt of the crasher seems to run 20 s: the test moves the clock on as it starts.
    const t = testMachine();
    const image = { init: { name: "init", bytes: program("init") }, modules: ["registry", "crasher"].map((name) => ({ name, bytes: program(name) })), config: "service registry registry\nservice crasher crasher\n", params: {} };
    await startInit(t.kernel, t.loader, image, []);
    let starts = 0;
    const mover = setInterval(() => {
      const now = t.stdout().split("\n").filter((l) => /^init: (re)?started crasher /.test(l)).length;
      for (; starts < now; starts++) t.advanceClock(20e9);
    }, 1);
    try {
      await t.kernel.run();
    } finally {
      clearInterval(mover);
    }
    const log = t.stdout().split("\n").filter((l) => l.startsWith("init: crasher"));
    expect(log).toHaveLength(5);
    expect(log.slice(0, 4).every((l) => / faulted: unreachable; restarting in \d+ ms$/.test(l))).toBe(true);
    expect(log[4]).toMatch(/^init: crasher \(pid \d+\) faulted: unreachable; giving up: 5 failures in a row, none of them up for 60 s$/);
  }, patience(60_000));

  it("halts when it gives up on the session: nothing else could use the machine", async () => {
    const r = await boot("service registry registry\nservice crasher crasher session\n", ["registry", "crasher"]);
    expect(r.log.at(-2)).toBe("init: crasher (pid 7) faulted: unreachable; giving up: 5 failures within 60 s");
    expect(r.log.at(-1)).toBe("init: the session (crasher) cannot run, and nothing else can use the machine; stopped 1 services; halting");
    expect(r.initEnd).toEqual({ kind: "exited", code: 0 });
  });

  it("restarts a killed service, which registers again; a restarted registry serves the same Receiver", async () => {
    const r = await boot("service registry registry\nservice hello hello-service memory=64\nservice client hello-client\n", ["registry", "hello-service", "hello-client"]);
    expect(r.lines).toContain('hello-client: hello answered "hello, hello-client"');
    expect(await r.kill(3)).toEqual([
      "init: hello (pid 3) was killed (exit code 137); restarting in 100 ms",
      "init: restarted hello (pid 5)",
      'hello-service: registered "hello"',
    ]);
    // The new registry serves the same Receiver: hello's call capability (slot 2) still reaches
    // it, which a restarted hello shows by registering again.
    expect(await r.kill(2)).toEqual(["init: registry (pid 2) was killed (exit code 137); restarting in 100 ms", "init: restarted registry (pid 6)"]);
    expect(await r.kill(5)).toEqual([
      "init: hello (pid 5) was killed (exit code 137); restarting in 200 ms",
      "init: restarted hello (pid 7)",
      'hello-service: registered "hello"',
    ]);
  });

  it("keeps the registry's table across its restarts: a service registered before is found after, without registering again", async () => {
    const m = await bootMachine("service registry registry\nservice hello hello-service memory=64\nservice watch registry-watch\n", ["registry", "hello-service", "registry-watch"]);
    try {
      await m.line("registry-watch: hello found");
      for (let restart = 1; restart <= 3; restart++) {
        await m.kill(await m.pidOf("registry"));
        await m.line(new RegExp(`^init: restarted registry \\(pid \\d+\\)$`));
        const lookups = m.lines().filter((l) => /^registry-watch: \d+ lookups$/.test(l)).length;
        await m.until("25 more lookups", (lines) => lines.filter((l) => /^registry-watch: \d+ lookups$/.test(l)).length >= lookups + 1);
      }
      expect(m.lines().filter((l) => l.startsWith("registry-watch: hello missing"))).toEqual([]);
      expect(m.lines().filter((l) => l.startsWith("hello-service: registered"))).toHaveLength(1);
      // Contract Registry is the Receiver's, which init keeps: the third registry serves it checked,
      // and the watch's lookups through all four went through the contract.
      const registry = [...m.kernel.processes.values()].find((p) => p.alive && p.image.name === "registry")!;
      const served = [...registry.caps.entries()].map(([, cap]) => cap.object).find((o): o is Receiver => o instanceof Receiver && o.contract !== null);
      expect(served?.contract?.name).toBe("Registry");
      const lookup = served!.contract!.states[0]!.find((message) => message.name === "Lookup")!;
      expect(served!.contract!.taken[lookup.index]).toBeGreaterThan(25 * 3);
      expect(m.faults).toEqual([]);
    } finally {
      await m.halt();
    }
  }, patience(60_000));

  // The red team's finding: any service could register over another's name (a compromised timer
  // over "fs"), and the next client spoke to it. A name is now its first registrant's (init's
  // badge: the service's number), across the registry's restarts and its owner's.
  it("keeps each name its registrant's: another service cannot take it, before or after either restarts", async () => {
    const m = await bootMachine(
      "service registry registry\nservice hello hello-service memory=64\nservice squat registry-squatter memory=64\nservice watch registry-watch\n",
      ["registry", "hello-service", "registry-squatter", "registry-watch"],
    );
    try {
      await m.line("registry-squatter: register hello: E_MISSING_RIGHT");
      await m.line("registry-squatter: register program-hello: E_MISSING_RIGHT");
      await m.line("registry-watch: hello found");
      await m.kill(await m.pidOf("registry"));
      await m.line(/^init: restarted registry \(pid \d+\)$/);
      // Its owner gone, the name stays its owner's; its owner restarted takes it back.
      await m.kill(await m.pidOf("hello"));
      await m.line(/^init: restarted hello \(pid \d+\)$/);
      await m.until("hello registered twice", (lines) => lines.filter((l) => l.startsWith('hello-service: registered "hello"')).length === 2);
      const lookups = m.lines().filter((l) => /^registry-watch: \d+ lookups$/.test(l)).length;
      await m.until("25 more lookups", (lines) => lines.filter((l) => /^registry-watch: \d+ lookups$/.test(l)).length >= lookups + 1);
      // Before: "register hello: 0", and hello's clients spoke to the squatter.
      expect(m.lines().filter((l) => l.startsWith("registry-squatter: "))).toEqual([
        "registry-squatter: register hello: E_MISSING_RIGHT",
        "registry-squatter: register program-hello: E_MISSING_RIGHT",
      ]);
      expect(m.faults).toEqual([]);
    } finally {
      await m.halt();
    }
  }, patience(60_000));

  it("logs a bad config line with its number and why, skips it and starts the rest", async () => {
    const r = await boot(
      `service hello hello-service memory=64   # before the registry: init starts the registry first
service registry registry
drive   typo     hello-client
service short
service ghost    no-such-module
service hello    hello-client
driver  nodev    caps-report device=tape
service badmem   caps-report memory=lots
service twice    caps-report memory=64 memory=64
service grant    caps-report root=yes
service client   hello-client
`,
      ["registry", "hello-service", "hello-client", "caps-report"],
      { params: { "slice-ms": "10" } },
    );
    expect(r.log).toEqual([
      "init: param slice-ms 10: applied",
      'init: config line 3: unknown kind "drive" (start, driver, service, module or deny); skipped: drive   typo     hello-client',
      "init: config line 4: expected: KIND NAME MODULE GRANT...; skipped: service short",
      "init: config line 5: no boot module named no-such-module; skipped: service ghost    no-such-module",
      "init: config line 6: the name hello is taken by line 1; skipped: service hello    hello-client",
      "init: config line 7: no device named tape; skipped: driver  nodev    caps-report device=tape",
      "init: config line 8: memory=lots is not a number of pages; skipped: service badmem   caps-report memory=lots",
      "init: config line 9: memory is granted twice; skipped: service twice    caps-report memory=64 memory=64",
      'init: config line 10: unknown grant "root=yes" (registry, device=NAME, interrupt=NAME, memory=PAGES, priority=N, kernel, kernel-info, images, bootinfo, control, publish=NAME, use=NAME, read=NAME, swap=NAME, boot-modules, log-channel, pin=N, pager=PAGES, paging=POLICY, supervise or session); skipped: service grant    caps-report root=yes',
      "init: config line 2: the registry must come first; starting it first",
      "init: 4 modules, 0 devices, 3 services",
      "init: started registry (pid 2)",
      "init: started hello (pid 3)",
      "init: started client (pid 4)",
      "init: client (pid 4) exited with code 0; not restarting",
    ]);
    expect(r.lines).toContain('hello-client: hello answered "hello, hello-client"');
    expect(r.initEnd).toBeNull();
    expect(r.sliceNs).toBe(10_000_000);
  });

  it("sets the time slice and each service's priority as the boot info and config say", async () => {
    const r = await boot(
      `service registry registry priority=2
service hello    hello-service priority=6 memory=64
service bad      hello-service priority=0 memory=64
`,
      ["registry", "hello-service"],
      { params: { "slice-ms": "3" } },
    );
    expect(r.log.slice(0, 2)).toEqual([
      "init: param slice-ms 3: applied",
      "init: config line 3: priority=0 is not 1 to 7; skipped: service bad      hello-service priority=0 memory=64",
    ]);
    expect(r.sliceNs).toBe(3_000_000);
    expect(r.priorities()).toEqual([
      ["init", 0],
      ["registry", 2],
      ["hello-service", 6],
    ]);
  });

  it("never faults on a config of garbage", async () => {
    const r = await boot(
      [
        "\u0000\u0001\u00ff binary",
        "service",
        "service x",
        `service ${"n".repeat(1000)} registry`, // within a line's 1024 characters, past the log's 1 KiB
        "service big registry memory=99999999999",
        "service zero registry memory=0",
        "service dev registry device= interrupt=",
        "service ok registry = == registry memory=-1",
        "\t\t   # only a comment",
        "service über registry memory=1",
      ].join("\n"),
      ["registry"],
    );
    expect(r.faults).toEqual([]);
    expect(r.initEnd).toBeNull();
    expect(r.log).toContain("init: the config starts no registry: nobody will answer registry calls");
    expect(r.log.filter((line) => line.startsWith("init: cannot start über: create the process: E_QUOTA"))).toHaveLength(5);
    // A line too long for init's log buffer (1 KiB) is cut and ends in "...".
    expect(r.log[3]).toMatch(/^init: config line 4: a name has at most 64 bytes; skipped: service n+\.\.\.$/);
    expect(r.log[3]!.length).toBeLessThanOrEqual(1024);
  });

  it("gives a service the arguments after `--` on its line (the module's name first)", async () => {
    const r = await boot(
      `service registry registry
service greet    echo   -- hello   wörld  1
service plain    echo   --
service long     echo   -- ${"x".repeat(250)}
service bad      echo   memory=64 -- a
`,
      ["registry", "echo"],
    );
    expect(r.log).toContain(`init: config line 4: the arguments take more than 248 bytes; skipped: service long     echo   -- ${"x".repeat(250)}`);
    expect(r.lines).toContain("hello wörld 1");
    expect(r.lines.filter((line) => line === "a")).toHaveLength(1);
    expect(r.log).toContain("init: greet (pid 3) exited with code 0; not restarting");
    expect(r.log).toContain("init: bad (pid 5) exited with code 0; not restarting");
    expect(r.faults).toEqual([]);
  });

  it("starts nothing, but keeps running, when the config names no service", async () => {
    const r = await boot("# nothing here\n", ["registry"]);
    expect(r.log).toEqual(["init: 1 modules, 0 devices, 0 services"]);
    expect(r.initEnd).toBeNull();
  });
});
