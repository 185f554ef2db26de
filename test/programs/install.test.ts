// The installer (docs/MANIFESTS.md), at the console of the default system booted from its
// manifests alone: `install` refuses a program whose manifest does not parse, a driver of a device
// another driver holds or the machine lacks, a program needing a service nobody provides or
// speaking another contract, one needing more memory than the machine has, code the loader
// refuses, listing every reason; it installs the rest as /bin/NAME with its record in
// /etc/manifests; `uninstall` refuses to remove what another program needs, unless forced.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManifestError, parseManifest, withContractDigests, withManifestSection } from "../../src/boot/manifest.ts";
import { contractDigest } from "../../src/contracts/digest.ts";
import { FolderShare } from "../../src/hosts/node/folder-share.ts";
import { type BootedMachine, bootShell } from "../helpers/booted-machine.ts";
import { patience } from "../helpers/patience.ts";
import { program } from "../helpers/programs.ts";

const MEMORY_PAGES = 8192; // the test machine's 32 MiB
const config = readFileSync(join(import.meta.dirname, "../../user/boot/init.conf"), "utf8");
const folder = mkdtempSync(join(tmpdir(), "dogma-install-"));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

const manifest = (name: string, kind: string, ...lines: string[]) => [`name ${name}`, "version 1.0", `kind ${kind}`, ...lines, ""].join("\n");
/** A binary of `base` (a built program) carrying `text` as its manifest, written to the share as NAME.wasm. */
function share(name: string, text: string | null, base = "hello"): void {
  const bytes = program(base);
  writeFileSync(join(folder, `${name}.wasm`), text === null ? bytes : withManifestSection(bytes, text));
}

const GARBLED = "name garbled\nversion one\nkind program\n";
/**
 * Manifests whose words would drive the terminal if a refusal quoted them: an escape sequence that
 * sets the window title, one that clears the screen, a NUL, C1's CSI, a bell in a comment.
 */
const HOSTILE = [
  "name \x1b]0;owned\x07\nversion 1\nkind program\n",
  "name bad0\nversion 1\nkind program\ncap \x1b[2J\x1b[H\n",
  "name bad\x00zero\nversion 1\nkind program\n",
  "name bad0\nversion 1\nkind \u009b31mprogram\n",
  "# \x07 rings\nname bad0\nversion 1\nkind program\n",
];
/** Manifests that do not parse: the shell's reader (user/lib/manifest.ts) must say what the build's says. */
const BAD = [
  "version 1\nkind program\n",
  "name bad0\nkind program\n",
  "name bad0\nversion 1\n",
  "name Bad\n",
  "name bad0\nname again\n",
  "name bad0\nversion 1\nkind daemon\n",
  "name bad0\nversion 1\nkind driver\nmemory lots\n",
  "name bad0\nversion 1\nkind driver\nmemory 64 32\n",
  "name bad0\nversion 1\nkind driver\ndevice console\ndevice console\n",
  "name bad0\nversion 1\nkind driver\nneeds fs\n",
  "name bad0\nversion 1\nkind driver\nneeds fs filesystem\n",
  "name bad0\nversion 1\nkind driver\nneeds fs FileSystem@xyz\n",
  "name bad0\nversion 1\nkind driver\nprovides fs FileSystem optional\n",
  "name bad0\nversion 1\nkind driver\nprovides fs A\nprovides fs B\n",
  "name bad0\nversion 1\nkind driver\ncap everything\n",
  "name bad0\nversion 1\nkind driver\ncap kernel\ncap kernel\n",
  "name bad0\nversion 1\nkind driver\ncap pager=0\n",
  "name bad0\nversion 1\nkind driver\npin 3\n",
  "name bad0\nversion 1\nkind driver\ncolour blue\n",
  "name bad0\nversion 1\nkind program\ndevice block\n",
  ...HOSTILE,
];

