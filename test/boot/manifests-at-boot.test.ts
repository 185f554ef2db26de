// init and the boot modules' manifests (docs/MANIFESTS.md "At boot"): a `start NAME` line starts
// a boot module with what its manifest asks for, in the order of its lines; every boot module's
// manifest is checked as the installer checks a program, and a module refused is not started,
// with every reason in the log; the config overrides how a service runs, never what it holds.
import { describe, expect, it } from "vitest";
import { BootModulesRefused, startInit } from "../../src/boot/bootloader.ts";
import { withManifestSection } from "../../src/boot/manifest.ts";
import type { MmioDevice } from "../../src/machine/mmio.ts";
import { program } from "../helpers/programs.ts";
import { testMachine } from "../helpers/test-host.ts";

/** A device that does nothing: enough for init to hand out its Device and Interrupt. */
const quietDevice = (name: string, line: number): MmioDevice => ({
  name,
  line,
  attachRegisters() {},
  write() {},
  attachDma() {},
  reset() {},
});

const manifest = (name: string, kind: string, ...lines: string[]) => [`name ${name}`, "version 1", `kind ${kind}`, ...lines, ""].join("\n");

/** Boots init with `config` and these modules (name: the built program it is, and the manifest it carries; null: none) until all is quiet. */
async function boot(config: string, modules: Record<string, [string, string | null]>, devices: MmioDevice[] = []) {
  const t = testMachine();
  const image = {
    init: { name: "init", bytes: program("init") },
    modules: Object.entries(modules).map(([name, [base, text]]) => ({ name, bytes: text === null ? program(base) : withManifestSection(program(base), text) })),
    config,
    params: {},
  };
  await startInit(t.kernel, t.loader, image, devices);
  await t.kernel.run();
  const lines = t.stdout().split("\n").filter((line) => line.length > 0);
  return { lines, log: lines.filter((line) => line.startsWith("init: ")), faults: t.faults };
}

