// Quotas and starvation end to end (redteam18): hostile programs run from a live shell, as a user
// would run them from /host, and what the system around them still does.
// - A spawn bomb: a program that starts spinning processes straight through the kernel in its
//   job's Memory until the quota refuses (user/services/spawn-bomb.ts). They ran at the services'
//   priority, and beside 294 of them the console driver, the file system and the shell, whose waits
//   are short (so they woke at the back of the queue), never got the CPU: the shell did not answer
//   `echo` in 45 s. Jobs now run a level below procman (user/services/procman.ts JOB_PRIORITY).
// - Running a program from a file left the shell holding the Region the binary was read into:
//   charged to the shell once the job's Memory went, one per run, until its quota or its table
//   was full (user/programs/shell-parts/binaries.ts, FsClient.drop).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FolderShare } from "../../src/hosts/node/folder-share.ts";
import { FRAME_OBJECT } from "../../src/kernel/caps/shared-frames.ts";
import { ObjectKind } from "../../src/kernel/caps/object-abi.ts";
import { checkInvariants } from "../../src/kernel/invariants.ts";
import { type BootedMachine, bootShell } from "../helpers/booted-machine.ts";
import { patience } from "../helpers/patience.ts";
import { program } from "../helpers/programs.ts";

const config = readFileSync(join(import.meta.dirname, "../../user/boot/init.conf"), "utf8");
const folder = mkdtempSync(join(tmpdir(), "dogma-hostile-user-"));
afterAll(() => rmSync(folder, { recursive: true, force: true }));
let m: BootedMachine;

beforeAll(async () => {
  writeFileSync(join(folder, "bomb.wasm"), program("spawn-bomb"));
  writeFileSync(join(folder, "hello.wasm"), program("hello"));
  // The default 32 MiB: the bomb's processes' fixed kernel frames (each a 16-frame TLB: the spinner
  // declares no maximum memory) cannot be evicted, and stop at the kernel's limit for such frames
  // (test/kernel/wired-limit), so the console driver and the shell still find frames for their pages.
  m = await bootShell(config, await FolderShare.open(folder));
}, patience(90_000));

afterAll(async () => {
  await m?.halt();
});

/** Frames of kernel objects (Pages, Regions), and frames owned by processes no longer alive. */
function frameCensus(): { objects: number; ofTheDead: number } {
  const alive = new Set(m.kernel.stuck().map((p) => p.pid));
  const frames = m.kernel.frames;
  let objects = 0;
  let ofTheDead = 0;
  for (let frame = 0; frame < frames.frameCount; frame++) {
    if (!frames.isUsed(frame)) continue;
    const owner = frames.owner(frame);
    if (owner === FRAME_OBJECT) objects++;
    else if (owner > 0 && !alive.has(owner)) ofTheDead++;
  }
  return { objects, ofTheDead };
}

/** The Region capabilities in the shell's table. */
function shellRegions(): number {
  const shell = m.kernel.stuck().find((p) => p.image.name === "shell")!;
  let regions = 0;
  for (const [, cap] of shell.caps.entries()) if (cap.object.kind === ObjectKind.REGION) regions++;
  return regions;
}

describe("a program run from a file", () => {
  it("leaves the shell no Region of its binary: the job's Memory takes it all", async () => {
    await m.output("/host/hello.wasm");
    const regions = shellRegions();
    for (let run = 0; run < 3; run++) expect(await m.output("/host/hello.wasm")).toMatch(/hello from dogma/);
    expect(shellRegions()).toBe(regions);
    expect(checkInvariants(m.kernel)).toEqual([]);
  }, patience(120_000));
});

describe("a spawn bomb run from the shell", () => {
  it("is refused by its job's quota, leaves the shell and its programs answering, and gives everything back when killed", async () => {
    expect(await m.output("echo before")).toContain("before");
    const live = m.alive().length;
    const before = frameCensus();
    m.type("/host/bomb.wasm &\r");
    await m.until("the bomb's count", () => /spawn-bomb: \d+ spinners, then \S+/.test(m.stdout()));
    const said = /spawn-bomb: \d+ spinners, then \S+/.exec(m.stdout())![0];
    // A clear refusal, after hundreds (the job's 16384 pages: each process's fixed frames, and the Image).
    expect(said).toMatch(/^spawn-bomb: [1-9]\d{2,} spinners, then E_QUOTA$/);
    expect(m.alive().filter((name) => name === "spinner").length).toBeGreaterThan(100);
    // The shell answers, and so do the services beside it (the console, the fs through cd). A
    // program it starts now shares the CPU with the spinners, at their level (seconds here: not
    // waited for, so that a loaded machine cannot fail this).
    expect(await m.output("echo alive")).toMatch(/^alive\r?\n$/);
    expect(await m.output("cd /etc; pwd; cd /")).toMatch(/^\/etc\r?\n$/);
    expect(await m.output("kill %1")).toMatch(/done \(137\)/);
    await m.until("every spinner gone", () => m.alive().length === live);
    const after = frameCensus();
    expect(after.ofTheDead).toBe(0);
    // Not equal: the caches beside it (the fs's page cache) may have given some back meanwhile.
    expect(after.objects).toBeLessThanOrEqual(before.objects);
    expect(checkInvariants(m.kernel)).toEqual([]);
    // Only the bomb's own: its last spinners found the job's quota spent at their first page.
    expect(m.faults.filter((fault) => !fault.startsWith("spinner "))).toEqual([]);
  }, patience(300_000));
});
