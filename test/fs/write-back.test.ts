// When file data reaches the disk, and where (docs/FS.md "The page cache" and "Format"):
// write-behind — a run's worth of dirty pages goes to the disk before any SYNC asks — and freed
// space given again before space never written, so that a file made anew again and again keeps to
// the same blocks (on a disk image, the parts of the host's file already allocated).
import { describe, expect, it } from "vitest";
import { MemoryBlockBackend } from "../../src/machine/devices/block-backend.ts";
import { bootBlockMachine } from "../drivers/block-machine.ts";
import { patience } from "../helpers/patience.ts";
import { verdict } from "./fs-machine.ts";

const FS_LINES = `service registry registry
driver  block    block     device=block interrupt=block memory=512
service fs       fs        memory=4096 publish=fs -- cache-pages=2000
`;

/** A disk in memory that remembers the end of the furthest write. */
class WatchedDisk extends MemoryBlockBackend {
  furthest = 0;
  override async write(offset: number, data: Uint8Array): Promise<void> {
    this.furthest = Math.max(this.furthest, offset + data.length);
    return super.write(offset, data);
  }
}

describe("file data on its way to the disk", () => {
  it("goes before a SYNC once a run's worth of pages is dirty (write-behind), from the cache's own pages (views of its Regions lent to the device, no copy), and reads back whole after the SYNC", async () => {
    const m = await bootBlockMachine(`${FS_LINES}service check fs-cache-check use=fs memory=512 -- write-behind\n`, ["registry", "block", "fs", "fs-cache-check"], new MemoryBlockBackend(64 << 20));
    try {
      const line = await verdict(m, /^fs-cache-check: write-behind all right \(\d+ dirty, \d+ written back, \d+ from the cache's pages\)$/, /FAIL/);
      expect(Number(/\((\d+) dirty/.exec(line)![1]), line).toBeLessThan(256);
      const [, written, fromViews] = /(\d+) written back, (\d+) from/.exec(line)!.map(Number);
      expect(fromViews, line).toBeGreaterThan(0);
      expect(fromViews! * 10, line).toBeGreaterThanOrEqual(written! * 9);
      expect(m.faults).toEqual([]);
    } finally {
      await m.halt();
    }
  }, patience(60_000));

  it("goes to the blocks a file made anew just freed: 16 MiB written, synced and truncated away four times stays in the first 32 MiB of a 64 MiB disk", async () => {
    const disk = new WatchedDisk(64 << 20);
    const m = await bootBlockMachine(`${FS_LINES}service bench fs-write-bench use=fs memory=512 -- 4\n`, ["registry", "block", "fs", "fs-write-bench"], disk);
    try {
      await verdict(m, /^fs-write-bench: done$/, /E_/);
      // 64 MiB were allocated in all: given in turn from where the last allocation ended, they
      // would have gone over the whole disk.
      expect(disk.furthest).toBeGreaterThan(16 << 20);
      expect(disk.furthest).toBeLessThan(32 << 20);
      expect(m.faults).toEqual([]);
    } finally {
      await m.halt();
    }
  }, patience(60_000));
});
