// Installing a program (docs/MANIFESTS.md): `install /host/NAME.wasm` typed at the shell of the
// default system (booted from its manifests, a 64 MiB in-memory disk, the program in a host
// folder shared as /host), timed from the command typed to the next prompt, for a small program
// (greet) and a larger one (grep). It reads the binary, reads its manifest, has the kernel load a
// copy (the loader's checks), checks it against every installed program's record in
// /etc/manifests, and writes the binary and its record. Baseline, in the same machine: `cp` of the
// same file to /bin, which reads and writes the same bytes and checks nothing. Median of 5 rounds,
// each followed by `uninstall` (and `rm` for the copies).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startInit } from "../src/boot/bootloader.ts";
import { modulesOf } from "../src/boot/config-modules.ts";
import { withManifestSection } from "../src/boot/manifest.ts";
import { FolderShare } from "../src/hosts/node/folder-share.ts";
import { MemoryBlockBackend } from "../src/machine/devices/block-backend.ts";
import { BlockDevice } from "../src/machine/devices/block.ts";
import { HostShareDevice } from "../src/machine/devices/host-share.ts";
import { RtcTimerDevice } from "../src/machine/devices/rtc-timer.ts";
import { DeviceLine } from "../src/machine/devices/standard-devices.ts";
import { testMachine } from "../test/helpers/test-host.ts";
import { median, now, result, type Section } from "./harness.ts";

const root = join(import.meta.dirname, "..");
const ROUNDS = 5;
const PROMPT = /dogma:\/[^\n]*\$ $/;

export async function install(): Promise<Section> {
  const folder = mkdtempSync(join(tmpdir(), "dogma-bench-install-"));
  const programs = ["greet", "grep"];
  const sizes = new Map<string, number>();
  for (const name of programs) {
    const bytes = withManifestSection(new Uint8Array(readFileSync(join(root, "build/user", `${name}.wasm`))), `name bench-${name}\nversion 1.0\nkind program\ncap streams\nneeds log Log\n`);
    writeFileSync(join(folder, `bench-${name}.wasm`), bytes);
    sizes.set(name, bytes.length);
  }
  const config = readFileSync(join(root, "user/boot/init.conf"), "utf8");
  const read = (name: string) => ({ name, bytes: new Uint8Array(readFileSync(join(root, "build/user", `${name}.wasm`))) });
  const t = testMachine({ memory: 128 << 20, interactive: true });
  const timer = new RtcTimerDevice(DeviceLine.TIMER, t.machine.interrupts, t.machine.clock, (delayNs, callback) => {
    const handle = setTimeout(callback, Math.ceil(delayNs / 1e6));
    return () => clearTimeout(handle);
  });
  const devices = [
    t.machine.devices.find((d) => d.name === "console")!,
    new BlockDevice(DeviceLine.BLOCK, t.machine.interrupts, new MemoryBlockBackend(64 << 20)),
    timer,
    new HostShareDevice(DeviceLine.SHARE, t.machine.interrupts, await FolderShare.open(folder)),
  ];
  const init = await startInit(t.kernel, t.loader, { init: read("init"), modules: modulesOf(config).map(read), config, params: {} }, devices);
  t.kernel.setCritical(init);
  const running = t.kernel.run();
  const until = async (done: () => boolean, what: string) => {
    const give = Date.now() + 60_000;
    while (!done()) {
      if (Date.now() > give) throw new Error(`install bench: never got to ${what}\n${t.stdout()}\n${t.stderr()}`);
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  };
  await until(() => t.stdout().includes("dogma:/$ "), "the prompt");
  /** Types `line`; milliseconds to the next prompt, and what it printed. */
  const run = async (line: string) => {
    const before = t.stdout().length;
    const errors = t.stderr().length;
    const start = now();
    t.type(`${line}\r`);
    await until(() => PROMPT.test(t.stdout().slice(before + line.length + 1)), `the prompt after ${line}`);
    return { ms: now() - start, out: t.stdout().slice(before), err: t.stderr().slice(errors) };
  };
  const results = [];
  for (const name of programs) {
    const installs: number[] = [];
    const checks: number[] = [];
    const copies: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const checked = await run(`install -n /host/bench-${name}.wasm`);
      if (!checked.out.includes("may be installed")) throw new Error(`install bench: install -n refused bench-${name}\n${checked.err}`);
      checks.push(checked.ms);
      const installed = await run(`install /host/bench-${name}.wasm`);
      if (!installed.out.includes(`installed bench-${name}`)) throw new Error(`install bench: install refused bench-${name}\n${installed.err}`);
      installs.push(installed.ms);
      await run(`uninstall bench-${name}`);
      const copied = await run(`cp /host/bench-${name}.wasm /bin/copy-${name}`);
      if (copied.err.length > 0) throw new Error(`install bench: cp failed: ${copied.err}`);
      copies.push(copied.ms);
      await run(`rm -f /bin/copy-${name}`);
    }
    const kib = (sizes.get(name)! / 1024).toFixed(0);
    results.push(result(`install ${name} (${kib} KiB)`, median(installs), "ms", `cp of it to /bin`, median(copies)));
    results.push(result(`install -n ${name}: the checks alone`, median(checks), "ms", `cp of it to /bin`, median(copies)));
  }
  while (t.kernel.kill(init.pid) !== 0) await new Promise((resolve) => setImmediate(resolve));
  await running;
  for (const device of devices) device.reset();
  t.machine.powerOff();
  rmSync(folder, { recursive: true, force: true });
  return {
    title: "Installing a program (ms at the console, median of 5)",
    results,
    notes: [
      "The default system booted from its manifests, 128 MiB, a 64 MiB in-memory disk, the program in a shared host folder. `install` (a shell builtin) reads the binary, parses its manifest, has the kernel load a copy (the loader's checks: the first round rewrites it, later ones find the rewrite in the loader's cache), reads every installed program's record (/etc/manifests, about 60 files) and checks against them, then writes /bin/NAME and the record, each synced. `install -n` stops before writing. Baseline: `cp` of the same file to /bin, a program the shell starts (its process start included), which checks nothing and does not sync.",
    ],
  };
}
