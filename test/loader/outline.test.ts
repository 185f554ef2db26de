// Loop outlining (src/loader/outline-plan.ts, outline-bodies.ts): which functions' loops move into
// functions of their own, that the output has them, named for where they came from, and that a
// program whose loops moved computes what it computed natively. Every loop shape outlining takes
// is run natively and outlined by differential.test.ts (test/wat/outline.wat, the form "loops
// outlined"), and random modules by test/fuzz/loader-fuzz.test.ts.
import { describe, expect, it } from "vitest";
import { readNames } from "../../src/loader/name-section.ts";
import { LABEL_BUDGET, OUTLINE_MAX_LOOPS, planOutlining } from "../../src/loader/outline-plan.ts";
import { firstOutlined } from "../../src/loader/output-layout.ts";
import { rewriteModule } from "../../src/loader/rewrite-module.ts";
import { type ModuleInfo, readModule } from "../../src/loader/wasm/module-info.ts";
import { testMachine } from "../helpers/test-host.ts";
import { watToBinary } from "./wat.ts";

// `_start` calls $main once; $main loops, calls $step from inside its loop, and calls $once and
// $twice outside it ($twice twice). Only $main and $once run at most once a process.
const PROGRAM = watToBinary(
  `(module
    (memory 2)
    (func $step (param i32) (result i32)
      (local $k i32)
      (loop $spin
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br_if $spin (i32.lt_u (local.get $k) (i32.and (local.get 0) (i32.const 3)))))
      (i32.add (local.get 0) (local.get $k)))
    (func $once (result i32)
      (local $i i32) (local $s i32)
      (loop $fill
        (i32.store offset=8192 (i32.shl (local.get $i) (i32.const 2)) (local.get $i))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $fill (i32.lt_u (local.get $i) (i32.const 1000))))
      (i32.load offset=8192 (i32.const 3996)))
    (func $twice (result i32)
      (local $i i32)
      (loop $count
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $count (i32.lt_u (local.get $i) (i32.const 10))))
      (local.get $i))
    (func $main (result i32)
      (local $i i32) (local $h i32)
      (local.set $h (i32.add (call $once) (i32.add (call $twice) (call $twice))))
      (block $done (result i32)
        (loop $hash
          (local.set $h (i32.mul (i32.xor (local.get $h) (call $step (local.get $i))) (i32.const 16777619)))
          (i32.store offset=4096 (i32.and (local.get $i) (i32.const 1020)) (local.get $h))
          (br_if $done (i32.load offset=4096 (i32.const 0)) (i32.eq (local.get $i) (i32.const 123456)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $hash))))
    (func (export "_start") (result i32) (call $main))
    (func (export "other") (result i32) (call $twice)))`,
  { what: "outline program", names: true },
);

const names = (bytes: Uint8Array) => readNames(bytes, readModule(bytes).nameSection).functions;


/**
 * A module of functions `() -> ()` with `bodies` (each its locals' count, then its code), the last
 * exported as _start: written as bytes (binaryen takes seconds over thousands of functions).
 */
function startModule(bodies: number[][]): Uint8Array<ArrayBuffer> {
  const section = (id: number, content: number[]) => [id, ...leb(content.length), ...content];
  const start = [...new TextEncoder().encode("_start")];
  return new Uint8Array([
    0, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, [1, 0x60, 0, 0]),
    ...section(3, [...leb(bodies.length), ...Array<number>(bodies.length).fill(0)]),
    ...section(7, [1, start.length, ...start, 0, ...leb(bodies.length - 1)]),
    ...section(10, [...leb(bodies.length), ...bodies.flatMap((body) => [...leb(body.length), ...body])]),
  ]);
}

/** The loader's default plan of `info`: loops of functions that run once, numbered after the helpers. */
const planOnceRun = (info: ModuleInfo) => planOutlining(info, "once-run", firstOutlined(info.functionImports, info.functions.length));

