// A program that copies the contract endpoints it looked up until the kernel refuses. Each copy of
// an endpoint used to take slots of its service's queue, and past the queue the kernel refused to
// mint or copy any: a background program holding its streams only copied "program-log" and
// "pipe" until then, and from then on every pipeline in the shell failed ("no pipe: the pipe
// service does not answer"), dmesg and logger found no log, for every user. Reservations are now
// beyond the queue's capacity (src/kernel/caps/receiver.ts): the copies cost their holder.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withManifestSection } from "../../src/boot/manifest.ts";
import { FolderShare } from "../../src/hosts/node/folder-share.ts";
import { MemoryBlockBackend } from "../../src/machine/devices/block-backend.ts";
import { type BootedMachine, bootShell } from "../helpers/booted-machine.ts";
import { patience } from "../helpers/patience.ts";
import { program } from "../helpers/programs.ts";

const config = readFileSync(join(import.meta.dirname, "../../user/boot/init.conf"), "utf8");
const folder = mkdtempSync(join(tmpdir(), "dogma-hog-"));
afterAll(() => rmSync(folder, { recursive: true, force: true }));
let m: BootedMachine;

beforeAll(async () => {
  // Its streams and the registry (what a program without a manifest gets too): the least it needs to look the services up.
  const manifest = ["name endpoint-hog", "version 1.0", "kind program", "cap streams", "cap registry", ""].join("\n");
  writeFileSync(join(folder, "hog.wasm"), withManifestSection(program("endpoint-hog"), manifest));
  const shared = await FolderShare.open(folder);
  m = await bootShell(config, shared, { disk: new MemoryBlockBackend(16 << 20) });
}, patience(90_000));

afterAll(async () => {
  await m?.halt();
});

describe("a program hoarding endpoints", () => {
  it("keeps no one from a pipe or the log", async () => {
    expect(await m.output("echo before | cat")).toContain("before");
    m.type("/host/hog.wasm log pipe &\r");
    await m.until("the hoarder's copies", () => /endpoint-hog: pipe: /.test(m.stdout()));
    expect(await m.output("echo after | cat")).toContain("after");
    expect(await m.output("logger hoarded-but-here; dmesg | grep hoarded")).toContain("user: hoarded-but-here");
    // Its own table filled (E_QUOTA), not the services' queues (before: E_QUEUE_FULL after 100 or so).
    expect(m.stdout()).toMatch(/endpoint-hog: log: \d{3,} copies, then E_QUOTA/);
    expect(m.stderr()).not.toMatch(/no pipe|queue is full/);
  });
});
