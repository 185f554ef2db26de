// File read and write throughput through the whole stack — fs-bench (a client) → the file system
// server → the block driver → the block device → a disk image file — beside node:fs on a file in
// the same folder, in the same run: the same sizes of calls, writes ending in an fsync.
import { closeSync, fsyncSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DiskImage } from "../src/hosts/node/disk-image.ts";
import { BlockDevice } from "../src/machine/devices/block.ts";
import { DeviceLine } from "../src/machine/devices/standard-devices.ts";
import { bootMachine, testTimer } from "../test/helpers/booted-machine.ts";
import { now, result, type Result } from "./harness.ts";

const MIB = 1 << 20;

/** Node's own throughput for the same pattern: MiB/s. */
function hostThroughput(path: string, write: boolean, call: number, bytes: number): number {
  const buffer = Buffer.alloc(call, 7);
  const fd = openSync(path, write ? "w" : "r");
  const start = now();
  for (let at = 0; at < bytes; at += call) {
    if (write) writeSync(fd, buffer, 0, call, at);
    else readSync(fd, buffer, 0, call, at);
  }
  if (write) fsyncSync(fd);
  const ms = now() - start;
  closeSync(fd);
  return bytes / MIB / (ms / 1000);
}

export async function fsThroughput(): Promise<Result[]> {
  const work = mkdtempSync(join(tmpdir(), "dogma-fs-bench-"));
  try {
    const image = await DiskImage.open(join(work, "disk.img"), 64 << 20);
    // A machine of `dogma boot`'s default size (128 MiB); the server's page cache may take what its
    // Memory allows while a quarter of the machine stays free.
    const m = await bootMachine(
      `service registry registry
driver  block    block     device=block interrupt=block memory=512
service fs       fs        memory=16384 publish=fs kernel-info
service bench    fs-bench  use=fs memory=512
`,
      ["registry", "block", "fs", "fs-bench"],
      { devices: (t) => [new BlockDevice(DeviceLine.BLOCK, t.machine.interrupts, image), testTimer(t)], memory: 128 << 20 },
    );
    await m.until("fs-bench is done", (lines) => lines.includes("fs-bench: done") || /fs-bench: .*E_/.test(m.stderr()));
    const figures = m.lines().flatMap((line) => {
      const match = /^fs-bench: (write|read) (\d+) in (\d+) calls: (\d+) ns$/.exec(line);
      return match ? [{ op: match[1]!, bytes: Number(match[2]), call: Number(match[3]), ns: Number(match[4]) }] : [];
    });
    for (const line of m.lines()) if (line.startsWith("fs-bench: cache")) console.error(line);
    await m.halt();
    await image.close();
    if (figures.length !== 4) throw new Error(`fs-bench printed ${figures.length} figures\n${m.lines().join("\n")}\n${m.stderr()}`);
    const host = join(work, "host.dat");
    return figures.map((f) => {
      const dogma = f.bytes / MIB / (f.ns / 1e9);
      const size = f.call >= MIB ? "1 MiB" : "4 KiB";
      // Written first, so the read has a file of the same size to read.
      if (f.op === "write") hostThroughput(host, true, f.call, f.bytes);
      const baseline = hostThroughput(host, f.op === "write", f.call, f.bytes);
      return result(`fs ${f.op}, ${size} calls (${f.bytes / MIB} MiB${f.op === "write" ? ", then sync" : ""})`, dogma, "MiB/s", `node:fs, ${size} calls${f.op === "write" ? " + fsync" : ""}`, baseline);
    });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

// `node bench/fs-throughput.ts` runs this one alone.
if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of await fsThroughput()) console.log(`${r.name}: ${r.value.toFixed(1)} ${r.unit} vs ${r.baseline.name} ${r.baseline.value.toFixed(1)} (ratio ${r.ratio.toFixed(3)})`);
}
