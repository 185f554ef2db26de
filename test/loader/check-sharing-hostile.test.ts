// redteam4: check sharing (src/loader/access-groups.ts) against code written to mislead its
// planner: an address through select, a block's parameter, a br_table or a return in the middle
// of a run, a global as the base, a local rewritten by a tee inside an address, constants that
// wrap, a commuted add, an i32.sub of a negative constant, code left unreachable after a br, a
// br_if that carries the address. Each runs, wherever the group's span falls, to the result it
// has natively (or faults where native code traps), and the same as without sharing.
import { describe, expect, it } from "vitest";
import { decodeRecord, type ModuleCache } from "../../src/loader/cache.ts";
import type { RewriteVariant } from "../../src/loader/output-layout.ts";
import { testMachine, type TestMachine } from "../helpers/test-host.ts";
import { watToBinary } from "./wat.ts";

const PAGE = 4096;
const wat = `(module
  (memory 4 4)
  (global $g (mut i32) (i32.const 0))
  (func $fill (local $a i32)
    (local.set $a (i32.const ${PAGE}))
    (loop $next
      (i32.store (local.get $a) (i32.mul (local.get $a) (i32.const 0x9e3779b1)))
      (local.set $a (i32.add (local.get $a) (i32.const 4)))
      (br_if $next (i32.lt_u (local.get $a) (i32.const ${16 * PAGE})))))
  (func (export "select-base") (param $p i32) (param $q i32) (param $c i32) (result i64)
    (call $fill)
    (i64.add (i64.load (local.get $p))
      (i64.add (i64.load offset=8 (select (local.get $p) (local.get $q) (local.get $c)))
        (i64.load offset=16 (local.get $p)))))
  (func (export "block-param") (param $p i32) (param $q i32) (param $c i32) (result i64)
    (call $fill)
    local.get $p
    i64.load offset=8
    local.get $p
    block (param i32) (result i64)
      i64.load offset=16
      local.get $p
      local.get $q
      local.get $c
      select
      local.set $p
      local.get $p
      i64.load offset=24
      i64.add
    end
    i64.add)
  (func (export "br-table") (param $p i32) (param $q i32) (param $c i32) (result i64) (local $s i64)
    (call $fill)
    (local.set $s (i64.load (local.get $p)))
    (block $two (block $one
      (local.set $s (i64.add (local.get $s) (i64.load offset=8 (local.get $p))))
      (br_table $one $two (local.get $c))
      (local.set $s (i64.load offset=48 (local.get $p)))))
    (i64.add (local.get $s) (i64.load offset=16 (local.get $p))))
  (func (export "return-mid") (param $p i32) (param $q i32) (param $c i32) (result i64) (local $s i64)
    (call $fill)
    (local.set $s (i64.load offset=4 (local.get $p)))
    (if (local.get $c) (then (return (i64.add (local.get $s) (i64.load offset=12 (local.get $p))))))
    (i64.add (local.get $s) (i64.load offset=20 (local.get $p))))
  (func (export "global-base") (param $p i32) (param $q i32) (param $c i32) (result i64) (local $s i64)
    (call $fill)
    (global.set $g (local.get $p))
    (local.set $s (i64.load (global.get $g)))
    (global.set $g (local.get $q))
    (local.set $s (i64.add (local.get $s) (i64.load offset=8 (global.get $g))))
    (i64.add (local.get $s) (i64.load offset=8 (local.get $p))))
  (func (export "tee-inside") (param $p i32) (param $q i32) (param $c i32) (result i64) (local $s i64)
    (call $fill)
    (local.set $s (i64.load (local.get $p)))
    (local.set $s (i64.add (local.get $s) (i64.load offset=8 (local.tee $p (i32.add (local.get $p) (i32.const 8))))))
    (local.set $s (i64.add (local.get $s) (i64.load offset=8 (local.tee $p (i32.add (local.get $p) (i32.const 8))))))
    (i64.add (local.get $s) (i64.load (local.get $p))))
  (func (export "wrapping-constants") (param $p i32) (param $q i32) (param $c i32) (result i64)
    (call $fill)
    (i64.add (i64.load offset=8 (local.get $p))
      (i64.add (i64.load (i32.add (i32.add (local.get $p) (i32.const 0x7fffffff)) (i32.const 0x7fffffff)))
        (i64.add (i64.load (i32.add (i32.const 16) (local.get $p)))
          (i64.load (i32.sub (local.get $p) (i32.const -24)))))))
  (func (export "dead-code") (param $p i32) (param $q i32) (param $c i32) (result i64) (local $s i64)
    (call $fill)
    (local.set $s (i64.load (local.get $p)))
    (block $out
      (local.set $s (i64.add (local.get $s) (i64.load offset=8 (local.get $p))))
      (br $out)
      (local.set $p (local.get $q))
      (local.set $s (i64.load offset=16 (local.get $p))))
    (i64.add (local.get $s) (i64.load offset=24 (local.get $p))))
  (func (export "br-if-value") (param $p i32) (param $q i32) (param $c i32) (result i64) (local $s i64)
    (call $fill)
    (local.set $s (i64.load (local.get $p)))
    (i64.add (local.get $s)
      (i64.load offset=8
        (block $b (result i32)
          (drop (br_if $b (local.get $q) (local.get $c)))
          (local.set $s (i64.add (local.get $s) (i64.load offset=16 (local.get $p))))
          (local.get $p))))))`;

