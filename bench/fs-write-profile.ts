// The write and sync path alone (docs/FS.md "Writes"): machines running fs-write-bench (16 MiB in
// 1 MiB calls then SYNC, 4 MiB overwritten in 4 KiB calls then SYNC), each beside node:fs doing
// the same in the same folder right after it, and where each SYNC's time went on the host: the
// disk image's writes (calls, bytes, ms) and its flushes (calls, ms, and each one's ms: a 1 MiB
// pass's are the truncate's commit, then its SYNC's two), timed around DiskImage's methods, and the
// machine's thread's CPU per pass. `node bench/fs-write-profile.ts [MACHINES] [ROUNDS]` (EACH=1:
// every host write's offset, size and ms too); prints each pass and, at the end, the medians of
// each side's rates and their ratio.
import { closeSync, fsyncSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DiskImage } from "../src/hosts/node/disk-image.ts";
import { BlockDevice } from "../src/machine/devices/block.ts";
import { DeviceLine } from "../src/machine/devices/standard-devices.ts";
import { bootMachine, testTimer } from "../test/helpers/booted-machine.ts";
import { now } from "./harness.ts";

const MIB = 1 << 20;
const machines = Number(process.argv[2] ?? 3);
const rounds = Number(process.argv[3] ?? 4);

/** What the disk image did while it was watched: host writes and flushes, with their time. */
class HostTimes {
  writes = 0;
  bytes = 0;
  writeMs = 0;
  flushes = 0;
  flushMs = 0;
  /** Each flush's ms in order (and with EACH=1 in the environment, each write's offset, size and ms). */
  each: string[] = [];
  reads = 0;
  pieces = 0;
  readBytes = 0;
  readMs = 0;
  reset(): void {
    this.reads = this.readBytes = this.readMs = this.pieces = 0;
    this.writes = this.bytes = this.writeMs = this.flushes = this.flushMs = 0;
    this.each = [];
  }
  text(): string {
    return `host: ${this.writes} writes (${this.pieces} pieces) ${(this.bytes / MIB).toFixed(1)} MiB ${this.writeMs.toFixed(1)} ms, ${this.flushes} flushes ${this.flushMs.toFixed(1)} ms [${this.each.join(" ")}], ${this.reads} reads ${(this.readBytes / MIB).toFixed(2)} MiB ${this.readMs.toFixed(1)} ms`;
  }
}

function watch(image: DiskImage, times: HostTimes): void {
  const write = image.write.bind(image);
  const gathered = image.writeGathered.bind(image);
  const flush = image.flush.bind(image);
  const scattered = image.readScattered.bind(image);
  image.readScattered = (offset, pieces) => {
    const start = now();
    const done = scattered(offset, pieces);
    times.reads++;
    for (const piece of pieces) times.readBytes += piece.length;
    times.readMs += now() - start;
    return done;
  };
  image.write = (offset, data) => {
    const start = now();
    const done = write(offset, data);
    times.writes++;
    times.bytes += data.length;
    times.writeMs += now() - start;
    return done;
  };
  image.writeGathered = (offset, pieces) => {
    times.pieces += pieces.length;
    const start = now();
    const done = gathered(offset, pieces);
    times.writes++;
    let b = 0;
    for (const piece of pieces) b += piece.length;
    times.bytes += b;
    times.writeMs += now() - start;
    if (process.env.EACH) times.each.push(`w@${(offset / MIB).toFixed(1)}/${b >> 10}K:${(now() - start).toFixed(2)}`);
    return done;
  };
  image.flush = async () => {
    const start = now();
    await flush();
    times.flushes++;
    times.flushMs += now() - start;
    times.each.push((now() - start).toFixed(2));
  };
}

