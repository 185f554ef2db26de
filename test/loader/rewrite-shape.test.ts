// The shape of a rewritten module: its memory is the machine's physical memory imported from
// "dogma:mmu" (none of its own, no data segments, no start section, no memory export); it exports
// its fuel global and, when the original had a start function, the start function as
// __dogma_init; every function and loop begins with a safe point; no bulk-memory or size
// instruction touches the physical memory directly.
import binaryen from "binaryen";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { SLOW_PATH_IMPORTS, FUEL_EXPORT, GLOBAL_EXPORT_PREFIX, INIT_EXPORT, MMU_CALLS, FAULT_EXPORT, MMU_HOME_GLOBAL, MMU_MODULE, MMU_TLB_GLOBAL } from "../../src/kernel/mmu-abi.ts";
import { decodeRecord, type ModuleCache } from "../../src/loader/cache.ts";
import { testMachine } from "../helpers/test-host.ts";
import { ALL_CALLS_DENSE_BODY, ALL_CALLS_MIN_BODY, HUGE_INLINE_NEST, HUGE_INLINE_OUTPUT, type RewriteVariant } from "../../src/loader/output-layout.ts";
import { SectionId, readModule } from "../../src/loader/wasm/module-info.ts";
import { watToBinary } from "./wat.ts";

const sample = watToBinary(`(module
  (import "dogma" "getpid" (func $getpid (result i32)))
  (memory (export "memory") 2 4)
  (data (i32.const 4096) "active")
  (data $passive "passive")
  (global $g (mut i32) (i32.const 0))
  (start $init)
  (func $init (global.set $g (call $getpid)))
  (func $empty)
  (func $sum (export "sum") (param $n i32) (result i32) (local $s i32)
    (loop $outer
      (loop $inner
        (local.set $s (i32.add (local.get $s) (i32.load8_u (local.get $n))))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br_if $inner (i32.gt_u (local.get $n) (i32.const 5000))))
      (br_if $outer (i32.gt_u (local.get $n) (i32.const 4096))))
    (local.get $s))
  (func $bulk (export "bulk") (param $a i32)
    (memory.init $passive (local.get $a) (i32.const 0) (i32.const 7))
    (data.drop $passive)
    (memory.copy (local.get $a) (i32.const 4096) (i32.const 6))
    (memory.fill (local.get $a) (i32.const 0) (memory.size))
    (drop (memory.grow (i32.const 1)))
    (i64.store offset=8 (local.get $a) (i64.load (local.get $a)))))`, { names: true });

const noStart = watToBinary(`(module (memory 1 1) (func (export "_start") (i32.store (i32.const 4096) (i32.const 1))))`);

/** Section ids of a binary, in order. */
function sectionIds(bytes: Uint8Array): number[] {
  const ids: number[] = [];
  let at = 8;
  const leb = () => {
    let result = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = bytes[at++]!;
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return result;
    }
  };
  while (at < bytes.length) {
    const id = bytes[at++]!;
    const size = leb();
    ids.push(id);
    at += size;
  }
  return ids;
}

/** The loader's output for `bytes`, taken from the record it puts in its cache. */
// Padding of plain loads makes "huge" 4 KiB and more; "small" has the same loop alone.
const hugeAndSmall = (() => {
  const padding = Array.from({ length: 600 }, (_, i) => `(drop (i32.load offset=${4096 + 4 * i} (local.get $p)))`).join(" ");
  const loop = "(loop $l (br_if $l (i32.load8_u (local.get $p))))";
  const binary = watToBinary(`(module (memory 1)
    (func $huge (export "huge") (param $p i32) ${padding} ${loop})
    (func $small (export "small") (param $p i32) ${loop}))`, { names: true });
  const code = readModule(binary).sections.find((section) => section.id === SectionId.code)!;
  if (code.end - code.start <= ALL_CALLS_MIN_BODY) throw new Error("test bug: the huge function is not huge");
  return binary;
})();

async function loaderOutput(bytes: Uint8Array, rewrite: RewriteVariant = {}): Promise<Uint8Array> {
  const records: Uint8Array[] = [];
  const cache: ModuleCache = { get: async () => null, put: async (_key, record) => void records.push(record) };
  await testMachine({ loader: { cache, rewrite } }).loader.load(bytes, "sample.wasm");
  expect(records).toHaveLength(1);
  return decodeRecord(records[0]!)!.rewritten;
}

