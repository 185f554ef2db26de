// The output of a cold load is written once: chunks are appended in order as they come back (in
// any order) and freed, and the module is framed around them in the same buffer
// (src/loader/code-output.ts, rewritten-chunks.ts). Workers and the machine's thread give the
// same bytes.
import { afterAll, describe, expect, it } from "vitest";
import { NodeLoaderWorkers } from "../../src/hosts/node/loader-workers.ts";
import { standardImportModules } from "../../src/hosts/standard-imports.ts";
import { CodeOutput, pageCopy, releaseBytes } from "../../src/loader/code-output.ts";
import { decodeRecord, type ModuleCache } from "../../src/loader/cache.ts";
import { codeSectionBytes } from "../../src/loader/validate.ts";
import { readModule } from "../../src/loader/wasm/module-info.ts";
import { Loader } from "../../src/loader/loader.ts";
import { chunkBodies, type ChunkOutcome } from "../../src/loader/rewrite-code.ts";
import { SlicedRewriter } from "../../src/loader/rewrite-module.ts";
import { RewrittenChunks } from "../../src/loader/rewritten-chunks.ts";
import { HELPERS } from "../../src/loader/output-layout.ts";
import { generatedModule } from "../../bench/generated-module.ts";

const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);
function joined(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
  return out;
}
/** Byte equality (vitest's toEqual takes seconds on MBs). */
const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);

function chunk(seed: number, size: number): ChunkOutcome {
  return { ok: true, code: bytes(size, seed), writesTables: seed === 2, accessHelpers: [seed], bulkHelpers: [seed === 1, false], hints: bytes(3, seed), hintedFunctions: 1, outlined: new Uint8Array(0), outlinedHints: new Uint8Array(0), outlinedHinted: 0, calls: new Int32Array(0) };
}

describe("CodeOutput", () => {
  it("frames the code appended between a head and a tail, in one buffer of exactly their size", () => {
    const out = new CodeOutput(100);
    const code = [bytes(1000, 1), bytes(7, 2), bytes(300_000, 3)];
    for (const piece of code) out.append(piece);
    const head = [bytes(5, 4), bytes(40, 5)];
    const tail = [bytes(9, 6)];
    const module = out.frame(head, tail);
    expect(module.byteLength).toBe(module.buffer.byteLength);
    expect(same(module, joined([...head, ...code, ...tail]))).toBe(true);
  });

  it("puts replacements, longer and shorter, in the places they take, in the same move", () => {
    const code = bytes(4000, 7);
    // [at, length, new length] of each replacement, in order; the head's size.
    const cases: Array<[number, Array<[number, number, number]>]> = [
      [30, [[10, 100, 5], [110, 50, 900], [3000, 1000, 3]]],
      [30, [[10, 100, 400], [110, 50, 1], [3000, 1000, 2000]]],
      [0, [[10, 100, 0], [110, 50, 3000], [3000, 1000, 0]]],
      [7, [[10, 2, 500], [20, 2, 500], [30, 1, 0], [40, 3000, 2]]],
      [7, [[0, 0, 50], [4000, 0, 50]]],
    ];
    for (const [headBytes, spec] of cases) {
      const out = new CodeOutput(100);
      out.append(code);
      const replaced = spec.map(([at, length, size], i) => ({ at, length, bytes: bytes(size, i + 1) }));
      const head = [bytes(headBytes, 40)];
      const parts: Uint8Array[] = [...head];
      let from = 0;
      for (const r of replaced) {
        parts.push(code.subarray(from, r.at), r.bytes);
        from = r.at + r.length;
      }
      parts.push(code.subarray(from), bytes(9, 5));
      expect(same(out.frame(head, [bytes(9, 5)], replaced), joined(parts)), JSON.stringify(spec)).toBe(true);
    }
  });

  it("moves to a larger buffer when the code passes what it reserved", () => {
    const out = new CodeOutput(1, 1 << 20);
    const code = [bytes(700_000, 1), bytes(700_000, 2), bytes(1_500_000, 3)];
    for (const piece of code) out.append(piece);
    expect(same(out.frame([bytes(3, 4)], []), joined([bytes(3, 4), ...code]))).toBe(true);
  });
});

describe("RewrittenChunks", () => {
  it("places chunks in their order whatever order they come in, freeing each once placed", () => {
    const outcomes = [chunk(0, 10), chunk(1, 20), chunk(2, 30), chunk(3, 40)];
    const expected = joined(outcomes.map((o) => (o.ok ? o.code.slice() : new Uint8Array())));
    const chunks = new RewrittenChunks(100, 0, 0);
    const placed = [2, 0, 3, 1].map((index) => {
      chunks.take(index, outcomes[index]!);
      return chunks.placed;
    });
    expect(placed).toEqual([0, 1, 1, 4]);
    expect(outcomes.every((o) => o.ok && o.code.byteLength === 0), "each chunk's code freed").toBe(true);
    expect(chunks.bodies.frame([], [])).toEqual(expected);
    expect(chunks.hintedFunctions).toBe(4);
    expect([...chunks.accessHelpers].sort()).toEqual([0, 1, 2, 3]);
    expect(chunks.bulkHelpers).toEqual([true, false]);
    expect(chunks.writesTables).toBe(true);
  });

  it("keeps the refusal of the first chunk refused, whichever comes first", () => {
    const chunks = new RewrittenChunks(100, 0, 0);
    const refusal = (functionIndex: number): ChunkOutcome => ({ ok: false, functionIndex, offset: 0, refusal: "atomics", message: "" });
    chunks.take(3, refusal(30));
    chunks.take(1, refusal(10));
    chunks.take(2, refusal(20));
    expect(chunks.refusal?.functionIndex).toBe(10);
  });
});

