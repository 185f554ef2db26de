// The 1 MiB read path alone (issue 18): one machine running fs-bench's `reads` mode — a 16 MiB
// file written once, then ROUNDS rounds of 1 MiB reads through FsClient.read, readView and a map —
// (ROUNDS, then "reads-cached" for reads from the page cache with no map: fs-throughput's case)
// and prints each figure's least µs per MiB beside node:fs's readSync of the same file in the same
// run, and what the FS_MAP call that made the map cost. Run it under `node --cpu-prof --cpu-prof-dir=DIR bench/fs-read-profile.ts [ROUNDS]` for a
// profile of where a big read's time goes.
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DiskImage } from "../src/hosts/node/disk-image.ts";
import { BlockDevice } from "../src/machine/devices/block.ts";
import { DeviceLine } from "../src/machine/devices/standard-devices.ts";
import { bootMachine, testTimer } from "../test/helpers/booted-machine.ts";
import { now } from "./harness.ts";

const rounds = Number(process.argv[2] ?? 50);
// "reads": the file is also mapped, and read and readView come from its map; "reads-cached": no
// map, they come from the page cache (as fs-throughput's rows do).
const mode = process.argv[3] ?? "reads";
const MIB = 1 << 20;
const work = mkdtempSync(join(tmpdir(), "dogma-fs-read-profile-"));
const image = await DiskImage.open(join(work, "p.img"), 64 << 20);
try {
  const m = await bootMachine(
    `service registry registry
driver  block    block     device=block interrupt=block memory=512
service fs       fs        memory=16384 publish=fs kernel-info
service bench    fs-bench  use=fs memory=512 -- ${rounds} ${mode}
`,
    ["registry", "block", "fs", "fs-bench"],
    { devices: (t) => [new BlockDevice(DeviceLine.BLOCK, t.machine.interrupts, image), testTimer(t)], memory: 128 << 20 },
  );
  await m.until("done", (lines) => lines.includes("fs-bench: done") || /E_/.test(m.stderr()));
  await m.halt();
  // What making the map of the 16 MiB file cost (FS_MAP: the Region made, the cached pages copied in).
  const map = m.lines().map((line) => /map-call (\d+) in 1 calls: (\d+) ns/.exec(line)).find((match) => match);
  if (map) console.log(`FS_MAP of a ${Number(map[1]) / MIB} MiB map: ${(Number(map[2]) / 1e6).toFixed(1)} ms`);
  const least = new Map<string, number>();
  for (const line of m.lines()) {
    const match = /^fs-bench: (?:warm-up )?(read\S*) (\d+) in (\d+) calls: (\d+) ns/.exec(line);
    if (!match) continue;
    const us = Number(match[4]) / (Number(match[2]) / MIB) / 1000;
    least.set(match[1]!, Math.min(least.get(match[1]!) ?? Infinity, us));
  }
  // node:fs beside it: readSync of a 16 MiB file in 1 MiB calls, the least of as many passes.
  const host = join(work, "host.dat");
  writeFileSync(host, Buffer.alloc(16 * MIB, 7));
  const fd = openSync(host, "r");
  const buffer = Buffer.alloc(MIB);
  let hostLeast = Infinity;
  for (let r = 0; r < rounds; r++) {
    const start = now();
    for (let at = 0; at < 16 * MIB; at += MIB) readSync(fd, buffer, 0, MIB, at);
    hostLeast = Math.min(hostLeast, ((now() - start) * 1000) / 16);
  }
  closeSync(fd);
  console.log([...least].map(([name, us]) => `${name} ${us.toFixed(1)} (ratio ${(hostLeast / us).toFixed(2)})`).join("  "), ` node:fs readSync ${hostLeast.toFixed(1)} µs per MiB (least)`);
} finally {
  await image.close();
  rmSync(work, { recursive: true, force: true });
}
