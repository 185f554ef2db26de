import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "../..");
const cacheDir = mkdtempSync(join(tmpdir(), "dogma-cli-cache-"));

/**
 * `npx dogma ARGS` as a person would type it, with the Node that runs the tests (26); what it
 * printed and its status. Asynchronous, so that the tests of this file run side by side.
 */
function dogma(args: string[], input = "", env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [join(root, "bin/dogma.js"), ...args], { cwd: root, env: { ...process.env, DOGMA_CACHE_DIR: cacheDir, ...env } });
  child.stdin.on("error", () => {}); // a program may end before reading all of its input
  child.stdin.end(input);
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (data: Buffer) => void (stdout += data.toString()));
  child.stderr.on("data", (data: Buffer) => void (stderr += data.toString()));
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
}

const built = (name: string) => join("build/user", `${name}.wasm`);

describe.concurrent("dogma run", () => {
  it("runs a program with its arguments and exits with its code", async () => {
    expect(await dogma(["run", built("hello"), "one", "two"])).toEqual({ code: 0, stdout: "hello from dogma pid 1\none\ntwo\n", stderr: "" });
    expect((await dogma(["run", built("exitcode"), "7"])).code).toBe(7);
  });

  it("gives the program the terminal's stdin", async () => {
    const text = "line one\nline two\n".repeat(500);
    expect(await dogma(["run", built("cat")], text)).toEqual({ code: 0, stdout: text, stderr: "" });
  });

  it("prints one line for a fault and exits non-zero", async () => {
    const result = await dogma(["run", built("fault-unreachable")]);
    expect(result.code).not.toBe(0);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/^dogma: fault-unreachable\.wasm \(pid 1\): unreachable in \S*crash_here: .+\n$/);
    const nullRead = await dogma(["run", built("fault-null")]);
    expect(nullRead.stderr).toMatch(/null-page at 0x00000000 in /);
  });

  it("refuses a bad binary with what and where", async () => {
    const file = join(cacheDir, "not-wasm.wasm");
    writeFileSync(file, "#!/bin/sh\necho hi\n");
    const result = await dogma(["run", file]);
    expect(result.code).toBe(126);
    expect(result.stderr).toBe("dogma: refused not-wasm.wasm: header: not a WebAssembly binary (it does not start with \\0asm)\n");
    expect((await dogma(["run", "no/such/file.wasm"])).stderr).toMatch(/cannot read no\/such\/file\.wasm: it does not exist \(ENOENT\)/);
  });

  it("lets a program see EPIPE when its output is a pipe that closes early, and ends quietly (| head -c 1)", async () => {
    const text = "a line of output to fill the pipe\n".repeat(60_000); // 2 MB
    for (const program of ["cat", "wasi-cat"]) {
      const child = spawn(process.execPath, [join(root, "bin/dogma.js"), "run", built(program)], { cwd: root, env: { ...process.env, DOGMA_CACHE_DIR: cacheDir } });
      let stderr = "";
      child.stderr.on("data", (data: Buffer) => void (stderr += data.toString()));
      child.stdin.on("error", () => {}); // it may stop reading once its output is gone
      child.stdin.end(text);
      // head -c 1: one byte, then the reading end of the pipe closes.
      child.stdout.once("data", () => child.stdout.destroy());
      const code = await new Promise<number | null>((resolve) => child.on("exit", (status) => resolve(status)));
      expect(stderr, program).not.toMatch(/Unhandled|EPIPE|^\s+at /m);
      // cat says so and exits 1; the WASI cat exits 1 when fd_write fails (it got EPIPE).
      if (program === "cat") expect(stderr).toBe("cat: write: E_PEER_DEAD\n");
      expect(code, `${program}: ${stderr}`).toBe(1);
    }
  });

  it("refuses what is not a program file before reading it: a device, a folder, one over the size limit", async () => {
    const tooBig = join(cacheDir, "huge.wasm");
    writeFileSync(tooBig, "");
    truncateSync(tooBig, 65 << 20);
    const [zero, folder, big, module] = await Promise.all([
      dogma(["run", "/dev/zero"]),
      dogma(["run", cacheDir]),
      dogma(["run", tooBig]),
      dogma(["run", "--module", "/dev/zero", built("hello")]),
    ]);
    expect(zero).toEqual({ code: 1, stdout: "", stderr: "dogma: cannot read /dev/zero: it is not a regular file\n" });
    expect(folder.stderr).toBe(`dogma: cannot read ${cacheDir}: it is a folder\n`);
    expect(big).toEqual({ code: 126, stdout: "", stderr: `dogma: cannot read ${tooBig}: its ${65 << 20} bytes are more than the ${64 << 20} bytes it may have\n` });
    expect(module.stderr).toBe("dogma: cannot read /dev/zero: it is not a regular file\n");
  });

  it("traces kernel calls", async () => {
    const result = await dogma(["run", "--trace", built("hello")]);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/^trace: \[pid 1\] dogma\.arg_count\(\) = 1$/m);
    expect(result.stderr).toMatch(/^trace: \[pid 1\] dogma\.console_write\(1, \d+, \d+\) = \d+$/m);
  });

  it("sizes the machine with --memory and says when a size is wrong", async () => {
    expect((await dogma(["run", "--memory", "16M", built("hello")])).code).toBe(0);
    const tooSmall = await dogma(["run", "--memory", "64K", built("hello")]);
    expect(tooSmall.code).toBe(1);
    expect(tooSmall.stderr).toMatch(/between 1 MiB and 4 GiB/);
    expect((await dogma(["run", "--memory", "lots", built("hello")])).stderr).toMatch(/cannot read memory size "lots"/);
  });

  it("caches rewritten modules on disk unless told not to", async () => {
    const dir = mkdtempSync(join(tmpdir(), "dogma-cache-"));
    expect((await dogma(["run", "--no-cache", built("echo"), "x"], "", { DOGMA_CACHE_DIR: dir })).stdout).toBe("x\n");
    expect(readdirSync(dir)).toEqual([]);
    expect((await dogma(["run", built("echo"), "x"], "", { DOGMA_CACHE_DIR: dir })).stdout).toBe("x\n");
    expect(readdirSync(dir)).toHaveLength(1);
    expect((await dogma(["run", built("echo"), "y"], "", { DOGMA_CACHE_DIR: dir })).stdout).toBe("y\n");
  });

  it("explains its usage", async () => {
    expect((await dogma(["--help"])).stdout).toMatch(/^usage: dogma run/);
    const wrong = await dogma(["run", "--bogus", built("hello")]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/unknown option "--bogus"/);
  });
});