const bytes = watToBinary(wat);
const ENTRIES = ["select-base", "block-param", "br-table", "return-mid", "global-base", "tee-inside", "wrapping-constants", "dead-code", "br-if-value"];
type Run = (p: number, q: number, c: number) => bigint;

function native(entry: string, p: number, q: number, c: number): { trapped: boolean; value?: bigint } {
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes));
  try {
    return { trapped: false, value: (instance.exports[entry] as Run)(p, q, c) };
  } catch (error) {
    if (!(error instanceof WebAssembly.RuntimeError)) throw error;
    return { trapped: true };
  }
}

async function underDogma(t: TestMachine, entry: string, p: number, q: number, c: number) {
  const image = await t.loader.load(bytes, "hostile");
  const process = t.kernel.spawn(image, { entry, entryArgs: [p, q, c], mapImage: false });
  await t.kernel.run();
  return { outcome: process.outcome, value: process.returnValue };
}

const PLACES = [2 * PAGE + 64, 3 * PAGE - 8, 3 * PAGE - 20, 3 * PAGE - 44, 4 * PAGE - 1, 4 * 65536 - 16, 4 * 65536 - 40, 4 * 65536 + 8, 2 ** 32 - 8, 2 ** 32 - 40, 0xfffffff0, PAGE + 6];

/** Group members of i64 loads in the rewritten binary under `rewrite`: `local.get g; if (result i64); local.get g; i64.load`. */
async function members(rewrite: RewriteVariant): Promise<number> {
  let kept: Uint8Array | null = null;
  const cache: ModuleCache = { get: async () => null, put: async (_key, record) => void (kept = record) };
  await testMachine({ loader: { cache, rewrite } }).loader.load(bytes, "hostile");
  const out = decodeRecord(kept!)!.rewritten;
  let count = 0;
  for (let i = 0; i + 6 < out.length; i++) if (out[i] === 0x20 && out[i + 2] === 0x04 && out[i + 3] === 0x7e && out[i + 4] === 0x20 && out[i + 5] === out[i + 1] && out[i + 6] === 0x29) count++;
  return count;
}

describe("check sharing against code that misleads its planner", () => {
  it("groups accesses here: members in every function but a few", async () => {
    expect(await members({ groupSpan: 0 })).toBe(0);
    expect(await members({})).toBeGreaterThanOrEqual(8);
  });

  for (const entry of ENTRIES) {
    it(`${entry}: the same results as natively and as without sharing`, async () => {
      const t = testMachine();
      const unshared = testMachine({ loader: { rewrite: { groupSpan: 0 } satisfies RewriteVariant } });
      for (const p of PLACES) {
        for (const [q, c] of [[6 * PAGE + 24, 0], [3 * PAGE - 4, 1], [6 * PAGE, 2]] as const) {
          const expected = native(entry, p, q, c);
          const got = await underDogma(t, entry, p, q, c);
          const where = `${entry}(0x${p.toString(16)}, 0x${q.toString(16)}, ${c})`;
          if (expected.trapped) expect(got.outcome, where).toMatchObject({ kind: "faulted" });
          else {
            expect(got.outcome, where).toEqual({ kind: "exited", code: 0 });
            expect(got.value, where).toBe(expected.value);
          }
          expect(got, where).toEqual(await underDogma(unshared, entry, p, q, c));
        }
      }
    });
  }
});
