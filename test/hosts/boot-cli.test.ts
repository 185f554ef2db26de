import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DiskImage } from "../../src/hosts/node/disk-image.ts";
import { patience } from "../helpers/patience.ts";

const root = join(import.meta.dirname, "../..");
const work = mkdtempSync(join(tmpdir(), "dogma-boot-"));

const environment = () => ({ ...process.env, DOGMA_CACHE_DIR: join(work, "cache"), DOGMA_DATA_DIR: join(work, "data") });

function dogma(args: string[], input = "") {
  const result = spawnSync(process.execPath, [join(root, "bin/dogma.js"), ...args], {
    cwd: root,
    encoding: "utf8",
    input,
    env: environment(),
    timeout: patience(120_000),
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * Boots with `args` until the console shows every line in `until` (then ends the host with
 * SIGTERM), or the host ends on its own: what it printed, and its exit code (null if killed).
 * The console's input stays open, so the shell's session goes on until then.
 */
function bootUntil(args: string[], until: RegExp[]): Promise<{ log: string; code: number | null }> {
  const child = spawn(process.execPath, [join(root, "bin/dogma.js"), ...args], { cwd: root, env: environment() });
  let log = "";
  const seen = () => until.every((pattern) => pattern.test(log));
  return new Promise((resolve) => {
    const give = setTimeout(() => child.kill("SIGTERM"), patience(100_000));
    const look = (data: Buffer) => {
      log += data.toString();
      if (seen()) child.kill("SIGTERM");
    };
    child.stdout.on("data", look);
    child.stderr.on("data", look);
    child.on("exit", (code) => {
      clearTimeout(give);
      resolve({ log, code });
    });
  });
}

describe.concurrent("dogma boot", () => {
  it("boots the default config into the shell, quietly: the banner and the prompt; what the services said is in dmesg; the end of input halts the machine", () => {
    const run = dogma(["boot", "--disk", join(work, "shell.img"), "--share", root], "echo hello from the shell\necho a b | cat\nls /host/docs\necho kept > /tmp/x\ncat /tmp/x\ndmesg\n");
    const log = run.stdout + run.stderr;
    expect(log).toMatch(/^Dogma shell\. Type help for what there is\.\ndogma:\/\$ echo hello from the shell\nhello from the shell\n/);
    expect(log).toContain("dogma:/$ ls /host/docs\n"); // the folder given with --share, read-only
    expect(log).toContain("\nFS.md\n");
    expect(log).toContain("dogma:/$ echo a b | cat\na b\n");
    expect(log).toContain("dogma:/$ cat /tmp/x\nkept\n"); // a new disk has an empty /tmp
    // Nothing of the boot on the console but what dmesg printed: every line of it.
    const dmesg = log.slice(log.indexOf("dogma:/$ dmesg\n"));
    expect(log.slice(0, log.indexOf("dogma:/$ dmesg\n"))).not.toMatch(/^(init|boot|fs|console|hostfs|dogma): /m);
    expect(dmesg).toMatch(/^\[ *\d+\.\d{6}\] init: \d+ modules, 5 devices, 11 services$/m);
    expect(dmesg).toMatch(/\] init: started registry \(pid 2\)$/m);
    expect(dmesg).toMatch(/\] hostfs: the host share, read-only; serving "host"$/m);
    expect(dmesg).toMatch(/\] console: serving "console"$/m);
    expect(dmesg).toMatch(/\] fs: \d+ blocks of 4 KiB, .*serving "fs"$/m);
    expect(log).not.toContain("halted");
    expect(run.code).toBe(0);
  }, patience(120_000));

  it("shows the boot's and the services' lines with --verbose", () => {
    const run = dogma(["boot", "--verbose", "--disk", join(work, "verbose.img"), "--share", root], "echo hello\n");
    const log = run.stdout + run.stderr;
    expect(log).toContain("boot: process 1 (init) started, pid 1");
    expect(log).toMatch(/init: \d+ modules, 5 devices, 11 services/);
    expect(log).toContain("init: started registry (pid 2)");
    expect(log).toContain('console: serving "console"');
    expect(log).toContain('hostfs: the host share, read-only; serving "host"');
    expect(log).toContain("dogma:/$ echo hello\nhello\n");
    expect(log).toMatch(/init: the session is over; stopped \d+ services; halting/);
    expect(log).toContain("dogma: process 1 halted the machine");
    expect(run.code).toBe(0);
  }, patience(120_000));

  it("pages through its pager on a machine smaller than what runs: memtest's 8 MiB in 8 MiB of memory", () => {
    // The first boot (which formats the disk and installs the boot modules as files) left 514
    // frames of the modules' images mapped in the file system and init, both never paged out,
    // until they gave their views back and an image's frames went with its last mapping: memtest
    // then thrashed for minutes below 10.5 MiB and ended out of memory (at 9920K: 3 minutes,
    // 151,755 evictions). Below 9 MiB the file system's metadata cache (~300 pinned pages after
    // the install) did the same until it gave its pages back under pressure (PROCESS_DISCARD).
    // Here it still pages (about 11,000 evictions), in seconds.
    const run = dogma(["boot", "--verbose", "--disk", join(work, "small.img"), "--memory", "8M"], "memtest\nmem\n");
    const log = run.stdout + run.stderr;
    expect(log).toContain("init: paging through the pager, a store of 4096 pages");
    // (The pager says how it is doing every 4096 page-ins, on the same console.)
    expect(log).toMatch(/dogma:\/\$ memtest\n(pager: \d+ pages stored, \d+ given back[^\n]*\n)*memtest ok\n/);
    const paging = /paging: by clock, (\d+) pages evicted, (\d+) paged back in, \d+ of 4096 pages of the store in use, 0 refused/.exec(log);
    expect(paging, log).not.toBe(null);
    expect(Number(paging![1])).toBeGreaterThan(1000);
    expect(Number(paging![2])).toBeGreaterThan(1000);
    expect(log).not.toContain("faulted");
    expect(run.code).toBe(0);
  }, patience(120_000));

  it("formats a new disk on first boot, and the second boot finds the file system it made", async () => {
    // The console's input stays open, so the session goes on until the file system serves.
    const disk = join(work, "disk.img");
    const serving = /fs: \d+ blocks of 4 KiB, .*serving "fs"/;
    const run = await bootUntil(["boot", "--verbose", "--disk", disk], [serving]);
    expect(run.log).toContain("fs: formatted the disk (a blank disk)");
    expect(run.log).toMatch(serving);
    expect(existsSync(disk) && statSync(disk).size).toBe(64 << 20);
    const again = await bootUntil(["boot", "--verbose", "--disk", disk], [serving]);
    expect(again.log).toMatch(serving);
    expect(again.log).not.toContain("fs: formatted");
  }, patience(240_000));

  it("locks its disk image: a second boot is refused naming the first; after the first is SIGKILLed a boot succeeds and fsck is clean", async () => {
    const disk = join(work, "locked.img");
    const first = spawn(process.execPath, [join(root, "bin/dogma.js"), "boot", "--verbose", "--disk", disk], { cwd: root, env: environment() });
    try {
      let log = "";
      first.stdout.on("data", (data: Buffer) => void (log += data.toString()));
      first.stderr.on("data", (data: Buffer) => void (log += data.toString()));
      const serving = /fs: \d+ blocks of 4 KiB, .*serving "fs"/;
      const give = Date.now() + patience(100_000);
      while (!serving.test(log) && first.exitCode === null && Date.now() < give) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(log).toMatch(serving);
      const second = dogma(["boot", "--disk", disk]);
      expect(second.code).toBe(1);
      expect(second.stderr).toBe(`dogma: the disk image ${disk} is in use by process ${first.pid} (a dogma boot since ${second.stderr.match(/since (\S+)\)/)?.[1]}); stop that machine first, or boot a copy of the image\n`);
      expect(dogma(["boot", "--read-only", "--disk", disk]).stderr).toContain(`is in use by process ${first.pid}`);
      first.kill("SIGKILL");
      await new Promise((resolve) => first.once("exit", resolve));
    } finally {
      first.kill("SIGKILL");
    }
    // The lock went with the process that held it: fsck boots on the same image and finds it clean.
    writeFileSync(join(work, "fsck.conf"), "service registry registry\ndriver block block device=block interrupt=block memory=512\nservice fsck fsck memory=1024\n");
    const check = await bootUntil(["boot", "--disk", disk, "--config", join(work, "fsck.conf")], [/fsck: (clean|\d+ problems?)/]);
    expect(check.log).toMatch(/fsck: clean: \d+ files, \d+ directories, \d+ symbolic links?, \d+ blocks in use/);
  }, patience(240_000));

  it("halts cleanly when its output is closed (dogma boot | head -c 1), quietly, with 141", async () => {
    const child = spawn(process.execPath, [join(root, "bin/dogma.js"), "boot", "--verbose", "--disk", join(work, "pipe.img")], { cwd: root, env: environment() });
    let stderr = "";
    child.stderr.on("data", (data: Buffer) => void (stderr += data.toString()));
    // Its input stays open: only the closed output can end the session. A closed pipe is seen
    // when it is next written to, as with any program: a line typed makes the shell write.
    child.stdout.once("data", () => child.stdout.destroy());
    const typing = setInterval(() => child.stdin.write("echo are you there\n"), 200);
    child.stdin.on("error", () => {});
    const code = await new Promise<number | null>((resolve) => child.on("exit", (status) => resolve(status)));
    clearInterval(typing);
    expect(stderr).toContain("dogma: the output was closed; halting the machine\n");
    // (What init says goes to the closed output; the host's own lines go to stderr.)
    expect(stderr).toMatch(/dogma: process 1 halted the machine\n$/);
    expect(stderr).not.toMatch(/Unhandled|EPIPE|^\s+at /m);
    expect(code).toBe(141);
  }, patience(120_000));

  it("keeps its disk in the data folder when no --disk is given", () => {
    const run = dogma(["boot", "--verbose"]);
    expect(run.stdout + run.stderr).toContain("boot: process 1 (init) started, pid 1");
    expect(statSync(join(work, "data", "disk.img")).size).toBe(64 << 20);
  }, patience(120_000));

  it("says in one line what is wrong with its options, and leaves the disk unlocked", async () => {
    const disk = join(work, "options.img");
    expect(dogma(["boot", "--disk", disk, "--memory", "1K"])).toEqual({
      code: 1,
      stdout: "",
      stderr: "dogma: physical memory must be a whole number of 64 KiB pages between 1 MiB and 4 GiB, not 1024 bytes\n",
    });
    expect(dogma(["boot", "--disk", disk, "--share", "/nonexistent"])).toEqual({ code: 1, stdout: "", stderr: "dogma: cannot share /nonexistent: it does not exist (ENOENT)\n" });
    expect(dogma(["boot", "--read-only", "--disk", join(work, "none.img")]).stderr).toBe(
      `dogma: cannot open the disk image ${join(work, "none.img")}: it does not exist, and a --read-only boot does not create one\n`,
    );
    expect(dogma(["boot", "--disk", disk, "--config", "/dev/zero"]).stderr).toBe("dogma: cannot read the config /dev/zero: it is not a regular file\n");
    await (await DiskImage.open(disk, 0)).close(); // the failed boots let the image go
  });

  it("refuses a config it cannot read, and says which", () => {
    const run = dogma(["boot", "--config", join(work, "missing.conf")]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/dogma: cannot read the config .*missing\.conf: it does not exist \(ENOENT\)/);
  });
});
