// The block driver from a client (docs/DRIVERS.md "Tests and clients"): block-bench — sequential
// reads of the first 32 MiB of a disk image in 1 MiB, 64 KiB and 4 KiB requests through the
// driver, then 4 KiB writes and a flush, three passes of each — beside the backend's own `DiskImage.read` of the same
// sizes, one at a time, in the same run. `node bench/block-throughput.ts [RUNS]`: each figure the
// fastest of RUNS machines (default 3) and of as many raw passes; the machine is shared, and the
// fastest pass is the one least disturbed.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DiskImage } from "../src/hosts/node/disk-image.ts";
import { BlockDevice } from "../src/machine/devices/block.ts";
import { DeviceLine } from "../src/machine/devices/standard-devices.ts";
import { bootMachine, testTimer } from "../test/helpers/booted-machine.ts";
import { now } from "./harness.ts";

const runs = Number(process.argv[2] ?? 3);
const MIB = 1 << 20;
const work = mkdtempSync(join(tmpdir(), "dogma-block-bench-"));

/** block-bench's lines on a fresh 64 MiB image: "read|write KIB" → [MiB/s, requests/s]. */
async function throughDriver(run: number): Promise<Map<string, [number, number]>> {
  const image = await DiskImage.open(join(work, `b${run}.img`), 64 << 20);
  try {
    const m = await bootMachine(
      `service registry registry
driver  block    block     device=block interrupt=block memory=512
service bench    block-bench  memory=512
`,
      ["registry", "block", "block-bench"],
      { devices: (t) => [new BlockDevice(DeviceLine.BLOCK, t.machine.interrupts, image), testTimer(t)], memory: 128 << 20 },
    );
    await m.until("block-bench is done", () => m.lines().filter((line) => /block-bench: write/.test(line)).length === 3 || /block-bench: .*E_/.test(m.stderr()));
    await m.halt();
    const figures = new Map<string, [number, number]>();
    for (const line of m.lines()) {
      const match = /^block-bench: (read|write) \d+ MiB in (\d+) KiB requests: \d+ ms, (\d+) MiB\/s, (\d+) requests\/s$/.exec(line);
      if (!match) continue;
      const key = `${match[1]} ${match[2]}`;
      const was = figures.get(key);
      figures.set(key, [Math.max(was?.[0] ?? 0, Number(match[3])), Math.max(was?.[1] ?? 0, Number(match[4]))]);
    }
    if (figures.size !== 4) throw new Error(`block-bench printed ${figures.size} figures: ${m.stderr()}`);
    return figures;
  } finally {
    await image.close();
  }
}

/** DiskImage.read of the first `bytes` in `request`-byte reads, one at a time: [MiB/s, requests/s]. */
async function raw(image: DiskImage, request: number, bytes: number): Promise<[number, number]> {
  const start = now();
  for (let at = 0; at < bytes; at += request) await image.read(at, request);
  const seconds = (now() - start) / 1000;
  return [bytes / MIB / seconds, bytes / request / seconds];
}

try {
  const best = new Map<string, [number, number]>();
  for (let run = 0; run < runs; run++) {
    for (const [key, [mibs, rate]] of await throughDriver(run)) {
      const was = best.get(key);
      best.set(key, [Math.max(was?.[0] ?? 0, mibs), Math.max(was?.[1] ?? 0, rate)]);
    }
  }
  const image = await DiskImage.open(join(work, "raw.img"), 64 << 20);
  const rawBest = new Map<number, [number, number]>();
  try {
    for (let run = 0; run < runs; run++) {
      for (const [request, bytes] of [[MIB, 32 * MIB], [64 << 10, 32 * MIB], [4096, 8 * MIB]] as const) {
        const [mibs, rate] = await raw(image, request, bytes);
        const was = rawBest.get(request);
        rawBest.set(request, [Math.max(was?.[0] ?? 0, mibs), Math.max(was?.[1] ?? 0, rate)]);
      }
    }
  } finally {
    await image.close();
  }
  for (const [key, request] of [["read 1024", MIB], ["read 64", 64 << 10], ["read 4", 4096]] as const) {
    const [mibs, rate] = best.get(key)!;
    const [rawMibs, rawRate] = rawBest.get(request)!;
    console.log(`${key} KiB: through the driver ${mibs} MiB/s, ${rate}/s; raw DiskImage.read ${rawMibs.toFixed(0)} MiB/s, ${rawRate.toFixed(0)}/s (ratio ${(mibs / rawMibs).toFixed(2)})`);
  }
  const [, writes] = best.get("write 4")!;
  console.log(`write 4 KiB then flush: through the driver ${writes}/s`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
