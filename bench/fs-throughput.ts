// File read and write throughput through the whole stack — fs-bench (a client) → the file system
// server and its page cache → the block driver → the block device → a disk image file — beside
// node:fs on a file in the same folder, in the same run: the same sizes of calls, writes ending in
// an fsync, node's write passes run right after each machine's (the host's load and its disk's
// flush times swing from one minute to the next, and a ratio of passes minutes apart swung with
// them). Then the page cache alone (fs-cache-bench): random 4 KiB reads of a file it holds,
// beside node:fs, and of one it does not; a file read start to end with read-ahead and without.
import { closeSync, fsyncSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DiskImage } from "../src/hosts/node/disk-image.ts";
import { BlockDevice } from "../src/machine/devices/block.ts";
import { DeviceLine } from "../src/machine/devices/standard-devices.ts";
import { bootMachine, testTimer } from "../test/helpers/booted-machine.ts";
import { now, result, type Result } from "./harness.ts";

const MIB = 1 << 20;

/**
 * Node's own throughput for the same pattern: MiB/s. A write makes the file anew ("w"), unless
 * `overwrite`: then it writes over the start of the file there, in place ("r+"), as fs-bench's 4 KiB
 * pass does over the 16 MiB its 1 MiB pass wrote.
 */
function hostThroughput(path: string, write: boolean, call: number, bytes: number, overwrite = false): number {
  const buffer = Buffer.alloc(call, 7);
  const fd = openSync(path, write ? (overwrite ? "r+" : "w") : "r");
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

/** Node's throughput for `count` 4 KiB reads at the same random block offsets fs-cache-bench uses: MiB/s. */
function hostRandomReads(path: string, count: number, fileBytes: number): number {
  const buffer = Buffer.alloc(4096);
  const fd = openSync(path, "r");
  let seed = 12345;
  const start = now();
  for (let i = 0; i < count; i++) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    readSync(fd, buffer, 0, 4096, ((seed >>> 8) % (fileBytes / 4096)) * 4096);
  }
  const ms = now() - start;
  closeSync(fd);
  return (count * 4096) / MIB / (ms / 1000);
}

/** The server line of these machines: a page cache as large as the Memory allows, watching memory. */
const FS_LINE = "service fs       fs        memory=16384 publish=fs kernel-info";

/**
 * Boots a machine of `dogma boot`'s default size (128 MiB; the page cache may take what its Memory
 * allows while a quarter of the machine stays free) on a new disk image running `program`, and
 * answers its lines "PROGRAM: NAME BYTES in CALL calls: NS ns".
 */
async function runOnDisk(work: string, program: string, args = ""): Promise<Array<{ name: string; bytes: number; call: number; ns: number }>> {
  const image = await DiskImage.open(join(work, `${program}.img`), 64 << 20);
  try {
    const m = await bootMachine(
      `service registry registry
driver  block    block     device=block interrupt=block memory=512
${FS_LINE}
service bench    ${program}  use=fs memory=512${args ? ` -- ${args}` : ""}
`,
      ["registry", "block", "fs", program],
      { devices: (t) => [new BlockDevice(DeviceLine.BLOCK, t.machine.interrupts, image), testTimer(t)], memory: 128 << 20 },
    );
    await m.until(`${program} is done`, (lines) => lines.includes(`${program}: done`) || new RegExp(`${program}: .*E_`).test(m.stderr()));
    await m.halt();
    return m.lines().flatMap((line) => {
      const match = new RegExp(`^${program}: (\\S+) (\\d+) in (\\d+) calls: (\\d+) ns$`).exec(line);
      return match ? [{ name: match[1]!, bytes: Number(match[2]), call: Number(match[3]), ns: Number(match[4]) }] : [];
    });
  } finally {
    await image.close();
  }
}

const mibs = (f: { bytes: number; ns: number }) => f.bytes / MIB / (f.ns / 1e9);

/**
 * node:fs doing what a write pass of fs-bench did, MiB/s: its 1 MiB pass makes the file anew (a
 * round starts with a truncate) and syncs; its 4 KiB pass writes over the start of that 16 MiB
 * file in place and syncs, so node's does the same over a 16 MiB file written and synced before it
 * (made anew, its 4 KiB writes would each give the file a block, which fs-bench's never do).
 */
function hostWrite(path: string, call: number, bytes: number): number {
  if (call >= MIB) return hostThroughput(path, true, call, bytes);
  hostThroughput(path, true, MIB, 16 * MIB);
  return hostThroughput(path, true, call, bytes, true);
}

