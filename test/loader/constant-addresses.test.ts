// Accesses whose address is an `i32.const` (a C program's static variables, an interpreter's VM
// registers) are translated with constants (mmu-sequences.ts emitLoad/emitStore with a constant): the same
// check, folded at load time. Each load and store opcode at a constant address runs to the same
// result as natively, on its fast path and on its slow path (a first touch); an access that
// crosses a page, one whose address wraps past 4 GiB and one in page 0 keep the general
// sequence's behaviour; and the constant sequences are really the ones written.
import { describe, expect, it } from "vitest";
import { decodeRecord, type ModuleCache } from "../../src/loader/cache.ts";
import type { RewriteVariant } from "../../src/loader/output-layout.ts";
import { SectionId, readModule } from "../../src/loader/wasm/module-info.ts";
import { testMachine } from "../helpers/test-host.ts";
import { watToBinary } from "./wat.ts";
import { hookMmu } from "../helpers/mmu-hooks.ts";

// [opcode name, value type, bytes]
const LOADS: Array<[string, string]> = [
  ["i32.load", "i32"], ["i32.load8_s", "i32"], ["i32.load8_u", "i32"], ["i32.load16_s", "i32"], ["i32.load16_u", "i32"],
  ["i64.load", "i64"], ["i64.load8_s", "i64"], ["i64.load8_u", "i64"], ["i64.load16_s", "i64"], ["i64.load16_u", "i64"],
  ["i64.load32_s", "i64"], ["i64.load32_u", "i64"], ["f32.load", "f32"], ["f64.load", "f64"],
];
const STORES: Array<[string, string]> = [
  ["i32.store", "i32"], ["i32.store8", "i32"], ["i32.store16", "i32"], ["i64.store", "i64"], ["i64.store8", "i64"],
  ["i64.store16", "i64"], ["i64.store32", "i64"], ["f32.store", "f32"], ["f64.store", "f64"],
];

/** A value of type `t` as an i64, bits kept. */
const asI64: Record<string, string> = { i32: "(i64.extend_i32_s", i64: "", f32: "(i64.extend_i32_u (i32.reinterpret_f32", f64: "(i64.reinterpret_f64" };
const closeI64: Record<string, string> = { i32: ")", i64: "", f32: "))", f64: ")" };
const fromI64: Record<string, (v: string) => string> = {
  i32: (v) => `(i32.wrap_i64 ${v})`,
  i64: (v) => v,
  f32: (v) => `(f32.reinterpret_i32 (i32.wrap_i64 ${v}))`,
  f64: (v) => `(f64.reinterpret_i64 ${v})`,
};

const BASE = 3 * 4096 + 96; // i32.const BASE offset=4: inside page 3
const PATTERN = 0x7fa0_0001_8899_aabbn; // signalling NaN bits as an f64, and sign bits in every width

const wat = `(module
  (memory 4 4)
  ${LOADS.map(
    ([op, t]) => `(func (export "${op}") (param $v i64) (result i64)
    (i64.store (i32.const ${BASE + 4}) (local.get $v))
    ${asI64[t]} (${op} offset=4 (i32.const ${BASE}))${closeI64[t]})`,
  ).join("\n  ")}
  ${STORES.map(
    ([op, t]) => `(func (export "${op}") (param $v i64) (result i64) (local $x ${t})
    (local.set $x ${fromI64[t]!("(local.get $v)")})
    (i64.store (i32.const ${BASE + 4}) (i64.const 0))
    (${op} offset=4 (i32.const ${BASE}) (local.get $x))
    (i64.load (i32.add (i32.const ${BASE}) (i32.const 4))))`,
  ).join("\n  ")}
  (func (export "store-constant") (param $v i64) (result i64)
    (i32.store16 (i32.const ${BASE}) (i32.const -2))
    (i64.load16_s (i32.const ${BASE})))
  (func (export "crossing") (param $v i64) (result i64)
    (i64.store (i32.const 8188) (local.get $v))
    (i64.load (i32.const 8188)))
  (func (export "wrapping") (param $v i64) (result i64)
    (i64.load offset=8 (i32.const -4)))
  (func (export "page-0") (param $v i64) (result i64)
    (i64.load (i32.const 16)))
  (func (export "loop") (param $v i64) (result i64) (local $n i32)
    (local.set $n (i32.const 1000))
    (loop $again
      (i32.store (i32.const ${BASE}) (local.get $n))
      (f64.store offset=8 (i32.const ${BASE}) (f64.const 1.5))
      (i64.store (i32.const ${BASE + 16}) (i64.add (i64.load (i32.const ${BASE + 16})) (i64.load32_u (i32.const ${BASE}))))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $again (local.get $n)))
    (i64.load (i32.const ${BASE + 16}))))`;

