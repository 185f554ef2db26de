import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DiskImage } from "../../src/hosts/node/disk-image.ts";
import { MemoryBlockBackend } from "../../src/machine/devices/block-backend.ts";
import { ControlledBackend, bootBlockMachine, clientArea, sectorsNotHoldingPattern } from "./block-machine.ts";

const DISK_BYTES = 64 << 20;
const SECTORS_PER_AREA = 4096; // block-test-client's area: sectors pid × 4096 ...
const work = mkdtempSync(join(tmpdir(), "dogma-faults-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Fails unless `wanted` occur in `lines` in this order (other lines may come between). */
function expectInOrder(lines: string[], wanted: string[]): void {
  let at = 0;
  for (const line of lines) if (at < wanted.length && line === wanted[at]) at++;
  expect(at, `missing in order: ${JSON.stringify(wanted[at])}\n${lines.join("\n")}`).toBe(wanted.length);
}

describe("fault tolerance", () => {
  it("kills the block driver with requests in flight, twice: init restarts it, each client gets E_PEER_DEAD, looks it up again and succeeds; what was flushed is on the disk image", async () => {
    const path = join(work, "disk.img");
    const image = await DiskImage.open(path, DISK_BYTES);
    const backend = new ControlledBackend(image);
    const clients = ["c1", "c2", "c3"];
    const m = await bootBlockMachine(
      `service registry registry
driver  block    block       device=block interrupt=block memory=512
${clients.map((name) => `service ${name} block-test-client memory=128`).join("\n")}
`,
      ["registry", "block", "block-test-client"],
      backend,
    );
    const pids = await Promise.all(clients.map((name) => m.pidOf(name)));
    const owner = (offset: number) => Math.floor(offset / 512 / SECTORS_PER_AREA);
    const flushed = (pid: number) => {
      const area = clientArea(pid);
      return `block-test-client (pid ${pid}): flushed sectors ${area.first} to ${area.first + area.flushedSectors - 1}`;
    };
    // 1. Hold each client's requests from its first after its flush (decided as each comes: the
    // machine may run a client's 24 rounds between two looks of the test's), then kill the driver.
    backend.holdWhen((op) => pids.includes(owner(op.offset)) && m.lines().includes(flushed(owner(op.offset))));
    for (const pid of pids) await m.line(flushed(pid));
    const everyClientHolds = (kind?: string) => () => pids.every((pid) => backend.held.some((op) => owner(op.offset) === pid && (!kind || op.kind === kind)));
    await m.until("every client has a request in flight", everyClientHolds());
    const first = await m.pidOf("block");
    await m.kill(first);
    // What was flushed before the kill is in the file now, before anything else runs.
    const atKill = new Uint8Array(readFileSync(path));
    for (const pid of pids) {
      const area = clientArea(pid);
      expect(sectorsNotHoldingPattern(atKill, area.first, area.flushedSectors)).toEqual([]);
    }
    // The held requests reach the disk, but the device forgot them: nobody is answered twice.
    backend.open();

    // 2. Hold writes only: each client retries, reads pass, and it stops in a WRITE (which sends a
    // view of its buffer, so the buffer survives the driver). Kill the restarted driver then.
    backend.close(["write"]);
    await m.line(`init: block (pid ${first}) was killed (exit code 137); restarting in 100 ms`);
    const second = Number(/pid (\d+)/.exec(await m.line(/^init: restarted block \(pid \d+\)$/))![1]);
    await m.until("every client has a write in flight", everyClientHolds("write"));
    await m.until("the restarted driver serves", (all) => all.filter((l) => l.endsWith('serving "block"')).length === 2);
    await m.kill(second);
    backend.open();
    await m.line(`init: block (pid ${second}) was killed (exit code 137); restarting in 200 ms`);
    await m.line(/^init: restarted block \(pid \d+\)$/);

    const done = new Map<number, string>();
    for (const pid of pids) {
      done.set(pid, await m.line(new RegExp(`^block-test-client \\(pid ${pid}\\): done: 24 rounds verified and flushed; calls that met a dead driver: \\d+; buffers replaced: \\d+$`)));
    }
    const lines = m.lines();
    for (const pid of pids) {
      const mine = lines.filter((l) => l.startsWith(`block-test-client (pid ${pid}): `));
      const died = mine.filter((l) => l.endsWith(": E_PEER_DEAD; looking up block again"));
      // Its call in flight met each dead driver (a later call may have found a stale registration too).
      expect(died.length).toBeGreaterThanOrEqual(2);
      expect(died.some((l) => l.includes("): write: E_PEER_DEAD"))).toBe(true);
      expectInOrder(lines, [
        `init: block (pid ${first}) was killed (exit code 137); restarting in 100 ms`,
        died[0]!,
        `init: block (pid ${second}) was killed (exit code 137); restarting in 200 ms`,
        died.at(-1)!,
        done.get(pid)!,
      ]);
      // A READ's buffer went with the driver and was replaced; a WRITE's never is.
      const [, calls, replaced] = /dead driver: (\d+); buffers replaced: (\d+)$/.exec(done.get(pid)!)!.map(Number);
      expect(calls).toBe(died.length);
      expect(replaced).toBe(died.filter((l) => l.includes("): read: ")).length);
    }
    expect(lines.filter((l) => l.startsWith("block: ") && l.endsWith('serving "block"'))).toHaveLength(3);
    await m.halt();
    await image.close();

    // Everything every client wrote — before, between and after the kills — is in the image.
    const after = new Uint8Array(readFileSync(path));
    for (const pid of pids) {
      const area = clientArea(pid);
      expect(sectorsNotHoldingPattern(after, area.first, area.sectors)).toEqual([]);
    }
    expect(m.faults).toEqual([]);
    expect(m.stderr()).toBe("");
  });

  it("tears down a driver that stores a byte to its device registers or writes where nothing was given it, with a fault record; the kernel, the block driver and its client keep running", async () => {
    const disk = new MemoryBlockBackend(DISK_BYTES);
    const m = await bootBlockMachine(
      `service registry       registry
driver  block          block        device=block interrupt=block memory=512
driver  wild-registers wild-driver  device=timer
driver  wild-pointer   wild-driver
service c1             block-test-client memory=128
`,
      ["registry", "block", "wild-driver", "block-test-client"],
      disk,
    );
    await m.line(/^init: wild-registers \(pid \d+\) faulted: read-only at 0x[0-9a-f]+; giving up: 5 failures within 60 s$/);
    await m.line(/^init: wild-pointer \(pid \d+\) faulted: unmapped at 0xfffff000; giving up: 5 failures within 60 s$/);
    const c1 = await m.pidOf("c1");
    await m.line(`block-test-client (pid ${c1}): done: 24 rounds verified and flushed; calls that met a dead driver: 0; buffers replaced: 0`);
    await m.line(`init: c1 (pid ${c1}) exited with code 0; not restarting`);
    const log = m.lines().filter((l) => l.startsWith("init: "));
    // Each wild driver: started, then 4 times faulted and restarted with a doubling backoff, then given up on.
    for (const [name, fault] of [
      ["wild-registers", "read-only at 0x[0-9a-f]+"],
      ["wild-pointer", "unmapped at 0xfffff000"],
    ] as const) {
      const mine = log.filter((l) => l.includes(` ${name} `));
      expect(mine.map((l) => l.replace(/\(pid \d+\)/, "(pid N)").replace(/at 0x[0-9a-f]+/, "at ADDRESS"))).toEqual([
        `init: started ${name} (pid N)`,
        ...[100, 200, 400, 800].flatMap((ms) => [`init: ${name} (pid N) faulted: ${fault.startsWith("read") ? "read-only" : "unmapped"} at ADDRESS; restarting in ${ms} ms`, `init: restarted ${name} (pid N)`]),
        `init: ${name} (pid N) faulted: ${fault.startsWith("read") ? "read-only" : "unmapped"} at ADDRESS; giving up: 5 failures within 60 s`,
      ]);
      expect(mine.filter((l) => l.includes("faulted")).every((l) => new RegExp(`faulted: ${fault};`).test(l))).toBe(true);
    }
    // One fault record per attempt, naming the kind, the address and what the kernel refused.
    expect(m.faults.filter((f) => /^wild-driver \(pid \d+\): read-only at 0x[0-9a-f]+ in ~start: device registers take aligned 32-bit integer stores only$/.test(f))).toHaveLength(5);
    expect(m.faults.filter((f) => /^wild-driver \(pid \d+\): unmapped at 0xfffff000 in ~start: nothing is mapped at this global address$/.test(f))).toHaveLength(5);
    expect(m.faults).toHaveLength(10);
    expect(m.lines()).not.toContain("wild-driver: FAILED: still running after the wild store");
    // The block driver never ended, and still serves: its client finished, every round verified.
    expect(log.filter((l) => l.includes(" block "))).toEqual(["init: started block (pid 3)"]);
    expect(m.alive().sort()).toEqual(["block", "init", "registry"]);
    const area = clientArea(c1);
    expect(sectorsNotHoldingPattern(disk.bytes, area.first, area.sectors)).toEqual([]);
    await m.halt();
  });
});
