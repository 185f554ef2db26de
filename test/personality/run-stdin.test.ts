import { spawn } from "node:child_process";
import { closeSync, openSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CONSOLE_READ_MAX } from "../../src/personality/wasi/fd-calls.ts";
import { cProgram, scratchFolder } from "./wasi-programs.ts";

/**
 * `dogma run`'s stdin given as a file or a pipe: a WASI program's fd 0 is the boot console, whose
 * reads take what the host has buffered (up to CONSOLE_READ_MAX) rather than one stream message
 * (252 bytes) each. stdin-reads says how many reads it made, the largest, and a hash of the bytes.
 */
const root = join(import.meta.dirname, "../..");
const folder = scratchFolder("run-stdin");
const cacheDir = join(root, "build/wasi-conformance/module-cache");
afterAll(() => rmSync(folder, { recursive: true, force: true }));

interface Reads {
  bytes: number;
  reads: number;
  largest: number;
  fnv: string;
}

/** `dogma run stdin-reads ARGS` with `input` (a file's descriptor, or bytes written to a pipe) as its stdin. */
function run(args: readonly string[], input: number | Uint8Array): Promise<{ code: number | null; reads: Reads | null; stderr: string }> {
  const child = spawn(process.execPath, [join(root, "bin/dogma.js"), "run", cProgram("stdin-reads"), ...args], {
    cwd: root,
    env: { ...process.env, DOGMA_CACHE_DIR: cacheDir },
    stdio: [typeof input === "number" ? input : "pipe", "pipe", "pipe"],
  });
  if (typeof input !== "number") {
    child.stdin!.on("error", () => {}); // the program may end before it has read it all
    child.stdin!.end(input);
  }
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (data: Buffer) => void (stdout += data.toString()));
  child.stderr!.on("data", (data: Buffer) => void (stderr += data.toString()));
  return new Promise((resolve) =>
    child.on("close", (code) => {
      const m = /^bytes (\d+) reads (\d+) largest (\d+) fnv ([0-9a-f]{8})\n$/.exec(stdout);
      resolve({ code, stderr: stderr + (m ? "" : stdout), reads: m ? { bytes: Number(m[1]), reads: Number(m[2]), largest: Number(m[3]), fnv: m[4]! } : null });
    }),
  );
}

function fnv(bytes: Uint8Array): string {
  let hash = 2166136261;
  for (const b of bytes) hash = Math.imul(hash ^ b, 16777619) >>> 0;
  return hash.toString(16).padStart(8, "0");
}

/** Every byte value, in an order that no short period repeats. */
function content(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  let x = 0x12345678;
  for (let i = 0; i < size; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    bytes[i] = x >>> 24;
  }
  return bytes;
}

describe.concurrent("dogma run: stdin from a file or a pipe", () => {
  it("gives a file whole, in reads of the host's chunks, not of one stream message", async () => {
    const data = content((3 << 20) + 12_345);
    const file = join(folder, "in.bin");
    writeFileSync(file, data);
    const fd = openSync(file, "r");
    try {
      const { code, reads, stderr } = await run([], fd);
      expect(code, stderr).toBe(0);
      expect(reads).toMatchObject({ bytes: data.length, fnv: fnv(data) });
      // 252 bytes a read made 12,532 reads of it; the host reads 64 KiB at a time.
      expect(reads!.largest).toBeGreaterThan(4096);
      expect(reads!.largest).toBeLessThanOrEqual(CONSOLE_READ_MAX);
      expect(reads!.reads).toBeLessThan(data.length / 4096);
    } finally {
      closeSync(fd);
    }
  });

  it("gives a pipe whole, in large reads", async () => {
    const data = content(1 << 20);
    const { code, reads, stderr } = await run([], data);
    expect(code, stderr).toBe(0);
    expect(reads).toMatchObject({ bytes: data.length, fnv: fnv(data) });
    expect(reads!.reads).toBeLessThan(data.length / 4096);
  });

  it("keeps to each read's buffer, and the bytes a short read leaves come next", async () => {
    const data = content(200_003);
    const { code, reads, stderr } = await run(["1000"], data);
    expect(code, stderr).toBe(0);
    expect(reads).toMatchObject({ bytes: data.length, fnv: fnv(data), largest: 1000 });
  });

  it("loses nothing to a read into an address past the program's memory (EFAULT): the next read gets those bytes", async () => {
    const data = content(300_000);
    const { code, reads, stderr } = await run(["65536", "1000000", "bad"], data);
    expect(code, stderr).toBe(0);
    expect(reads).toMatchObject({ bytes: data.length, fnv: fnv(data) });
  });

  it("ends cleanly when the program stops reading early, its input not yet all read", async () => {
    const data = content(8 << 20);
    const file = join(folder, "big.bin");
    writeFileSync(file, data);
    const fd = openSync(file, "r");
    try {
      const fromFile = await run(["65536", "100000"], fd);
      expect(fromFile.code, fromFile.stderr).toBe(0);
      expect(fromFile.reads).toMatchObject({ bytes: 100_000, fnv: fnv(data.subarray(0, 100_000)) });
    } finally {
      closeSync(fd);
    }
    const fromPipe = await run(["65536", "3"], data);
    expect(fromPipe.code, fromPipe.stderr).toBe(0);
    expect(fromPipe.reads).toMatchObject({ bytes: 3, reads: 1, fnv: fnv(data.subarray(0, 3)) });
  });
});
