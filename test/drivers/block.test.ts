import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { MemoryBlockBackend } from "../../src/machine/devices/block-backend.ts";
import { DiskImage } from "../../src/hosts/node/disk-image.ts";
import { BlockDevice } from "../../src/machine/devices/block.ts";
import { DeviceLine } from "../../src/machine/devices/standard-devices.ts";
import { ObjectKind } from "../../src/kernel/caps/object-abi.ts";
import type { RegionObject } from "../../src/kernel/caps/region.ts";
import type { DmaWindow } from "../../src/machine/mmio.ts";
import { bootMachine, testTimer } from "../helpers/booted-machine.ts";
import { ControlledBackend, bootBlockMachine, clientArea, sectorsNotHoldingPattern } from "./block-machine.ts";

const DISK_BYTES = 64 << 20;
const work = mkdtempSync(join(tmpdir(), "dogma-block-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** block-check's pattern (user/services/block-check.ts): byte `i` of sector `sector`. */
const checkPattern = (sector: number, i: number) => ((sector * 131 + i * 7 + (i >> 8)) ^ 0x5a) & 0xff;

describe("the block driver", () => {
  it("serves INFO, READ, WRITE and FLUSH through a Region; every error is a status and the capabilities come back", async () => {
    const disk = new MemoryBlockBackend(DISK_BYTES);
    const m = await bootBlockMachine(
      `service registry registry
driver  block    block        device=block interrupt=block memory=512
service check    block-check  memory=1024
`,
      ["registry", "block", "block-check"],
      disk,
    );
    await m.line("init: check (pid 4) exited with code 0; not restarting");
    // The driver kept a view of each 16-page Region written from, and let go of the one its owner
    // freed when the next came (the other is freed now too: block-check has ended).
    const regions = [...m.kernel.processes.get(3)!.caps.entries()].map(([, cap]) => cap.object).filter((o) => o.kind === ObjectKind.REGION) as RegionObject[];
    expect(regions.filter((r) => r.pages === 16)).toHaveLength(1);
    await m.halt();
    expect(m.lines().filter((l) => l.startsWith("block") || l.startsWith("init: "))).toEqual([
      "init: 3 modules, 2 devices, 3 services",
      "init: started registry (pid 2)",
      "init: started block (pid 3)",
      "init: started check (pid 4)",
      'block: 131072 sectors of 512 bytes, 16 buffers of 64 KiB; serving "block"',
      "block-check: connect: 0",
      "block-check: 131072 sectors of 512 bytes",
      "block-check: write 5120 sectors: 2621440",
      "block-check: read them back: 2621440",
      "block-check: sectors that differ: 0",
      "block-check: flush: 0",
      "block-check: write 3 sectors from offset 100: 1536",
      "block-check: read them at offset 7: 1536",
      "block-check: sectors that differ: 0",
      "block-check: read 0 sectors: 0",
      "block-check: read past the end: BLOCK_E_RANGE",
      "block-check: write at the last sector + 1: BLOCK_E_RANGE",
      "block-check: read beyond the buffer: E_INVALID_ARGUMENT",
      "block-check: buffer still ours: 7",
      "block-check: read into a view: E_CONTRACT",
      "block-check: the view stayed: 7",
      "block-check: read without a Region: E_CONTRACT",
      "block-check: read with 2 words: E_CONTRACT",
      "block-check: the buffer stayed: 7",
      "block-check: read into a Receiver: E_CONTRACT",
      "block-check: the Receiver stayed: 3",
      "block-check: write from a filler that maps nothing: E_INVALID_ARGUMENT",
      "block-check: label 99: E_CONTRACT",
      "block-check: a read after all that: 1536",
      "block-check: sectors that differ: 0",
      "block-check: requests in flight at most: 32",
      "block-check: sectors per device request: 2048",
      "block-check: write from a Region's view: 1536",
      "block-check: free that Region: 0",
      "block-check: write from another's view: 1536",
      "block-check: ok",
      "init: check (pid 4) exited with code 0; not restarting",
    ]);
    // What the driver wrote is on the disk, sector for sector.
    for (const [first, count] of [[1000, 5120], [7, 3]] as const) {
      for (let s = first; s < first + count; s += 97) {
        expect(disk.bytes.subarray(s * 512, s * 512 + 512)).toEqual(Uint8Array.from({ length: 512 }, (_, i) => checkPattern(s, i)));
      }
    }
    expect(m.faults).toEqual([]);
    expect(m.stderr()).toBe("");
  });

  it("lends the device each large call's Region (a WRITE's view read-only, a READ's owner writable) and takes it back before the answer", async () => {
    const disk = new MemoryBlockBackend(DISK_BYTES);
    /** Every loan the device was given, and how many are open now. */
    const loans: Array<{ slot: number; readOnly: boolean; window: DmaWindow }> = [];
    const open = new Set<number>();
    const m = await bootMachine(
      `service registry registry
driver  block    block        device=block interrupt=block memory=512
service check    block-check  memory=1024
`,
      ["registry", "block", "block-check"],
      {
        devices: (t) => {
          const device = new BlockDevice(DeviceLine.BLOCK, t.machine.interrupts, disk);
          const attach = device.attachGrant.bind(device);
          device.attachGrant = (slot, window) => {
            if (window) loans.push({ slot, readOnly: window.readOnly === true, window });
            if (window) open.add(slot);
            else open.delete(slot);
            attach(slot, window);
          };
          return [device, testTimer(t)];
        },
      },
    );
    await m.line("init: check (pid 4) exited with code 0; not restarting");
    await m.halt();
    expect(m.lines()).toContain("block-check: sectors that differ: 0");
    // block-check's large calls went through loans (its small ones, 3 sectors, through a data
    // buffer): the WRITE's view read-only, the READs' owners not.
    expect(loans.filter((l) => l.readOnly).length).toBe(1); // its WRITE of 5120 sectors
    expect(loans.filter((l) => !l.readOnly).length).toBeGreaterThanOrEqual(1);
    expect(loans.every((l) => l.window.size >= 16 << 10)).toBe(true);
    // None is left open, and none of the windows lent reaches anything any more.
    expect(open.size).toBe(0);
    for (const loan of loans) expect(() => loan.window.readWord(0)).toThrow(/taken away/);
  });

  it("keeps many requests in flight for several clients, takes completions in any order, and answers each caller when its last one is in", async () => {
    const disk = new MemoryBlockBackend(DISK_BYTES);
    const backend = new ControlledBackend(disk);
    backend.reverse = true; // every batch the device starts completes last first
    const clients = ["c1", "c2", "c3", "c4"];
    const m = await bootBlockMachine(
      `service registry registry
driver  block    block       device=block interrupt=block memory=512
${clients.map((name) => `service ${name} block-test-client memory=128`).join("\n")}
`,
      ["registry", "block", "block-test-client"],
      backend,
    );
    for (const name of clients) {
      const pid = await m.pidOf(name);
      await m.line(`block-test-client (pid ${pid}): done: 24 rounds verified and flushed; calls that met a dead driver: 0; buffers replaced: 0`);
      const area = clientArea(pid);
      expect(sectorsNotHoldingPattern(disk.bytes, area.first, area.sectors)).toEqual([]);
    }
    await m.halt();
    // A 160-sector request is two device requests, given to the device in one NOTIFY.
    expect(backend.maxInFlight).toBeGreaterThanOrEqual(2);
    expect(backend.completedOutOfOrder).toBe(true);
    expect(m.faults).toEqual([]);
    expect(m.stderr()).toBe("");
  });

  it("writes through to a disk image file", async () => {
    const path = join(work, "disk.img");
    const image = await DiskImage.open(path, DISK_BYTES);
    const m = await bootBlockMachine(
      "service registry registry\ndriver block block device=block interrupt=block memory=512\nservice c1 block-test-client memory=128\n",
      ["registry", "block", "block-test-client"],
      image,
    );
    await m.line("block-test-client (pid 4): done: 24 rounds verified and flushed; calls that met a dead driver: 0; buffers replaced: 0");
    await m.halt();
    await image.close();
    const area = clientArea(4);
    expect(sectorsNotHoldingPattern(new Uint8Array(readFileSync(path)), area.first, area.sectors)).toEqual([]);
  });
});
