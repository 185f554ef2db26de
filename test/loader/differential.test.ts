// Differential tests: every export of every module in test/wat runs natively (V8, the module's own
// memory) and under Dogma (rewritten, software MMU), with the same arguments; the results must be
// identical, or both must trap. Dogma never maps page 0, so no case touches addresses below 4096.
import { readFileSync, readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { PAGE_SIZE, TLB_MAX_ENTRIES, TLB_MIN_ENTRIES } from "../../src/kernel/constants.ts";
import type { LoadedImage } from "../../src/kernel/image.ts";
import { rewriteModule } from "../../src/loader/rewrite-module.ts";
import type { RewriteVariant } from "../../src/loader/output-layout.ts";
import { readModule } from "../../src/loader/wasm/module-info.ts";
import { testMachine, type TestMachine } from "../helpers/test-host.ts";
import { watToBinary } from "./wat.ts";

const WAT_DIR = new URL("../wat/", import.meta.url);

type Arg = number | bigint;
type Outcome = { value: unknown } | { trap: string; kind?: string };

// Addresses every load and store is tried at: aligned, unaligned, crossing the 4 KiB pages at
// 8192 and 65536, at and past the end of the 2-page memory, and in the high half of the 32-bit
// space (global space under Dogma, nothing mapped there with mapImage: false). loads.wat keeps
// NaNs with payloads at 65531 and 65539.
const ADDRESSES = [
  4096, 4097, 4098, 4099, 4100, 8184, 8186, 8188, 8189, 8190, 8191, 8192, 65528, 65531, 65532, 65534, 65535, 65536, 65539,
  131064, 131065, 131068, 131071, 131072, 0x7fffffff, 0x80000000, 0xfffffff8, 0xffffffff,
];
// With a static offset the pointer may lie in page 0 as long as ptr + offset does not.
const OFFSET_POINTERS: Record<string, number[]> = { "3": [4093], "65536": [0, 16, 4093], "0xFFFFFFF0": [0, 8, 15, 16] };

// cold.wat: pages 1 and 2 hold a pattern but are not in the TLB when an export starts.
const COLD_ADDRESSES = [4096, 4097, 4099, 5000, 8184, 8188, 8190, 8191, 8192, 12280, 12284, 12287];

const LOADS = ["i32.load", "i32.load8_s", "i32.load8_u", "i32.load16_s", "i32.load16_u", "i64.load", "i64.load8_s", "i64.load8_u",
  "i64.load16_s", "i64.load16_u", "i64.load32_s", "i64.load32_u", "f32.load", "f64.load"];
// Store values: high bits set so truncation shows; float bit patterns include quiet NaNs whose
// payload a store must keep (signalling NaNs: see nan-bits.test.ts).
const STORE_VALUES: Record<string, Arg[]> = {
  i32: [0x89abcdef | 0],
  i64: [0x8899aabbccddeeffn],
  f32: [0x7fc00001, 0xffc12345 | 0, 0xbf800000 | 0],
  f64: [0x7ff8000000000001n, 0xc00921fb54442d18n],
};
const STORES = ["i32.store", "i32.store8", "i32.store16", "i64.store", "i64.store8", "i64.store16", "i64.store32", "f32.store", "f64.store"];

function withOffsets(ops: string[], argsFor: (op: string, pointers: number[]) => Arg[][]): Record<string, Arg[][]> {
  const cases: Record<string, Arg[][]> = {};
  for (const op of ops) {
    cases[op] = argsFor(op, ADDRESSES);
    for (const [offset, extra] of Object.entries(OFFSET_POINTERS)) cases[`${op} offset=${offset}`] = argsFor(op, [...extra, ...ADDRESSES]);
  }
  return cases;
}

const storeArgs = (op: string, pointers: number[]): Arg[][] => pointers.flatMap((a) => STORE_VALUES[op.slice(0, 3)]!.map((v) => [a, v]));

/** Arguments for each export of each module; a module export missing here fails the test. */
const CASES: Record<string, Record<string, Arg[][]>> = {
  "loads.wat": {
    ...withOffsets(LOADS, (_op, pointers) => pointers.map((a) => [a])),
    sweep: [[4096, 64], [8150, 80], [65500, 80], [131000, 64], [131000, 72], [131068, 8]],
    "f64.load as f64": ADDRESSES.map((a) => [a]),
    "f32.load as f64": ADDRESSES.map((a) => [a]),
  },
  "cold.wat": {
    ...Object.fromEntries(LOADS.map((op) => [op, COLD_ADDRESSES.map((a) => [a])])),
    ...Object.fromEntries(STORES.map((op) => [op, storeArgs(op, COLD_ADDRESSES)])),
  },
  "stores.wat": {
    ...withOffsets(STORES, storeArgs),
    checksum: [[]],
    "i64.store then i64.load": [4096, 8188, 8190, 65532, 131064, 131068].map((a) => [a, 0x0123456789abcdefn]),
  },
  "nested.wat": {
    "three levels": [4096, 8170, 8185, 8190, 65530, 131040, 131044, 131064].map((a) => [a]),
    "outer store wins": [4096, 8190, 131064, 131068].map((a) => [a]),
    "store in pointer": [4096, 8188, 131040, 131068].map((a) => [a]),
    "mixed types": [4096, 8180, 8183, 8190, 65527, 131054, 131056].map((a) => [a]),
    siblings: [[4096, 4200], [8190, 8190], [8188, 4100], [4096, 4098], [131068, 4096], [4096, 131070]],
    "loop in value": [4096, 8000, 130700, 130800].map((a) => [a]),
  },
  "memory.wat": {
    size: [[]],
    grow: [[0], [1], [2], [3], [-1], [0x10000], [0x8000], [0x7fffffff]],
    "grow and touch": [[0], [1], [2], [3]],
    "grow until full": [[]],
    "load at": [[65532], [65533], [65536], [131068]],
    "grow then load at": [[1, 65536], [1, 131068], [1, 131069], [2, 196604], [3, 131068]],
  },
  "bulk.wat": {
    copy: [
      [4200, 4210, 100], [4210, 4200, 100], [4100, 12000, 50], [5000, 6000, 0], // within one page (the module's own fast path)
      [8000, 8010, 300], [8010, 8000, 300], // overlapping: backward and forward
      [8191, 8190, 5000], [8190, 8191, 5000], [5000, 20000, 10000], [4096, 65530, 60000], [65536, 4096, 65536], [4096, 4096, 1],
      [131072, 131072, 0], [131072, 4096, 0], [4096, 131072, 0], // length 0 at the end of memory is allowed
      [131073, 4096, 0], [4096, 131073, 0], [130000, 4096, 2000], [4096, 130000, 2000], [4096, 4096, 0x7fffffff], [-16, 4096, 32], [4096, -16, 32],
    ],
    fill: [[4100, 0x33, 100], [8000, 0x1ab, 500], [4097, -1, 70000], [4096, 0, 126976], [4096, 0, 126977], [131072, 7, 0], [131073, 7, 0], [131000, 7, 100], [-1, 0, 1]],
    init: [[8190, 0, 20], [8190, 5, 7], [8190, 20, 0], [8190, 21, 0], [8190, 15, 6], [8190, 0, 21], [131070, 0, 5], [131072, 0, 0], [131073, 0, 0], [131060, 0, 12]],
    "drop then init": [[8190, 0, 0], [8190, 0, 1], [8190, 1, 0], [131072, 0, 0]],
    "init, init, drop, drop": [[4096], [8180], [131030], [131050]],
    "init active": [[8190, 0, 0], [8190, 0, 1], [8190, 1, 0]],
    "init empty": [[8190, 0, 0], [8190, 0, 1], [8190, 1, 0], [131073, 0, 0]],
    "copy with loaded operands": [[4096], [8190], [131068]],
    "grow then fill": [[131072, 65536], [131000, 200], [190000, 6608], [190000, 6609]],
  },
  "start.wat": {
    runs: [[]],
    read: [[4096], [4097], [6000], [8188]],
    sum: [[]],
  },
  "start-trap.wat": { ran: [[]] },
  "outline.wat": {
    "sum to": [[1], [2], [3], [4], [7], [1000]],
    pair: [[1], [3], [4], [100]],
    find: [[4096, 10, 9], [4096, 10, 3], [4096, 10, 100], [8180, 20, 27], [4096, 3, 99], [131060, 10, 0]],
    "switch exits": [[0, 5], [1, 5], [2, 5], [3, 5], [7, 5], [100, 5], [0, 1], [2, 2]],
    nested: [[1, 1], [2, 10], [3, 100], [5, 1000]],
    "values below": [[1], [3], [100], [2000]],
    "return from inner": [[1], [50], [1000], [100000]],
  },
};

function runNative(module: WebAssembly.Module, entry: string, args: Arg[]): Outcome {
  try {
    const instance = new WebAssembly.Instance(module, {});
    return { value: (instance.exports[entry] as (...a: Arg[]) => unknown)(...args) };
  } catch (error) {
    if (error instanceof WebAssembly.RuntimeError) return { trap: error.message };
    throw error;
  }
}

async function runDogma(t: TestMachine, image: LoadedImage, entry: string, args: Arg[]): Promise<Outcome> {
  const process = t.kernel.spawn(image, { entry, entryArgs: args, mapImage: false });
  await t.kernel.run();
  const outcome = process.outcome!;
  if (outcome.kind === "faulted") return { trap: outcome.fault.message, kind: outcome.fault.kind };
  expect(outcome.code).toBe(0);
  return { value: process.returnValue };
}

// The Dogma fault kinds that fit a native trap message.
const SENSIBLE_KINDS: Array<[RegExp, string[]]> = [
  [/out of bounds/, ["out-of-bounds", "unmapped"]],
  [/unreachable/, ["unreachable"]],
];

function show(args: Arg[]): string {
  return `(${args.map((a) => (typeof a === "bigint" ? `0x${a.toString(16)}n` : a >= 4096 ? `0x${(a >>> 0).toString(16)}` : String(a))).join(", ")})`;
}

/** Runs one call both ways and asserts they agree; says whether it returned or trapped. */
async function compare(t: TestMachine, image: LoadedImage, native: WebAssembly.Module, label: string, entry: string, args: Arg[]): Promise<"value" | "trap"> {
  const want = runNative(native, entry, args);
  const got = await runDogma(t, image, entry, args);
  if ("value" in want) {
    expect(got, label).toEqual(want);
    return "value";
  }
  expect(got, `${label}: native trapped with "${want.trap}"`).toHaveProperty("trap");
  const kinds = SENSIBLE_KINDS.find(([pattern]) => pattern.test(want.trap))?.[1];
  expect(kinds, `unexpected native trap "${want.trap}"`).toBeDefined();
  expect(kinds, `${label}: Dogma fault kind`).toContain((got as { kind: string }).kind);
  return "trap";
}

function watModule(file: string): { bytes: Uint8Array; native: WebAssembly.Module } {
  const bytes = watToBinary(readFileSync(new URL(file, WAT_DIR), "utf8"), { what: file });
  return { bytes, native: new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>) };
}

