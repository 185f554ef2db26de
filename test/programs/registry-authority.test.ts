// What slots 2 and 3 give a program. A program holds the registry (slot 2) and the process manager
// (slot 3) only when its manifest asks (`cap registry`, `needs proc ProcessManager`), or when it
// has none (docs/MANIFESTS.md "Running a program from the shell"): before, every program held
// both whatever its manifest said. One that holds the registry and asks for its streams and its
// job's Memory only must not reach the disk through it, nor take a system service's name so that
// the next client of the file system or the log speaks to it.
// Before: "block" answered anyone (the raw disk: every file's bytes, whatever the file system's
// rights, and writes under the file system), and any program could REGISTER over "fs" or "log".
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withManifestSection } from "../../src/boot/manifest.ts";
import { FolderShare } from "../../src/hosts/node/folder-share.ts";
import { MemoryBlockBackend } from "../../src/machine/devices/block-backend.ts";
import { type BootedMachine, bootShell } from "../helpers/booted-machine.ts";
import { patience } from "../helpers/patience.ts";
import { program } from "../helpers/programs.ts";

const config = readFileSync(join(import.meta.dirname, "../../user/boot/init.conf"), "utf8");
const folder = mkdtempSync(join(tmpdir(), "dogma-registry-"));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

const SECRET = "TOPSECRET-7f3a91";
let m: BootedMachine;

/** `binary` with a custom section of 17 MiB after its others: too big for the shell to read whole. */
function padded(binary: Uint8Array): Uint8Array {
  const name = new TextEncoder().encode("padding");
  const payload = (17 << 20) + name.length + 1;
  const leb: number[] = [];
  for (let rest = payload; ; ) {
    leb.push((rest & 0x7f) | (rest >= 0x80 ? 0x80 : 0));
    rest >>>= 7;
    if (rest === 0) break;
  }
  return Buffer.concat([binary, Buffer.from([0, ...leb, name.length]), name, Buffer.alloc(17 << 20)]);
}

/** Types `line`; what it printed up to the next prompt. */
beforeAll(async () => {
  const manifest = ["name registry-thief", "version 1.0", "kind program", "cap streams", "cap job-memory", "cap registry", ""].join("\n");
  writeFileSync(join(folder, "thief.wasm"), withManifestSection(program("registry-thief"), manifest));
  const needsBlock = ["name block-needer", "version 1.0", "kind program", "cap streams", "needs block BlockDevice", ""].join("\n");
  writeFileSync(join(folder, "needs-block.wasm"), withManifestSection(program("caps-report"), needsBlock));
  const flood = ["name log-flood", "version 1.0", "kind program", "cap streams", "needs log Log", ""].join("\n");
  writeFileSync(join(folder, "flood.wasm"), withManifestSection(program("log-flood"), flood));
  const snoop = ["name console-thief", "version 1.0", "kind program", "cap streams", "cap registry", ""].join("\n");
  writeFileSync(join(folder, "console-thief.wasm"), withManifestSection(program("console-thief"), snoop));
  writeFileSync(join(folder, "reach.wasm"), withManifestSection(program("reach"), ["name reach", "version 1.0", "kind program", "cap streams", ""].join("\n")));
  const asks = ["name reach", "version 1.0", "kind program", "cap streams", "cap registry", "needs proc ProcessManager", ""].join("\n");
  writeFileSync(join(folder, "reach-asks.wasm"), withManifestSection(program("reach"), asks));
  // Past 16 MiB the shell reads a binary a piece at a time into an image builder; such a binary
  // ran with the shell's own session, its manifest never read, and so could halt the machine.
  writeFileSync(join(folder, "reach-big.wasm"), padded(program("reach")));
  const narrow = ["name reach", "version 1.0", "kind program", "cap streams", ""].join("\n");
  // Its last section says it is 1 MiB long, and the file ends after the header.
  writeFileSync(join(folder, "reach-big-cut.wasm"), Buffer.concat([padded(program("reach")), Buffer.from([0, 0x80, 0x80, 0x40])]));
  writeFileSync(join(folder, "reach-big-narrow.wasm"), padded(withManifestSection(program("reach"), narrow)));
  writeFileSync(join(folder, "reach-bare.wasm"), program("reach"));
  const shared = await FolderShare.open(folder);
  // 96 MiB: a binary past 16 MiB is charged about 37 MiB of host memory while it loads, beside its
  // image builder; at the test machine's default the room left after the system's services was
  // within a few pages of that, and the fs taking a little more (file maps) refused the load.
  m = await bootShell(config, shared, { disk: new MemoryBlockBackend(16 << 20), memory: 96 << 20 });
}, patience(90_000));

