// Paging through the pager service (docs/MEMORY.md "The pager service"): memhog's 64 MiB on a
// 16 MiB machine, every eviction and page-in going through the pager, the file system and the
// block driver; beside the same workload on a machine where it fits, with no pager.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { startInit } from "../src/boot/bootloader.ts";
import { MemoryBlockBackend } from "../src/machine/devices/block-backend.ts";
import { BlockDevice } from "../src/machine/devices/block.ts";
import { RtcTimerDevice } from "../src/machine/devices/rtc-timer.ts";
import { DeviceLine } from "../src/machine/devices/standard-devices.ts";
import type { BackingStore } from "../src/kernel/paging.ts";
import { testMachine } from "../test/helpers/test-host.ts";
import { now, result, type Result } from "./harness.ts";

const root = join(import.meta.dirname, "..");
const HOG_PAGES = 16384;
/** memhog writes every page once and reads it back twice. */
const TOUCHES = 3 * HOG_PAGES;

const config = (pager: boolean) => `service registry registry pin=2
driver  block    block   device=block interrupt=block memory=512 pin=2
service fs       fs      memory=2048 publish=fs pin=2
${pager ? "service pager    pager   memory=1024 use=fs pager=32768 control pin=2" : ""}
service hog      memhog  memory=${HOG_PAGES + 256} -- ${HOG_PAGES}
`;

/** Milliseconds from init starting memhog to its verdict, and how many pages were paged in. */
async function hog(memoryMiB: number, pager: boolean): Promise<{ ms: number; cpuMs: number; pageIns: number; throughPager: number; evictions: number; clean: number }> {
  const t = testMachine({ memory: memoryMiB << 20 });
  const block = new BlockDevice(DeviceLine.BLOCK, t.machine.interrupts, new MemoryBlockBackend(256 << 20));
  const timer = new RtcTimerDevice(DeviceLine.TIMER, t.machine.interrupts, t.machine.clock, (delayNs, callback) => {
    const handle = setTimeout(callback, Math.ceil(delayNs / 1e6));
    return () => clearTimeout(handle);
  });
  const read = (name: string) => ({ name, bytes: new Uint8Array(readFileSync(join(root, "build/user", `${name}.wasm`))) });
  const modules = ["registry", "block", "fs", ...(pager ? ["pager"] : []), "memhog"].map(read);
  const init = await startInit(t.kernel, t.loader, { init: read("init"), modules, config: config(pager), params: {} }, [block, timer]);
  t.kernel.setCritical(init);
  const running = t.kernel.run();
  const until = async (pattern: RegExp) => {
    const give = Date.now() + 300_000;
    while (!pattern.test(t.stdout())) {
      if (Date.now() > give) throw new Error(`pager service bench: never saw ${pattern}\n${t.stdout()}\n${t.stderr()}`);
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    return now();
  };
  const started = await until(/init: started hog/);
  // CPU time too: the wall figure moves with the host's load (2 shared cores), this less.
  const cpu = process.cpuUsage();
  // Count the page-ins the pager answered (the rest came from the kernel's copies of pages whose
  // page-out was still on its way).
  let throughPager = 0;
  const store = (t.kernel.paging as unknown as { store: BackingStore } | null)?.store;
  if (store) {
    const read = store.read.bind(store);
    store.read = async (at) => {
      const ciphertexts = await read(at);
      throughPager += ciphertexts.filter((ciphertext) => ciphertext).length;
      return ciphertexts;
    };
  }
  const ended = await until(/memhog: \d+ pages written and read back twice: (all right|\d+ wrong)/);
  const used = process.cpuUsage(cpu);
  if (!/all right/.test(t.stdout())) throw new Error(`MISMATCH in the pager service bench:\n${t.stdout()}`);
  const pageIns = t.kernel.paging?.pageIns ?? 0;
  const evictions = t.kernel.paging?.evictions ?? 0;
  const clean = t.kernel.paging?.cleanEvictions ?? 0;
  while (t.kernel.kill(init.pid) !== 0) await new Promise((resolve) => setImmediate(resolve));
  await running;
  block.reset();
  timer.reset();
  t.machine.powerOff();
  return { ms: ended - started, cpuMs: (used.user + used.system) / 1000, pageIns, throughPager, evictions, clean };
}

export async function pagerService(): Promise<{ results: Result[]; notes: string[] }> {
  const fits = await hog(128, false);
  const paged = await hog(16, true);
  const us = (ms: number) => (ms * 1000) / TOUCHES;
  return {
    results: [result(`memhog's 64 MiB in 16 MiB of RAM through the pager service (per page touched)`, us(paged.ms), "µs", "the same in 128 MiB, no pager", us(fits.ms))],
    notes: [
      `CPU time of the whole host process per page touched: ${us(paged.cpuMs).toFixed(1)} µs paged, ${us(fits.cpuMs).toFixed(1)} µs unpaged. ${paged.evictions} evictions, ${paged.clean} of them clean (back from the store and unwritten: nothing sealed or written, docs/MEMORY.md "Clean pages").`,
      `${HOG_PAGES} pages, each written once and read back twice: ${TOUCHES} page touches; ${paged.pageIns} pages came back in, ${paged.throughPager} of them from the pager through /swap (the others from the kernel's sealed copy of a page whose page-out had not been taken yet; write-behind bounds those to 4096). One run each.`,
    ],
  };
}
