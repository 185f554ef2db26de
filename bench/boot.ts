// Boot time to the shell prompt: the default config (user/boot/init.conf) booted through the real
// bootloader on a machine with a console, a 64 MiB in-memory disk and a timer, timed from the
// start of loading until the shell's prompt is on the console. Cold: a loader with an empty cache
// (every module validated, rewritten, optimized, compiled); warm: the same loader again (what a
// second boot of the same binaries costs: instantiation and the services' own start). Baseline:
// `new WebAssembly.Module` of the same binaries, the host's floor for getting them ready.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { startInit } from "../src/boot/bootloader.ts";
import { modulesOf } from "../src/hosts/node/boot-command.ts";
import { standardImportModules } from "../src/hosts/standard-imports.ts";
import { nodeLoader } from "../src/hosts/node/node-loader.ts";
import type { Loader } from "../src/loader/loader.ts";
import { MemoryBlockBackend } from "../src/machine/devices/block-backend.ts";
import { BlockDevice } from "../src/machine/devices/block.ts";
import { RtcTimerDevice } from "../src/machine/devices/rtc-timer.ts";
import { DeviceLine } from "../src/machine/devices/standard-devices.ts";
import { testMachine } from "../test/helpers/test-host.ts";
import { median, now, result, settle, type Result } from "./harness.ts";

const root = join(import.meta.dirname, "..");
export const PROMPT = "dogma:/$ ";

/** The default config's boot image, from the built user programs (also bench/boot-timeline.ts). */
export function bootImage() {
  const config = readFileSync(join(root, "user/boot/init.conf"), "utf8");
  const read = (name: string) => ({ name, bytes: new Uint8Array(readFileSync(join(root, "build/user", `${name}.wasm`))) });
  return { init: read("init"), modules: modulesOf(config).map(read), config, params: {} };
}

/** A 128 MiB machine with the default config's devices (console, block on `disk`, timer), as `dogma boot` has (also bench/boot-timeline.ts). */
export function bootMachine(disk: MemoryBlockBackend) {
  const t = testMachine({ memory: 128 << 20, interactive: true });
  const block = new BlockDevice(DeviceLine.BLOCK, t.machine.interrupts, disk);
  const timer = new RtcTimerDevice(DeviceLine.TIMER, t.machine.interrupts, t.machine.clock, (delayNs, callback) => {
    const handle = setTimeout(callback, Math.ceil(delayNs / 1e6));
    return () => clearTimeout(handle);
  });
  return { t, devices: [t.machine.devices.find((d) => d.name === "console")!, block, timer] };
}

/** The main thread's CPU time so far, in ms. */
export const threadCpuMs = (): number => {
  const usage = process.threadCpuUsage();
  return (usage.user + usage.system) / 1000;
};

/** CPU ms of the main thread in the last bootToPrompt's timed part. */
let lastBootCpuMs = 0;