/** Random manifests, from the grammar's words and some that are not (a fixed seed: the same every run). */
function randomManifests(count: number): string[] {
  let seed = 0x13579bdf;
  const next = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) / (1 << 24);
  const pick = <T>(list: readonly T[]) => list[Math.floor(next() * list.length)]!;
  const words = ["name", "version", "kind", "memory", "device", "interrupt", "provides", "needs", "cap", "pin", "fuzz", "1", "1.2", "1.2.3.4", "0", "99",
    "1000000000", "program", "driver", "service", "FileSystem", "Pipe@0123abcd", "Pipe@xyz", "fs", "shared", "optional", "pager=8", "pager=x", "kernel",
    "streams", "root", "session", "é", "#", "-x", "A", "", "\t", "\r"];
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const lines = ["name fuzz", "version 1", "kind driver"].filter(() => next() < 0.8);
    for (let n = Math.floor(next() * 5); n > 0; n--) {
      const fields: string[] = [];
      for (let k = 1 + Math.floor(next() * 4); k > 0; k--) fields.push(pick(words));
      lines.splice(Math.floor(next() * (lines.length + 1)), 0, fields.join(pick([" ", "  ", "\t"])));
    }
    out.push(lines.join("\n"));
  }
  return out;
}
const RANDOM = randomManifests(40);

beforeAll(() => {
  RANDOM.forEach((text, i) => share(`random${i}`, text));
  share("dupcon", manifest("dupcon", "driver", "device console", "interrupt console"));
  share("laser", manifest("laser", "driver", "device laser"));
  share("lonely", manifest("lonely", "program", "needs nosuch Nothing"));
  share("huge", manifest("huge", "program", "memory 999999"));
  share("garbled", GARBLED);
  BAD.forEach((text, i) => share(`bad${i}`, text));
  share("bare", null, "crasher");
  share("long", `# ${"x".repeat(5000)}\n`);
  // A section that says it is longer than the binary, and a custom section whose name is longer than itself.
  const header = program("hello").subarray(0, 8);
  writeFileSync(join(folder, "cut.wasm"), new Uint8Array([...header, 0x00, 0xff, 0xff, 0x03, 0x0e]));
  writeFileSync(join(folder, "misnamed.wasm"), new Uint8Array([...header, 0x00, 0x02, 0x09, 0x61]));
  share("everything", manifest("everything", "driver", "memory 999999", "device block", "needs nosuch Nothing", "provides fs FileSystem"));
  // Code the loader refuses: a type section that says it holds 5 types and holds none.
  const broken = withManifestSection(program("hello"), manifest("broken", "program")).subarray(0, 8 + 2 + manifest("broken", "program").length + 15);
  writeFileSync(join(folder, "broken.wasm"), new Uint8Array([...broken, 0x01, 0x01, 0x05]));
  share("greeter", manifest("greeter", "program", "cap streams", "needs log Log"), "greet");
  // Not a record the installer wrote: 2 MiB under a record's name (any program holding the root can write there).
  writeFileSync(join(folder, "junk-record"), `name junk\nversion 1\nkind program\n# ${"x".repeat((2 << 20) - 64)}\n`);
  share("provider", manifest("provider", "service", "provides widget Widget@0123456789"));
  share("consumer", manifest("consumer", "program", "needs widget Widget"));
  share("stale", manifest("stale", "program", "needs widget Widget@fedcba9876"));
  // caps-report prints the kind of each slot from 2 on: what the shell gave it.
  share("report-bare", null, "caps-report");
  share("report-streams", manifest("report-streams", "program", "cap streams"), "caps-report");
  share("report-root", manifest("report-root", "program", "cap streams", "cap root"), "caps-report");
  share("report-asks", manifest("report-asks", "program", "cap streams", "cap registry", "needs proc ProcessManager"), "caps-report");
  share("report-log", manifest("report-log", "program", "cap streams", "needs log Log", "needs nosuch Nothing optional"), "caps-report");
  share("report-missing", manifest("report-missing", "program", "cap streams", "needs nosuch Nothing"), "caps-report");
});