/** A cache that keeps a copy of each record it is given. */
class KeepingCache implements ModuleCache {
  readonly records: Uint8Array[] = [];
  async get(): Promise<Uint8Array | null> {
    return null;
  }
  async put(_key: string, record: Uint8Array): Promise<void> {
    this.records.push(record.slice());
  }
  async putParts(key: string, parts: readonly Uint8Array[]): Promise<void> {
    await this.put(key, joined(parts));
  }
}

const workers = new NodeLoaderWorkers(2);
afterAll(() => workers.close());

/**
 * The machine's thread's output (64 KB slices) for generatedModule(6_000), made once: the tests that
 * compare the workers' output with it would otherwise each rewrite the same 1.5 MB again.
 */
let onThread: Promise<Uint8Array> | null = null;
function threadRecord(big: Uint8Array): Promise<Uint8Array> {
  onThread ??= (async () => {
    const cache = new KeepingCache();
    const image = await new Loader({ importModules: standardImportModules(), workers: new SlicedRewriter(), cache }).load(big, "big.wasm");
    expect(image.module).toBeInstanceOf(WebAssembly.Module);
    return cache.records[0]!;
  })();
  return onThread;
}

describe("a cold load's output", () => {
  it("is the same bytes from the workers (chunks of 256 KB) and from the machine's thread (64 KB slices)", async () => {
    const big = generatedModule(6_000);
    const cache = new KeepingCache();
    const image = await new Loader({ importModules: standardImportModules(), workers, cache }).load(big, "big.wasm");
    expect(image.module).toBeInstanceOf(WebAssembly.Module);
    const records = [cache.records[0]!, await threadRecord(big)];
    expect(records[0]!.length).toBeGreaterThan(big.length);
    expect(same(records[0]!, records[1]!)).toBe(true);
  }, 60_000);
});

describe("a cold load's output with loops outlined (src/loader/outline-plan.ts)", () => {
  // Each body a chunk sends a worker is moved to the chunk's copy: the plan's offsets must follow.
  it("is the same bytes from the workers and from the machine's thread", async () => {
    const big = generatedModule(3_000); // 0.78 MB of code, one loop a function: under OUTLINE_MAX_CODE
    const records: Uint8Array[] = [];
    for (const pool of [workers, new SlicedRewriter()]) {
      const cache = new KeepingCache();
      const loader = new Loader({ importModules: standardImportModules(), workers: pool, cache, rewrite: { outline: "all" } });
      const image = await loader.load(big, "big.wasm");
      expect(WebAssembly.Module.exports(image.module).length).toBeGreaterThan(0);
      records.push(cache.records[0]!);
    }
    expect(same(records[0]!, records[1]!)).toBe(true);
    // 3,000 functions more than the program's and every helper: one per loop. Without outlining,
    // the helpers after the last one called are left out (output-layout.ts HELPERS).
    const plain = new KeepingCache();
    await new Loader({ importModules: standardImportModules(), cache: plain }).load(big, "big.wasm");
    const functions = (record: Uint8Array) => readModule(decodeRecord(record)!.rewritten).functions.length;
    const own = readModule(big).functions.length;
    expect(functions(records[0]!)).toBe(own + HELPERS.length + 3_000);
    expect(functions(plain.records[0]!)).toBeLessThan(own + HELPERS.length);
  }, 60_000);
});

describe("the workers of a cold load", () => {
  // What they hold (their engines' heaps, the rewriter's compiled code) would otherwise sit beside
  // the two copies of the output at the load's peak: the engine's validation and its compile.
  it("have ended when the load returns, and start again for the next one", async () => {
    const pool = new NodeLoaderWorkers(2);
    try {
      for (const functions of [6_000, 6_001]) {
        const loader = new Loader({ importModules: standardImportModules(), workers: pool });
        const image = await loader.load(generatedModule(functions), "big.wasm");
        expect(image.module).toBeInstanceOf(WebAssembly.Module);
        expect(loader.stats.rewrites).toBe(1);
        expect(pool.running).toBe(0);
      }
    } finally {
      await pool.close();
    }
  }, 60_000);
});

