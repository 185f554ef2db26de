import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { join } from "node:path";
import { patience } from "./patience.ts";

const root = join(import.meta.dirname, "../..");

/**
 * `dogma ARGS` on a pseudo-terminal (test/helpers/pty-relay.py: python3's pty module), driven as
 * a person at a terminal drives it: keys typed (^C, ^D as bytes), the screen read back, the
 * terminal closed. Output is what the terminal shows, with its \r\n line ends.
 */
export class TerminalSession {
  /** The host's pid (the relay says it first). */
  readonly pid: Promise<number>;
  private screen = "";
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly ended: Promise<number>;
  private exitCode: number | null = null;

  /**
   * `stderrTo`: the host's stderr goes to that file instead of the terminal (what it says after
   * its terminal is closed can be read there).
   */
  constructor(args: string[], env: Record<string, string> = {}, stderrTo?: string) {
    const host = [process.execPath, join(root, "bin/dogma.js"), ...args];
    const command = stderrTo ? ["sh", "-c", 'exec "$0" "$@" 2>"$DOGMA_TEST_STDERR"', ...host] : host;
    this.child = spawn("python3", [join(import.meta.dirname, "pty-relay.py"), ...command], {
      cwd: root,
      env: { ...process.env, TERM: "xterm", ...env, ...(stderrTo ? { DOGMA_TEST_STDERR: stderrTo } : {}) },
    });
    this.child.stdout.on("data", (data: Buffer) => void (this.screen += data.toString()));
    let relayed = "";
    this.pid = new Promise((resolve) =>
      this.child.stderr.on("data", (data: Buffer) => {
        relayed += data.toString();
        const found = /^pid (\d+)\n/.exec(relayed);
        if (found) resolve(Number(found[1]));
      }),
    );
    this.ended = new Promise((resolve) => this.child.on("exit", (code, signal) => resolve((this.exitCode = code ?? (signal ? 128 : 1)))));
  }

  /** Everything the terminal has shown so far, with \r\n turned into \n. */
  get output(): string {
    return this.screen.replaceAll("\r\n", "\n");
  }

  /** Whether the host has ended (without waiting). */
  get exited(): boolean {
    return this.exitCode !== null;
  }

  type(keys: string): void {
    this.child.stdin.write(keys);
  }

  /** Waits until the output from `from` on matches `pattern`; returns where the match ends. */
  async waitFor(pattern: RegExp | string, from = 0, patienceMs = 60_000): Promise<number> {
    const give = Date.now() + patience(patienceMs);
    for (;;) {
      const text = this.output.slice(from);
      const at = typeof pattern === "string" ? text.indexOf(pattern) : text.search(pattern);
      if (at >= 0) {
        const length = typeof pattern === "string" ? pattern.length : text.slice(at).match(pattern)![0].length;
        return from + at + length;
      }
      if (this.exited || Date.now() > give) {
        throw new Error(`never saw ${String(pattern)}${this.exited ? ` (the host ended with ${this.exitCode})` : ""}; the terminal showed:\n${this.output.slice(from)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** Sends `signal` to the host. */
  async signal(signal: NodeJS.Signals): Promise<void> {
    process.kill(await this.pid, signal);
  }

  /** Closes the terminal: the host's session gets SIGHUP, as when a terminal window closes. */
  closeTerminal(): void {
    this.child.stdin.end();
  }

  /** The host's exit status, once it ends on its own within `patienceMs` (scaled); else it is killed and this throws. */
  async exit(patienceMs = 5_000): Promise<number> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), patience(patienceMs))));
    const code = await Promise.race([this.ended, late]);
    clearTimeout(timer);
    if (code === "late") {
      this.child.kill("SIGKILL");
      throw new Error(`the host did not end within ${patience(patienceMs)} ms; the terminal showed:\n${this.output}`);
    }
    return code;
  }

  /** Ends the session whatever state it is in (a test's cleanup). */
  kill(): void {
    if (!this.exited) this.child.kill("SIGKILL");
  }
}