let m: BootedMachine;
/** Types `line`; what it printed (up to the next prompt) and what it said on the errors stream. */
async function run(line: string): Promise<{ out: string; err: string }> {
  const errors = m.stderr().length;
  const out = await m.command(line);
  return { out: out.slice(0, out.lastIndexOf("dogma:")), err: m.stderr().slice(errors) };
}

beforeAll(async () => {
  const shared = await FolderShare.open(folder);
  m = await bootShell(config, shared);
}, patience(90_000));

afterAll(async () => {
  await m?.halt();
});

describe("the default system, from its manifests", () => {
  it("boots with every service started from its manifest and the boot modules recorded as installed", async () => {
    const log = (await run("dmesg | grep 'init: '")).out;
    for (const name of ["registry", "log", "console", "timer", "block", "fs", "hostfs", "pipe", "procman", "pager", "shell"]) {
      expect(log).toMatch(new RegExp(`init: started ${name} \\(pid \\d+\\)`));
    }
    expect(log).not.toContain("refused");
    const record = (await run("ls /etc/manifests")).out.split(/\s+/);
    for (const name of ["fs", "block", "console", "shell", "ls", "greet"]) expect(record).toContain(name);
    // The record is the manifest as built: each contract it names with its identity beside it.
    const source = readFileSync(join(import.meta.dirname, "../../user/drivers/block.manifest"), "utf8");
    const blockDevice = contractDigest(readFileSync(join(import.meta.dirname, "../../contracts/block.contract"), "utf8"));
    expect((await run("cat /etc/manifests/block")).out).toBe(withContractDigests(source, new Map([["BlockDevice", blockDevice]])));
    expect((await run("cat /etc/manifests/block")).out).toContain(`provides  block ${blockDevice}`);
  });
});

describe("caps PID", () => {
  it("shows, for a service started from its manifest, the line that asked for each capability; a shell's job, none", async () => {
    const ps = (await run("ps")).out;
    const pid = /^ *(\d+) +1 .* fs$/m.exec(ps)?.[1];
    expect(pid, ps).toBeDefined();
    const caps = (await run(`caps ${pid}`)).out;
    expect(caps.split("\n").slice(0, 2)).toEqual(["fs was started from its manifest (/etc/manifests/fs)", "SLOT KIND       RIGHTS     BADGE"]);
    expect(caps).toMatch(/^ {3}2 receiver .*  every process: the registry$/m);
    expect(caps).toMatch(/^ {3}3 memory .*  manifest line 7: memory {3}1024 8192$/m);
    expect(caps).toMatch(/^ {3}4 cappage .*  manifest line 8: provides fs FileSystem@[0-9a-f]{16} shared$/m);
    expect(caps).toMatch(/^ {3}5 cappage .*  manifest line 9: cap {6}boot-modules$/m);
    expect(caps).toMatch(/^ {3}6 region .*  manifest line 9: cap {6}boot-modules$/m);
    expect(caps).toMatch(/^ {3}7 receiver .*  manifest line 10: cap {6}control$/m);
    // The file system keeps its kernel-info as a copy without rights, elsewhere, and drops what was given at slot 8.
    expect(caps).not.toMatch(/^ {3}8 .*manifest line/m);
    expect(caps).not.toMatch(/^ {3}9 .*manifest line/m);
    await run("sleep 30 &");
    const job = (await run("echo $!")).out.trim();
    expect(job).toMatch(/^\d+$/);
    const jobCaps = (await run(`caps ${job}`)).out;
    expect(jobCaps).toContain("SLOT KIND");
    expect(jobCaps).not.toContain("manifest");
    await run(`kill ${job}`);
  });
});