afterAll(async () => {
  await m?.halt();
});

describe("a program writing to the log", () => {
  it("pushes out none of the system's lines, and none of its lines passes for the system's", async () => {
    const system = (text: string) => text.split("\n").filter((line) => /^\[ *\d+\.\d{6}\] init: started fs \(pid \d+\)$/.test(line));
    expect(system(await m.output("dmesg"))).toHaveLength(1);
    expect(await m.output("/host/flood.wasm 1500")).toContain("log-flood: wrote 1500 lines");
    const after = await m.output("dmesg");
    // Before: 1500 forged lines pushed out all 512 the ring held, init's and the services' among them.
    expect(system(after)).toHaveLength(1);
    expect(after).toMatch(/\] log: registered "log"/);
    expect(after).toMatch(/\] user: init: started fs \(pid 1\)\n/);
    expect(after.split("\n").filter((line) => line.includes("] user: init: started fs")).length).toBeLessThanOrEqual(128);
  });
});

describe("a program that holds only its streams and its Memory", () => {
  it("reads no disk block through the registry, and takes no system service's name", async () => {
    await m.output(`echo ${SECRET} > /secret.txt`);
    // The secret is on the disk, and the file system still answers it.
    expect(await m.output("cat /secret.txt")).toContain(SECRET);
    const said = await m.output(`/host/thief.wasm ${SECRET}`);
    expect(said).toContain("registry-thief: block: ");
    expect(said).not.toMatch(/the secret .*: found/);
    expect(said).not.toMatch(/registry-thief: block: 0/);
    expect(said).toMatch(/registry-thief: register fs: E_/);
    expect(said).toMatch(/registry-thief: register log: E_/);
    // The file system and the log are still the system's.
    expect(await m.output("cat /secret.txt")).toContain(SECRET);
    expect(await m.output("logger still here; dmesg | grep 'still here'")).toContain("still here");
  });

  it("still finds no driver's name after the registry is killed and restarted: the mark is kept with the entry", async () => {
    const registryPid = async () => /^ *(\d+) +1 .* registry$/m.exec(await m.output("ps"))?.[1];
    const before = await registryPid();
    expect(before).toBeDefined();
    await m.kill(Number(before));
    // Each look is a command the shell runs: the machine goes on between them.
    let after: string | undefined;
    for (let look = 0; look < 500 && (after === undefined || after === before); look++) after = await registryPid();
    expect(after).not.toBe(before);
    const said = await m.output(`/host/thief.wasm ${SECRET}`);
    expect(said).toMatch(/registry-thief: block: E_MISSING_RIGHT\n/);
    expect(said).toMatch(/registry-thief: register fs: E_MISSING_RIGHT\n/);
  });

  it("is not given a driver's service by the shell for a manifest that names it", async () => {
    const before = m.stderr().length;
    const out = await m.output("/host/needs-block.wasm; echo status $?");
    expect(out).toContain("status 126");
    expect(out).not.toContain("caps-report:");
    expect(m.stderr().slice(before)).toMatch(/it needs service block \(BlockDevice\), which is not running: /);
  });
});

