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
import { Loader } from "../src/loader/loader.ts";
import { MemoryBlockBackend } from "../src/machine/devices/block-backend.ts";
import { BlockDevice } from "../src/machine/devices/block.ts";
import { RtcTimerDevice } from "../src/machine/devices/rtc-timer.ts";
import { DeviceLine } from "../src/machine/devices/standard-devices.ts";
import { testMachine } from "../test/helpers/test-host.ts";
import { median, now, result, type Result } from "./harness.ts";

const root = join(import.meta.dirname, "..");
const PROMPT = "dogma:/$ ";

function bootImage() {
  const config = readFileSync(join(root, "user/boot/init.conf"), "utf8");
  const read = (name: string) => ({ name, bytes: new Uint8Array(readFileSync(join(root, "build/user", `${name}.wasm`))) });
  return { init: read("init"), modules: modulesOf(config).map(read), config, params: {} };
}

/** Boots once with `loader`: milliseconds from the start of loading to the shell's prompt. */
export async function bootToPrompt(loader: Loader): Promise<number> {
  const t = testMachine({ memory: 128 << 20, interactive: true });
  const block = new BlockDevice(DeviceLine.BLOCK, t.machine.interrupts, new MemoryBlockBackend(64 << 20));
  const timer = new RtcTimerDevice(DeviceLine.TIMER, t.machine.interrupts, t.machine.clock, (delayNs, callback) => {
    const handle = setTimeout(callback, Math.ceil(delayNs / 1e6));
    return () => clearTimeout(handle);
  });
  const devices = [t.machine.devices.find((d) => d.name === "console")!, block, timer];
  const start = now();
  const init = await startInit(t.kernel, loader, bootImage(), devices);
  t.kernel.setCritical(init);
  const running = t.kernel.run();
  const give = Date.now() + 120_000;
  while (!t.stdout().includes(PROMPT)) {
    if (Date.now() > give) throw new Error(`boot: no prompt in 120 s\n${t.stdout()}\n${t.stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  const ms = now() - start;
  while (t.kernel.kill(init.pid) !== 0) await new Promise((resolve) => setImmediate(resolve));
  await running;
  for (const device of devices) device.reset();
  t.machine.powerOff();
  return ms;
}

export async function boot(): Promise<Result[]> {
  const image = bootImage();
  const binaries = [image.init, ...image.modules];
  const nativeCompile = () => {
    const start = now();
    for (const m of binaries) new WebAssembly.Module(m.bytes);
    return now() - start;
  };
  const fresh = () => new Loader({ importModules: standardImportModules() });
  const cold: number[] = [];
  const native: number[] = [];
  for (let i = 0; i < 2; i++) {
    cold.push(await bootToPrompt(fresh()));
    native.push(nativeCompile());
  }
  const loader = fresh();
  await bootToPrompt(loader);
  const warm: number[] = [];
  for (let i = 0; i < 3; i++) warm.push(await bootToPrompt(loader));
  const bytes = binaries.reduce((sum, m) => sum + m.bytes.length, 0);
  return [
    result(`boot to the shell prompt, cold (${binaries.length} modules, ${(bytes / 1024).toFixed(0)} KiB)`, median(cold), "ms", "native new WebAssembly.Module of them", median(native)),
    result("boot to the shell prompt, modules cached", median(warm), "ms", "native new WebAssembly.Module of them", median(native)),
  ];
}
