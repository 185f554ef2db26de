// init starts a program added with `install` (docs/MANIFESTS.md "At boot"): the default system,
// with one more line, `start greeter`, for a service that is no boot module. On a new disk it is
// not installed: init says so and goes on. Installed from the shell, it starts at the next boot of
// the same disk, from its record and /bin/greeter. A /bin/greeter that no longer carries the
// manifest its record holds is refused at the boot after, as the installer would refuse it.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { modulesOf } from "../../src/boot/config-modules.ts";
import { withManifestSection } from "../../src/boot/manifest.ts";
import { FolderShare } from "../../src/hosts/node/folder-share.ts";
import { MemoryBlockBackend } from "../../src/machine/devices/block-backend.ts";
import { type BootedMachine, bootShell } from "../helpers/booted-machine.ts";
import { patience } from "../helpers/patience.ts";
import { program } from "../helpers/programs.ts";

const base = readFileSync(join(import.meta.dirname, "../../user/boot/init.conf"), "utf8");
// Before the shell: by its prompt, init has read the disk for greeter.
const config = base.replace("start shell\n", "start greeter\nstart shell\n");
const folder = mkdtempSync(join(tmpdir(), "dogma-installed-"));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

const GREETER = ["name greeter", "version 1.0", "kind service", "memory 64", "provides hello Hello", ""].join("\n");
writeFileSync(join(folder, "greeter.wasm"), withManifestSection(program("hello-service"), GREETER));
// The same code with another manifest: what a /bin/greeter replaced behind the installer's back carries.
writeFileSync(join(folder, "other.wasm"), withManifestSection(program("hello-service"), GREETER.replace("memory 64", "memory 65")));

async function boot(disk: MemoryBlockBackend): Promise<BootedMachine> {
  const shared = await FolderShare.open(folder);
  // greeter is no boot module: the image holds the default system's.
  return bootShell(config, shared, { disk, modules: modulesOf(base) });
}

/** Types `line` at `m`'s shell; what it printed up to the next prompt. */
async function run(m: BootedMachine, line: string): Promise<string> {
  const before = m.stdout().length;
  m.type(line + "\r");
  await m.until(`the prompt after ${JSON.stringify(line)}`, () => /dogma:\/[^\n]*\$ $/.test(m.stdout().slice(before + line.length + 1)));
  const out = m.stdout().slice(before + line.length + 1);
  return out.slice(0, out.lastIndexOf("dogma:"));
}

/** `halt` at the shell (the file system syncs, process 1 stops everything), then the machine is off. */
async function halt(m: BootedMachine): Promise<void> {
  m.type("halt\r");
  // init's lines go to the log on a quiet boot: what says it is done is the machine stopping.
  await m.until("the machine stops", () => false).catch((error: Error) => {
    if (!error.message.includes("(the machine stopped)")) throw error;
  });
  await m.halt();
}

describe("a start line for an installed program", () => {
  it("is skipped until the program is installed, then starts it at every boot of that disk; a binary replaced behind the installer's back is refused", async () => {
    const disk = new MemoryBlockBackend(64 << 20);
    const first = await boot(disk);
    const skipped = await run(first, "dmesg | grep greeter");
    expect(skipped).toMatch(/init: config line \d+: installed program greeter: it is not installed \(no \/etc\/manifests\/greeter\); skipped: start greeter/);
    expect(skipped).not.toContain("hello-service: registered");
    expect(await run(first, "install /host/greeter.wasm; echo status $?")).toContain("status 0");
    await halt(first);

    const second = await boot(disk);
    const started = await run(second, "dmesg | grep -e greeter -e hello-service");
    expect(started).toMatch(/init: started greeter \(pid \d+\)/);
    expect(started).toContain('hello-service: registered "hello"');
    expect(started).not.toContain("skipped");
    // Its capabilities are its manifest's: the registry, then the Memory its `memory 64` asks for.
    const pid = /^ *(\d+) +1 .* greeter$/m.exec(await run(second, "ps"))?.[1];
    expect(pid).toBeDefined();
    expect(await run(second, `caps ${pid}`)).toMatch(/^ {3}3 memory .*$/m);
    // Replaced without install: the binary no longer carries the record's manifest.
    expect(await run(second, "cp /host/other.wasm /bin/greeter; echo status $?")).toContain("status 0");
    await halt(second);

    const third = await boot(disk);
    const refused = await run(third, "dmesg | grep -e greeter -e hello-service");
    expect(refused).toMatch(/installed program greeter: \/bin\/greeter does not carry the manifest its record holds; skipped: start greeter/);
    expect(refused).not.toContain("hello-service: registered");
    await halt(third);
  }, patience(180_000));
});
