import { describe, expect, it } from "vitest";
import { startInit } from "../../src/boot/bootloader.ts";
import { program } from "../helpers/programs.ts";
import { testMachine } from "../helpers/test-host.ts";

/** Boots init with `config` and runs until the machine is quiet; the console's lines. */
async function boot(config: string, modules: string[]): Promise<string[]> {
  const t = testMachine();
  const image = { init: { name: "init", bytes: program("init") }, modules: modules.map((name) => ({ name, bytes: program(name) })), config, params: {} };
  await startInit(t.kernel, t.loader, image, []);
  await t.kernel.run();
  expect(t.faults).toEqual([]);
  return t.stdout().split("\n").filter((line) => line.length > 0);
}

describe("the log service", () => {
  it("keeps the last 256 lines it was given, and dmesg prints them oldest first", async () => {
    const lines = await boot(
      `service registry registry
service log      log              memory=256
service writer   log-test-client
service dmesg    dmesg            priority=6
`,
      ["registry", "log", "log-test-client", "dmesg"],
    );
    expect(lines).toContain('log: registered "log"');
    expect(lines).toContain('log-test-client: 256 lines kept, from "line 44" to "line 299"');
    const printed = lines.filter((line) => /^\[\d+\] /.test(line));
    expect(printed.length).toBe(256);
    expect(printed[0]).toBe("[44] line 44");
    expect(printed.at(-1)).toBe("[299] line 299");
    expect(lines).toContain("init: dmesg (pid 5) exited with code 0; not restarting");
  });
});
