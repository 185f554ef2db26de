// Loop outlining in a binary with 1 MiB of code or more, as the variant `outlineMaxCode` allows it
// (by default such a binary gets none: outline-plan.ts OUTLINE_MAX_CODE) (src/loader/call-sites.ts,
// outline-plan.ts, rewrite-module.ts): which functions run once is found from the call sites the workers' chunks
// record as they rewrite, and those functions are rewritten again (on the machine's thread, in
// slices) with their loops moved out and put in their first rewrite's place. The loops are outlined, the output is the same bytes from the
// workers and from the machine's thread (whose chunks are cut elsewhere), and the program runs to
// its native result.
import { afterAll, describe, expect, it } from "vitest";
import { NodeLoaderWorkers } from "../../src/hosts/node/loader-workers.ts";
import type { CacheRecord } from "../../src/loader/cache.ts";
import { codeLayout, HELPERS, type CodeLayout } from "../../src/loader/output-layout.ts";
import type { BodyChunk, ChunkOutcome } from "../../src/loader/rewrite-code.ts";
import { rewriteModule, SlicedRewriter } from "../../src/loader/rewrite-module.ts";
import { codeSectionBytes } from "../../src/loader/validate.ts";
import { ByteWriter } from "../../src/loader/wasm/byte-writer.ts";
import { readModule } from "../../src/loader/wasm/module-info.ts";
import { readNames } from "../../src/loader/name-section.ts";
import { testMachine } from "../helpers/test-host.ts";

/** Workers that count the chunks they were given. */
class CountingWorkers extends NodeLoaderWorkers {
  chunks = 0;
  override rewrite(bytes: Uint8Array, layout: CodeLayout, chunks: readonly BodyChunk[], take: (index: number, outcome: ChunkOutcome) => void): Promise<void> {
    this.chunks += chunks.length;
    return super.rewrite(bytes, layout, chunks, take);
  }
}

const FILLERS = 5_000;
const MAIN = 2_500; // among the fillers: in the middle of a chunk
const ONCE = 10; // called once by $main, outside its loop
const START = FILLERS + 2;

/**
 * 5,000 functions of about 220 bytes (a loop of loads and stores each, called by nothing), $once
 * (function 10: fills a table in a loop), $main (function 2,500: calls $once, then hashes in a loop
 * that stores as it goes) and `_start` (the last) calling $main.
 */