describe("running a program from the shell", () => {
  it("hands it what its manifest asks for and nothing else; without a manifest, the standard set", async () => {
    // Slot 2 the registry and 3 the process manager come from the process manager, only when the
    // manifest asks (cap registry, needs proc) or there is none; 4 on, from the shell.
    expect((await run("/host/report-bare.wasm")).out).toBe("caps-report: receiver receiver receiver receiver receiver memory receiver receiver receiver\n");
    expect((await run("/host/report-streams.wasm")).out).toBe("caps-report: memory memory receiver receiver receiver\n");
    // Asked for: the registry and the process manager (which comes at slot 3, not from slot 11).
    expect((await run("/host/report-asks.wasm")).out).toBe("caps-report: receiver receiver receiver receiver receiver\n");
    // What it does not ask for keeps its place with a Memory capability that allows nothing.
    expect((await run("/host/report-root.wasm")).out).toBe("caps-report: memory memory receiver receiver receiver memory memory receiver\n");
    // The services it needs, from slot 11; an optional one not running keeps its place too.
    expect((await run("/host/report-log.wasm")).out).toBe(
      "caps-report: memory memory receiver receiver receiver memory memory memory memory receiver memory\n",
    );
    const missing = await run("/host/report-missing.wasm; echo status $?");
    expect(missing.err).toMatch(/^shell: \/host\/report-missing\.wasm: it needs service nosuch \(Nothing\), which is not running: .+\n$/);
    expect(missing.out).toBe("status 126\n");
  });

  it("a boot module run by name gets what its record in /etc/manifests asks for: sleep its streams alone", async () => {
    expect((await run("cat /etc/manifests/sleep")).out).toMatch(/\ncap +streams\n$/);
    await run("sleep 30 &");
    const job = (await run("echo $!")).out.trim();
    const table = (await run(`caps ${job}`)).out.split("\n").filter((l) => /^ +\d+ /.test(l));
    expect(table.map((l) => l.trim().split(/\s+/).slice(0, 2).join(" "))).toEqual(["1 process", "2 memory", "3 memory", "4 receiver", "5 receiver", "6 receiver"]);
    await run(`kill ${job}`);
    // ls asks for the whole standard set, and lists with it.
    expect((await run("ls /etc/manifests/ls")).out).toBe("/etc/manifests/ls\n");
  });
});