describe("loop outlining", () => {
  it("outlines the loops of the functions that run once a process, and no others", () => {
    const info = readModule(PROGRAM);
    const named = names(PROGRAM);
    const outlined = (mode: "once-run" | "all") => [...planOutlining(info, mode, firstOutlined(info.functionImports, info.functions.length)).byFunction.keys()].map((f) => named.get(f)).sort();
    expect(outlined("once-run")).toEqual(["main", "once"]);
    expect(outlined("all")).toEqual(["main", "once", "step", "twice"]);
    expect(planOutlining(info, "none", firstOutlined(info.functionImports, info.functions.length)).loops).toEqual([]);
  });

  it("gives each outlined loop a function of its own after the program's, named for its place, and runs to the native result", async () => {
    const native = (new WebAssembly.Instance(new WebAssembly.Module(PROGRAM as Uint8Array<ArrayBuffer>)).exports["_start"] as () => number)();
    for (const rewrite of [{}, { outlineIterations: 2 }, { outline: "none" as const }]) {
      const t = testMachine({ loader: { rewrite } });
      const image = await t.loader.load(PROGRAM, "outline program");
      const [section] = WebAssembly.Module.customSections(image.module, "name");
      const payload = new Uint8Array(section!);
      // readNames takes a whole module: frame the section's payload as one.
      const module = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 0, ...leb(payload.length + 5), 4, ...new TextEncoder().encode("name"), ...payload]);
      const functions = [...names(module).values()];
      if (rewrite.outline === "none") expect(functions.filter((n) => n.includes(".loop"))).toEqual([]);
      else expect(functions.filter((n) => n.includes(".loop"))).toEqual(["once.loop0", "main.loop0"]);
      const process = t.kernel.spawn(image, { entry: "_start", mapImage: false });
      await t.kernel.run();
      expect(process.outcome, JSON.stringify(rewrite)).toEqual({ kind: "exited", code: 0 });
      expect(process.returnValue, JSON.stringify(rewrite)).toBe(native);
    }
  });

  // Redteam13: whether a function runs once was decided up its chain of callers by a recursion,
  // which a valid program of 30,000 functions, each called once by the next, overflowed: the
  // program was refused with "internal error (a loader bug)".
  it("decides a chain of 30,000 functions, each called once by the next, without a recursion", () => {
    // Function i calls i - 1, function 0 loops, the last, exported as _start, calls the one before it.
    const n = 30_000;
    const chain = startModule(Array.from({ length: n + 1 }, (_, i) => (i === 0 ? [0, 0x03, 0x40, 0x0b, 0x0b] : [0, 0x10, ...leb(i - 1), 0x0b])));
    expect(WebAssembly.validate(chain)).toBe(true);
    const plan = planOnceRun(readModule(chain));
    expect([...plan.byFunction.keys()]).toEqual([0]); // $f0's loop: the one loop, in a function that runs once
  });

  // Redteam13: each label around an outlined loop costs a block in its function and a test in its
  // dispatch, but a block is written once for all the loops inside it: a 12 KB _start of 2,000
  // loops inside 2,000 blocks took 3.4 s to plan on the machine's thread and 22 s to load, growing
  // with the square of its size. A function's loops now carry as many labels in all as it has bytes.
  it("outlines loops carrying, in all, no more labels than their function has bytes", () => {
    const blocks = 1000;
    const loops = 1000;
    const code = [0, ...Array<number[]>(blocks).fill([0x02, 0x40]).flat(), ...Array<number[]>(loops).fill([0x03, 0x40, 0x0b]).flat(), ...Array<number>(blocks).fill(0x0b), 0x0b];
    const nested = startModule([code]);
    expect(WebAssembly.validate(nested)).toBe(true);
    const plan = planOnceRun(readModule(nested));
    expect(plan.loops.length).toBeGreaterThan(0);
    expect(plan.loops.reduce((n, loop) => n + loop.labels.length, 0)).toBeLessThanOrEqual(LABEL_BUDGET * code.length);
  });
});

describe("many loops", () => {
  // Redteam13: every outlined loop is a function rewritten apart, and adds locals to its own: a
  // 180 KB _start of 60,000 loops took 12 s to load (the machine's thread held) and was refused
  // for passing the engine's 50,000 locals. A module outlines OUTLINE_MAX_LOOPS loops at most.
  it(`outlines ${OUTLINE_MAX_LOOPS} loops at most, and loads a _start of 55,000`, async () => {
    const loops = 55_000;
    const code = [0, ...Array<number[]>(loops).fill([0x03, 0x40, 0x0b]).flat(), 0x0b];
    const many = startModule([code]);
    expect(planOnceRun(readModule(many)).loops.length).toBe(OUTLINE_MAX_LOOPS);
    const t = testMachine();
    const process = t.kernel.spawn(await t.loader.load(many, "many loops"), { entry: "_start", mapImage: false });
    await t.kernel.run();
    expect(process.outcome).toEqual({ kind: "exited", code: 0 });
  });
});

describe("an outlined loop's header", () => {
  // It leaves (code 0, to be called again) from its safe point's slow path when the kernel gave it
  // fuel back: `global.get $fuel; i32.const 0; i32.gt_s; br_if` inside the safe point's `if`.
  const leaves = [0x23, 2, 0x41, 0, 0x4a, 0x0d]; // the program has no globals: the fuel global is 2 (after the TLB's and the home addend's)
  const has = (body: Uint8Array, bytes: readonly number[]) => body.some((_, i) => bytes.every((b, k) => body[i + k] === b));
  const policy = { maxBinaryBytes: 1 << 20, maxMemoryPages: 256, importModules: new Map() };

  it("leaves at its safe point's slow path, and only there (no counter) unless told to count", async () => {
    const program = readModule(PROGRAM);
    for (const [variant, leaving] of [[{}, true], [{ outlineIterations: 8 }, false]] as const) {
      const out = (await rewriteModule("outline program", PROGRAM, policy, null, variant)).rewritten;
      const info = readModule(out);
      const outlined = [0, 1].map((k) => info.bodies[info.bodies.length - 2 + k]!).map((b) => out.subarray(b.start, b.end));
      for (const body of outlined) expect(has(body, leaves), JSON.stringify(variant)).toBe(leaving);
      // The functions they came from do not leave so.
      for (let f = 0; f < program.functions.length; f++) expect(has(out.subarray(info.bodies[f]!.start, info.bodies[f]!.end), leaves)).toBe(false);
    }
  });
});

function leb(n: number): number[] {
  const out: number[] = [];
  do {
    out.push((n & 0x7f) | (n >= 0x80 ? 0x80 : 0));
    n >>>= 7;
  } while (n > 0);
  return out;
}
