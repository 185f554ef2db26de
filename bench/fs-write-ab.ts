// Two or more builds of the file system server side by side on the write path: machines running
// fs-write-bench (16 MiB in 1 MiB calls + SYNC, 4 MiB in 4 KiB calls + SYNC, per round), one per
// build in turn, the order reversed every set, in one process. For each build and pass: the
// machine's thread's CPU per pass (read when the pass's clock line reaches the console, which the
// guest writes synchronously: no lag), the rate (median and best) and the SYNC's time. On a
// machine shared with other work the rates swing with the load; the CPU per pass holds far better.
//
//   node bench/fs-write-ab.ts SETS ROUNDS SERVER...
//
// Each SERVER names a build in build/user: `fs` is the tree's; save an older one first, e.g.
// `cp build/user/fs.wasm build/user/fs-old.wasm` before the change, then `... 6 21 fs-old fs`.
// SERVER/DRIVER names a block driver's build too (`fs-old/block-old`): else the tree's `block`.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DiskImage } from "../src/hosts/node/disk-image.ts";
import { BlockDevice } from "../src/machine/devices/block.ts";
import { DeviceLine } from "../src/machine/devices/standard-devices.ts";
import { bootMachine, testTimer } from "../test/helpers/booted-machine.ts";

const MIB = 1 << 20;
// ROUNDS may say `81:small`: fs-write-bench's `small` mode (the 4 KiB pass alone, repeated).
const [sets, rounds, ...servers] = [Number(process.argv[2] ?? 4), (process.argv[3] ?? "11").replace(":", " "), ...process.argv.slice(4)];
if (servers.length === 0) servers.push("fs");

interface Figures {
  cpuMs: number[];
  mibs: number[];
  syncMs: number[];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const threadCpuMs = () => {
  const used = process.threadCpuUsage();
  return (used.user + used.system) / 1000;
};

const figures = new Map<string, Figures>();
const figuresOf = (key: string) => figures.get(key) ?? figures.set(key, { cpuMs: [], mibs: [], syncMs: [] }).get(key)!;

/** One machine of `server` on a new disk image: every pass's figures, warm-up left out. */
async function machine(work: string, build: string, n: number): Promise<void> {
  const [server, driver = "block"] = build.split("/") as [string, string?];
  const image = await DiskImage.open(join(work, `${server}-${driver}-${n}.img`), 64 << 20);
  try {
    const m = await bootMachine(
      `service registry registry
driver  block    ${driver}     device=block interrupt=block memory=512
service fs       ${server}  memory=16384 publish=fs kernel-info
service bench    fs-write-bench  use=fs memory=512 -- ${rounds}
`,
      ["registry", driver, server, "fs-write-bench"],
      {
        devices: (t) => {
          // A pass's CPU: from the clock line of the one before to its own (the 1 MiB pass's also
          // holds the round's close, open and the truncate's SYNC, the same for every build).
          const uart = t.machine.console;
          const write = uart.write.bind(uart);
          let last = 0;
          let pass: { key: string; mibs: number } | null = null;
          let syncMs = 0;
          uart.write = (stream, bytes) => {
            const text = Buffer.from(bytes).toString();
            const passLine = /fs-write-bench: (warm-up )?write (\d+) in (\d+) calls: (\d+) ns/.exec(text);
            if (passLine) pass = passLine[1] ? null : { key: `${build} ${Number(passLine[3]) >= MIB ? "1 MiB" : "4 KiB"}`, mibs: Number(passLine[2]) / MIB / (Number(passLine[4]) / 1e9) };
            const syncLine = /fs-write-bench: of which the sync (\d+) ns/.exec(text);
            if (syncLine) syncMs = Number(syncLine[1]) / 1e6;
            if (text.includes("fs-write-bench: clock")) {
              const now = threadCpuMs();
              if (pass && last > 0) {
                const f = figuresOf(pass.key);
                f.cpuMs.push(now - last);
                f.mibs.push(pass.mibs);
                f.syncMs.push(syncMs);
              }
              last = now;
            }
            return write(stream, bytes);
          };
          return [new BlockDevice(DeviceLine.BLOCK, t.machine.interrupts, image), testTimer(t)];
        },
        memory: 128 << 20,
      },
    );
    await m.until("fs-write-bench is done", (lines) => lines.includes("fs-write-bench: done") || /E_/.test(m.stderr()));
    await m.halt();
  } finally {
    await image.close();
  }
}

const work = mkdtempSync(join(tmpdir(), "dogma-fs-write-ab-"));
try {
  for (let set = 0; set < sets; set++) {
    for (const server of set % 2 ? [...servers].reverse() : servers) await machine(work, server, set);
  }
  for (const [key, f] of [...figures].sort(([a], [b]) => (a < b ? -1 : 1))) {
    console.log(
      `${key} calls + SYNC: machine-thread CPU per pass median ${median(f.cpuMs).toFixed(2)} ms; ` +
        `${median(f.mibs).toFixed(0)} MiB/s median, best ${Math.max(...f.mibs).toFixed(0)}; SYNC median ${median(f.syncMs).toFixed(1)} ms (${f.cpuMs.length} passes)`,
    );
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
