import { describe, expect, it } from "vitest";
import { startInit } from "../../src/boot/bootloader.ts";
import { program } from "../helpers/programs.ts";
import { testMachine } from "../helpers/test-host.ts";
import { bootMachine } from "../helpers/booted-machine.ts";
import { patience } from "../helpers/patience.ts";

/** Boots init with `config` and runs until the machine is quiet: the console's lines, stream by stream. */
async function boot(config: string, modules: string[], params: Record<string, string> = {}) {
  const t = testMachine();
  const image = { init: { name: "init", bytes: program("init") }, modules: modules.map((name) => ({ name, bytes: program(name) })), config, params };
  // Loaded before the boot, so that init starts every service before any runs: a module still
  // loading lets the others run while init waits, and the lines init logs meanwhile would move
  // the window of the ring the writer checks.
  for (const module of image.modules) await t.loader.load(module.bytes, module.name);
  await startInit(t.kernel, t.loader, image, []);
  await t.kernel.run();
  expect(t.faults).toEqual([]);
  const lines = (text: string) => text.split("\n").filter((line) => line.length > 0);
  return { out: lines(t.stdout()), err: lines(t.stderr()) };
}

const CONFIG = `service registry registry
service log      log              memory=256 bootinfo log-channel
service writer   log-test-client
service dmesg    dmesg            priority=6
`;
const MODULES = ["registry", "log", "log-test-client", "dmesg"];
/** dmesg's lines: "[seconds] text". */
const dmesgLine = /^\[ *\d+\.\d{6}\] (.*)$/;

describe("the log service", () => {
  it("keeps the last 512 lines; on a quiet boot what services and init print goes there, not to the console, but errors do; dmesg prints them oldest first", async () => {
    const { out, err } = await boot(CONFIG, MODULES);
    const logged = out.filter((line) => dmesgLine.test(line)).map((line) => dmesgLine.exec(line)![1]!);
    const direct = out.filter((line) => !dmesgLine.test(line));
    // Nothing but dmesg printed on the console: init's lines and the writer's went to the log.
    expect(direct).toEqual([]);
    expect(logged).toContain("init: writer (pid 4) exited with code 0; not restarting");
    expect(logged).toContain('log-test-client: 512 lines kept, from "line 88" to "line 599"');
    const lines = logged.filter((line) => /^line \d+$/.test(line));
    expect(lines.length).toBeLessThan(512); // the ring holds 512 lines: later ones pushed the first out
    expect(lines.at(-1)).toBe("line 599");
    // An errors stream's line is shown, on the console's errors stream, and kept too.
    expect(err).toEqual(["log-test-client: this went to the errors stream"]);
    expect(logged).toContain("log-test-client: this went to the errors stream");
  });

  it("shows every line on the console on a verbose boot (param verbose 1)", async () => {
    const { out } = await boot(CONFIG, MODULES, { verbose: "1" });
    expect(out).toContain('log: registered "log"; showing every line on the console (verbose)');
    expect(out).toContain('log-test-client: 512 lines kept, from "line 88" to "line 599"');
    expect(out).toContain("init: started writer (pid 4)");
    expect(out).toContain("init: dmesg (pid 5) exited with code 0; not restarting");
  });

  it("speaks contract Log: what the contract forbids is refused by the kernel and never reaches the log", async () => {
    const { out } = await boot("service registry registry\nservice log log memory=256 bootinfo log-channel\nservice check log-contract-check\n", ["registry", "log", "log-contract-check"], { verbose: "1" });
    expect(out).toContain("log-contract-check: label 3: contract Log, state Ready: does not allow ? label 3 (allowed: Write?, Read?)");
    expect(out).toContain("log-contract-check: an empty Write: contract Log, state Ready: takes Write with 1 to 64 words, not 0 (allowed: Write?, Read?)");
    expect(out).toContain("log-contract-check: a Read of 3 words: contract Log, state Ready: takes Read with 0 to 2 words, not 3 (allowed: Write?, Read?)");
    expect(out).toContain("log-contract-check: a Write carrying a capability: contract Log, state Ready: takes Write with 0 capabilities, not 1 (allowed: Write?, Read?)");
    expect(out).toContain("log-contract-check: 4 refused; the line written is kept: true; a refused one reached the log: false");
    expect(out).toContain("init: check (pid 4) exited with code 0; not restarting");
  });

  // The red team's finding: 8 waiting readers in all, shared by everyone: a program's 8 children
  // in `dmesg -f` kept every other reader from following the log (the ninth got Busy and ended).
  it("lets every reader wait for the next line: twelve `dmesg -f` all follow it", async () => {
    const followers = Array.from({ length: 12 }, (_, i) => `service f${i + 1} dmesg -- -f`).join("\n");
    // Verbose: init's lines on the console too, where pidOf finds them.
    // registry-watch sleeps and wakes: the machine runs on while every follower waits.
    const m = await bootMachine(
      `service registry registry\nservice log log memory=256 bootinfo log-channel\n${followers}\nservice watch registry-watch\n`,
      ["registry", "log", "dmesg", "registry-watch"],
      { params: { verbose: "1" } },
    );
    try {
      const last = new RegExp(`^\\[ *\\d+\\.\\d{6}\\] init: started f12 \\(pid \\d+\\)$`);
      await m.until("every follower has the last start", (lines) => lines.filter((l) => last.test(l)).length === 12);
      const dmesgs = () => [...m.kernel.processes.values()].filter((p) => p.image.name === "dmesg");
      // (A follower answered Busy has ended; one waiting is blocked in its call.)
      await m.until("every follower waits (or has ended)", () => dmesgs().every((p) => !p.alive || p.state === "blocked"));
      // Each waits in the kernel on the log's sequence word, not in a READ the log holds for it.
      const futexes = (m.kernel as unknown as { futexes: { waiting: { process: { image: { name: string } } }[] } }).futexes;
      expect(futexes.waiting.filter((w) => w.process.image.name === "dmesg").length).toBe(12);
      await m.kill(await m.pidOf("f1"));
      const killed = /^\[ *\d+\.\d{6}\] init: f1 \(pid \d+\) was killed/;
      await m.until("the eleven others print f1's end", (lines) => lines.filter((l) => killed.test(l)).length >= 11);
      // Before: four of them were answered Busy and ended ("exited with code 0").
      expect(m.lines().filter((l) => /init: f\d+ \(pid \d+\) exited/.test(l))).toEqual([]);
      expect(dmesgs().filter((p) => p.alive).length).toBeGreaterThanOrEqual(11);
      expect(m.faults).toEqual([]);
    } finally {
      await m.halt();
    }
  }, patience(60_000));

  it("leaves the console to a config without a log service", async () => {
    const { out } = await boot("service registry registry\nservice greet echo -- hi there\n", ["registry", "echo"]);
    expect(out).toContain("init: started greet (pid 3)");
    expect(out).toContain("hi there");
  });
});
