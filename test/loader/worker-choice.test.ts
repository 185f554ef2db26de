// Which binaries the loader hands to the host's workers: those with much code to rewrite, not
// those that are big for their data (starting workers costs tens of MB each: a 21 MB speech
// synthesizer with 0.2 MB of code peaked at 5.8x its size loaded through them, 1.25x without).
import { describe, expect, it } from "vitest";
import type { CodeLayout } from "../../src/loader/output-layout.ts";
import type { BodyChunk, ChunkOutcome, CodeWorkers } from "../../src/loader/rewrite-code.ts";
import { SlicedRewriter, WORKER_BODY_BYTES, WORKER_THRESHOLD } from "../../src/loader/rewrite-module.ts";
import { LoadError } from "../../src/loader/load-error.ts";
import { codeSectionBytes, largestBodyBytes } from "../../src/loader/validate.ts";
import { readModule } from "../../src/loader/wasm/module-info.ts";
import { testMachine } from "../helpers/test-host.ts";
import { generatedModule } from "../../bench/generated-module.ts";
import { watToBinary } from "./wat.ts";

/** Workers that do the work on this thread and count what they were given. */
class CountingWorkers implements CodeWorkers {
  calls = 0;
  private readonly inner = new SlicedRewriter();
  readonly transientCode = this.inner.transientCode;
  validate(bytes: Uint8Array): Promise<string | null> {
    this.calls++;
    return this.inner.validate(bytes);
  }
  rewrite(bytes: Uint8Array, layout: CodeLayout, chunks: readonly BodyChunk[], take: (index: number, outcome: ChunkOutcome) => void): Promise<void> {
    this.calls++;
    return this.inner.rewrite(bytes, layout, chunks, take);
  }
}

const DATA_BYTES = 2 * WORKER_THRESHOLD;
const mostlyData = watToBinary(`(module (memory 64)
  (data (i32.const 4096) "${"\\2a".repeat(DATA_BYTES)}")
  (func (export "_start") (drop (i32.load (i32.const 4096)))))`);

