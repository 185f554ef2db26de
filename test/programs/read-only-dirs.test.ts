// What a program that only reads gets of the file system (redteam11): a manifest that says `cap
// cwd read` and `cap root read` gets its working directory and the root with the read right alone
// (docs/MANIFESTS.md "Running a program from the shell"); before, every program that asked for
// them held the shell's with every right, so that `cat` could have unlinked every file. The same
// binary (touch, rm) with a manifest that asks for them whole still writes.
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
const folder = mkdtempSync(join(tmpdir(), "dogma-read-only-"));
afterAll(() => rmSync(folder, { recursive: true, force: true }));
let m: BootedMachine;

const manifest = (name: string, read: boolean) =>
  [`name ${name}`, "version 1.0", "kind program", "cap streams", "cap job-memory", `cap cwd${read ? " read" : ""}`, `cap root${read ? " read" : ""}`, ""].join("\n");

beforeAll(async () => {
  for (const tool of ["touch", "rm"]) {
    writeFileSync(join(folder, `${tool}-ro.wasm`), withManifestSection(program(tool), manifest(tool, true)));
    writeFileSync(join(folder, `${tool}-rw.wasm`), withManifestSection(program(tool), manifest(tool, false)));
  }
  m = await bootShell(config, await FolderShare.open(folder), { disk: new MemoryBlockBackend(16 << 20) });
}, patience(90_000));

afterAll(async () => {
  await m?.halt();
});

describe("a program whose manifest asks for its directories read-only", () => {
  it("cannot create or remove a file through them, and the same binary asking for them whole can", async () => {
    await m.output("echo kept > /kept.txt");
    // Each fails (status 1, its complaint on the error stream) and changes nothing.
    expect(await m.command("/host/touch-ro.wasm /made.txt made-here.txt")).toMatch(/\[1\]\$ $/);
    expect(await m.command("/host/rm-ro.wasm /kept.txt")).toMatch(/\[1\]\$ $/);
    expect(await m.output("ls /")).toContain("kept.txt");
    expect(await m.output("ls /")).not.toContain("made.txt");
    expect(await m.output("cat /kept.txt")).toContain("kept");
    await m.output("/host/touch-rw.wasm /made.txt");
    expect(await m.output("ls /")).toContain("made.txt");
    await m.output("/host/rm-rw.wasm /kept.txt");
    expect(await m.output("ls /")).not.toContain("kept.txt");
  }, patience(60_000));
});
