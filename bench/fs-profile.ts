// The cached path alone (docs/FS.md "Where a cached read's time goes"): one machine running
// fs-cache-bench's profile mode (`cached-only`) on a file the page cache holds — READS random 4 KiB
// reads, STATs and writes, the file start to end, 1 MiB reads, five times over — and prints each
// figure's least µs a call of the five. Run it under `node --cpu-prof --cpu-prof-dir=DIR
// bench/fs-profile.ts [READS]` for a profile; FSLINE replaces the server's `kernel-info` grant.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DiskImage } from "../src/hosts/node/disk-image.ts";
import { BlockDevice } from "../src/machine/devices/block.ts";
import { DeviceLine } from "../src/machine/devices/standard-devices.ts";
import { bootMachine, testTimer } from "../test/helpers/booted-machine.ts";

const reads = Number(process.argv[2] ?? 200_000);
const work = mkdtempSync(join(tmpdir(), "dogma-fs-profile-"));
const image = await DiskImage.open(join(work, "p.img"), 64 << 20);
try {
  const m = await bootMachine(
    `service registry registry
driver  block    block     device=block interrupt=block memory=512
service fs       fs        memory=16384 publish=fs ${process.env.FSLINE ?? "kernel-info"}
service bench    fs-cache-bench  use=fs memory=512 -- ${reads} cached-only
`,
    ["registry", "block", "fs", "fs-cache-bench"],
    { devices: (t) => [new BlockDevice(DeviceLine.BLOCK, t.machine.interrupts, image), testTimer(t)], memory: 128 << 20 },
  );
  await m.until("done", (lines) => lines.includes("fs-cache-bench: done") || /E_/.test(m.stderr()));
  await m.halt();
  // The least µs a call of each figure's runs: the one least disturbed by the machine's other work.
  const least = new Map<string, number>();
  for (const line of m.lines()) {
    const match = /fs-cache-bench: (\S+) (\d+) in (\d+) calls: (\d+) ns/.exec(line);
    if (!match) continue;
    const us = Number(match[4]) / (Number(match[2]) / 4096) / 1000;
    least.set(match[1]!, Math.min(least.get(match[1]!) ?? Infinity, us));
  }
  console.log([...least].map(([name, us]) => `${name} ${us.toFixed(2)}`).join("  "), "µs a call (least)");
} finally {
  await image.close();
  rmSync(work, { recursive: true, force: true });
}