describe("install", () => {
  it("refuses a driver of a device another driver holds", async () => {
    const { err } = await run("install /host/dupcon.wasm");
    expect(err).toBe("install: refused dupcon 1.0:\n  device console is driven by console already\n  interrupt line console is driven by console already\n");
    expect((await run("ls /bin/dupcon /etc/manifests/dupcon")).err).toContain("no such file");
  });

  it("refuses a driver of a device the machine lacks", async () => {
    expect((await run("install /host/laser.wasm")).err).toBe("install: refused laser 1.0:\n  no device named laser on this machine\n");
  });

  it("refuses a program needing a service nobody provides", async () => {
    expect((await run("install /host/lonely.wasm")).err).toBe(
      "install: refused lonely 1.0:\n  it needs service nosuch speaking Nothing, which no installed program provides\n",
    );
  });

  it("refuses a manifest that does not parse, with the build's own message", async () => {
    let message = "";
    try {
      parseManifest(GARBLED);
    } catch (error) {
      message = (error as ManifestError).message;
    }
    expect(message).toBe('line 2: "one" is not a version (1, 1.2 or 1.2.3)');
    expect((await run("install /host/garbled.wasm")).err).toBe(`install: refused /host/garbled.wasm:\n  its manifest does not parse: ${message}\n`);
  });

  it("says what is wrong with a manifest as the build does, for every kind of mistake", async () => {
    for (const [i, text] of BAD.entries()) {
      let message = "";
      try {
        parseManifest(text);
      } catch (error) {
        message = (error as ManifestError).message;
      }
      expect(message, text).not.toBe("");
      expect((await run(`install /host/bad${i}.wasm`)).err, text).toBe(`install: refused /host/bad${i}.wasm:\n  its manifest does not parse: ${message}\n`);
    }
  });

  it("never echoes a manifest's control characters to the terminal: a refusal says where, not what", async () => {
    const first = BAD.length - HOSTILE.length;
    for (const [k, text] of HOSTILE.entries()) {
      const said = await run(`install /host/bad${first + k}.wasm; /host/bad${first + k}.wasm`);
      const both = said.out + said.err;
      expect(both, JSON.stringify(text)).toMatch(/its manifest does not parse: line \d+: a control character \(0x[0-9a-f]{2}\): a manifest is printable text/);
      expect(both, JSON.stringify(both)).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/);
    }
  });

  it("reads random manifests as the build does: the same refusal, word for word, or both read it (and the shell keeps going)", async () => {
    let refused = 0;
    for (const [i, text] of RANDOM.entries()) {
      let message = "";
      try {
        parseManifest(text);
      } catch (error) {
        message = (error as ManifestError).message;
      }
      const said = await run(`install -n /host/random${i}.wasm`);
      if (message) {
        refused++;
        expect(said.err, JSON.stringify(text)).toBe(`install: refused /host/random${i}.wasm:\n  its manifest does not parse: ${message}\n`);
      } else expect(said.err, JSON.stringify(text)).not.toContain("does not parse");
    }
    expect(refused).toBeGreaterThan(10);
    expect(refused).toBeLessThan(RANDOM.length);
  });

  it("refuses a program asking for more memory than the machine has", async () => {
    expect((await run("install /host/huge.wasm")).err).toBe(`install: refused huge 1.0:\n  it needs 999999 pages of memory; the machine has ${MEMORY_PAGES}\n`);
  });

  it("refuses a binary without a manifest or with one too long to read, and code the loader refuses", async () => {
    expect((await run("install /host/bare.wasm")).err).toBe("install: refused /host/bare.wasm:\n  it has no manifest (a dogma.manifest section)\n");
    const cut = (await run("install /host/cut.wasm")).err;
    expect(cut).toMatch(/^install: refused \/host\/cut\.wasm:\n {2}its manifest section is malformed: section 0 at byte 8 runs past the end of the binary\n {2}its code does not load: .+\n$/);
    const misnamed = (await run("install /host/misnamed.wasm")).err;
    expect(misnamed).toMatch(/^install: refused \/host\/misnamed\.wasm:\n {2}its manifest section is malformed: the custom section at byte 8 has a name longer than itself\n {2}its code does not load: .+\n$/);
    expect((await run("install /host/long.wasm")).err).toBe(
      "install: refused /host/long.wasm:\n  its manifest section is malformed: 5003 bytes of manifest, more than a manifest may have (4096)\n",
    );
    expect((await run("install /host/broken.wasm")).err).toMatch(/^install: refused broken 1\.0:\n {2}its code does not load: .+\n$/);
  });

  it("lists every reason of a refusal, not the first", async () => {
    const { err, out } = await run("install /host/everything.wasm; echo status $?");
    expect(err.split("\n")).toEqual([
      "install: refused everything 1.0:",
      `  it needs 999999 pages of memory; the machine has ${MEMORY_PAGES}`,
      "  device block is driven by block already",
      "  service fs is provided by fs already",
      "  it needs service nosuch speaking Nothing, which no installed program provides",
      "",
    ]);
    expect(out).toBe("status 1\n");
  });

  it("installs a program whose checks pass: it runs from /bin, and is installed only once", async () => {
    expect((await run("install -n /host/greeter.wasm")).out).toBe("greeter 1.0 (program) may be installed\n");
    expect((await run("ls /bin/greeter")).err).toContain("no such file");
    expect((await run("install /host/greeter.wasm")).out).toBe("installed greeter 1.0 (program) as /bin/greeter\n");
    expect((await run("greeter you")).out).toBe("hello, you\n");
    expect((await run("cat /etc/manifests/greeter")).out).toBe(manifest("greeter", "program", "cap streams", "needs log Log"));
    expect((await run("install /host/greeter.wasm")).err).toBe("install: refused greeter 1.0:\n  greeter 1.0 is installed already (uninstall it first)\n");
  });

  it("checks contracts: a dependency speaking another contract is refused; uninstall refuses to remove what another needs, unless forced", async () => {
    expect((await run("install /host/consumer.wasm")).err).toContain("it needs service widget speaking Widget, which no installed program provides");
    expect((await run("install /host/provider.wasm")).out).toBe("installed provider 1.0 (service) as /bin/provider\n");
    expect((await run("install /host/consumer.wasm")).out).toBe("installed consumer 1.0 (program) as /bin/consumer\n");
    expect((await run("install /host/stale.wasm")).err).toBe(
      "install: refused stale 1.0:\n  it needs service widget speaking Widget@fedcba9876; provider provides it speaking Widget@0123456789\n",
    );
    expect((await run("uninstall provider")).err).toBe(
      "uninstall: refused provider:\n  consumer needs service widget, which provider provides\n  (uninstall -f provider removes it anyway)\n",
    );
    expect((await run("uninstall block")).err).toContain("fs needs service block, which block provides");
    expect((await run("uninstall consumer")).out).toBe("uninstalled consumer\n");
    expect((await run("uninstall consumer")).err).toBe("uninstall: consumer is not installed\n");
    expect((await run("install /host/consumer.wasm")).out).toBe("installed consumer 1.0 (program) as /bin/consumer\n");
    expect((await run("install -c")).out).toMatch(/^\d+ programs installed; every one checks out\n$/);
    const forced = await run("uninstall -f provider");
    expect(forced.err).toBe("uninstall: forced: consumer needs service widget, which provider provides\n");
    expect(forced.out).toBe("uninstalled provider\n");
    expect((await run("ls /bin/provider /etc/manifests/provider")).err).toContain("no such file");
    // What the force broke, install -c finds.
    const check = await run("install -c; echo status $?");
    expect(check.out).toBe("consumer: it needs service widget speaking Widget, which no installed program provides\nstatus 1\n");
  });
});

