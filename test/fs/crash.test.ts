// The host killed (SIGKILL) at seeded random moments while the file system writes: after each
// kill fsck must find the disk clean, and everything synced must be there, intact.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FSCK_LINES, FS_LINES, bootOnDisk, verdict } from "./fs-machine.ts";
import { patience } from "../helpers/patience.ts";

const work = mkdtempSync(join(tmpdir(), "dogma-fs-crash-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const root = join(import.meta.dirname, "../..");
const ITERATIONS = 5;

/** A small seeded generator (mulberry32), so a failing run can be repeated. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Boots `dogma boot --disk` as a host process running the crash writer, waits for `rounds`
 * more synced rounds and then `delayMs`, and SIGKILLs it: the last round it said was synced.
 */
async function writeAndKill(disk: string, config: string, rounds: number, delayMs: number, said = /^fs-crash: synced (\d+)$/gm): Promise<number> {
  const child = spawn(process.execPath, [join(root, "bin/dogma.js"), "boot", "--disk", disk, "--config", config], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const ended = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  const synced = () => [...out.matchAll(said)].map((m) => Number(m[1]));
  let first = -1;
  await new Promise<void>((resolve, reject) => {
    const give = setTimeout(() => reject(new Error(`the writer never synced ${rounds} rounds\n${out}\n${err}`)), 45_000);
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      const s = synced();
      if (s.length > 0 && first < 0) first = s[0]!;
      if (/FAIL/.test(out)) reject(new Error(out));
      if (s.length >= rounds) {
        clearTimeout(give);
        resolve();
      }
    });
    child.on("exit", () => reject(new Error(`dogma boot ended early\n${out}\n${err}`)));
  });
  await new Promise((resolve) => setTimeout(resolve, delayMs));
  child.kill("SIGKILL");
  await ended;
  writerLog = out.split("\n").filter((l) => l.startsWith("fs")).join(" | ");
  writerOut = out;
  return Math.max(...synced());
}
let writerLog = "";
let writerOut = "";

describe("crash consistency", () => {
  it(`SIGKILL of the host during writes, ${ITERATIONS} times: fsck is clean after each, and what was synced is there`, async () => {
    const disk = join(work, "crash.img");
    const config = join(work, "crash.conf");
    writeFileSync(config, `${FS_LINES}service writer fs-crash-writer use=fs memory=512\n`);
    const random = prng(0x5eed);
    for (let i = 0; i < ITERATIONS; i++) {
      const rounds = 1 + Math.floor(random() * 3);
      const delayMs = Math.floor(random() * 250);
      const last = await writeAndKill(disk, config, rounds, delayMs);
      const context = `iteration ${i} (killed ${delayMs} ms after round ${last} was synced)`;

      const f = await bootOnDisk(disk, "service registry registry\ndriver block block device=block interrupt=block memory=512\nservice fsck fsck memory=1024\n", ["fsck"]);
      try {
        await verdict(f, /^fsck: clean: /, /^fsck: (\d+ problems?|cannot .*)$/);
      } catch (error) {
        throw new Error(`${context}: ${(error as Error).message}`);
      } finally {
        await f.close();
      }

      const c = await bootOnDisk(disk, `${FS_LINES}service check fs-crash-check use=fs memory=512\n`, ["fs", "fs-crash-check"]);
      try {
        await verdict(c, /^fs-crash-check: all intact$/, /FAIL/);
        const present = (await c.line(/^fs-crash-check: rounds/)).split(" ").slice(2).map(Number);
        // Round `last` was synced, and the rounds after it remove only r(last-2) and older.
        const names = await c.line(/^fs-crash-check: names/);
        expect(present, `${context}; ${names}; ${writerLog}`).toContain(last);
        if (last > 0) expect(present, context).toContain(last - 1);
      } finally {
        await c.close();
      }
    }
  }, patience(240_000));

  it(`SIGKILL of the host during overwrites in place and appends through the page cache, ${ITERATIONS} times: fsck is clean, every synced byte is there, and no byte is one no round wrote`, async () => {
    const disk = join(work, "over.img");
    const config = join(work, "over.conf");
    const random = prng(0x0bad5eed);
    let resume = 0;
    for (let i = 0; i < ITERATIONS; i++) {
      // The writer goes on after the last round seen synced (it writes that round's bytes again).
      writeFileSync(config, `${FS_LINES}service writer fs-over-writer use=fs memory=512 -- ${resume}\n`);
      const rounds = 1 + Math.floor(random() * 4);
      const delayMs = Math.floor(random() * 150);
      const last = await writeAndKill(disk, config, rounds, delayMs, /^fs-over: synced (\d+) log \d+$/gm);
      const log = Number(new RegExp(`^fs-over: synced ${last} log (\\d+)$`, "m").exec(writerOut)![1]);
      const context = `iteration ${i} (killed ${delayMs} ms after round ${last} was synced, the log ${log} bytes)`;
      resume = last + 1;
      const f = await bootOnDisk(disk, FSCK_LINES, ["fsck"]);
      try {
        await verdict(f, /^fsck: clean: /, /^fsck: (\d+ problems?|cannot .*)$/);
      } catch (error) {
        throw new Error(`${context}: ${(error as Error).message}`);
      } finally {
        await f.close();
      }
      const c = await bootOnDisk(disk, `${FS_LINES}service check fs-over-check use=fs memory=512 -- ${last} ${log}\n`, ["fs", "fs-over-check"]);
      try {
        await verdict(c, /^fs-over-check: all intact$/, /FAIL/);
      } catch (error) {
        throw new Error(`${context}: ${(error as Error).message}\n${writerLog}`);
      } finally {
        await c.close();
      }
    }
  }, patience(240_000));

  it(`SIGKILL of the host during renames across directories, hard links and unlinks of open files, ${ITERATIONS} times: fsck is clean, and every file has exactly one name`, async () => {
    const disk = join(work, "renames.img");
    const config = join(work, "renames.conf");
    writeFileSync(config, `${FS_LINES}service writer fs-rename-writer use=fs memory=512\n`);
    const random = prng(0xace);
    let orphans = 0;
    let freed = 0;
    for (let i = 0; i < ITERATIONS; i++) {
      const rounds = 1 + Math.floor(random() * 3);
      const delayMs = Math.floor(random() * 200);
      const last = await writeAndKill(disk, config, rounds, delayMs, /^fs-ren: synced (\d+)$/gm);
      const context = `iteration ${i} (killed ${delayMs} ms after round ${last} was synced)`;
      const f = await bootOnDisk(disk, "service registry registry\ndriver block block device=block interrupt=block memory=512\nservice fsck fsck memory=1024\n", ["fsck"]);
      try {
        await verdict(f, /^fsck: clean: /, /^fsck: (\d+ problems?|cannot .*)$/);
        if (f.lines().some((l) => /^fsck: 1 orphan /.test(l))) orphans++;
      } catch (error) {
        throw new Error(`${context}: ${(error as Error).message}`);
      } finally {
        await f.close();
      }
      const c = await bootOnDisk(disk, `${FS_LINES}service check fs-rename-check use=fs memory=512\n`, ["fs", "fs-rename-check"]);
      try {
        await verdict(c, /^fs-rename-check: all intact$/, /FAIL/);
        if (c.lines().includes("fs: freed 1 file unlinked while open when the machine stopped")) freed++;
      } catch (error) {
        throw new Error(`${context}: ${(error as Error).message}`);
      } finally {
        await c.close();
      }
    }
    // The writer always holds a file it unlinked: the kills left orphans, and the mounts freed them.
    expect(orphans).toBeGreaterThan(0);
    expect(freed).toBe(orphans);
  }, patience(240_000));
});
