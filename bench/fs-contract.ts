// The file system's round trip with contract FileSystem checked and without, in the same run: the
// cached path of fs-cache-bench (`cached-only`: random 4 KiB reads, STATs, reads through an attached
// handle, writes) on machines booted alternately as they are and with the kernel not taking contract
// FileSystem (RECEIVER_SET_CONTRACT answers the file system as ever, but its Receiver is left plain;
// the other contracts stay). Each figure is the least µs a call over every pass of its kind; the
// ratio is what the checks cost a call.
//   node bench/fs-contract.ts [READS] [MACHINES]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Receiver } from "../src/kernel/caps/receiver.ts";
import { DiskImage } from "../src/hosts/node/disk-image.ts";
import { BlockDevice } from "../src/machine/devices/block.ts";
import { DeviceLine } from "../src/machine/devices/standard-devices.ts";
import { bootMachine, testTimer } from "../test/helpers/booted-machine.ts";
import { result, type Section } from "./harness.ts";

const takeContract = Receiver.prototype.setContract;

/** Runs fs-cache-bench's cached path on a new machine; the least µs a call of each figure. */
async function pass(work: string, reads: number, contracts: boolean, index: number): Promise<Map<string, number>> {
  Receiver.prototype.setContract = contracts ? takeContract : function (this: Receiver, contract) {
    if (contract.name !== "FileSystem") takeContract.call(this, contract);
  };
  const image = await DiskImage.open(join(work, `m${index}.img`), 64 << 20);
  try {
    const m = await bootMachine(
      `service registry registry
driver  block    block     device=block interrupt=block memory=512
service fs       fs        memory=16384 publish=fs kernel-info
service bench    fs-cache-bench  use=fs memory=512 -- ${reads} cached-only
`,
      ["registry", "block", "fs", "fs-cache-bench"],
      { devices: (t) => [new BlockDevice(DeviceLine.BLOCK, t.machine.interrupts, image), testTimer(t)], memory: 128 << 20 },
    );
    await m.until("done", (lines) => lines.includes("fs-cache-bench: done") || /E_/.test(m.stderr()));
    const fsContracted = [...m.kernel.processes.values()].some((p) => p.alive && [...p.caps.entries()].some(([, cap]) => cap.object instanceof Receiver && cap.object.contract?.name === "FileSystem"));
    if (fsContracted !== contracts) throw new Error(`bench bug: the file system's Receiver ${fsContracted ? "has" : "has no"} contract`);
    await m.halt();
    const least = new Map<string, number>();
    for (const line of m.lines()) {
      const match = /fs-cache-bench: (\S+) (\d+) in (\d+) calls: (\d+) ns/.exec(line);
      if (!match) continue;
      const us = Number(match[4]) / (Number(match[2]) / 4096) / 1000;
      least.set(match[1]!, Math.min(least.get(match[1]!) ?? Infinity, us));
    }
    return least;
  } finally {
    Receiver.prototype.setContract = takeContract;
    await image.close();
  }
}

export async function fsContract(reads = 20_000, machines = 2): Promise<Section> {
  const work = mkdtempSync(join(tmpdir(), "dogma-fs-contract-"));
  const best = { on: new Map<string, number>(), off: new Map<string, number>() };
  try {
    for (let i = 0; i < 2 * machines; i++) {
      const on = i % 2 === 1;
      const got = await pass(work, reads, on, i);
      const into = on ? best.on : best.off;
      for (const [name, us] of got) into.set(name, Math.min(into.get(name) ?? Infinity, us));
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const figures = [...best.on.keys()].filter((name) => best.off.has(name));
  return {
    title: `File system round trips with contract FileSystem checked (least µs a call of ${machines} machines each, alternating)`,
    results: figures.map((name) => result(`fs ${name}, contract on`, best.on.get(name)!, "µs", `the same, contract off`, best.off.get(name)!)),
    notes: ["Contract off: the kernel does not take contract FileSystem (RECEIVER_SET_CONTRACT is answered, the file system's Receiver stays plain). Ratio: what the checks cost a call."],
  };
}

if (import.meta.main) {
  const section = await fsContract(Number(process.argv[2] ?? 20_000), Number(process.argv[3] ?? 2));
  console.log(section.title);
  for (const r of section.results) console.log(`${r.name.padEnd(40)} ${r.value.toFixed(2)} ${r.unit}  off ${r.baseline.value.toFixed(2)}  ratio ${r.ratio.toFixed(3)}`);
}
