// dogma boot on a pseudo-terminal, as a person uses it: every way a session ends ends the host
// promptly with the right status, and nothing typed around ^C or before the first prompt is lost
// or shown twice.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { TerminalSession } from "../helpers/terminal-session.ts";

const work = mkdtempSync(join(tmpdir(), "dogma-terminal-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const PROMPT = "dogma:/$ ";
const HALTED = /dogma: process 1 halted the machine.*\n/;
/**
 * The prompt, then `text` as the terminal shows it, with any whole lines of services between them:
 * a service's message (the pager's "paging to /swap", once its swap file is open) lands on the
 * console whenever it is ready, after the first prompt too, as a kernel's messages do on a Linux
 * console.
 */
const afterPrompt = (text: string) => new RegExp(`dogma:/\\$ (?:[\\w-]+: [^\\n]*\\n)*${text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`);

/**
 * A booted session on its own disk image; the module cache is shared, so only the first boot
 * rewrites. Verbose: these tests watch the boot's and init's lines.
 */
function session(name: string, stderrTo?: string): TerminalSession {
  return new TerminalSession(["boot", "--verbose", "--disk", join(work, `${name}.img`)], { DOGMA_CACHE_DIR: join(work, "cache") }, stderrTo);
}

/**
 * Waits for the machine to say it halted, then for the host to end: that last step must end within
 * 5 s (scaled by DOGMA_TEST_SLOWDOWN), as a host that waits for a key never does. (It is mostly
 * tens of milliseconds; the disk image's close waits for an fdatasync begun after the last
 * checkpoint, background-sync.ts, which a disk busy with the rest of the suite made take over 1 s.)
 */
async function hostEnds(s: TerminalSession, from: number): Promise<number> {
  await s.waitFor(HALTED, from);
  return s.exit(5000);
}

describe.concurrent("a session on a terminal", () => {
  it("shows typeahead once; after ^C of cat the next line runs as typed; exit 3 ends the host with 3", async () => {
    const s = session("exit");
    try {
      // Typed while the system boots, before the shell runs: kept, unechoed, for the console driver.
      let at = await s.waitFor("boot: process 1 (init) started");
      s.type("echo typed ahead\r");
      at = await s.waitFor(afterPrompt("echo typed ahead\ntyped ahead\n"), at);
      s.type("cat\r");
      at = await s.waitFor(afterPrompt("cat\n"), at);
      s.type("one line\r");
      at = await s.waitFor("one line\none line\n", at); // the echo, then cat's copy
      s.type("\x03");
      at = await s.waitFor("^C\ndogma:/ [130]$ ", at);
      s.type("e"); // typed one key at a time, as a person does
      s.type("cho after");
      s.type(" the interrupt\r");
      at = await s.waitFor("echo after the interrupt\nafter the interrupt\n", at);
      s.type("exit 3\r");
      expect(await hostEnds(s, at)).toBe(3);
      expect(s.output.split("echo typed ahead").length - 1, s.output).toBe(1);
      expect(s.output).toContain("init: shell (pid");
      expect(s.output).toMatch(/exited with code 3; the session is over/);
      expect(s.output).not.toMatch(/restart/);
    } finally {
      s.kill();
    }
  });

  it("^D at the prompt ends the session, and the host, with 0", async () => {
    const s = session("eof");
    try {
      const at = await s.waitFor(PROMPT);
      s.type("\x04");
      expect(await hostEnds(s, at)).toBe(0);
    } finally {
      s.kill();
    }
  });

  it("halt ends the host with 0", async () => {
    const s = session("halt");
    try {
      const at = await s.waitFor(PROMPT);
      s.type("halt\r");
      expect(await hostEnds(s, at)).toBe(0);
      expect(s.output).toContain("init: halt requested by proc");
    } finally {
      s.kill();
    }
  });

  it("a closed terminal (SIGHUP) halts the machine cleanly; the host ends with 129", async () => {
    // The terminal is gone once closed: what the host says then goes to a file.
    const said = join(work, "hangup.stderr");
    const s = session("hangup", said);
    try {
      await s.waitFor(PROMPT);
      s.closeTerminal();
      expect(await s.exit(10_000)).toBe(129);
      const log = readFileSync(said, "utf8");
      expect(log).toContain("dogma: SIGHUP; halting the machine\n");
      expect(log).toMatch(/dogma: process 1 halted the machine\n$/);
    } finally {
      s.kill();
    }
  });

  it("SIGTERM halts the machine cleanly (process 1 stops every service); the host ends with 143", async () => {
    const s = session("term");
    try {
      const at = await s.waitFor(PROMPT);
      await s.signal("SIGTERM");
      const halted = await s.waitFor("init: halt requested by the host\n", at);
      await s.waitFor(/init: stopped \d+ services; halting\n/, halted);
      expect(await hostEnds(s, halted)).toBe(143);
    } finally {
      s.kill();
    }
  });
});

describe.concurrent("dogma run on a terminal", () => {
  it("^D ends a program's input: it ends, and the host with it, with its status", async () => {
    const s = new TerminalSession(["run", "build/user/cat.wasm"], { DOGMA_CACHE_DIR: join(work, "cache") });
    try {
      s.type("a line\r");
      const at = await s.waitFor("a line\na line\n"); // the terminal's echo, then cat's copy
      s.type("\x04");
      expect(await s.exit(5_000)).toBe(0);
      expect(s.output.slice(at)).toBe("");
    } finally {
      s.kill();
    }
  });

  it("^C ends the host at once with 130, and a program that never reads does not keep it waiting", async () => {
    const s = new TerminalSession(["run", "build/user/cat.wasm"], { DOGMA_CACHE_DIR: join(work, "cache") });
    const quiet = new TerminalSession(["run", "build/user/hello.wasm"], { DOGMA_CACHE_DIR: join(work, "cache") });
    try {
      s.type("x\r");
      await s.waitFor("x\nx\n");
      s.type("\x03");
      expect(await s.exit(5_000)).toBe(130);
      await quiet.waitFor("hello from dogma pid 1\n");
      expect(await quiet.exit(5_000)).toBe(0);
    } finally {
      s.kill();
      quiet.kill();
    }
  });
});

