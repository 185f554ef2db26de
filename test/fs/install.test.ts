import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { program } from "../helpers/programs.ts";
import { FSCK_LINES, bootOnDisk, verdict } from "./fs-machine.ts";
import { patience } from "../helpers/patience.ts";

const work = mkdtempSync(join(tmpdir(), "dogma-fs-install-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const root = join(import.meta.dirname, "../..");

/**
 * Boots `dogma boot --disk` with every built program as a boot module (a megabyte to install) and
 * SIGKILLs the host as soon as the file system says it formatted the disk, so within the install:
 * whether the kill came before the install said it was done.
 */
async function killDuringInstall(disk: string, config: string): Promise<{ interrupted: boolean; out: string }> {
  const child = spawn(process.execPath, [join(root, "bin/dogma.js"), "boot", "--disk", disk, "--config", config], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const ended = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  child.stdout.on("data", (d: Buffer) => {
    out += d.toString();
    if (out.includes("fs: formatted the disk")) child.kill("SIGKILL");
  });
  const give = setTimeout(() => child.kill("SIGKILL"), patience(60_000));
  await ended;
  clearTimeout(give);
  return { interrupted: out.includes("fs: formatted the disk") && !out.includes("fs: installed"), out };
}

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

  it("a host killed during the install: fsck says the install has not finished, and the next boot finishes it (what the cut install left is replaced)", async () => {
    const config = join(work, "many.conf");
    const programs = readdirSync(join(root, "build/user")).filter((f) => f.endsWith(".wasm")).map((f) => f.slice(0, -5));
    const extra = programs.filter((n) => !["init", "registry", "block", "fs"].includes(n));
    writeFileSync(config, `service registry registry
driver  block    block     device=block interrupt=block memory=512
service fs       fs        memory=2048 publish=fs boot-modules
${extra.map((n) => `module ${n}`).join("\n")}
`);
    // The install takes tens of milliseconds: a kill that came too late is tried again on a new
    // disk. Too late is what the disk says (fsck), not the console: the install may have committed
    // in the moment before its line would have reached the output.
    let disk = "";
    let tries = "";
    for (let attempt = 0; attempt < 8 && disk === ""; attempt++) {
      const candidate = join(work, `killed-${attempt}.img`);
      const run = await killDuringInstall(candidate, config);
      tries += `attempt ${attempt}:\n${run.out}\n`;
      if (!run.interrupted) continue;
      const f = await bootOnDisk(candidate, FSCK_LINES, ["fsck"]);
      try {
        await f.until("fsck's verdict", (lines) => lines.some((l) => /^fsck: (clean: .*|\d+ problems?)$/.test(l)));
        tries += f.lines().join("\n") + "\n";
        if (!f.lines().includes("fsck: the first-boot install has not finished: /bin and /etc may lack files (the file system server finishes it at its next start with the boot modules)")) continue;
        expect(f.lines().filter((l) => l.startsWith("fsck: ")).at(-1)).toMatch(/^fsck: \d+ problems?$/);
        disk = candidate;
      } finally {
        await f.close();
      }
    }
    expect(disk, `no kill landed within the install\n${tries}`).not.toBe("");
    const modules = ["fs", "fs-install-check"];
    const bootConfig = `service registry registry
driver  block    block     device=block interrupt=block memory=512
service fs       fs        memory=2048 publish=fs boot-modules
service ls       fs-install-check use=fs memory=512
`;
    const m = await bootOnDisk(disk, bootConfig, modules);
    try {
      expect(m.lines().some((l) => l.startsWith("fs: formatted"))).toBe(false);
      await m.line("fs: installed 4 boot modules in /bin and the config as /etc/init.conf");
      await verdict(m, /^fs-install-check: done$/, /FAIL/);
      const bin = m.lines().filter((l) => l.startsWith("fs-install-check: /bin/")).sort();
      const want = ["registry", "block", ...modules].map((name) => {
        const bytes = program(name);
        return `fs-install-check: /bin/${name} ${bytes.length} ${fnv1a(bytes)}`;
      });
      expect(bin).toEqual(want.sort());
    } finally {
      await m.close();
    }
    const again = await bootOnDisk(disk, FSCK_LINES, ["fsck"]);
    try {
      await verdict(again, /^fsck: clean: /, /^fsck: \d+ problems?$/);
    } finally {
      await again.close();
    }
  }, patience(240_000));
});