describe("the boot modules' code", () => {
  it("is loaded, every module, before the machine starts: each one the loader refuses is named, not only the first", async () => {
    const t = testMachine();
    const broken = (name: string) => ({ name, bytes: new Uint8Array([...program("hello").subarray(0, 8), 0x01, 0x01, 0x05]) });
    const image = {
      init: { name: "init", bytes: program("init") },
      modules: [{ name: "registry", bytes: program("registry") }, broken("first"), broken("second")],
      config: "start registry\n",
      params: {},
    };
    const refused = await startInit(t.kernel, t.loader, image, []).then(
      () => null,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(BootModulesRefused);
    expect((refused as BootModulesRefused).refusals.map((e) => e.binaryName)).toEqual(["first", "second"]);
    expect((refused as BootModulesRefused).message).toMatch(/^first: /);
  });
});

describe("init starts services from their manifests", () => {
  it("gives exactly what the manifest asks for, in the order of its lines, whatever the start line says", async () => {
    const r = await boot(
      `start registry
start disk
start plain
start sharer priority=5 memory=32
`,
      {
        registry: ["registry", manifest("registry", "service", "provides registry Registry")],
        disk: ["caps-report", manifest("disk", "driver", "device block", "interrupt block", "memory 256")],
        plain: ["caps-report", manifest("plain", "service")],
        sharer: ["caps-report", manifest("sharer", "service", "cap bootinfo", "provides thing Thing shared", "memory 64", "cap control")],
      },
      [quietDevice("console", 2), quietDevice("block", 3)],
    );
    expect(r.log.filter((l) => l.startsWith("init: started"))).toEqual([
      "init: started registry (pid 2)",
      "init: started disk (pid 3)",
      "init: started plain (pid 4)",
      "init: started sharer (pid 5)",
    ]);
    expect(r.lines.filter((line) => line.startsWith("caps-report: "))).toEqual([
      "caps-report: receiver device interrupt memory",
      "caps-report: receiver",
      "caps-report: receiver region cappage memory receiver",
    ]);
    expect(r.log.filter((l) => l.includes("refused") || l.includes("skipped"))).toEqual([]);
    expect(r.faults).toEqual([]);
  });

  it("refuses, at boot, two drivers of one device, a module needing what nobody provides, and what depends on a refused one; a config line may not start them", async () => {
    const r = await boot(
      `start registry
start console
start console2
start needy
start user
start tool
start plain
start plain2 grants=everything
service old old memory=256
`,
      {
        registry: ["registry", manifest("registry", "service", "provides registry Registry")],
        console: ["caps-report", manifest("console", "driver", "device console", "interrupt console", "provides console Console")],
        console2: ["caps-report", manifest("console2", "driver", "device console", "provides console2 Console")],
        needy: ["caps-report", manifest("needy", "service", "needs nosuch Nothing", "provides needed Needed")],
        user: ["caps-report", manifest("user", "service", "needs needed Needed")],
        tool: ["caps-report", manifest("tool", "program")],
        plain: ["caps-report", null],
        plain2: ["caps-report", manifest("plain2", "service")],
        // A module without a manifest, started by a line of grants, as before.
        old: ["caps-report", null],
      },
      [quietDevice("console", 2)],
    );
    expect(r.log).toContain("init: boot module console refused: device console is driven by console2 already");
    expect(r.log).toContain("init: boot module console2 refused: device console is driven by console already");
    expect(r.log).toContain("init: boot module needy refused: it needs service nosuch speaking Nothing, which no installed program provides");
    // user needs what needy provides: refused once needy is.
    expect(r.log).toContain("init: boot module user refused: it needs service needed speaking Needed, which no installed program provides");
    expect(r.log).toContain(
      "init: config line 2: console was refused at boot: device console is driven by console2 already; skipped: start console",
    );
    expect(r.log.some((l) => l.startsWith("init: config line 4: needy was refused at boot: "))).toBe(true);
    expect(r.log.some((l) => l.startsWith("init: config line 5: user was refused at boot: "))).toBe(true);
    expect(r.log).toContain("init: config line 6: tool is a program: init starts services and drivers; skipped: start tool");
    expect(r.log).toContain("init: config line 7: plain has no manifest (a line of grants starts it: service NAME MODULE GRANT...); skipped: start plain");
    expect(r.log).toContain(
      'init: config line 8: unknown override "grants=everything" (memory=PAGES, priority=N, pin=N or paging=POLICY; what it holds is its manifest\'s); skipped: start plain2 grants=everything',
    );
    expect(r.log.filter((l) => l.startsWith("init: started"))).toEqual(["init: started registry (pid 2)", "init: started old (pid 3)"]);
    expect(r.lines.filter((line) => line.startsWith("caps-report: "))).toEqual(["caps-report: receiver memory"]);
  });

  it("a config's deny lines are the system's policy: a service whose manifest asks for what it denies is not started", async () => {
    const r = await boot("start registry\nstart panelish\nstart quiet\nstart reader\ndeny supervise device=console\n", {
      registry: ["registry", manifest("registry", "service")],
      panelish: ["caps-report", manifest("panelish", "driver", "device block", "memory 64", "cap control", "cap supervise")],
      quiet: ["caps-report", manifest("quiet", "driver", "device console")],
      reader: ["caps-report", manifest("reader", "service", "cap bootinfo")],
    }, [quietDevice("console", 2), quietDevice("block", 3)]);
    expect(r.log).toContain("init: config line 2: policy: config line 5 denies supervise, which its manifest asks for; skipped: start panelish");
    expect(r.log).toContain("init: config line 3: policy: config line 5 denies device=console, which its manifest asks for (line 4); skipped: start quiet");
    expect(r.log.filter((l) => l.startsWith("init: started"))).toEqual(["init: started registry (pid 2)", "init: started reader (pid 3)"]);
    expect(r.lines.filter((line) => line.startsWith("caps-report: "))).toEqual(["caps-report: receiver region"]);
  });

  it("refuses a manifest that does not parse, or a module whose manifest names another program", async () => {
    const r = await boot("start registry\nstart broken\nstart liar\n", {
      registry: ["registry", manifest("registry", "service")],
      broken: ["caps-report", "name broken\nversion 1\nkind service\ncap everything\n"],
      liar: ["caps-report", manifest("someone-else", "service")],
    });
    expect(r.log).toContain(
      'init: boot module broken refused: its manifest does not parse: line 4: unknown capability "everything" (kernel, kernel-info, images, bootinfo, control, boot-modules, log-channel, supervise, session, streams, job-memory, cwd, root, host, registry or pager=PAGES)',
    );
    expect(r.log).toContain("init: boot module liar refused: its manifest names the program someone-else");
    expect(r.log.filter((l) => l.startsWith("init: started"))).toEqual(["init: started registry (pid 2)"]);
  });
});
