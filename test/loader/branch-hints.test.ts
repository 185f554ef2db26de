// The branch-hint section of a rewritten module (write-module.ts): every hint names an `if` the
// loader wrote, in a body of the output, in the order the format requires; a memory access's fast
// path is hinted likely and every slow path (a safe point's call, a cache refill that missed)
// unlikely. V8 reads the section (the branch-hinting proposal, on by default) and lays the
// unlikely branches out of line.
import { describe, expect, it } from "vitest";
import { decodeRecord, type ModuleCache } from "../../src/loader/cache.ts";
import { BRANCH_HINTS_MAX_CODE, type RewriteVariant } from "../../src/loader/output-layout.ts";
import { codeSectionBytes } from "../../src/loader/validate.ts";
import { ByteReader } from "../../src/loader/wasm/byte-reader.ts";
import { SectionId, readModule } from "../../src/loader/wasm/module-info.ts";
import { testMachine } from "../helpers/test-host.ts";
import { watToBinary } from "./wat.ts";

const program = watToBinary(`(module
  (memory 2 2)
  (func $leaf (param $p i32) (result i32) (i32.load offset=8 (local.get $p)))
  (func (export "sum") (param $n i32) (result i32) (local $s i32)
    (loop $top
      (local.set $s (i32.add (local.get $s) (i32.load8_u (local.get $n))))
      (i64.store (i32.const 4096) (i64.extend_i32_u (local.get $s)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $top (local.get $n)))
    (i32.add (local.get $s) (call $leaf (i32.const 4096)))))`);

async function rewritten(variant: RewriteVariant = {}): Promise<Uint8Array> {
  const records: Uint8Array[] = [];
  const cache: ModuleCache = { get: async () => null, put: async (_key, record) => void records.push(record) };
  await testMachine({ loader: { cache, rewrite: variant } }).loader.load(program, "hints.wasm");
  return decodeRecord(records[0]!)!.rewritten;
}

interface Hint {
  func: number;
  offset: number;
  likely: number;
}

/** The hints of `bytes`' branch-hint section, null when it has none; checks the section's order rules. */
function readHints(bytes: Uint8Array): Hint[] | null {
  const info = readModule(bytes);
  const ids = info.sections.map((s) => s.id);
  for (const section of info.sections) {
    if (section.id !== SectionId.custom) continue;
    const r = new ByteReader(bytes, section.start, section.end);
    if (r.name() !== "metadata.code.branch_hint") continue;
    expect(ids.indexOf(SectionId.code)).toBeGreaterThan(info.sections.indexOf(section));
    const hints: Hint[] = [];
    let lastFunc = -1;
    for (let functions = r.u32(); functions > 0; functions--) {
      const func = r.u32();
      expect(func).toBeGreaterThan(lastFunc);
      lastFunc = func;
      let lastOffset = -1;
      for (let count = r.u32(); count > 0; count--) {
        const offset = r.u32();
        expect(offset).toBeGreaterThan(lastOffset);
        lastOffset = offset;
        expect(r.u32()).toBe(1);
        hints.push({ func, offset, likely: r.u8() });
      }
    }
    expect(r.done).toBe(true);
    return hints;
  }
  return null;
}

describe("branch hints", () => {
  it("name an if the loader wrote, likely on the fast path and unlikely on slow paths", async () => {
    const bytes = await rewritten();
    const hints = readHints(bytes)!;
    expect(hints).not.toBeNull();
    const info = readModule(bytes);
    const imported = info.functionImports;
    for (const hint of hints) {
      const body = info.bodies[hint.func - imported]!;
      expect(bytes[body.start + hint.offset], `function ${hint.func} offset ${hint.offset}`).toBe(0x04);
      expect([0, 1]).toContain(hint.likely);
    }
    // The loop's body: a load, an access stream (its compare likely, and the full check's after
    // it likely: docs/LOADER.md "Access streams"), and a store to a static variable, whose page
    // the loop's header checks ("Checks hoisted out of loops": the check's `h == 0` unlikely, its
    // compare likely, the store's test of h likely); the loop's safe point (unlikely); the
    // exported function's entry safe point (unlikely); the leaf (a function without loops) has
    // its load inline (likely).
    const likely = hints.filter((h) => h.likely === 1).length;
    const unlikely = hints.filter((h) => h.likely === 0).length;
    expect(likely).toBe(5);
    expect(unlikely).toBe(3);
    await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
  });

  it("are left out when the variant says so", async () => {
    expect(readHints(await rewritten({ branchHints: false }))).toBeNull();
  });

  it("are left out of a module whose code section reaches BRANCH_HINTS_MAX_CODE, kept below it", async () => {
    const code = codeSectionBytes(program);
    expect(readHints(await rewritten({ branchHintsMaxCode: code }))).toBeNull();
    expect(readHints(await rewritten({ branchHintsMaxCode: code + 1 }))).not.toBeNull();
    expect(code).toBeLessThan(BRANCH_HINTS_MAX_CODE);
  });
});