describe("the workers of a pool that keeps them", () => {
  // Each fresh worker optimizes the rewriter again: a host that loads big binaries one after the
  // other keeps them (NodeLoaderWorkers `keep`), until they have had nothing to do for `idleMs`.
  it("are still running when a load returns, and the next load and its compile start none", async () => {
    const pool = new NodeLoaderWorkers(2, 60_000, undefined, true);
    try {
      const records: Uint8Array[] = [];
      let started = 0;
      for (const functions of [6_000, 6_000]) {
        const cache = new KeepingCache();
        const loader = new Loader({ importModules: standardImportModules(), workers: pool, cache });
        await loader.load(generatedModule(functions), "big.wasm");
        expect(loader.stats.rewrites).toBe(1);
        expect(pool.running).toBe(2);
        records.push(cache.records[0]!);
        if (started === 0) started = pool.started;
        else expect(pool.started).toBe(started);
      }
      expect(started).toBe(2);
      expect(same(records[0]!, records[1]!)).toBe(true);
    } finally {
      await pool.close();
    }
    expect(pool.running).toBe(0);
  }, 60_000);
});

describe("the buffers of a cold load on workers", () => {
  // Each chunk's code comes back in the buffer the worker wrote it into, which goes back to a
  // worker once the code is placed: fresh memory per chunk cost a page fault per 4 KiB of output.
  it("go back to the workers once each chunk's code is placed, and the output is the same", async () => {
    class Recycling extends NodeLoaderWorkers {
      recycled = 0;
      override recycle(code: Uint8Array): void {
        expect(code.length).toBeGreaterThan(0);
        this.recycled++;
        super.recycle(code);
      }
    }
    const pool = new Recycling(2);
    const big = generatedModule(6_000);
    try {
      const cache = new KeepingCache();
      await new Loader({ importModules: standardImportModules(), workers: pool, cache }).load(big, "big.wasm");
      const records = [cache.records[0]!, await threadRecord(big)];
      // One per chunk of 256 KiB of code.
      expect(pool.recycled).toBeGreaterThanOrEqual(Math.floor(codeSectionBytes(big) / (256 << 10)));
      expect(same(records[0]!, records[1]!)).toBe(true);
    } finally {
      await pool.close();
    }
  }, 60_000);
});

describe("a worker standing by", () => {
  // Its start (Node's and the loader's code in a new isolate) overlaps the rewrite instead of
  // following it, when the output will be compiled on a worker.
  it("is asked for as a load starts whose output is compiled on a worker, and not for a small one", async () => {
    class Counting extends NodeLoaderWorkers {
      standBys = 0;
      override standBy(): void {
        this.standBys++;
        super.standBy();
      }
    }
    const pool = new Counting(2, undefined, Number.MAX_SAFE_INTEGER); // rewritten on this thread
    try {
      await new Loader({ importModules: standardImportModules(), workers: pool }).load(generatedModule(3_000), "big.wasm");
      expect(pool.standBys).toBe(1);
      expect(pool.running).toBe(0); // the compile's worker ends with it
      await new Loader({ importModules: standardImportModules(), workers: pool }).load(generatedModule(20), "small.wasm");
      expect(pool.standBys).toBe(1);
    } finally {
      await pool.close();
    }
  }, 60_000);

  it("is a worker started at once", async () => {
    const pool = new NodeLoaderWorkers(2);
    try {
      expect(pool.running).toBe(0);
      pool.standBy();
      expect(pool.running).toBe(1);
      pool.standBy();
      expect(pool.running).toBe(1);
    } finally {
      await pool.close();
    }
  });
});

describe("chunkBodies", () => {
  // On the machine's thread a slice ends only between chunks, and the rewriter's first chunks run
  // in the engine's interpreter: a first chunk of 64 KB held the thread for 0.2 s.
  it("cuts first chunks of about firstBytes, each next twice the one before, up to chunkBytes", () => {
    const info = readModule(generatedModule(2_000)); // about 270 bytes a body
    const sizes = chunkBodies(info, 64 << 10, undefined, 4 << 10).map((c) => c.at(-1)!.end - c[0]!.start);
    expect(sizes[0]).toBeGreaterThanOrEqual(4 << 10);
    expect(sizes[0]).toBeLessThan(5 << 10);
    expect(sizes[1]).toBeGreaterThanOrEqual(8 << 10);
    expect(sizes[1]).toBeLessThan(9 << 10);
    expect(sizes[5]).toBeGreaterThanOrEqual(64 << 10);
    expect(sizes[6]).toBeLessThan(65 << 10);
    expect(chunkBodies(info, 64 << 10)[0]!.at(-1)!.end - info.bodies[0]!.start).toBeGreaterThanOrEqual(64 << 10);
  });
});

describe("pageCopy", () => {
  it("copies into a buffer of its own that releaseBytes gives back at once", () => {
    const source = bytes(300_000, 7);
    const copy = pageCopy(source.subarray(1000, 250_000));
    expect(same(copy, source.subarray(1000, 250_000))).toBe(true);
    expect(copy.buffer.resizable).toBe(true);
    expect(copy.byteOffset).toBe(0);
    expect(copy.buffer.byteLength).toBe(249_000);
    releaseBytes(copy);
    expect(copy.length).toBe(0);
    expect(source[1000]).toBe((1000 * 31 + 7) & 0xff);
  });
});