const files = readdirSync(WAT_DIR).filter((f) => f.endsWith(".wat")).sort();

it("cold.wat's eviction matches the TLB: pages 16 MiB apart share an entry, at every size", () => {
  expect(TLB_MAX_ENTRIES * PAGE_SIZE).toBe(0x1000000);
  expect(0x1000000 % (TLB_MIN_ENTRIES * PAGE_SIZE)).toBe(0);
});

it("every WAT module has cases for exactly its exports", () => {
  expect(Object.keys(CASES).sort()).toEqual(files);
  for (const file of files) {
    const exports = WebAssembly.Module.exports(new WebAssembly.Module(watToBinary(readFileSync(new URL(file, WAT_DIR), "utf8"), { what: file })));
    const functions = exports.filter((e) => e.kind === "function").map((e) => e.name);
    expect(Object.keys(CASES[file]!).sort(), file).toEqual(functions.sort());
  }
});

/**
 * The exports of a module whose code in `variant`'s output is byte for byte the same as in
 * `like`'s, in a module where every function of the program whose body differs is an export (the
 * loops outlining takes are tested at every address of that export; empty when a function that is
 * not exported differs, as cold.wat's $seed and $checksum). An unchanged export may still call a
 * changed one (stores.wat's stores call `checksum`, whose loop is outlined), and passes through the
 * loader's own functions, which outlining changes too: each case kept runs those.
 */
