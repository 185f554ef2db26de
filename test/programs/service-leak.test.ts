/**
 * A shell session that goes on for good must not wear the services down: after a warm-up, 15 more
 * rounds of the same commands (programs from /bin and from the disk, pipes, redirection, a failing
 * command, a WASI program) leave every service with the capabilities it had, and the shell, the
 * process manager and the pipe server with the pages they had. (The shell once kept a binary's
 * Region per program run from a file; each such leak fills a 1024-slot table or a quota in the
 * end.) The warm-up fills the shell's history (200 lines); the file system's cache and the console
 * driver's heap may still grow a page now and then, so their pages are not compared.
 */
import { describe, expect, it } from "vitest";
import type { Kernel } from "../../src/kernel/kernel.ts";
import { MemoryBlockBackend } from "../../src/machine/devices/block-backend.ts";
import { bootMachine, diskShellConfig, diskShellDevices } from "../helpers/booted-machine.ts";

const PROGRAMS = ["echo", "cat", "ls", "cp", "rm", "wasi-files"];
const { config: CONFIG, modules: MODULES } = diskShellConfig(PROGRAMS);
const PAGES_COMPARED = ["shell", "procman", "pipe"];
const ROUND = ["echo one > /tmp.txt", "cat /tmp.txt | cat", "ls /bin", "cp /bin/echo /e2", "/e2 from the disk", "cat /missing", "wasi-files", "rm /e2 /tmp.txt", "rm -r /wasi-dir /wasi.txt"];

/** Each live process's capability count and pages charged to its Memory, by image name and pid. */
function holdings(kernel: Kernel): Map<string, { caps: number; pages: number }> {
  const all = new Map<string, { caps: number; pages: number }>();
  for (const p of kernel.processes.values()) if (p.alive) all.set(`${p.image.name}#${p.pid}`, { caps: p.caps.size, pages: p.memory.used });
  return all;
}

describe("a long shell session", () => {
  it("leaves the services' capabilities, and the shell's, procman's and pipe's pages, where they were after a warm-up", async () => {
    const m = await bootMachine(CONFIG, MODULES, {
      devices: diskShellDevices(new MemoryBlockBackend(64 << 20)),
      interactive: true,
    });
    await m.until("the prompt", () => m.stdout().includes("dogma:/$ "));
    const round = async () => {
      for (const line of ROUND) await m.command(line);
    };
    for (let i = 0; i < 25; i++) await round();
    expect(m.stdout()).toContain("\nfrom the disk\n");
    const before = holdings(m.kernel);
    for (let i = 0; i < 15; i++) await round();
    const after = holdings(m.kernel);
    expect([...after.keys()]).toEqual([...before.keys()]);
    const grown = [...after]
      .filter(([name, now]) => now.caps > before.get(name)!.caps || (PAGES_COMPARED.includes(name.split("#")[0]!) && now.pages > before.get(name)!.pages))
      .map(([name, now]) => `${name}: caps ${before.get(name)!.caps} -> ${now.caps}, pages ${before.get(name)!.pages} -> ${now.pages}`);
    expect(grown).toEqual([]);
    expect(m.faults).toEqual([]);
    await m.halt();
  }, 240_000);
});