export async function fsThroughput(): Promise<Result[]> {
  const work = mkdtempSync(join(tmpdir(), "dogma-fs-bench-"));
  try {
    // fs-bench three times (a machine each: a warm-up round, then three of each figure), node:fs
    // as many times: each row the fastest pass of either side. A pass of a few milliseconds on a
    // machine shared with other work is as slow as the descheduling it met; the fastest is the one
    // least disturbed, on both sides alike.
    const runs: Array<Array<{ name: string; bytes: number; call: number; ns: number }>> = [];
    // Each run: a warm-up round (not printed as figures), then rounds of the same FIGURES figures.
    const FIGURES = 9;
    const host = join(work, "host.dat");
    // node:fs's write passes, by row: as many as the machine's, right after it.
    const writeBaselines = new Map<number, number[]>();
    for (let i = 0; i < 3; i++) {
      const run = await runOnDisk(work, "fs-bench");
      if (run.length === 0 || run.length % FIGURES !== 0) throw new Error(`fs-bench printed ${run.length} figures`);
      runs.push(run);
      run.forEach((f, at) => {
        if (f.name !== "write") return;
        const row = at % FIGURES;
        const baselines = writeBaselines.get(row) ?? writeBaselines.set(row, []).get(row)!;
        baselines.push(hostWrite(host, f.call, f.bytes));
      });
    }
    const results = runs[0]!.slice(0, FIGURES).map((f, row) => {
      const size = f.call >= MIB ? "1 MiB" : "4 KiB";
      const write = f.name === "write";
      const passes = runs.flatMap((run) => run.filter((_, i) => i % FIGURES === row).map(mibs));
      const baselines: number[] = write ? writeBaselines.get(row)! : [];
      for (let i = 0; i < passes.length && !write; i++) {
        // Written and synced first, before every pass: fs-bench's read passes each come right
        // after its write pass and SYNC, so both sides read a file just written (node's used to
        // read the one file again and again, pass after pass: its later passes found it warmer).
        hostThroughput(host, true, f.call, f.bytes);
        baselines.push(hostThroughput(host, write, f.call, f.bytes));
      }
      const dogma = Math.max(...passes);
      const what = write
        ? `fs write, ${size} calls (${f.bytes / MIB} MiB, then sync)`
        : f.name === "read" && f.call >= MIB
          ? `fs read, ${size} calls (${f.bytes / MIB} MiB) into the client's buffer (FsClient.read: a call each)`
          : f.name === "read"
            ? `fs read, ${size} calls (${f.bytes / MIB} MiB) into the client's buffer (FsClient.read as it is: the file mapped by itself at the 4th read, no call after)`
          : f.name === "read-call"
            ? `fs read, ${size} calls (${f.bytes / MIB} MiB) into the client's buffer through the server (FsClient.read, autoMapAfter 0: a call each)`
          : f.name === "read-mapped"
            ? `fs read, ${size} calls (${f.bytes / MIB} MiB) of a mapped file into the client's buffer (FsClient.map, then read: no call)`
            : `fs read, ${size} calls (${f.bytes / MIB} MiB) left in the attached read buffer (FsClient.readView)`;
      const baseline = !write ? `node:fs, ${size} calls (readSync into a Buffer)` : f.call < MIB ? `node:fs, ${size} calls over the start of a 16 MiB file + fsync` : `node:fs, ${size} calls + fsync`;
      return result(what, dogma, "MiB/s", baseline, Math.max(...baselines));
    });
    // The page cache: random 4 KiB reads cached and not, a file read start to end with read-ahead and without.
    const cache = await runOnDisk(work, "fs-cache-bench", "8192");
    // The fastest pass of a figure printed more than once (stat, random-cached).
    const figure = (name: string) => {
      const found = cache.filter((f) => f.name === name).sort((a, b) => a.ns / a.bytes - b.ns / b.bytes)[0];
      if (!found) throw new Error(`fs-cache-bench printed no ${name}`);
      return found;
    };
    const random = figure("random-cached");
    hostThroughput(host, true, MIB, 4 * MIB);
    const hostRandom = Math.max(...[0, 1, 2].map(() => hostRandomReads(host, random.bytes / 4096, 4 * MIB)));
    results.push(result("fs random 4 KiB reads of a 4 MiB file in the page cache through the server (attached handle, a call each)", mibs(random), "MiB/s", "node:fs, the same reads (page cache)", hostRandom));
    const hostRandomMapped = Math.max(...[0, 1, 2].map(() => hostRandomReads(host, random.bytes / 4096, 4 * MIB)));
    const hostRandomAuto = Math.max(...[0, 1, 2].map(() => hostRandomReads(host, random.bytes / 4096, 4 * MIB)));
    results.push(result("fs random 4 KiB reads of a 4 MiB file in the page cache, plain handle (FsClient.read as it is: mapped by itself, no call)", mibs(figure("random-auto")), "MiB/s", "node:fs, the same reads (page cache)", hostRandomAuto));
    results.push(result("fs random 4 KiB reads of a 4 MiB file, mapped (FsClient.map: no call)", mibs(figure("random-mapped")), "MiB/s", "node:fs, the same reads (page cache)", hostRandomMapped));
    results.push(result("fs random 4 KiB reads of a 4 MiB file not cached (direct handle: the disk)", mibs(figure("random-uncached")), "MiB/s", "the same reads from the page cache", mibs(random)));
    results.push(result("fs 4 MiB read start to end in 4 KiB calls, not cached, with read-ahead", mibs(figure("sequential-read-ahead")), "MiB/s", "the same through a direct handle (no cache, no read-ahead)", mibs(figure("sequential-uncached"))));
    const stat = figure("stat");
    results.push(result("fs STAT round trip (no data: what a read adds to)", stat.ns / (stat.bytes / 4096) / 1000, "µs", "a 4 KiB read from the page cache", (random.ns / (random.bytes / 4096)) / 1000));
    return results;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

// `node bench/fs-throughput.ts` runs this one alone.
if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of await fsThroughput()) console.log(`${r.name}: ${r.value.toFixed(1)} ${r.unit} vs ${r.baseline.name} ${r.baseline.value.toFixed(1)} (ratio ${r.ratio.toFixed(3)})`);
}
