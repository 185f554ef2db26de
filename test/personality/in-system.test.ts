import { copyFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FolderShare } from "../../src/hosts/node/folder-share.ts";
import { bootShell } from "../helpers/booted-machine.ts";
import { cProgram, conformanceProgram, scratchFolder, verdictOf } from "./wasi-programs.ts";

/**
 * The conformance programs inside the booted system, started from the shell: their files in a
 * directory of the disk's file system that is the shell's working directory (fd 3, "."), the
 * binaries on /host, the environment from the shell. Every check passes, none skipped: the disk's
 * file system server has symbolic links, hard links and times (docs/FS.md).
 */
const made: string[] = [];
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

const NAMES = ["fd", "paths", "misc", "bad-input", "wasi-as"];
/** What the disk's file system cannot do (each such check would be skipped): nothing now. */
const DISK_SKIPS: Record<string, string[]> = {
  fd: [],
  paths: [],
  misc: [],
  "bad-input": [],
  "wasi-as": [],
};

const PROGRAMS = ["mkdir", "sleeper", "exitcode", "echo"];
const CONFIG = `service registry registry
driver  console  console  device=console interrupt=console memory=64
driver  block    block    device=block interrupt=block memory=512
service fs       fs       memory=2048 publish=fs
driver  host     hostfs   device=share interrupt=share memory=1024 publish=host
service pipe     pipe     memory=64
service proc     procman  memory=128 kernel images bootinfo control
service shell    shell    memory=8192 bootinfo use=fs use=host session
${PROGRAMS.map((p) => `module ${p}`).join("\n")}
`;
const MODULES = ["registry", "console", "block", "fs", "hostfs", "pipe", "procman", "shell", ...PROGRAMS];

async function system(files: Record<string, string>, config = CONFIG) {
  const share = scratchFolder("in-system-share");
  made.push(share);
  for (const [name, wasm] of Object.entries(files)) copyFileSync(wasm, join(share, name));
  const folder = await FolderShare.open(share);
  const m = await bootShell(config, folder, { modules: MODULES });
  const run = async (line: string) => {
    const before = m.stdout().length;
    m.type(line + "\r");
    await m.until(`the prompt after ${JSON.stringify(line)}`, () => /dogma:\/[^\n]*\$ $/.test(m.stdout().slice(before + line.length)));
    return m.stdout().slice(before + line.length);
  };
  return { m, run };
}

describe("WASI conformance inside the system, from the shell", () => {
  it("runs every program from /host in a directory of the disk: every check passes", async () => {
    const binaries = NAMES.map((name) => [`${name}.wasm`, name === "wasi-as" ? join(import.meta.dirname, "../../build/user/wasi-as-check.wasm") : conformanceProgram(name)]);
    const { m, run } = await system(Object.fromEntries(binaries));
    expect(await run("mkdir /scratch && cd /scratch")).toMatch(/dogma:\/scratch\$ $/);
    for (const name of NAMES) {
      // fd's stdout is the system's console, a terminal: a character device (isatty true).
      const line = name === "misc" ? "CONF_VAR=value /host/misc.wasm alpha beta" : name === "fd" ? "CONF_STDOUT=terminal /host/fd.wasm" : `/host/${name}.wasm`;
      const verdict = verdictOf(name, await run(line), null);
      expect(verdict.summary, verdict.output).not.toBeNull();
      expect(verdict.failed, verdict.output).toEqual([]);
      expect(verdict.skipped.sort(), name).toEqual([...DISK_SKIPS[name]!].sort());
      expect(verdict.checks).toBeGreaterThan(15);
    }
    expect(m.faults).toEqual([]);
    m.type("exit\r");
    await m.line(/halting$/);
    await m.halt();
  }, 120_000);

  it("reads a file through the personality's map while another handle writes, cuts and grows it: every read sees what the server would", async () => {
    // A file system with room for maps beside its page cache (at 2048 pages its cache fills it, and MAP answers E_QUOTA).
    const { m, run } = await system({ "map-check": cProgram("map-check") }, CONFIG.replace("fs       memory=2048", "fs       memory=8192"));
    expect(await run("mkdir /mapped && cd /mapped")).toMatch(/dogma:\/mapped\$ $/);
    expect(await run("/host/map-check")).toContain("map-check: all right");
    expect(m.faults).toEqual([]);
    await m.halt();
  }, 120_000);

  it("polls standard input on a pipe, a file and the console: ready, at its end, or timed out", async () => {
    const { m, run } = await system({ "poll-stdin": cProgram("poll-stdin") });
    await run("mkdir /p; cd /p; echo from a file > f.txt");
    expect(await run("echo hello | /host/poll-stdin 5000")).toContain("\nready 6: hello\n");
    expect(await run("/host/poll-stdin 5000 < f.txt")).toContain("\nready 12: from a file\n");
    // A pipe whose writer says nothing for 300 ms: the 50 ms clock comes first.
    expect(await run("sleeper 300 | /host/poll-stdin 50")).toContain("\ntimeout\n");
    // Nothing but the stream to wait for: its end (the writer gone, nothing written).
    expect(await run("exitcode 0 | /host/poll-stdin 0")).toContain("\nhangup\n");
    // The console: nothing typed within 50 ms; then a line typed while it waits.
    expect(await run("/host/poll-stdin 50")).toContain("\ntimeout\n");
    const before = m.stdout().length;
    m.type("/host/poll-stdin 20000\r");
    await m.until("poll-stdin waits", () => m.alive().includes("poll-stdin"));
    m.type("typed\r");
    await m.until("the prompt after the typed line", () => /ready 6: typed\n[^]*dogma:\/p\$ $/.test(m.stdout().slice(before)));
    expect(m.faults).toEqual([]);
    await m.halt();
  }, 120_000);
});
