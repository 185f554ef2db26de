// Scripts of everyday POSIX shell use (test/programs/scripts/) run by the shell inside Dogma print
// what Debian's dash prints for them on the host, with the same exit status: variables and
// parameter expansion, field splitting, loops, case, functions, $(...), arithmetic, here-documents,
// read loops, redirections, statuses and set -e. One machine runs them all.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FolderShare } from "../../src/hosts/node/folder-share.ts";
import { bootShell } from "../helpers/booted-machine.ts";
import { patience } from "../helpers/patience.ts";

const SCRIPTS = join(import.meta.dirname, "scripts");
const PROGRAMS = ["cat", "grep", "sort", "head", "wc", "rm", "mkdir"];
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

const work = mkdtempSync(join(tmpdir(), "dogma-dash-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** What dash prints (standard output) for `script`, run in an empty folder, and its status. */
function dash(script: string): string {
  const dir = mkdtempSync(join(work, "run-"));
  const result = spawnSync("dash", [join(SCRIPTS, script), SCRIPTS], { cwd: dir, encoding: "utf8", env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: "/", LC_ALL: "C" } });
  return `${result.stdout}status ${result.status}\n`;
}

describe("scripts, beside dash", () => {
  it("prints what dash prints for each script, with its status", async () => {
    execFileSync("dash", ["-c", "true"]); // dash is there (.ci/run installs it)
    const folder = await FolderShare.open(SCRIPTS);
    const m = await bootShell(CONFIG, folder, { modules: MODULES });
    const run = async (line: string) => {
      const before = m.stdout().length;
      m.type(line + "\r");
      await m.until(`the prompt after ${JSON.stringify(line)}`, () => /\ndogma:[^\n]*\$ $/.test(m.stdout().slice(before + line.length)));
      const out = m.stdout().slice(before + line.length + 1);
      return out.slice(0, out.lastIndexOf("dogma:"));
    };
    const scripts = readdirSync(SCRIPTS).filter((f) => f.endsWith(".sh") && f !== "wordcount.sh").sort();
    expect(scripts.length).toBeGreaterThanOrEqual(7);
    for (const script of scripts) {
      await run("cd /; rm -rf /w; mkdir /w; cd /w");
      const got = await run(`sh /host/${script} /host; echo "status $?"`);
      expect(got, `${script} (errors: ${m.stderr()})`).toBe(dash(script));
    }
    // The same script run by its #! line, as a program.
    await run("cd /w; printf 'one two\\n' > a.txt");
    expect(await run("/host/wordcount.sh a.txt; echo $?")).toBe("     2 a.txt\n0\n");
    expect(m.faults).toEqual([]);
    await m.halt();
  }, patience(120_000));
});
