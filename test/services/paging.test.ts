import { describe, expect, it } from "vitest";
import { MemoryBlockBackend } from "../../src/machine/devices/block-backend.ts";
import { BlockDevice } from "../../src/machine/devices/block.ts";
import { DeviceLine } from "../../src/machine/devices/standard-devices.ts";
import { bootMachine, testTimer } from "../helpers/booted-machine.ts";
import { patience } from "../helpers/patience.ts";

const MACHINE_BYTES = 16 << 20; // 4096 frames
const HOG_PAGES = 4 * 4096; // four times the machine's memory

const CONFIG = (pages: number) => `service registry registry pin=2
driver  block    block   device=block interrupt=block memory=512 pin=2
service fs       fs      memory=2048 publish=fs pin=2
service pager    pager   memory=1024 use=fs pager=32768 paging=aging control pin=2
service hog      memhog  memory=${pages + 256} -- ${pages}
`;

function boot(pages: number) {
  const disk = new MemoryBlockBackend(256 << 20);
  return bootMachine(CONFIG(pages), ["registry", "block", "fs", "pager", "memhog"], {
    devices: (t) => [new BlockDevice(DeviceLine.BLOCK, t.machine.interrupts, disk), testTimer(t)],
    memory: MACHINE_BYTES,
  });
}

describe("paging through the pager service", () => {
  it("goes on when the pager is killed mid-run: init restarts it, and it serves the same slots of /swap and the requests that waited for it", async () => {
    const m = await boot(HOG_PAGES);
    const first = await m.pidOf("pager");
    await m.line("init: paging through the pager, a store of 32768 pages, evicting by aging");
    // Kill it once pages have gone out and come back through it.
    await m.until("pages come back through the pager", () => m.kernel.paging!.pageIns > 3000);
    // Killed while it waits for the kernel's next request. (Killed in the middle of a page-out, the
    // Region it handed the file system goes with it, and the file system faults reading it: a
    // weakness of the file system's zero-copy writes, not of paging.)
    const channel = (m.kernel.paging as unknown as { store: { through: { object: { waiters: Array<{ process: { pid: number } }> } } } }).store.through.object;
    await m.until("the pager waits for a request", () => channel.waiters.some((w) => w.process.pid === first));
    const pageInsBefore = m.kernel.paging!.pageIns;
    await m.kill(first);
    await m.line(/^init: restarted pager \(pid \d+\)$/);
    const second = await m.pidOf("pager");
    expect(second).not.toBe(first);
    await m.line(`memhog: ${HOG_PAGES} pages written and read back twice: all right`);
    expect(m.faults).toEqual([]);
    // The restarted pager took over (and, with the kernel holding a page only until its write is
    // acknowledged, thousands of the page-ins since went through it).
    expect(m.lines().filter((l) => l === "pager: paging to /swap, up to 32768 slots of 4 KiB").length).toBe(2);
    expect(m.kernel.paging!.pageIns - pageInsBefore).toBeGreaterThan(HOG_PAGES / 2);
    await m.halt();
  }, patience(240_000));

  it("comes through the pager killed at any moment: nothing wrong is ever read, and the workload, restarted if it must be, ends right", async () => {
    const m = await boot(HOG_PAGES);
    const first = await m.pidOf("pager");
    await m.until("pages come back through the pager", () => (m.kernel.paging?.pageIns ?? 0) > 3000);
    await m.kill(first);
    await m.line(`memhog: ${HOG_PAGES} pages written and read back twice: all right`);
    // Killed in the middle of a page-out, its Region goes under the file system, which faults and
    // is restarted (docs/FS.md), losing the writes it had not committed: a page that comes back
    // from before them fails authentication, memhog ends with page-integrity and init restarts
    // it. Either way nothing wrong was read, and no other fault happened.
    for (const fault of m.faults) expect(fault).toMatch(/page-integrity|fs \(pid \d+\).*unmapped at 0x8/);
    expect(m.lines().some((l) => /^memhog: .*wrong/.test(l))).toBe(false);
    await m.halt();
  }, patience(240_000));

  it("runs a workload four times the machine's memory to the right result, its pages sealed on a swap file of the file system", async () => {
    const disk = new MemoryBlockBackend(256 << 20);
    const m = await bootMachine(
      `service registry registry pin=2
driver  block    block   device=block interrupt=block memory=512 pin=2
service fs       fs      memory=2048 publish=fs pin=2
service pager    pager   memory=1024 use=fs pager=32768 paging=aging control pin=2
service hog      memhog  memory=${HOG_PAGES + 256} -- ${HOG_PAGES}
`,
      ["registry", "block", "fs", "pager", "memhog"],
      {
        devices: (t) => [new BlockDevice(DeviceLine.BLOCK, t.machine.interrupts, disk), testTimer(t)],
        memory: MACHINE_BYTES,
      },
    );
    await m.line("pager: paging to /swap, up to 32768 slots of 4 KiB");
    await m.line("init: paging through the pager, a store of 32768 pages, evicting by aging");
    await m.line(`memhog: ${HOG_PAGES} pages written and read back twice: all right`);
    const info = m.kernel.paging!;
    expect(info.policy).toBe(1); // aging, as the config chose
    expect(info.evictions).toBeGreaterThan(HOG_PAGES - 4096);
    expect(info.pageIns).toBeGreaterThan(HOG_PAGES - 4096);
    expect(m.faults).toEqual([]);
    // Thousands of pages came back through the pager and /swap (the others from the kernel's own
    // sealed copies of pages whose write the pager had not acknowledged yet): it says how many it
    // stored and gave back every 4096, how many of those it had read ahead, and in how many calls.
    const progress = m.lines().flatMap((l) => {
      const found = /^pager: (\d+) pages stored, (\d+) given back \((\d+) of them read ahead\); (\d+) writes, (\d+) reads$/.exec(l);
      return found ? [found.slice(1).map(Number)] : [];
    });
    expect(progress.length).toBeGreaterThanOrEqual(1);
    const [stored, given, ahead, writes, reads] = progress.at(-1)!;
    // Page-outs of neighbouring slots go in one write, page-ins of neighbouring slots in one read.
    expect(writes).toBeLessThan(stored! / 4);
    expect(ahead).toBeGreaterThan(given! / 2);
    expect(reads).toBeLessThan(given! / 2);
    await m.halt();
  }, patience(240_000));
});
