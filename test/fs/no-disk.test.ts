import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { startInit } from "../../src/boot/bootloader.ts";
import { modulesOf } from "../../src/hosts/node/boot-command.ts";
import { program } from "../helpers/programs.ts";
import { testMachine } from "../helpers/test-host.ts";
import { testTimer } from "../helpers/booted-machine.ts";
import { patience } from "../helpers/patience.ts";

describe("the default config on a machine without a disk", () => {
  it("boots: the block driver's and the host share's lines are skipped, the file system says there is none and ends as done, the rest runs; the end of the console's input halts it", async () => {
    const config = readFileSync(join(import.meta.dirname, "../../user/boot/init.conf"), "utf8");
    const t = testMachine({ interactive: true });
    const image = {
      init: { name: "init", bytes: program("init") },
      modules: modulesOf(config).map((name) => ({ name, bytes: program(name) })),
      config,
      // The default config sends what services say to the log: shown on the console, as here, when verbose.
      params: { verbose: "1" },
    };
    await startInit(t.kernel, t.loader, image, [t.machine.devices.find((d) => d.name === "console")!, testTimer(t)]);
    const running = t.kernel.run();
    const until = async (what: string, done: () => boolean) => {
      for (const give = Date.now() + 50_000; !done(); await new Promise((resolve) => setTimeout(resolve, 5))) {
        if (Date.now() > give) throw new Error(`never got to: ${what}\n${t.stdout()}`);
      }
    };
    await until("the file system gives up", () => t.stdout().includes("no file system on this machine"));
    await until("the prompt", () => t.stdout().includes("dogma:/$ "));
    t.type("echo still here\r");
    // The typed line is echoed first ("echo still here"): wait for the output after it.
    // (the pager may say it found no file system in between: it waits 10 s for one).
    const echoed = /echo still here\n(pager: [^\n]*\n|init: [^\n]*\n)*still here\n/;
    await until("the echo", () => echoed.test(t.stdout()));
    t.type("exit\r");
    await running;
    const lines = t.stdout().split("\n");
    expect(lines.some((l) => /^init: config line \d+: no device named block; skipped: /.test(l))).toBe(true);
    expect(lines.some((l) => /^init: config line \d+: no device named share; skipped: /.test(l))).toBe(true);
    expect(lines.some((l) => /^init: config line \d+: no device named panel; skipped: /.test(l))).toBe(true);
    expect(t.stdout()).toContain('fs: no block driver registered "block" within 2 s: no file system on this machine\n');
    expect(lines.some((l) => /^init: fs \(pid \d+\) exited with code 0; not restarting$/.test(l))).toBe(true);
    // The pager needs the file system: init starts the lines after it without waiting for it.
    expect(lines).toContain("init: no paging: fs, which pager needs, is done");
    expect(t.stdout()).toMatch(echoed);
    // Everything else the config names was started, each from its manifest (what each then does is its own test's business).
    const services = config.split("\n").filter((l) => /^\s*start\s/.test(l)).map((l) => l.trim().split(/\s+/)[1]!);
    expect(services.length).toBeGreaterThan(10);
    for (const name of services.filter((n) => n !== "block" && n !== "hostfs" && n !== "panel")) expect(lines.some((l) => l.startsWith(`init: started ${name} (pid `))).toBe(true);
    expect(t.faults).toEqual([]);
  }, patience(60_000));
});