/** The loader's output for `bytes` as text (binaryen's), and how many functions and loops the original had. */
async function rewriteToText(bytes: Uint8Array, rewrite: RewriteVariant = {}): Promise<{ text: string; functions: number; loops: number }> {
  const original = binaryen.readBinary(bytes);
  const rewritten = binaryen.readBinary(await loaderOutput(bytes, rewrite));
  try {
    original.setFeatures(binaryen.Features.All);
    rewritten.setFeatures(binaryen.Features.All);
    let functions = 0;
    for (let i = 0; i < original.getNumFunctions(); i++) if (!binaryen.getFunctionInfo(original.getFunctionByIndex(i)).module) functions++;
    expect(rewritten.validate()).toBeTruthy();
    return { text: rewritten.emitText(), functions, loops: (original.emitText().match(/\(loop\b/g) ?? []).length };
  } finally {
    original.dispose();
    rewritten.dispose();
  }
}

/**
 * Text of each defined function of `text` (binaryen's emitText), split at "(func $", except the
 * helpers the loader adds (named dogma$...: leaf functions without loops, which need no safe
 * point; those no code calls have no name, and binaryen numbers them).
 */
function functionBodies(text: string): string[] {
  return text.split(/\n \(func \$/).slice(1).filter((body) => !body.startsWith("dogma$") && !/^\d+ /.test(body));
}

describe("rewritten module", () => {
  it("imports its memory from dogma:mmu and has none of its own", async () => {
    const rewritten = await loaderOutput(sample);
    const module = new WebAssembly.Module(rewritten as Uint8Array<ArrayBuffer>);
    const memories = WebAssembly.Module.imports(module).filter((i) => i.kind === "memory");
    expect(memories).toEqual([{ module: MMU_MODULE, name: "memory", kind: "memory" }]);
    const ids = sectionIds(rewritten);
    expect(ids).not.toContain(5); // memory section
    expect(ids).not.toContain(11); // data section
    expect(ids).not.toContain(12); // data count section
    expect(ids).not.toContain(8); // start section
    expect(sectionIds(sample)).toEqual(expect.arrayContaining([5, 8, 11])); // the original had them
  });

  it("imports from dogma:mmu only the TLB and home globals, the memory and its kernel calls, and exports its fault flag", async () => {
    const module = new WebAssembly.Module((await loaderOutput(sample)) as Uint8Array<ArrayBuffer>);
    const allowed = new Set(["memory", MMU_TLB_GLOBAL, MMU_HOME_GLOBAL, ...SLOW_PATH_IMPORTS.map((k) => k.name), ...Object.keys(MMU_CALLS)]);
    const imports = WebAssembly.Module.imports(module);
    for (const i of imports.filter((i) => i.module === MMU_MODULE)) expect(allowed, i.name).toContain(i.name);
    expect(imports).toContainEqual({ module: MMU_MODULE, name: MMU_TLB_GLOBAL, kind: "global" });
    expect(imports).toContainEqual({ module: MMU_MODULE, name: MMU_HOME_GLOBAL, kind: "global" });
    expect(WebAssembly.Module.exports(module)).toContainEqual({ name: FAULT_EXPORT, kind: "global" });
    expect(imports).toContainEqual({ module: "dogma", name: "getpid", kind: "function" });
  });

  it("exports __dogma_fuel and __dogma_init, and no memory", async () => {
    const exports = WebAssembly.Module.exports(new WebAssembly.Module((await loaderOutput(sample)) as Uint8Array<ArrayBuffer>));
    expect(exports).toContainEqual({ name: FUEL_EXPORT, kind: "global" });
    expect(exports).toContainEqual({ name: INIT_EXPORT, kind: "function" });
    expect(exports).toContainEqual({ name: "sum", kind: "function" });
    expect(exports.filter((e) => e.kind === "memory")).toEqual([]);
  });

  it("exports no __dogma_init when there was no start function", async () => {
    const exports = WebAssembly.Module.exports(new WebAssembly.Module((await loaderOutput(noStart)) as Uint8Array<ArrayBuffer>));
    expect(exports.map((e) => e.name).sort()).toEqual([FUEL_EXPORT, FAULT_EXPORT, "_start"].sort());
  });

  it("puts a safe point at the entry of every function that calls or loops, and at every loop header", async () => {
    const { text, functions, loops } = await rewriteToText(sample);
    expect(functions).toBe(4);
    expect(loops).toBe(2);
    const bodies = functionBodies(text);
    expect(bodies).toHaveLength(functions);
    // A safe point calls the loader's helper, which calls the plain import and, only when told, the suspending one.
    const safePoints = (body: string) => (body.match(/call \$dogma\$safe_point_or_wait\b/g) ?? []).length;
    // $init calls, $sum loops (twice): they begin with a safe point. $empty and $bulk neither call nor
    // loop (their bulk operations go to the loader's helpers, which the kernel bounds): no safe point.
    const byName = new Map(bodies.map((body) => [body.split(/[\s(]/)[0]!, body]));
    expect([...byName.keys()].sort()).toEqual(["bulk", "empty", "init", "sum"]);
    expect(safePoints(byName.get("init")!)).toBe(1);
    expect(safePoints(byName.get("sum")!)).toBe(1 + loops);
    expect(safePoints(byName.get("empty")!)).toBe(0);
    expect(safePoints(byName.get("bulk")!)).toBe(0);
    // Each loop's body starts with its safe point (before anything else the loop does).
    expect(text.match(/\(loop \$\S+\n\s+\(global\.set \$dogma\$fuel/g) ?? []).toHaveLength(loops);
  });

  it("calls an access helper for an access outside loops only in a function that has a loop", async () => {
    const { text: all } = await rewriteToText(watToBinary(`(module (memory 1)
      (func $loops (export "loops") (param $p i32) (result i32)
        (drop (i32.load offset=4 (local.get $p)))
        (loop $l (br_if $l (i32.load8_u (local.get $p))))
        (i32.load16_u (local.get $p)))
      (func $straight (export "straight") (param $p i32) (param $q i32) (result i32) (i32.add (i32.load (local.get $p)) (i32.load offset=8 (local.get $q)))))`, { names: true }));
    const [loops, straight] = functionBodies(all);
    // In "loops" both accesses outside the loop (one before it: the rewrite starts again at the
    // loop) call their helpers; the one in the loop is inline. "straight" has none of its own
    // (its accesses are off two values: two off one would share a check, and the second's slow
    // path would be its access helper: check-sharing.test.ts).
    expect(loops).toMatch(/call \$dogma\$access_28_offset\b/);
    expect(loops).toMatch(/call \$dogma\$access_2f\b/);
    expect(loops).toMatch(/call \$dogma\$load_i32_8_u\b/);
    expect(straight).not.toMatch(/call \$dogma\$access_/);
    expect(straight).toMatch(/call \$dogma\$load_i32\b/);
  });

  it("calls the access helpers for every access, in loops too, in a function of 4 KiB or more (under the variant without inline nests)", async () => {
    const [huge, small] = functionBodies((await rewriteToText(hugeAndSmall, { hugeInlineNest: 0 })).text);
    expect(huge).toMatch(/\(loop \$\S+[\s\S]*call \$dogma\$access_2d\b/);
    expect(huge.match(/call \$dogma\$access_28_offset\b/g)).toHaveLength(600);
    expect(huge).not.toMatch(/call \$dogma\$load_i32(_8_u)?\b|group_check/);
    expect(small).not.toMatch(/call \$dogma\$access_/);
    expect(small).toMatch(/call \$dogma\$load_i32_8_u\b/);
  });

  it("writes a small loop nest of a function of 4 KiB or more inline, as any other function's", async () => {
    const [huge, small] = functionBodies((await rewriteToText(hugeAndSmall)).text);
    // The padding outside the loop calls its helpers; the loop's access is translated inline.
    expect(huge.match(/call \$dogma\$access_28_offset\b/g)).toHaveLength(600);
    expect(huge).not.toMatch(/call \$dogma\$access_2d\b/);
    expect(huge).toMatch(/\(loop \$\S+[\s\S]*call \$dogma\$load_i32_8_u\b/);
    expect(small).toMatch(/call \$dogma\$load_i32_8_u\b/);
  });

  it("calls the access helpers in a huge function's loop nest past HUGE_INLINE_NEST bytes, and in every nest of one whose output would pass HUGE_INLINE_OUTPUT", async () => {
    const padding = Array.from({ length: 600 }, (_, i) => `(drop (i32.load offset=${4096 + 4 * i} (local.get $p)))`).join(" ");
    // Loads each off its own page (no check shared): about 7 bytes in, 45 inline.
    const loads = (n: number, from: number) => Array.from({ length: n }, (_, i) => `(drop (i32.load offset=${4096 * (from + i + 1)} (local.get $p)))`).join(" ");
    const nest = (n: number, from: number) => `(loop $l${from} ${loads(n, from)} (br_if $l${from} (i32.load8_u (local.get $p))))`;
    const manyNests = Array.from({ length: 80 }, (_, i) => nest(6, 10 * i)).join(" ");
    const binary = watToBinary(`(module (memory 1)
      (func $big_nest (export "big_nest") (param $p i32) ${padding} ${nest(100, 0)})
      (func $many (export "many") (param $p i32) ${padding} ${manyNests}))`, { names: true });
    const bodies = readModule(binary).bodies.map((b) => b.end - b.start);
    if (bodies.some((size) => size < ALL_CALLS_MIN_BODY) || 7 * 100 < HUGE_INLINE_NEST || 80 * 6 * 45 < HUGE_INLINE_OUTPUT) throw new Error(`test bug: bodies of ${bodies.join(" and ")} bytes`);
    const [bigNest, many] = functionBodies((await rewriteToText(binary)).text);
    for (const body of [bigNest, many]) {
      expect(body).toMatch(/\(loop \$\S+[\s\S]*call \$dogma\$access_2d\b/);
      expect(body).not.toMatch(/call \$dogma\$load_i32(_8_u)?\b/);
    }
    // Without the bounds, both are written inline.
    const [bigInline] = functionBodies((await rewriteToText(binary, { hugeInlineNest: 1 << 20 })).text);
    expect(bigInline).not.toMatch(/call \$dogma\$access_2d\b/);
    const [, manyInline] = functionBodies((await rewriteToText(binary, { hugeInlineOutput: Infinity })).text);
    expect(manyInline).not.toMatch(/call \$dogma\$access_2d\b/);
  });

  it("calls the access helpers for every access in a function under 4 KiB that grows 3 times its size or more inline", async () => {
    // A loop of 150 loads, each off its own page (no check shared), in about 1.2 KiB: inline, each
    // is about 45 bytes, past 6 KiB in all. The same size of arithmetic around a loop of 20 stays
    // under 3x.
    const loads = (n: number) => Array.from({ length: n }, (_, i) => `(drop (i32.load offset=${4096 * (i + 1)} (local.get $p)))`).join(" ");
    const arithmetic = (n: number) => Array.from({ length: n }, (_, i) => `(drop (i32.add (local.get $p) (i32.const ${100_000 + i})))`).join(" ");
    const binary = watToBinary(`(module (memory 1)
      (func $dense (export "dense") (param $p i32) (loop $l ${loads(150)} (br_if $l (i32.load8_u (local.get $p)))))
      (func $sparse (export "sparse") (param $p i32) (loop $l ${loads(20)} ${arithmetic(130)} (br_if $l (i32.load8_u (local.get $p))))))`, { names: true });
    const sizes = readModule(binary).bodies.map((b) => b.end - b.start);
    if (sizes.some((size) => size < ALL_CALLS_DENSE_BODY || size >= ALL_CALLS_MIN_BODY)) throw new Error(`test bug: bodies of ${sizes.join(" and ")} bytes`);
    const [dense, sparse] = functionBodies((await rewriteToText(binary, {})).text);
    // The dense one starts inline, then is rewritten again with calls throughout.
    expect(dense).toMatch(/\(loop \$\S+[\s\S]*call \$dogma\$access_2d\b/);
    expect(dense.match(/call \$dogma\$access_28_offset\b/g)).toHaveLength(150);
    expect(dense).not.toMatch(/call \$dogma\$load_i32(_8_u)?\b/);
    expect(sparse).not.toMatch(/call \$dogma\$access_/);
    expect(sparse).toMatch(/call \$dogma\$load_i32_8_u\b/);
    // Without the rule, both keep their loop's access inline.
    const [denseInline] = functionBodies((await rewriteToText(binary, { allCallsDensity: Infinity })).text);
    expect(denseInline).not.toMatch(/call \$dogma\$access_/);
  });

  it("keeps the accesses of an outlined loop inline, however dense: the loop of a function that runs once is where its run goes", async () => {
    // The same dense loop as above, in `_start`, which runs once: its loop is outlined (as
    // interp.c's dispatch loop is) and must not go through helpers (it did: 3.1x node:wasi).
    const loads = Array.from({ length: 150 }, (_, i) => `(drop (i32.load offset=${4096 * (i + 1)} (local.get $p)))`).join(" ");
    const binary = watToBinary(`(module (memory 1)
      (func $main (export "_start") (local $p i32) (loop $l ${loads} (br_if $l (i32.load8_u (local.get $p))))))`, { names: true });
    const { text } = await rewriteToText(binary, {});
    const outlined = functionBodies(text).find((body) => body.startsWith("main.loop0 "));
    expect(outlined, "the loop is outlined").toBeDefined();
    expect(outlined).not.toMatch(/call \$dogma\$access_/);
    expect(outlined!.match(/call \$dogma\$load_i32_8_u\b/g)?.length ?? 0).toBeGreaterThan(0);
  });

  it("under the variant hugeFunctionGroups, shares checks there through a called head", async () => {
    const [huge] = functionBodies((await rewriteToText(hugeAndSmall, { hugeFunctionGroups: true, hugeInlineNest: 0 })).text);
    // The padding's loads are off one local, 16 to a 64-byte span: a head calls the group's check,
    // then each of the 600 loads is inline behind a test of the group's address, with its access
    // helper as the fallback; nothing is translated inline.
    expect(huge.match(/call \$dogma\$group_check_read\b/g)).toHaveLength(Math.ceil(600 / 16));
    expect(huge.match(/call \$dogma\$access_28_offset\b/g)).toHaveLength(600);
    expect(huge).toMatch(/\(loop \$\S+[\s\S]*call \$dogma\$access_2d\b/);
    expect(huge).not.toMatch(/call \$dogma\$load_i32(_8_u)?\b/);
    // Only in loops: the padding, outside the loop, calls its helpers again.
    const [inLoops] = functionBodies((await rewriteToText(hugeAndSmall, { hugeFunctionGroups: "loops" })).text);
    expect(inLoops).not.toMatch(/group_check/);
  });

  it("turns memory size, growth and bulk operations into kernel calls", async () => {
    const { text: all } = await rewriteToText(sample);
    // The program's own functions never touch the physical memory in bulk or change its size;
    // memory.copy/fill may appear only in the loader's helpers, which fall back to the kernel.
    const text = functionBodies(all).join("");
    expect(text).not.toMatch(/\((memory\.(size|grow|copy|fill|init)|data\.drop)\b/);
    for (const call of ["memory_size", "memory_grow", "data_drop", "init", "copy", "fill"]) expect(text).toMatch(new RegExp(`call \\$dogma\\$${call}\\b`));
    expect(all).toMatch(/call \$dogma\$memory_init\b/);
    expect(all).toMatch(/call \$dogma\$memory_copy\b/);
    expect(all).toMatch(/call \$dogma\$memory_fill\b/);
    // Loads and stores keep a slow path: a call to the kernel for their access kind.
    expect(text).toMatch(/call \$dogma\$load_i32_8_u\b/);
    // (The sample's load and store off $a share one check: their slow paths are their access helpers.)
    expect(text).toMatch(/call \$dogma\$(load_i64|access_29)\b/);
    expect(text).toMatch(/call \$dogma\$(store_i64|access_37_offset)\b/);
  });
});

describe("the state a clone copies", () => {
  const load = (text: string) => testMachine().loader.load(watToBinary(text), "state.wasm");

  it("exports every mutable number global of the program, and the image is cloneable", async () => {
    const image = await load(`(module (memory 1)
      (global $a (mut i32) (i32.const 1)) (global $b (mut i64) (i64.const 2)) (global $c (mut f64) (f64.const 3)) (global $k i32 (i32.const 4))
      (func (export "_start") (global.set $a (global.get $k))))`);
    const exported = WebAssembly.Module.exports(image.module).filter((e) => e.name.startsWith(GLOBAL_EXPORT_PREFIX));
    expect(exported.map((e) => e.kind)).toEqual(["global", "global", "global"]);
    expect(image.cloneable).toBe(true);
  });

  it("marks a program that writes a table, or keeps a reference or a vector in a global, as not cloneable", async () => {
    const writesTable = await load(`(module (memory 1) (table 1 funcref) (elem declare func $f)
      (func $f) (func (export "_start") (table.set (i32.const 0) (ref.func $f))))`);
    const growsTable = await load(`(module (memory 1) (table 1 funcref)
      (func (export "_start") (drop (table.grow (ref.null func) (i32.const 1)))))`);
    const reference = await load(`(module (memory 1) (global $r (mut funcref) (ref.null func)) (func (export "_start")))`);
    const vector = await load(`(module (memory 1) (global $v (mut v128) (v128.const i32x4 0 0 0 0)) (func (export "_start")))`);
    expect([writesTable, growsTable, reference, vector].map((image) => image.cloneable)).toEqual([false, false, false, false]);
  });
});
