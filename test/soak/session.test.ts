// A soak of the whole system as a person uses it (issue 17): thousands of commands typed at the
// shell of `dogma boot` on a terminal, each answer checked against a model of the files; then
// halt, fsck on the image, and a reboot that finds every file as the script left it.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { prng } from "../caps/prng.ts";
import { TerminalSession } from "../helpers/terminal-session.ts";

const COMMANDS = Number(process.env.DOGMA_SOAK_COMMANDS ?? 3000);
const SEED = Number(process.env.DOGMA_SOAK_SEED ?? 1);
const root = join(import.meta.dirname, "../..");
const work = mkdtempSync(join(tmpdir(), "dogma-soak-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const env = { DOGMA_CACHE_DIR: join(work, "cache") };
const disk = join(work, "soak.img");

const DIRS = ["/soak", "/soak/a", "/soak/b", "/soak/b/c"];
/** Where background jobs write (they end whenever they end, so nothing else looks there meanwhile). */
const JOBS = "/soak-jobs";
const NAMES = Array.from({ length: 12 }, (_, i) => `f${i}`);
const WORDS = ["alpha", "beta", "gamma", "delta", "dogma", "kernel", "page", "frame", "tlb", "pipe", "42", "x"];
/** A prompt, with the last status when it was not 0. */
const PROMPT = /dogma:[^\n]*?(?: \[(-?\d+)\])?\$ /;

/** The shell at a terminal: a command typed, its output (what came between its line and the next prompt) and status. */
class Shell {
  readonly s: TerminalSession;
  constructor(s: TerminalSession) {
    this.s = s;
  }

  async ready(): Promise<void> {
    await this.s.waitFor(PROMPT);
  }

  /** Types `keys` and Enter; `shown` is the line the editor shows at the end (the keys, unless they edit). */
  async run(keys: string, shown = keys): Promise<{ out: string; status: number }> {
    const from = this.s.output.length;
    this.s.type(`${keys}\r`);
    const echoed = await this.s.waitFor(`${shown}\n`, from);
    const end = await this.s.waitFor(PROMPT, echoed);
    const text = this.s.output.slice(echoed, end);
    const prompt = PROMPT.exec(text)!;
    return { out: withoutJobReports(text.slice(0, prompt.index)), status: Number(prompt[1] ?? 0) };
  }

  /** Starts `cat` reading the terminal, feeds it a line, then ^C: the shell must answer 130. */
  async interruptCat(line: string): Promise<string> {
    const from = this.s.output.length;
    this.s.type("cat\r");
    const started = await this.s.waitFor("cat\n", from);
    this.s.type(`${line}\r`);
    const copied = await this.s.waitFor(`${line}\n${line}\n`, started); // the echo, then cat's copy
    this.s.type("\x03");
    const end = await this.s.waitFor(PROMPT, copied);
    const text = this.s.output.slice(copied, end);
    return withoutJobReports(text.slice(0, PROMPT.exec(text)!.index)) + `[${PROMPT.exec(text)![1] ?? 0}]`;
  }
}

/** The files as the script leaves them: path → contents; and the directories. */
class Model {
  readonly files = new Map<string, string>();
  readonly dirs = new Set(DIRS);

  listing(dir: string): string[] {
    const names: string[] = [];
    for (const d of this.dirs) if (parent(d) === dir) names.push(`${basename(d)}/`);
    for (const f of this.files.keys()) if (parent(f) === dir) names.push(basename(f));
    return names.sort();
  }
}

/** The shell reports background jobs that ended before its next prompt, whichever command that follows. */
const withoutJobReports = (text: string) => text.replace(/^\[\d+\] done \(\d+\) .*\n/gm, "");
const parent = (path: string) => path.slice(0, path.lastIndexOf("/"));
const basename = (path: string) => path.slice(path.lastIndexOf("/") + 1);

describe("a session of thousands of commands", () => {
  it(`files, pipes, jobs, faults and ^C (${COMMANDS} commands, seed ${SEED}); then halt, fsck clean, and every file as left`, async () => {
    const random = prng(SEED);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const words = () => Array.from({ length: 1 + Math.floor(random() * 6) }, () => pick(WORDS)).join(" ");
    const model = new Model();
    const anyPath = () => `${pick(DIRS)}/${pick(NAMES)}`;
    const existing = () => (model.files.size === 0 ? null : pick([...model.files.keys()]));

    const shell = new Shell(new TerminalSession(["boot", "--verbose", "--disk", disk], env));
    try {
      await shell.ready();
      for (const dir of [...DIRS, JOBS]) expect(await shell.run(`mkdir ${dir}`)).toEqual({ out: "", status: 0 });
      let jobs = 0;
      for (let n = 0; n < COMMANDS; n++) {
        try {
        const where = `command ${n} (seed ${SEED})`;
        const roll = random();
        const file = existing();
        if (roll < 0.2) {
          const path = anyPath();
          const text = words();
          expect(await shell.run(`echo ${text} > ${path}`), where).toEqual({ out: "", status: 0 });
          model.files.set(path, `${text}\n`);
        } else if (roll < 0.33) {
          const path = anyPath();
          const text = words();
          expect(await shell.run(`echo ${text} >> ${path}`), where).toEqual({ out: "", status: 0 });
          model.files.set(path, (model.files.get(path) ?? "") + `${text}\n`);
        } else if (roll < 0.38) {
          const path = anyPath();
          const text = words();
          expect(await shell.run(`echo ${text} | cat | cat > ${path}`), where).toEqual({ out: "", status: 0 });
          model.files.set(path, `${text}\n`);
        } else if (roll < 0.52 && file) {
          expect(await shell.run(`cat ${file}`), where).toEqual({ out: model.files.get(file), status: 0 });
        } else if (roll < 0.57 && file) {
          expect(await shell.run(`cat ${file} | cat | cat`), where).toEqual({ out: model.files.get(file), status: 0 });
        } else if (roll < 0.6 && file) {
          expect(await shell.run(`cat < ${file}`), where).toEqual({ out: model.files.get(file), status: 0 });
        } else if (roll < 0.67 && file) {
          const to = anyPath();
          // Onto itself it is refused (it would empty the file).
          if (to === file) expect(await shell.run(`cp ${file} ${to}`), where).toEqual({ out: `cp: ${file} and ${to} are the same file\n`, status: 1 });
          else expect(await shell.run(`cp ${file} ${to}`), where).toEqual({ out: "", status: 0 });
          model.files.set(to, model.files.get(file)!);
        } else if (roll < 0.71 && file) {
          const to = anyPath();
          if (model.files.has(to)) continue;
          expect(await shell.run(`mv ${file} ${to}`), where).toEqual({ out: "", status: 0 });
          model.files.set(to, model.files.get(file)!);
          model.files.delete(file);
        } else if (roll < 0.77 && file) {
          expect(await shell.run(`rm ${file}`), where).toEqual({ out: "", status: 0 });
          model.files.delete(file);
        } else if (roll < 0.8) {
          const path = anyPath();
          if (model.files.has(path)) continue;
          expect(await shell.run(`cat ${path}`), where).toEqual({ out: `cat: ${path}: no such file or directory\n`, status: 1 });
        } else if (roll < 0.85) {
          const dir = pick(DIRS);
          const { out, status } = await shell.run(`ls -p ${dir}`);
          expect({ names: out.split("\n").filter((l) => l.length > 0), status }, where).toEqual({ names: model.listing(dir), status: 0 });
        } else if (roll < 0.88) {
          const code = Math.floor(random() * 256);
          expect(await shell.run(`exitcode ${code}`), where).toEqual({ out: "", status: code });
        } else if (roll < 0.9) {
          const { out, status } = await shell.run("fault-null 16");
          expect(out, where).toMatch(/shell: fault-null \(pid \d+\) faulted: null-page at 0x10\n/);
          expect(status, where).toBe(-1);
        } else if (roll < 0.94) {
          expect(await shell.interruptCat(words()), where).toBe("^C\n[130]");
        } else if (roll < 0.97) {
          const path = `${JOBS}/j${jobs++}`;
          const { out, status } = await shell.run(`sleeper ${1 + Math.floor(random() * 30)} > ${path} &`);
          expect(out, where).toMatch(/^\[\d+\] \d+\n$/);
          expect(status, where).toBe(0);
        } else {
          // A command typed and erased, then one typed after a ^U: only the second runs.
          const path = anyPath();
          const text = words();
          expect(await shell.run(`rm -r everything\x15echo ${text} > ${path}`, `echo ${text} > ${path}`), where).toEqual({ out: "", status: 0 });
          model.files.set(path, `${text}\n`);
        }
        } catch (error) {
          // What the terminal showed last says what went wrong around the command.
          (error as Error).message += `\nthe terminal's last lines:\n${shell.s.output.slice(-2000)}`;
          throw error;
        }
      }
      expect(jobs).toBeGreaterThan(0);
      // Every job has ended (each slept 30 ms at most): what they wrote is there.
      await shell.s.waitFor("$ ", shell.s.output.length - 2);
      for (let j = 0; j < jobs; j++) {
        const path = `${JOBS}/j${j}`;
        model.dirs.add(JOBS);
        model.files.set(path, "slept\n");
        expect({ path, ...(await shell.run(`cat ${path}`)) }).toEqual({ path, out: "slept\n", status: 0 });
      }
      const halted = shell.s.output.length;
      shell.s.type("halt\r");
      await shell.s.waitFor("dogma: process 1 halted the machine", halted);
      expect(await shell.s.exit(10_000)).toBe(0);
    } finally {
      shell.s.kill();
    }

    // fsck on the image the session left.
    writeFileSync(join(work, "fsck.conf"), "service registry registry\ndriver block block device=block interrupt=block memory=512\nservice fsck fsck memory=1024\n");
    expect(await fsck(join(work, "fsck.conf"))).toMatch(/fsck: clean: \d+ files, \d+ directories, \d+ symbolic links?, \d+ blocks in use/);

    // A new boot finds every file and directory as the script left them.
    const again = new Shell(new TerminalSession(["boot", "--verbose", "--disk", disk], env));
    try {
      await again.ready();
      for (const dir of DIRS) {
        const { out, status } = await again.run(`ls -p ${dir}`);
        expect({ dir, names: out.split("\n").filter((l) => l.length > 0), status }).toEqual({ dir, names: model.listing(dir), status: 0 });
      }
      for (const [path, text] of model.files) expect({ path, ...(await again.run(`cat ${path}`)) }).toEqual({ path, out: text, status: 0 });
      again.s.type("exit\r");
      expect(await again.s.exit(10_000)).toBe(0);
    } finally {
      again.s.kill();
    }
  });
});

/** Boots the image with a config that runs fsck alone; its verdict line. */
function fsck(config: string): Promise<string> {
  const child = spawn(process.execPath, [join(root, "bin/dogma.js"), "boot", "--disk", disk, "--config", config], { cwd: root, env: { ...process.env, ...env } });
  let log = "";
  return new Promise((resolve, reject) => {
    const look = (data: Buffer) => {
      log += data.toString();
      const verdict = /^fsck: (clean|\d+ problems?|cannot).*$/m.exec(log);
      if (verdict) {
        child.kill("SIGTERM");
        resolve(verdict[0]);
      }
    };
    child.stdout.on("data", look);
    child.stderr.on("data", look);
    child.on("exit", () => reject(new Error(`fsck never said: ${log}`)));
  });
}