/** Boots once with `loader`: milliseconds from the start of loading to the shell's prompt. */
export async function bootToPrompt(loader: Loader, disk: MemoryBlockBackend = new MemoryBlockBackend(64 << 20)): Promise<number> {
  const { t, devices } = bootMachine(disk);
  const start = now();
  const cpuStart = threadCpuMs();
  const init = await startInit(t.kernel, loader, bootImage(), devices);
  t.kernel.setCritical(init);
  const running = t.kernel.run();
  const give = Date.now() + 120_000;
  while (!t.stdout().includes(PROMPT)) {
    if (Date.now() > give) throw new Error(`boot: no prompt in 120 s\n${t.stdout()}\n${t.stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  const ms = now() - start;
  lastBootCpuMs = threadCpuMs() - cpuStart;
  while (t.kernel.kill(init.pid) !== 0) await new Promise((resolve) => setImmediate(resolve));
  await running;
  // The services still blocked in kernel calls would keep the machine (its 128 MiB) alive for
  // good: V8 keeps a suspended stack until it is unwound (Process.unwind), which ending them does.
  t.kernel.endEveryProcess();
  for (const device of devices) device.reset();
  t.machine.powerOff();
  return ms;
}

/** A copy of `installed` (a disk the file system has installed the boot modules on) to boot from. */
function diskFrom(installed: Uint8Array): MemoryBlockBackend {
  const disk = new MemoryBlockBackend(installed.length);
  disk.bytes.set(installed);
  return disk;
}

/** A full collection once the ended services' stacks have unwound (a turn after they were ended). */
async function collectBoots(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  settle();
}

export async function boot(): Promise<{ results: Result[]; notes: string[] }> {
  const image = bootImage();
  const binaries = [image.init, ...image.modules];
  const nativeCompile = () => {
    const start = now();
    for (const m of binaries) new WebAssembly.Module(m.bytes);
    return now() - start;
  };
  // The loader `dogma boot` makes (src/hosts/node/node-loader.ts: its hash, its workers for big
  // binaries, its compile that validates the output), without its disk cache: an empty cache.
  const fresh = () => nodeLoader(standardImportModules(), { cache: false });
  // This section runs in a process of its own (run.ts): the first boot is the very first, as a
  // user's first `dogma boot` is: a new disk, an empty loader cache, and the loader's, kernel's
  // and devices' JavaScript not compiled yet.
  const newDisk = new MemoryBlockBackend(64 << 20);
  const first = await bootToPrompt(fresh(), newDisk);
  const firstCpu = lastBootCpuMs;
  const cpu = { cold: [] as number[], newDisk: [] as number[], warm: [] as number[] };
  const installed = newDisk.bytes.slice();
  const cold: number[] = [];
  const coldNewDisk: number[] = [];
  const native: number[] = [];
  // Before each cold boot, the previous boots' machines and modules are collected: V8 shares the
  // compiled code of byte-identical modules while one of them lives (its native module cache), and
  // a loader's fresh output is byte-identical to the last one's, so a cold boot right after another
  // skipped the engine's compiles (60 ms of the machine's thread here).
  for (let i = 0; i < 3; i++) {
    await collectBoots();
    cold.push(await bootToPrompt(fresh(), diskFrom(installed)));
    cpu.cold.push(lastBootCpuMs);
    await collectBoots();
    coldNewDisk.push(await bootToPrompt(fresh()));
    cpu.newDisk.push(lastBootCpuMs);
    native.push(nativeCompile());
  }
  const loader = fresh();
  await bootToPrompt(loader, diskFrom(installed));
  const warm: number[] = [];
  for (let i = 0; i < 3; i++) {
    warm.push(await bootToPrompt(loader, diskFrom(installed)));
    cpu.warm.push(lastBootCpuMs);
  }
  const bytes = binaries.reduce((sum, m) => sum + m.bytes.length, 0);
  const nativeMs = median(native);
  const results = [
    result(`boot to the shell prompt, cold (${binaries.length} modules, ${(bytes / 1024).toFixed(0)} KiB)`, median(cold), "ms", "native new WebAssembly.Module of them", nativeMs),
    result("boot to the shell prompt, cold, on a new disk (the file system installs the boot modules)", median(coldNewDisk), "ms", "native new WebAssembly.Module of them", nativeMs),
    result("boot to the shell prompt, the first in a fresh process (new disk, cold, Dogma's JavaScript not yet compiled)", first, "ms", "native new WebAssembly.Module of them", nativeMs),
    result("boot to the shell prompt, modules cached", median(warm), "ms", "native new WebAssembly.Module of them", nativeMs),
  ];
  const ms = (values: readonly number[]) => `${median(values).toFixed(0)} ms`;
  const notes = [
    `The main thread's CPU time of each (steadier than wall time on a shared machine): cold ${ms(cpu.cold)}, on a new disk ${ms(cpu.newDisk)}, the first in the process ${firstCpu.toFixed(0)} ms, modules cached ${ms(cpu.warm)}.`,
  ];
  return { results, notes };
}
