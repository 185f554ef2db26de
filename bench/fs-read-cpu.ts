// A cached 4 KiB read's cost in CPU time (issue 18): one machine running fs-cache-bench's `cpu`
// mode — phases of READS random 4 KiB reads of a file the page cache holds, through an attached
// handle (`read` through the server, `readView`), of a plain handle FsClient.read mapped by itself
// (`read-auto`: no call), and STATs — and this thread's CPU time around each phase (the whole
// system runs on it: client, kernel, server), beside node:fs `readSync` of 4 KiB measured the
// same way in the same run. The least of five phases each. On a machine shared with other work
// the clock counts what others take; this thread's CPU time does not (cache effects aside).
//   node bench/fs-read-cpu.ts [READS]     (FSMODE=cpu-read: every phase `read`, for a profile of it)
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DiskImage } from "../src/hosts/node/disk-image.ts";
import { BlockDevice } from "../src/machine/devices/block.ts";
import { DeviceLine } from "../src/machine/devices/standard-devices.ts";
import { bootMachine, testTimer } from "../test/helpers/booted-machine.ts";

const reads = Number(process.argv[2] ?? 100_000);
const cpuUs = () => {
  const u = process.threadCpuUsage();
  return u.user + u.system;
};
const work = mkdtempSync(join(tmpdir(), "dogma-fs-read-cpu-"));
const image = await DiskImage.open(join(work, "p.img"), 64 << 20);
try {
  const m = await bootMachine(
    `service registry registry
driver  block    block     device=block interrupt=block memory=512
service fs       fs        memory=16384 publish=fs ${process.env.FSLINE ?? "kernel-info"}
service bench    fs-cache-bench  use=fs memory=512 -- ${reads} ${process.env.FSMODE ?? "cpu"}
`,
    ["registry", "block", "fs", "fs-cache-bench"],
    { devices: (t) => [new BlockDevice(DeviceLine.BLOCK, t.machine.interrupts, image), testTimer(t)], memory: 128 << 20 },
  );
  const least = new Map<string, number>();
  const count = (text: string) => m.lines().filter((l) => l.startsWith(text)).length;
  for (let phase = 1; phase <= 20; phase++) {
    await m.until(`phase ${phase}`, () => count("fs-cache-bench: phase ") >= phase || /E_/.test(m.stderr()));
    const name = m.lines().filter((l) => l.startsWith("fs-cache-bench: phase "))[phase - 1]!.split(" ")[2]!;
    const start = cpuUs();
    await m.until(`phase-end ${phase}`, () => count("fs-cache-bench: phase-end") >= phase || /E_/.test(m.stderr()));
    const us = (cpuUs() - start) / reads;
    least.set(name, Math.min(least.get(name) ?? Infinity, us));
  }
  await m.until("done", (lines) => lines.includes("fs-cache-bench: done"));
  await m.halt();
  // node:fs beside it: readSync of 4 KiB at the same kind of random offsets of a 4 MiB file.
  const host = join(work, "host.dat");
  writeFileSync(host, Buffer.alloc(4 << 20, 7));
  const fd = openSync(host, "r");
  const buffer = Buffer.alloc(4096);
  let hostLeast = Infinity;
  let seed = 12345;
  for (let pass = 0; pass < 5; pass++) {
    const start = cpuUs();
    for (let i = 0; i < reads; i++) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      readSync(fd, buffer, 0, 4096, ((seed >>> 8) % 1024) * 4096);
    }
    hostLeast = Math.min(hostLeast, (cpuUs() - start) / reads);
  }
  closeSync(fd);
  console.log(
    [...least].map(([name, us]) => `${name} ${us.toFixed(2)}`).join("  "),
    ` µs CPU a call (least of 5); node:fs readSync 4 KiB ${hostLeast.toFixed(2)} µs CPU (ratio: read through the server ${(hostLeast / least.get("read")!).toFixed(2)}, read-auto ${(hostLeast / (least.get("read-auto") ?? NaN)).toFixed(2)})`,
  );
} finally {
  await image.close();
  rmSync(work, { recursive: true, force: true });
}