describe("what a manifest does not ask for", () => {
  it("a program cannot look a service up, nor reach the process manager, unless its manifest asks", async () => {
    const narrow = await m.output("/host/reach.wasm");
    expect(narrow).toMatch(/reach: lookup timer: E_[A-Z_]+\n/);
    expect(narrow).toMatch(/reach: proc uptime: E_[A-Z_]+\n/);
    // The same binary, asking for both; and without a manifest (the standard set): both reached.
    const asks = await m.output("/host/reach-asks.wasm");
    expect(asks).toContain("reach: lookup timer: 0\n");
    expect(asks).toContain("reach: proc uptime: 0\n");
    const bare = await m.output("/host/reach-bare.wasm");
    expect(bare).toContain("reach: lookup timer: 0\n");
    expect(bare).toContain("reach: proc uptime: 0\n");
  });

  it("a program without a manifest manages a session of its own, and cannot halt the machine", async () => {
    // It got the shell's session at slot 3, and any program could open one through "proc": either
    // halted the machine (redteam2, finding 9). Now slot 3 is a program's session of its own, and
    // a program's lookup of "proc" finds "program-proc", whose sessions are programs' too.
    const said = await m.output("/host/reach-bare.wasm halt");
    expect(said).toContain("reach: proc uptime: 0\n");
    expect(said).toContain("reach: halt through slot 3: E_MISSING_RIGHT\n");
    expect(said).toContain("reach: halt through a session of proc's: E_MISSING_RIGHT\n");
    expect(await m.output("echo still-here")).toContain("still-here");
  });

  it("a binary past 16 MiB gets what its manifest asks for, or a bare binary's session: no halt", async () => {
    const bare = await m.output("/host/reach-big.wasm halt");
    expect(bare).toContain("reach: proc uptime: 0\n");
    expect(bare).toContain("reach: halt through slot 3: E_MISSING_RIGHT\n");
    // Started under the debugger, a bare binary holds no more (it held dbg's session, the shell's).
    await m.output("cp /host/reach-bare.wasm /reach-bare.wasm");
    m.type("dbg /reach-bare.wasm halt\r");
    await m.until("dbg's prompt", () => m.stdout().endsWith("(dbg) "));
    const debugged = await m.output("continue");
    expect(debugged).toContain("reach: halt through slot 3: E_MISSING_RIGHT\n");
    const narrow = await m.output("/host/reach-big-narrow.wasm halt");
    expect(narrow).toMatch(/reach: lookup timer: E_[A-Z_]+\n/);
    expect(narrow).toMatch(/reach: proc uptime: E_[A-Z_]+\n/);
    const before = m.stderr().length;
    expect(await m.output("/host/reach-big-cut.wasm; echo status $?")).toContain("status 126");
    expect(m.stderr().slice(before)).toMatch(/reach-big-cut\.wasm: its manifest section is malformed: section 0 at byte \d+ runs past the end of the binary\n/);
    expect(await m.output("echo still-here")).toContain("still-here");
  });
});

describe("a program in the background", () => {
  // The console driver served READ and FOREGROUND to whoever found "console" in the registry, and
  // every program found it: a background job took the next line typed at the console (seen:
  // "console-thief: took echo second-line; jobs", and the shell never got the line). "console" is
  // for services only now; a program reads the console through the streams the shell gives it.
  it("takes no line typed for the foreground through the registry", async () => {
    m.type("/host/console-thief.wasm &\r");
    await m.until("the background job's end", () => /console-thief: (no console|cannot read|took)/.test(m.stdout()));
    expect(m.stdout()).toMatch(/console-thief: no console: E_MISSING_RIGHT/);
    const said = await m.output("echo second-line");
    expect(said).toContain("second-line");
    expect(m.stdout()).not.toMatch(/console-thief: took /);
  });

  // Last in the file: the jobs it makes stay in the process manager's table.
  it("cannot fill the process manager's table: the shell still runs programs", async () => {
    const said = await m.output("/host/reach-bare.wasm spawn");
    const spawned = Number(/reach: spawned (\d+), then E_QUOTA\n/.exec(said)?.[1]);
    expect(spawned).toBeGreaterThan(0);
    expect(spawned).toBeLessThanOrEqual(48);
    expect(await m.output("ls /etc/init.conf")).toContain("/etc/init.conf");
    expect(await m.output("true && echo ran")).toContain("ran");
  });
});