const bytes = watToBinary(wat);

function native(entry: string, v: bigint): bigint {
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes));
  return (instance.exports[entry] as (v: bigint) => bigint)(v);
}

async function underDogma(entries: string[], v: bigint, variant: RewriteVariant = {}): Promise<Array<{ outcome: unknown; value: unknown }>> {
  const t = testMachine({ loader: { rewrite: variant } });
  const image = await t.loader.load(bytes, "constant-addresses");
  const results = [];
  for (const entry of entries) {
    // A fresh process for each: the first access to each page misses (the slow path), the rest hit.
    const process = t.kernel.spawn(image, { entry, entryArgs: [v], mapImage: false });
    await t.kernel.run();
    results.push({ outcome: process.outcome, value: process.returnValue });
  }
  return results;
}

async function rewrittenCode(variant: RewriteVariant): Promise<number> {
  const records: Uint8Array[] = [];
  const cache: ModuleCache = { get: async () => null, put: async (_key, record) => void records.push(record) };
  await testMachine({ loader: { cache, rewrite: variant } }).loader.load(bytes, "constant-addresses");
  const rewritten = decodeRecord(records[0]!)!.rewritten;
  const code = readModule(rewritten).sections.find((s) => s.id === SectionId.code)!;
  return code.end - code.start;
}

describe("accesses at constant addresses", () => {
  const entries = [...LOADS, ...STORES].map(([op]) => op).concat("store-constant", "crossing");

  it("give what native code gives, every load and store opcode, on the slow path and the fast path", async () => {
    for (const v of [PATTERN, -PATTERN, 0x0000_0000_7fc0_0001n]) {
      const results = await underDogma(entries, v);
      results.forEach((r, i) => {
        expect(r.outcome, entries[i]).toEqual({ kind: "exited", code: 0 });
        expect(r.value, entries[i]).toBe(native(entries[i]!, v));
      });
    }
  });

  it("give the same results as the general sequence", async () => {
    const constant = await underDogma(entries, PATTERN);
    const general = await underDogma(entries, PATTERN, { constantAddresses: false });
    expect(constant.map((r) => r.value)).toEqual(general.map((r) => r.value));
  });

  it("past 4 GiB fault, as natively", async () => {
    expect(() => native("wrapping", 0n)).toThrow(WebAssembly.RuntimeError);
    const [wrapped] = await underDogma(["wrapping"], 0n);
    expect(wrapped!.outcome).toMatchObject({ kind: "faulted" });
  });

  it("in page 0 still take the checked slow path (a program without data there faults on it)", async () => {
    const [low] = await underDogma(["page-0"], 0n);
    expect(low!.outcome).toMatchObject({ kind: "faulted" });
    expect(JSON.stringify(low!.outcome)).toContain("null");
  });

  it("hit the TLB once the page is in it: a loop of 1000 rounds takes a slow path per page and access kind, no more", async () => {
    const t = testMachine();
    // Counts the kernel's slow-path calls (as bench/slow-paths.ts does).
    let slowPaths = 0;
    hookMmu(t.kernel, /^(load|store)_/, (_name, original) => (...args: unknown[]) => {
      slowPaths++;
      return original(...args);
    });
    const image = await t.loader.load(bytes, "constant-addresses");
    const process = t.kernel.spawn(image, { entry: "loop", entryArgs: [0n], mapImage: false });
    await t.kernel.run();
    expect(process.outcome).toEqual({ kind: "exited", code: 0 });
    expect(process.returnValue).toBe(native("loop", 0n));
    expect(slowPaths).toBeGreaterThan(0);
    expect(slowPaths).toBeLessThanOrEqual(4);
  });

  it("are written as the shorter constant sequences", async () => {
    expect(await rewrittenCode({})).toBeLessThan((await rewrittenCode({ constantAddresses: false })) - 20 * entries.length);
  });
});