describe("a record tampered with", () => {
  // Before, each record was read whole (up to 2 MiB) and then refused by its length: this test took
  // 24 s (12 such files, three rounds), all of it the shell reading them; now under a second.
  it("2 MiB files under records' names: install and install -c skip them by their size, and the shell keeps its session", async () => {
    const shell = /^ *(\d+) +1 .* shell$/m.exec((await run("ps")).out)?.[1];
    expect(shell).toBeDefined();
    const copies = 12;
    for (let i = 0; i < copies; i++) expect((await run(`cp /host/junk-record /etc/manifests/junk${i}`)).err).toBe("");
    for (let round = 0; round < 3; round++) {
      expect((await run("install -c")).out).toMatch(/^\d+ programs installed; every one checks out\n$|^consumer: /);
      expect((await run("install -n /host/laser.wasm")).err).toContain("no device named laser on this machine");
    }
    // A boot module's record made huge: the module is not run with a manifest the shell never read.
    const greeted = (await run("greet; echo status $?")).out;
    expect(greeted).toContain("status 0\n");
    await run("cp /etc/manifests/greet /greet-record; cp /host/junk-record /etc/manifests/greet");
    const refused = await run("greet; echo status $?");
    expect(refused.out).toBe("status 126\n");
    expect(refused.err).toBe("shell: greet: its record /etc/manifests/greet is larger than a manifest may be (4096 bytes)\n");
    await run("cp /greet-record /etc/manifests/greet; rm /greet-record");
    expect((await run("greet; echo status $?")).out).toBe(greeted);
    expect(/^ *(\d+) +1 .* shell$/m.exec((await run("ps")).out)?.[1]).toBe(shell);
    for (let i = 0; i < copies; i++) await run(`rm /etc/manifests/junk${i}`);
  });
});