/** node:fs writing `bytes` in `call` calls to a new file, then fsync: MiB/s. */
function hostWrite(path: string, call: number, bytes: number): number {
  const buffer = Buffer.alloc(call, 7);
  const fd = openSync(path, "w");
  const start = now();
  for (let at = 0; at < bytes; at += call) writeSync(fd, buffer, 0, call, at);
  fsyncSync(fd);
  const ms = now() - start;
  closeSync(fd);
  return bytes / MIB / (ms / 1000);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const work = mkdtempSync(join(tmpdir(), "dogma-fs-write-profile-"));
const rates = new Map<string, { dogma: number[]; node: number[]; syncMs: number[]; cpuMs: number[] }>();
try {
  for (let i = 0; i < machines; i++) {
    const image = await DiskImage.open(join(work, `w${i}.img`), 64 << 20);
    const times = new HostTimes();
    watch(image, times);
    try {
      const m = await bootMachine(
        `service registry registry
driver  block    block     device=block interrupt=block memory=512
service fs       fs        memory=16384 publish=fs kernel-info
service bench    fs-write-bench  use=fs memory=512 -- ${rounds}
`,
        ["registry", "block", "fs", "fs-write-bench"],
        { devices: (t) => [new BlockDevice(DeviceLine.BLOCK, t.machine.interrupts, image), testTimer(t)], memory: 128 << 20 },
      );
      // Each pass's host figures: what the image did between one printed line and the next.
      let seen = 0;
      let lastKey = "";
      let cpuLast = 0;
      await m.until("done", (lines) => {
        for (; seen < lines.length; seen++) {
          const line = lines[seen]!;
          // The machine's thread's CPU since the last line, node:fs's pass left out: the pass's own
          // and what came between passes (close, open, the truncate's SYNC). The host counts it in
          // scheduler ticks: only a median over many passes means anything.
          const cpuNow = process.threadCpuUsage();
          const cpuMs = (cpuNow.user + cpuNow.system - cpuLast) / 1000;
          cpuLast = cpuNow.user + cpuNow.system;
          const pass = /^fs-write-bench: (warm-up )?write (\d+) in (\d+) calls: (\d+) ns$/.exec(line);
          const sync = /^fs-write-bench: of which the sync (\d+) ns$/.exec(line);
          if (pass && !pass[1]) {
            const call = Number(pass[3]);
            const key = call >= MIB ? "1 MiB" : "4 KiB";
            lastKey = key;
            const entry = rates.get(key) ?? { dogma: [], node: [], syncMs: [], cpuMs: [] };
            rates.set(key, entry);
            entry.dogma.push(Number(pass[2]) / MIB / (Number(pass[4]) / 1e9));
            entry.node.push(hostWrite(join(work, "host.dat"), call, Number(pass[2])));
            const after = process.threadCpuUsage();
            cpuLast = after.user + after.system;
            entry.cpuMs.push(cpuMs);
            console.log(`${key} cpu ${cpuMs.toFixed(2)} ms`);
            console.log(`${key}: dogma ${entry.dogma.at(-1)!.toFixed(0)} MiB/s, node ${entry.node.at(-1)!.toFixed(0)} MiB/s`);
          }
          if (line.startsWith("PROF")) console.log("  " + line);
          if (sync) {
            if (lastKey) rates.get(lastKey)!.syncMs.push(Number(sync[1]) / 1e6);
            console.log(`  sync ${(Number(sync[1]) / 1e6).toFixed(1)} ms; ${times.text()}`);
            times.reset();
          }
        }
        return lines.includes("fs-write-bench: done") || /E_/.test(m.stderr());
      });
      await m.halt();
    } finally {
      await image.close();
    }
  }
  for (const [key, r] of rates) {
    const d = median(r.dogma);
    const n = median(r.node);
    console.log(`${key} calls + sync: dogma median ${d.toFixed(0)} MiB/s, node ${n.toFixed(0)} MiB/s, ratio ${(d / n).toFixed(2)}; sync median ${median(r.syncMs).toFixed(1)} ms; machine thread CPU median ${median(r.cpuMs).toFixed(1)} ms`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