function bigProgram(): Uint8Array<ArrayBuffer> {
  const total = FILLERS + 3;
  const kind = (f: number) => (f === ONCE ? "once" : f === MAIN ? "main" : f === START ? "start" : "filler");
  const w = new ByteWriter(total * 300 + 1024);
  w.bytes(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
  // Types: 0 (i32, i32) -> i32, 1 () -> i32.
  w.section(1, (s) => s.bytes(new Uint8Array([2, 0x60, 2, 0x7f, 0x7f, 1, 0x7f, 0x60, 0, 1, 0x7f])));
  w.section(3, (s) => {
    s.u32(total);
    for (let f = 0; f < total; f++) s.u8(kind(f) === "filler" ? 0 : 1);
  });
  w.section(5, (s) => s.bytes(new Uint8Array([1, 0, 4])));
  w.section(7, (s) => {
    s.u32(1);
    s.name("_start");
    s.u8(0);
    s.u32(START);
  });
  w.section(10, (s) => {
    s.u32(total);
    for (let f = 0; f < total; f++) {
      s.sized((b) => {
        switch (kind(f)) {
          case "filler":
            b.bytes(new Uint8Array([1, 1, 0x7f, 0x03, 0x40]));
            for (let k = 0; k < 8; k++) {
              b.bytes(new Uint8Array([0x20, 2, 0x41]));
              b.s32(Math.imul(f + 1, 0x9e3779b1) ^ k);
              b.bytes(new Uint8Array([0x6c, 0x20, 0, 0x28, 2, 4 * k, 0x6a, 0x21, 2, 0x20, 0, 0x20, 2, 0x36, 2]));
              b.u32(4 * k + 256);
            }
            b.bytes(new Uint8Array([0x20, 1, 0x41, 1, 0x6b, 0x22, 1, 0x41, 0, 0x4a, 0x0d, 0, 0x0b, 0x20, 2, 0x0b]));
            return;
          case "once":
            // (local $i) loop: store offset=8192 (i << 2) i; i++; br_if i < 1000; load offset=8192 (3996)
            b.bytes(new Uint8Array([1, 1, 0x7f, 0x03, 0x40, 0x20, 0, 0x41, 2, 0x74, 0x20, 0, 0x36, 2, 0x80, 0x40]));
            b.bytes(new Uint8Array([0x20, 0, 0x41, 1, 0x6a, 0x22, 0, 0x41, 0xe8, 0x07, 0x49, 0x0d, 0, 0x0b, 0x41, 0x9c, 0x1f, 0x28, 2, 0x80, 0x40, 0x0b]));
            return;
          case "main":
            // (local $i $h) h = call $once; loop: h = (h ^ i) * 16777619; store offset=4096 (i & 1020) h; i++; br_if i < 200000; h + load offset=4096 (0)
            b.bytes(new Uint8Array([1, 2, 0x7f, 0x10]));
            b.u32(ONCE);
            b.bytes(new Uint8Array([0x21, 1, 0x03, 0x40, 0x20, 1, 0x20, 0, 0x73, 0x41]));
            b.s32(16777619);
            b.bytes(new Uint8Array([0x6c, 0x21, 1, 0x20, 0, 0x41, 0xfc, 0x07, 0x71, 0x20, 1, 0x36, 2, 0x80, 0x20]));
            b.bytes(new Uint8Array([0x20, 0, 0x41, 1, 0x6a, 0x22, 0, 0x41]));
            b.s32(200_000);
            b.bytes(new Uint8Array([0x49, 0x0d, 0, 0x0b, 0x20, 1, 0x41, 0, 0x28, 2, 0x80, 0x20, 0x6a, 0x0b]));
            return;
          case "start":
            b.bytes(new Uint8Array([0, 0x10]));
            b.u32(MAIN);
            b.u8(0x0b);
            return;
        }
      });
    }
  });
  return w.take() as Uint8Array<ArrayBuffer>;
}

const policy = { maxBinaryBytes: 16 << 20, maxMemoryPages: 256, importModules: new Map() };
// Outlining of any size, as the variant lifts it (by default a code section of 1 MiB or more gets none: OUTLINE_MAX_CODE).
const anySize = { outlineMaxCode: Infinity };
const workers = new CountingWorkers(2);
afterAll(() => workers.close());

/** The output's function names (its name section read as a module's). */
function outputNames(record: CacheRecord): string[] {
  const info = readModule(record.rewritten);
  return [...readNames(record.rewritten, info.nameSection).functions.values()];
}

describe("loop outlining in a binary with 1 MiB of code or more", () => {
  const program = bigProgram();

  it("moves the loops of the functions that run once out, through the workers, to the same bytes as on the machine's thread, and runs to the native result", async () => {
    expect(codeSectionBytes(program)).toBeGreaterThanOrEqual(1 << 20);
    const t = testMachine({ loader: { workers, rewrite: anySize } });
    const image = await t.loader.load(program, "big.wasm");
    expect(workers.chunks, "the workers rewrote the chunks").toBeGreaterThan(1);
    const onWorkers = await rewriteModule("big.wasm", program, policy, workers, anySize);
    const inThread = await rewriteModule("big.wasm", program, policy, new SlicedRewriter(), anySize);
    expect(Buffer.from(onWorkers.rewritten).equals(inThread.rewritten)).toBe(true);
    // $once and $main run once; the fillers are called by nothing and `_start` calls $main outside any loop.
    expect(outputNames(onWorkers).filter((n) => n.includes(".loop"))).toEqual([`${ONCE}.loop0`, `${MAIN}.loop0`]);
    const output = readModule(onWorkers.rewritten);
    expect(output.functions.length).toBe(FILLERS + 3 + HELPERS.length + 2);
    // $main's new body, in its first rewrite's place, calls its loop (the second outlined, after the helpers).
    const loop = new ByteWriter(8);
    loop.u8(0x10);
    loop.u32(codeLayout(0, FILLERS + 3, 0).firstOutlined + 1);
    const main = output.bodies[MAIN]!;
    expect(Buffer.from(onWorkers.rewritten.subarray(main.start, main.end)).includes(Buffer.from(loop.view()))).toBe(true);

    // By default, none: no loop moves, and with none the helpers after the last one called are left out (output-layout.ts HELPERS).
    const byDefault = await rewriteModule("big.wasm", program, policy, workers);
    expect(outputNames(byDefault).filter((n) => n.includes(".loop"))).toEqual([]);
    expect(readModule(byDefault.rewritten).functions.length).toBeLessThan(output.functions.length - 2);

    const native = (new WebAssembly.Instance(new WebAssembly.Module(program)).exports["_start"] as () => number)();
    const process = t.kernel.spawn(image, { entry: "_start", mapImage: false });
    await t.kernel.run();
    expect(process.outcome).toEqual({ kind: "exited", code: 0 });
    expect(process.returnValue).toBe(native);
  }, 60_000);
});