async function unchangedExports(file: string, bytes: Uint8Array, variant: RewriteVariant, like: RewriteVariant): Promise<Set<string>> {
  const policy = { maxBinaryBytes: 1 << 24, maxMemoryPages: 65536, importModules: new Map() };
  const program = readModule(bytes);
  const [a, b] = await Promise.all([variant, like].map(async (v) => (await rewriteModule(file, bytes, policy, null, v)).rewritten));
  const [ia, ib] = [readModule(a!), readModule(b!)];
  const body = (out: Uint8Array, info: typeof ia, f: number) => Buffer.from(out.subarray(info.bodies[f]!.start, info.bodies[f]!.end));
  const exported = new Map(program.exports.filter((e) => e.kind === 0).map((e) => [e.index - program.functionImports, e.name]));
  const unchanged = new Set<string>();
  for (let f = 0; f < program.functions.length; f++) {
    const same = body(a!, ia, f).equals(body(b!, ib, f));
    if (!exported.has(f)) {
      if (!same) return new Set();
    } else if (same) unchanged.add(exported.get(f)!);
  }
  return unchanged;
}

// Each module twice: every access translated inline (the form loops get), and every access a call
// of its helper (the form code outside loops gets). The loader's own output mixes the two.
// And a third time with every loop outlining takes in a function of its own, re-entered every
// three runs of its header (src/loader/outline-plan.ts): branches out of loops, returns, loops'
// values and memory accesses in outlined loops must do what they did.
// An export whose code outlining left byte for byte as the inline form's (no loop of its own) runs
// every eighth of its cases in the loops-outlined form: each address was compared against native
// with that very code in the inline form; what outlining changed that it calls (an exported loop,
// the loader's own functions) runs in every case kept.
const INLINE = { accessCalls: "never" } as const;
const OUTLINED = { outline: "all", outlineIterations: 3 } as const;
const sampled = new Map(await Promise.all(files.map(async (file) => [file, await unchangedExports(file, watModule(file).bytes, OUTLINED, INLINE)] as const)));

