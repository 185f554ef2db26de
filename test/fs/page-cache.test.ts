// The file system's page cache (docs/FS.md "The page cache"): a differential test against a model
// of every file's bytes, through every kind of handle, with the cache small (pages evicted and
// written back, blocks reused on a small disk), absent and large, and again after a reboot; reads
// past the end and of holes, a direct and a cached handle on one file, what an attached handle
// refuses; a file cut while another client reads it through the cache; and the cache giving its
// memory back when the pager needs it. Crashes with the cache on are in crash.test.ts.
import { describe, expect, it } from "vitest";
import { MemoryBlockBackend } from "../../src/machine/devices/block-backend.ts";
import { BlockDevice } from "../../src/machine/devices/block.ts";
import { DeviceLine } from "../../src/machine/devices/standard-devices.ts";
import { bootBlockMachine } from "../drivers/block-machine.ts";
import { bootMachine, testTimer } from "../helpers/booted-machine.ts";
import { patience } from "../helpers/patience.ts";
import { FSCK_LINES, verdict } from "./fs-machine.ts";

const fsLine = (cachePages: number) => `service registry registry
driver  block    block     device=block interrupt=block memory=512
service fs       fs        memory=4096 publish=fs -- cache-pages=${cachePages}
`;

/** Runs the model for `seed` with a cache of `cachePages`, then again in verify mode after a reboot, then fsck. */
async function model(seed: number, cachePages: number, diskBytes: number, auto = ""): Promise<void> {
  const disk = new MemoryBlockBackend(diskBytes);
  for (const mode of ["", "verify"]) {
    const m = await bootBlockMachine(`${fsLine(cachePages)}service model fs-cache-model use=fs memory=1024 -- ${seed} 2500 ${mode} ${auto}\n`, ["registry", "block", "fs", "fs-cache-model"], disk);
    try {
      const line = await verdict(m, /^fs-cache-model: 2500 operations, all matched \(\d+ reads from maps\)$/, /FAIL/);
      // With room for maps, reads were answered from them (else the mapped kind tested nothing). A
      // cache of 64 pages leaves maps no room: its mapped handles read through the server
      // (E_QUOTA), as a client must cope with.
      if (mode === "" && cachePages >= 256) expect(Number(/(\d+) reads from maps/.exec(line)![1]), line).toBeGreaterThan(0);
      expect(m.faults).toEqual([]);
    } finally {
      await m.halt();
    }
  }
  const f = await bootBlockMachine(FSCK_LINES, ["registry", "block", "fsck"], disk);
  try {
    await verdict(f, /^fsck: clean: /, /^fsck: (\d+ problems?|cannot .*)$/);
  } finally {
    await f.halt();
  }
}

describe("the page cache", () => {
  it("agrees with a model of every byte under random reads, writes, truncates, syncs and reopens through plain, attached, direct, inline and mapped handles: a cache of 64 pages on a 3 MiB disk (evictions, write-backs, blocks reused), and after a reboot; fsck is clean", async () => {
    await model(7, 64, 3 << 20);
    await model(1234, 64, 3 << 20);
  }, patience(120_000));

  it("agrees with the model with no cache at all (every transfer goes to the disk), with one larger than the files, and with maps beside a cache that fills", async () => {
    await model(99, 0, 3 << 20);
    await model(5, 2000, 16 << 20);
    await model(31, 256, 3 << 20); // maps beside a cache that fills and evicts
    await model(11, 256, 3 << 20, "auto"); // and FsClient.read mapping handles by itself, up to 8, letting go of the least recently read
  }, patience(120_000));

  it("reads past the end and of holes, keeps a direct and a cached handle on one file in step, refuses bad attached requests; a file cut while another client reads it never shows a byte it does not hold", async () => {
    const m = await bootBlockMachine(`${fsLine(128)}service edges fs-cache-check use=fs memory=512 -- edges
service cut      fs-cache-check  use=fs memory=512 -- truncater 300
service read     fs-cache-check  use=fs memory=512 -- reader 300
`, ["registry", "block", "fs", "fs-cache-check"], new MemoryBlockBackend(64 << 20));
    try {
      await verdict(m, /^fs-cache-check: edges all right$/, /FAIL/);
      await verdict(m, /^fs-cache-check: truncater done 300 cuts$/, /FAIL/);
      const reader = await verdict(m, /^fs-cache-check: reader done \d+ reads, \d+ cut short$/, /FAIL/);
      // The reads did meet the file cut (else the test showed nothing).
      expect(Number(/(\d+) cut short/.exec(reader)![1])).toBeGreaterThan(0);
      expect(m.faults).toEqual([]);
    } finally {
      await m.halt();
    }
  }, patience(120_000));

  it("gives its memory back when the kernel pages: filled, then a program takes more memory than the machine has free, and the cache shrinks while the pager carries the rest; the file maps go with it, and a mapped file is read right from the server after; the metadata cache gives its pages back too", async () => {
    const disk = new MemoryBlockBackend(128 << 20);
    const pages = 3072;
    const m = await bootMachine(`service registry registry pin=2
driver  block    block   device=block interrupt=block memory=512 pin=2
service fs       fs      memory=4096 publish=fs pin=2 kernel-info
service pager    pager   memory=1024 use=fs pager=32768 control pin=2
service pressure fs-cache-pressure use=fs memory=${pages + 512} -- 6 ${pages}
`, ["registry", "block", "fs", "pager", "fs-cache-pressure"], {
      devices: (t) => [new BlockDevice(DeviceLine.BLOCK, t.machine.interrupts, disk), testTimer(t)],
      memory: 16 << 20,
    });
    try {
      const line = await verdict(m, /^fs-cache-pressure: cache \d+ pages before, \d+ after, \d+ chunks given back; \d+ pages all right; the map read \d+ times before, gone after: (yes|no); metadata \d+ pages before, \d+ after$/, /FAIL|wrong/);
      const [before, after, given] = /cache (\d+) pages before, (\d+) after, (\d+) chunks/.exec(line)!.slice(1).map(Number);
      expect(before, line).toBeGreaterThan(256); // the cache did fill...
      expect(after, line).toBeLessThan(before! / 2); // ...and gave most of it back
      expect(given, line).toBeGreaterThan(0);
      // A file mapped before was read from its map, and right after the server freed its maps.
      expect(Number(/map read (\d+) times/.exec(line)![1]), line).toBeGreaterThan(0);
      expect(line).toMatch(/gone after: yes;/);
      // The metadata cache (pinned, like the server) gave its pages back too, down to a few.
      const [metaBefore, metaAfter] = /metadata (\d+) pages before, (\d+) after/.exec(line)!.slice(1).map(Number);
      expect(metaBefore, line).toBeGreaterThan(100);
      expect(metaAfter, line).toBeLessThan(metaBefore! / 2);
      expect(m.kernel.paging!.evictions).toBeGreaterThan(0);
      expect(m.faults).toEqual([]);
    } finally {
      await m.halt();
    }
  }, patience(120_000));
});