describe("the loader's workers", () => {
  it("get no binary that is big only for its data", async () => {
    expect(mostlyData.length).toBeGreaterThan(DATA_BYTES);
    expect(codeSectionBytes(mostlyData)).toBeLessThan(100);
    const workers = new CountingWorkers();
    const t = testMachine({ loader: { workers } });
    const p = t.kernel.spawn(await t.loader.load(mostlyData, "data.wasm"));
    await t.kernel.run();
    expect(p.outcome).toEqual({ kind: "exited", code: 0 });
    expect(workers.calls).toBe(0);
  });

  it("get a binary with much code", async () => {
    const big = generatedModule(4000);
    expect(codeSectionBytes(big)).toBeGreaterThanOrEqual(WORKER_THRESHOLD);
    const workers = new CountingWorkers();
    await testMachine({ loader: { workers } }).loader.load(big, "big.wasm");
    expect(workers.calls).toBeGreaterThan(0);
  });

  it("get no binary with less code than the least they ask for (minCodeBytes)", async () => {
    const big = generatedModule(4000);
    const code = codeSectionBytes(big);
    expect(code).toBeGreaterThanOrEqual(WORKER_THRESHOLD);
    for (const [minCodeBytes, used] of [[code + 1, false], [code, true]] as const) {
      const workers = Object.assign(new CountingWorkers(), { minCodeBytes });
      await testMachine({ loader: { workers } }).loader.load(big, "big.wasm");
      expect(workers.calls > 0).toBe(used);
    }
  });

  it("get a binary with one body too big for a slice, whatever the least code they ask for", async () => {
    // One function of WORKER_BODY_BYTES: rewritten in one piece, it would hold the machine's
    // thread for as long as that takes.
    const stores = Math.ceil(WORKER_BODY_BYTES / 10);
    const huge = watToBinary(`(module (memory 2)
      (func $big (param $p i32) ${"(i32.store offset=8 (local.get $p) (i32.load offset=4 (local.get $p)))".repeat(stores)})
      (func (export "_start") (call $big (i32.const 8192))))`);
    expect(largestBodyBytes(huge)).toBeGreaterThanOrEqual(WORKER_BODY_BYTES);
    expect(codeSectionBytes(huge)).toBeLessThan(WORKER_THRESHOLD);
    const small = generatedModule(400);
    expect(largestBodyBytes(small)).toBeLessThan(WORKER_BODY_BYTES);
    for (const [bytes, used] of [[huge, true], [small, false]] as const) {
      const workers = Object.assign(new CountingWorkers(), { minCodeBytes: 8 << 20 });
      const t = testMachine({ loader: { workers } });
      const image = await t.loader.load(bytes, "one-body.wasm");
      expect(workers.calls > 0).toBe(used);
      if (bytes !== huge) continue;
      const p = t.kernel.spawn(image);
      await t.kernel.run();
      expect(p.outcome).toEqual({ kind: "exited", code: 0 });
    }
  });

  it("rewrite again a body too big for a slice, its loops outlined (redteam16)", async () => {
    // A function that runs once (called by `_start` alone) with a loop is rewritten a second time,
    // with its loops moved out: a body of WORKER_BODY_BYTES or more must go to the workers then
    // too, or that second rewrite holds the machine's thread as the first would have.
    const stores = Math.ceil(WORKER_BODY_BYTES / 10);
    const huge = watToBinary(`(module (memory 2)
      (func $big (param $p i32) (local $i i32)
        (loop $again
          (i32.store offset=8 (local.get $p) (i32.add (i32.load offset=8 (local.get $p)) (local.get $i)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $again (i32.lt_u (local.get $i) (i32.const 100))))
        ${"(i32.store offset=8 (local.get $p) (i32.load offset=4 (local.get $p)))".repeat(stores)})
      (func (export "_start") (call $big (i32.const 8192))))`);
    expect(largestBodyBytes(huge)).toBeGreaterThanOrEqual(WORKER_BODY_BYTES);
    const given: number[] = [];
    const workers = Object.assign(new CountingWorkers(), { minCodeBytes: 8 << 20 });
    const rewrite = workers.rewrite.bind(workers);
    workers.rewrite = (bytes, layout, chunks, take) => {
      for (const chunk of chunks) for (const body of chunk) if (body.end - body.start >= WORKER_BODY_BYTES) given.push(body.outline === undefined ? 1 : 2);
      return rewrite(bytes, layout, chunks, take);
    };
    const t = testMachine({ loader: { workers } });
    const image = await t.loader.load(huge, "outlined-body.wasm");
    expect(given).toEqual([1, 2]); // its first rewrite, then the one with its loop outlined
    const p = t.kernel.spawn(image);
    await t.kernel.run();
    expect(p.outcome).toEqual({ kind: "exited", code: 0 });
  });

  it("read the largest body's size from the code section's size fields, whatever the binary holds", () => {
    const header = [0, 0x61, 0x73, 0x6d, 1, 0, 0, 0];
    expect(largestBodyBytes(new Uint8Array(header))).toBe(0);
    // Bodies of 3 and 5 bytes; then a count past what the section holds, and a body size past its end.
    expect(largestBodyBytes(new Uint8Array([...header, 10, 11, 2, 3, 0, 0x41, 0x0b, 5, 0, 1, 1, 1, 0x0b]))).toBe(5);
    expect(largestBodyBytes(new Uint8Array([...header, 10, 6, 0xff, 0x01, 0xff, 0xff, 0x03, 0]))).toBe(1);
    expect(largestBodyBytes(new Uint8Array([...header, 10, 3, 0x80, 0x80, 0x80]))).toBe(0);
  });

  it("refuse a binary that is invalid and against the policy by its validation, as on this thread", async () => {
    // On workers the binary is read and its policy checked while a worker validates it; the
    // validation's refusal must still come first. The generated module asks for 16 pages: a
    // limit of 8 refuses it by policy; a body made invalid must be refused by validation instead.
    const valid = generatedModule(4000);
    const invalid = valid.slice();
    const body = readModule(invalid).bodies[2000]!;
    invalid[body.end - 2] = 0xff; // no such opcode
    const refusal = async (bytes: Uint8Array, workers: CodeWorkers | null) => {
      const t = testMachine({ loader: { workers, maxMemoryPages: 8 } });
      return t.loader.load(bytes, "big.wasm").then(() => null, (error: unknown) => error);
    };
    const byPolicy = await refusal(valid, new CountingWorkers());
    expect(byPolicy).toBeInstanceOf(LoadError);
    expect((byPolicy as LoadError).where).toMatch(/memory/);
    const workers = new CountingWorkers();
    const onWorkers = await refusal(invalid, workers);
    expect(workers.calls).toBeGreaterThan(0);
    const onThread = await refusal(invalid, null);
    expect(onWorkers).toBeInstanceOf(LoadError);
    expect((onWorkers as LoadError).where).toMatch(/^function 2000/);
    expect(onWorkers).toEqual(onThread);
  });

  it("read the code section's size from the section headers, whatever the binary holds", () => {
    expect(codeSectionBytes(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]))).toBe(0);
    // A size that runs past the end, or an over-long LEB128: the rest of the binary counts.
    expect(codeSectionBytes(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 10, 0xff, 0xff, 0x03, 1]))).toBe(1);
    expect(codeSectionBytes(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]))).toBe(15);
  });
});
