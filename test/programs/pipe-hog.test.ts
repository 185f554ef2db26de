// redteam19: a program that makes pipes and keeps them. The pipe service has 64 for everyone and
// cannot learn that a holder ended (a capability tells its server nothing), so a background
// program that made 64 (or a program killed after making them) left every pipeline in the shell
// failing ("no pipe") until the machine restarted. Pipes are made by services (the shell, for a
// pipeline's stages): "pipe" is registered for services only, and a program's lookup of it is
// E_MISSING_RIGHT; programs get pipe ends, never the service.
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
const folder = mkdtempSync(join(tmpdir(), "dogma-pipe-hog-"));
afterAll(() => rmSync(folder, { recursive: true, force: true }));
let m: BootedMachine;

beforeAll(async () => {
  const manifest = ["name pipe-hog", "version 1.0", "kind program", "cap streams", "cap registry", ""].join("\n");
  writeFileSync(join(folder, "hog.wasm"), withManifestSection(program("pipe-hog"), manifest));
  const shared = await FolderShare.open(folder);
  m = await bootShell(config, shared, { disk: new MemoryBlockBackend(16 << 20) });
}, patience(90_000));

afterAll(async () => {
  await m?.halt();
});

describe("a program hoarding pipes", () => {
  it("keeps no pipeline from its pipes", async () => {
    expect(await m.output("echo before | cat")).toContain("before");
    m.type("/host/hog.wasm &\r");
    await m.until("the hoarder's verdict", () => /pipe-hog: /.test(m.stdout()));
    expect(await m.output("echo after | cat")).toContain("after");
    expect(m.stdout()).toMatch(/pipe-hog: lookup E_MISSING_RIGHT/);
    expect(m.stderr()).not.toMatch(/no pipe/);
  });
});