it("outlining leaves most of loads.wat's and stores.wat's exports as they were inline (which the loops-outlined form samples)", () => {
  expect(sampled.get("loads.wat")!.size).toBeGreaterThan(50);
  expect(sampled.get("stores.wat")!.size).toBeGreaterThan(30);
  expect(sampled.get("loads.wat")!.has("sweep")).toBe(false);
});

for (const [form, rewrite] of [["inline", INLINE], ["helper calls", { accessCalls: "always" }], ["loops outlined", OUTLINED]] as const) for (const file of files) {
  describe(`${file} (${form})`, () => {
    const { bytes, native } = watModule(file);
    const t = testMachine({ loader: { rewrite } });
    const freeAtStart = t.kernel.frames.freeCount;
    let image: Promise<LoadedImage> | null = null;

    for (const [entry, allArgLists] of Object.entries(CASES[file] ?? {})) {
      const sample = form === "loops outlined" && sampled.get(file)!.has(entry);
      const argLists = sample ? allArgLists.filter((_, i) => i % 8 === 0) : allArgLists;
      it(entry, async () => {
        image ??= t.loader.load(bytes, file);
        let values = 0;
        for (const args of argLists) {
          if ((await compare(t, await image, native, `${file} ${entry}${show(args)}`, entry, args)) === "value") values++;
        }
        // Every process ended and gave back every frame it held.
        expect(t.kernel.liveCount()).toBe(0);
        expect(t.kernel.frames.freeCount).toBe(freeAtStart);
        // Guard against a case list that only ever traps (which would compare little).
        const alwaysTraps = entry.endsWith("offset=0xFFFFFFF0") || file === "start-trap.wat";
        if (alwaysTraps) expect(values, "cases that returned a value").toBe(0);
        else expect(values, "cases that returned a value").toBeGreaterThan(0);
      });
    }
  });
}

// A zero-length memory.copy, memory.fill or memory.init past the end of memory traps natively; in
// the high half Dogma traps unless the address is in a mapped page or just past the end of one
// (src/kernel/memory-instructions.ts checkEmptyRange).
it("zero-length bulk operations in the unmapped high half trap, as natively", async () => {
  const { bytes, native } = watModule("bulk.wat");
  const t = testMachine();
  const image = await t.loader.load(bytes, "bulk.wat");
  for (const [entry, args] of [["fill", [-1, 0, 0]], ["fill", [0x80000000, 0, 0]], ["copy", [0x80000000, 4096, 0]], ["copy", [4096, 0x90000000, 0]], ["init", [0x90000000, 0, 0]]] as const) {
    expect(await compare(t, image, native, `bulk.wat ${entry}${show([...args])}`, entry, [...args])).toBe("trap");
  }
});

describe("AssemblyScript memtest", () => {
  const path = new URL("../../build/user/memtest.wasm", import.meta.url);
  it("runs under Dogma and reports memtest ok", async () => {
    const t = testMachine();
    const image = await t.loader.load(readFileSync(path), "memtest.wasm");
    const process = t.kernel.spawn(image, { args: ["memtest"] });
    await t.kernel.run();
    expect(t.faults).toEqual([]);
    expect(process.outcome).toEqual({ kind: "exited", code: 0 });
    expect(t.stdout()).toContain("memtest ok");
  });
});
