import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { program } from "../helpers/programs.ts";
import { bootOnDisk, verdict } from "./fs-machine.ts";
import { patience } from "../helpers/patience.ts";

const work = mkdtempSync(join(tmpdir(), "dogma-fs-install-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function fnv1a(bytes: Uint8Array): number {
  let hash = 0x811c9dc5;
  for (const b of bytes) hash = Math.imul(hash ^ b, 16777619) >>> 0;
  return hash;
}

describe("first boot", () => {
  it("installs every boot module as /bin/NAME (the very bytes, mapped with IMAGE_MAP) and the config as /etc/init.conf", async () => {
    const config = `service registry registry
driver  block    block     device=block interrupt=block memory=512
service fs       fs        memory=2048 publish=fs boot-modules
service ls       fs-install-check use=fs memory=512
`;
    const modules = ["fs", "fs-install-check"];
    const m = await bootOnDisk(join(work, "install.img"), config, modules);
    try {
      await m.line("fs: installed 4 boot modules in /bin and the config as /etc/init.conf");
      await verdict(m, /^fs-install-check: done$/, /FAIL/);
      const bin = m.lines().filter((l) => l.startsWith("fs-install-check: /bin/")).sort();
      const want = ["registry", "block", ...modules].map((name) => {
        const bytes = program(name);
        return `fs-install-check: /bin/${name} ${bytes.length} ${fnv1a(bytes)}`;
      });
      expect(bin).toEqual(want.sort());
      const etc = m.lines().filter((l) => l.startsWith("fs-install-check: etc: ")).map((l) => l.slice("fs-install-check: etc: ".length));
      expect(etc).toEqual(config.trim().split("\n"));
    } finally {
      await m.close();
    }
  }, patience(120_000));
});
