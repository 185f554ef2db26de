import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { crc32 } from "node:zlib";
import { describe, expect, it } from "vitest";
import { decodeRecord, encodeRecord } from "../../src/loader/cache.ts";
import { readModule } from "../../src/loader/wasm/module-info.ts";

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
      if (program === "cat") expect(stderr).toBe("cat: write: the other side has gone\n");
      expect(code, `${program}: ${stderr}`).toBe(1);
    }
  });

  it("refuses what is not a program file before reading it: a device, a folder, one over the size limit", async () => {
    const tooBig = join(cacheDir, "huge.wasm");
    writeFileSync(tooBig, "");
    truncateSync(tooBig, 257 << 20);
    const [zero, folder, big, module] = await Promise.all([
      dogma(["run", "/dev/zero"]),
      dogma(["run", cacheDir]),
      dogma(["run", tooBig]),
      dogma(["run", "--module", "/dev/zero", built("hello")]),
    ]);
    expect(zero).toEqual({ code: 1, stdout: "", stderr: "dogma: cannot read /dev/zero: it is not a regular file\n" });
    expect(folder.stderr).toBe(`dogma: cannot read ${cacheDir}: it is a folder\n`);
    expect(big).toEqual({ code: 126, stdout: "", stderr: `dogma: cannot read ${tooBig}: its ${257 << 20} bytes are more than the ${256 << 20} bytes it may have\n` });
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

  // The CLI sets V8's flags for the loader's output (src/hosts/node/engine-flags.ts): with lazy
  // validation a record whose bodies were damaged on disk compiles, and its first call fails
  // (without, the compile would refuse it and the program would be rewritten and run).
  it("runs with V8's flags for the loader: a cached body damaged on disk fails at its first call, as the program's fault", async () => {
    const dir = mkdtempSync(join(tmpdir(), "dogma-cache-"));
    expect((await dogma(["run", built("echo"), "x"], "", { DOGMA_CACHE_DIR: dir })).stdout).toBe("x\n");
    const file = join(dir, readdirSync(dir).find((name) => name.endsWith(".dgm"))!);
    // The file ends with a CRC-32 of the record (disk-cache.ts): damage on disk is a miss. The
    // bodies are changed here as a record that passed that check but holds code V8 refuses would be.
    const onDisk = new Uint8Array(readFileSync(file));
    const record = decodeRecord(onDisk.subarray(0, onDisk.length - 4))!;
    const spoiled = record.rewritten.slice();
    for (const body of readModule(spoiled).bodies) {
      spoiled.fill(0x01, body.start, body.end - 1); // no locals, `i64.const 0`, nops, `end`: no body returns an i64
      spoiled.set([0x00, 0x42, 0x00], body.start);
    }
    const encoded = encodeRecord({ ...record, rewritten: spoiled });
    const check = Buffer.alloc(4);
    check.writeUInt32LE(crc32(encoded, crc32(basename(file, ".dgm"))));
    writeFileSync(file, Buffer.concat([encoded, check]));
    const run = await dogma(["run", built("echo"), "x"], "", { DOGMA_CACHE_DIR: dir });
    expect(run.code).not.toBe(0);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(/Compiling function #\d+.* failed/);
  });

  it("caches rewritten modules on disk unless told not to", async () => {
    const dir = mkdtempSync(join(tmpdir(), "dogma-cache-"));
    expect((await dogma(["run", "--no-cache", built("echo"), "x"], "", { DOGMA_CACHE_DIR: dir })).stdout).toBe("x\n");
    expect(readdirSync(dir)).toEqual([]);
    // A program file changed in the last seconds is not remembered (file-digests.ts): a build just made may be that new.
    const remembered = Date.now() - statSync(built("echo")).ctimeMs > 4000;
    expect((await dogma(["run", built("echo"), "x"], "", { DOGMA_CACHE_DIR: dir })).stdout).toBe("x\n");
    // One record, and the digest of the program's file (src/hosts/node/file-digests.ts).
    // (In either order: a record's name is its digest, which may sort after "digests.json".)
    const files = readdirSync(dir);
    expect(files.filter((f) => /^[0-9a-f]{64}\.dgm$/.test(f))).toHaveLength(1);
    if (remembered) expect(files).toEqual(expect.arrayContaining([expect.stringMatching(/^[0-9a-f]{64}\.dgm$/), "digests.json"]));
    expect(files.length).toBeLessThanOrEqual(2);
    expect((await dogma(["run", built("echo"), "y"], "", { DOGMA_CACHE_DIR: dir })).stdout).toBe("y\n");
  });

  it("explains its usage: each command's options, described; --version; errors with the usage", async () => {
    const overall = await dogma(["--help"]);
    expect(overall.stdout).toMatch(/^usage: dogma COMMAND/);
    for (const command of ["run", "boot", "cache", "web"]) expect(overall.stdout).toMatch(new RegExp(`^  ${command} +\\S`, "m"));
    const run = await dogma(["run", "--help"]);
    expect(run).toMatchObject({ code: 0, stderr: "" });
    expect(run.stdout).toMatch(/^usage: dogma run \[options\] PROGRAM\.wasm \[ARGS\.\.\.\]\n/);
    for (const option of ["--memory SIZE", "--module FILE", "--dir HOST", "--env NAME=VALUE", "--inherit-env", "--trace", "--no-cache", "--help"]) {
      // Described on its line, or (a long one) on the next.
      expect(run.stdout).toMatch(new RegExp(`^  (-\\w, )?${option.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(.* \\w+|\\S*\\n {20,}\\w)`, "m"));
    }
    expect(run.stdout).not.toContain("--config");
    const boot = await dogma(["boot", "--help"]);
    for (const option of ["--disk FILE", "--read-only", "--format", "--share DIR", "--memory SIZE", "--config FILE", "--verbose", "--no-cache"]) {
      expect(boot.stdout).toMatch(new RegExp(`^  (-\\w, )?${option}  +\\w`, "m"));
    }
    expect((await dogma(["help", "boot"])).stdout).toBe(boot.stdout);
    expect((await dogma(["--version"])).stdout).toMatch(/^dogma \d+\.\d+\.\d+ \(Node\.js 26\./);
    // --flag=value is --flag value; options end at the program, whose own flags are its.
    expect(await dogma(["run", "--memory=16M", built("echo"), "--memory=1", "-x"])).toEqual({ code: 0, stdout: "--memory=1 -x\n", stderr: "" });
    const wrong = await dogma(["run", "--bogus", built("hello")]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/^dogma run: unknown option "--bogus"\n\nusage: dogma run /);
    expect((await dogma(["run", "--trace=yes", built("hello")])).stderr).toMatch(/^dogma run: --trace takes no value \(given "yes"\)\n\nusage: dogma run/);
    expect((await dogma(["run", "--module"])).stderr).toMatch(/^dogma run: --module needs a value: --module FILE\n/);
    expect(await dogma(["run"])).toMatchObject({ code: 2, stderr: expect.stringMatching(/^dogma run: no program given\n/) });
    expect(await dogma(["frobnicate"])).toMatchObject({ code: 2, stderr: expect.stringMatching(/^dogma: unknown command "frobnicate"\n\nusage: dogma COMMAND/) });
    expect(await dogma(["boot", "--verbose=1"])).toMatchObject({ code: 2, stderr: expect.stringMatching(/^dogma boot: --verbose takes no value/) });
    expect(await dogma(["cache", "bogus"])).toMatchObject({ code: 2, stderr: expect.stringMatching(/^dogma cache: unknown operand "bogus"/) });
  });
});
