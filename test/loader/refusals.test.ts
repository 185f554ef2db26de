// The loader refuses what Dogma cannot run with a LoadError that says where (section, import,
// function, byte offset) and why, in one readable line, and never with any other exception. The
// machine keeps working after every refusal: each test ends by loading and running a good module.
import { afterEach, describe, expect, it } from "vitest";
import { LoadError } from "../../src/loader/load-error.ts";
import { testMachine } from "../helpers/test-host.ts";
import { watToBinary } from "./wat.ts";

// maxMemoryPages: 16 lets the policy test use a small memory.
const t = testMachine({ loader: { maxMemoryPages: 16 } });

async function refusal(bytes: Uint8Array, name = "bad.wasm"): Promise<LoadError> {
  let error: unknown = null;
  try {
    await t.loader.load(bytes, name);
  } catch (caught) {
    error = caught;
  }
  expect(error).toBeInstanceOf(LoadError);
  const e = error as LoadError;
  expect(e.binaryName).toBe(name);
  expect(e.message).toBe(`${name}: ${e.where}: ${e.reason}`);
  // Readable: one line of words, no stack trace, no "[object Object]".
  expect(e.reason).toMatch(/^[^\n]{10,300}$/);
  expect(e.reason).not.toMatch(/object Object|undefined|\.[jt]s:\d+/);
  return e;
}

async function refusedWat(wat: string): Promise<LoadError> {
  return refusal(watToBinary(wat, { names: true }));
}

// A good module, different every time so the loader rewrites it afresh (binaryen still usable).
let goodRuns = 0;
afterEach(async () => {
  const n = 1000 + goodRuns++;
  const bytes = watToBinary(`(module (memory 1 1)
    (func (export "main") (result i32) (i32.store (i32.const 4100) (i32.const ${n})) (i32.load (i32.const 4100))))`);
  const process = t.kernel.spawn(await t.loader.load(bytes, "good.wasm"), { entry: "main" });
  await t.kernel.run();
  expect(process.outcome).toEqual({ kind: "exited", code: 0 });
  expect(process.returnValue).toBe(n);
});

const valid = watToBinary(`(module (memory 1 1) (func $main (export "_start") (i32.store (i32.const 4096) (i32.const 1))))`, { names: true });

describe("not a module", () => {
  it("empty file", async () => {
    const e = await refusal(new Uint8Array(0));
    expect(e.where).toBe("header");
    expect(e.reason).toMatch(/not a WebAssembly binary/);
  });

  it("text", async () => {
    const e = await refusal(new TextEncoder().encode("(module (func))\n"));
    expect(e.where).toBe("header");
    expect(e.reason).toMatch(/not a WebAssembly binary/);
  });

  it("wrong version", async () => {
    const bytes = valid.slice();
    bytes[4] = 2;
    const e = await refusal(bytes);
    expect(e.where).toBe("header");
    expect(e.reason).toMatch(/version 2 is not supported/);
  });

  it("truncated in the header", async () => {
    for (const length of [3, 7]) expect((await refusal(valid.slice(0, length))).where).toBe("header");
  });

  it("truncated after the header, at several lengths", async () => {
    // (8 bytes is the header alone: a valid empty module.)
    for (const length of [9, 10, 12, 20, valid.length >> 1, valid.length - 1]) {
      const e = await refusal(valid.slice(0, length));
      const offset = /^offset (\d+)$/.exec(e.where);
      expect(offset, `cut at ${length}: where "${e.where}"`).not.toBeNull();
      expect(Number(offset![1])).toBeLessThanOrEqual(length);
      expect(e.reason, `cut at ${length}`).toMatch(/end/);
    }
  });

  it("too large for the policy", async () => {
    const small = testMachine({ loader: { maxBinaryBytes: 32 } });
    await expect(small.loader.load(valid, "big.wasm")).rejects.toMatchObject({ where: "file", reason: expect.stringMatching(/more than the 32 bytes/) });
  });
});

describe("invalid code", () => {
  // Two functions named "good" and "bad" (name section); "bad" is `i32.const 1; i32.add`.
  const bytes = new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    1, 4, 1, 0x60, 0, 0, // type section: () -> ()
    3, 3, 2, 0, 0, // function section: two functions of type 0
    10, 10, 2, 2, 0, 0x0b, 5, 0, 0x41, 1, 0x6a, 0x0b, // code: "good" is empty; "bad" adds with one operand
    0, 0x13, 4, ...new TextEncoder().encode("name"), 1, 0x0c, 2, 0, 4, ...new TextEncoder().encode("good"), 1, 3, ...new TextEncoder().encode("bad"),
  ]);

  it("names the function and the byte offset", async () => {
    const e = await refusal(bytes);
    expect(e.where).toBe("function 1 (bad), offset 29"); // 29: the i32.add
    expect(e.reason).toMatch(/i32\.add/);
  });
});

describe("imports", () => {
  it("a module outside the ABI", async () => {
    const e = await refusedWat(`(module (import "os" "foo" (func)))`);
    expect(e.where).toBe(`import section, function import 0 "os"."foo"`);
    expect(e.reason).toMatch(/module "os" is not part of the Dogma ABI/);
  });

  it("an unknown function of a known module", async () => {
    const e = await refusedWat(`(module (import "env" "foo" (func)))`);
    expect(e.where).toBe(`import section, function import 0 "env"."foo"`);
    expect(e.reason).toBe(`"env" has no function "foo"`);
  });

  it("a known function with the wrong signature", async () => {
    const e = await refusedWat(`(module (import "dogma" "yield" (func)) (import "dogma" "getpid" (func (param i32) (result i32))))`);
    expect(e.where).toBe(`import section, function import 1 "dogma"."getpid"`);
    expect(e.reason).toBe("declared as (i32) -> (i32) but the ABI says () -> (i32)");
  });

  it("the loader's own module dogma:mmu", async () => {
    const e = await refusedWat(`(module (import "dogma:mmu" "memory_size" (func (result i32))))`);
    expect(e.where).toBe(`import section, function import 0 "dogma:mmu"."memory_size"`);
    expect(e.reason).toMatch(/belongs to the loader/);
  });

  it("a global", async () => {
    const e = await refusedWat(`(module (import "env" "g" (global i32)))`);
    expect(e.where).toBe(`import section, global import "env"."g"`);
    expect(e.reason).toMatch(/global imports/);
  });

  it("a table", async () => {
    const e = await refusedWat(`(module (import "env" "t" (table 1 funcref)))`);
    expect(e.where).toBe(`import section, table import "env"."t"`);
    expect(e.reason).toMatch(/table imports/);
  });

  // Tags are found by scanning the binary (src/loader/section-scan.ts findTags): binaryen.js 132
  // cannot list them.
  it("a tag (exception handling)", async () => {
    const e = await refusedWat(`(module (import "env" "tag" (tag $e (param i32))) (func (export "_start")))`);
    expect(e.where).toBe(`import section, tag import "env"."tag"`);
    expect(e.reason).toMatch(/exception handling|tag/);
  });
});

describe("memory", () => {
  it("two memories (multi-memory)", async () => {
    const e = await refusedWat(`(module (memory 1) (memory 1))`);
    expect(e.where).toBe("memory section");
    expect(e.reason).toMatch(/^2 memories declared/);
  });

  it("an imported memory and a defined one", async () => {
    const e = await refusedWat(`(module (import "env" "m" (memory 1)) (memory 1))`);
    expect(e.where).toBe("memory section");
    expect(e.reason).toMatch(/^2 memories declared/);
  });

  it("shared memory", async () => {
    const e = await refusedWat(`(module (memory 1 1 shared))`);
    expect(e.where).toBe("memory section");
    expect(e.reason).toMatch(/shared memory/);
  });

  it("memory64", async () => {
    const e = await refusedWat(`(module (memory i64 1))`);
    expect(e.where).toBe("memory section");
    expect(e.reason).toMatch(/64-bit memory/);
  });

  it("initial memory above the policy's maxMemoryPages", async () => {
    const e = await refusedWat(`(module (memory 17))`);
    expect(e.where).toBe("memory section");
    expect(e.reason).toMatch(/asks for 17 pages .* at most 16 /);
    await expect(t.loader.load(watToBinary(`(module (memory 16))`), "just-fits.wasm")).resolves.toMatchObject({ initialPages: 16 });
  });

  // Compilers put data in page 0 (wasi-libc at 1024, AssemblyScript at 8-16): the loader accepts
  // it (docs/MEMORY.md "Page 0" says how the kernel serves it).
  it("accepts data segments in page 0, where compilers put them", async () => {
    const image = await t.loader.load(watToBinary(`(module (memory 1) (data (i32.const 16) "as") (data (i32.const 1024) "libc") (data (i32.const 4095) "xy"))`), "page0.wasm");
    expect(image.segments.map((s) => s.offset)).toEqual([16, 1024, 4095]);
  });

  // An extended-const offset is evaluated by the loader (src/loader/policy.ts).
  it("a data segment at an extended-const offset is loaded at the right place", async () => {
    const bytes = watToBinary(`(module (memory 1 1) (data (offset (i32.add (i32.const 8192) (i32.const 16))) "\\2a\\2b")
      (func (export "main") (result i32) (i32.load16_u (i32.const 8208))))`);
    const image = await t.loader.load(bytes, "extended-const.wasm");
    const process = t.kernel.spawn(image, { entry: "main" });
    await t.kernel.run();
    expect(process.returnValue).toBe(0x2b2a);
  });

  it("a data segment beyond the initial memory", async () => {
    const e = await refusedWat(`(module (memory 1 2) (data (i32.const 65530) "12345678"))`);
    expect(e.where).toBe("data section, segment 0");
    expect(e.reason).toMatch(/8 bytes at offset 65530 do not fit in the initial memory of 1 pages/);
  });
});

describe("instructions", () => {
  it("atomics", async () => {
    const e = await refusedWat(`(module (import "dogma" "getpid" (func (result i32))) (memory 1 1)
      (func $ok) (func $counter (result i32) (i32.atomic.rmw.add (i32.const 4096) (i32.const 1))))`);
    expect(e.where).toBe(`code section, function 2 "counter"`); // function indices count imports
    expect(e.reason).toMatch(/atomic memory access/);
  });

  it("atomic.fence", async () => {
    const e = await refusedWat(`(module (func $fence (atomic.fence)))`);
    expect(e.where).toBe(`code section, function 0 "fence"`);
    expect(e.reason).toMatch(/atomic\.fence/);
  });

  it("SIMD v128.load", async () => {
    const e = await refusedWat(`(module (memory 1 1) (func $vec (drop (v128.load (i32.const 4096)))))`);
    expect(e.where).toBe(`code section, function 0 "vec"`);
    expect(e.reason).toMatch(/SIMD memory access/);
  });

  it("SIMD v128.load8_splat", async () => {
    const e = await refusedWat(`(module (memory 1 1) (func $splat (drop (v128.load8_splat (i32.const 4096)))))`);
    expect(e.where).toBe(`code section, function 0 "splat"`);
    expect(e.reason).toMatch(/SIMD memory access/);
  });

  // A module that throws or catches declares a tag, and is refused for it before its code is read.
  it("exception handling: try", async () => {
    const e = await refusedWat(`(module (tag $e) (func $catcher (try (do (nop)) (catch $e))))`);
    expect(e.where).toBe("tag section");
    expect(e.reason).toMatch(/exception handling/);
  });

  it("exception handling: throw", async () => {
    const e = await refusedWat(`(module (tag $e (param i32)) (func $thrower (throw $e (i32.const 1))))`);
    expect(e.where).toBe("tag section");
    expect(e.reason).toMatch(/exception handling/);
  });

  // BUG (src/loader/expression-children.ts refusedKinds): the reason for an instruction outside
  // the rewriter's list falls back to "uses an instruction Dogma does not support (binaryen
  // expression id 55)". try_table and throw_ref have no entry, and the entries for table.init,
  // table.fill and table.copy are keyed by binaryen.TableInitId/TableFillId/TableCopyId, which
  // binaryen.js 132 does not define (undefined), so they never match either. Fix: name the
  // instruction from its text when refusing, e.g. /^\((\S+)/.exec(binaryen.emitText(expr)), or
  // key the map by ids that exist.
  it("exception handling: try_table names the instruction", async () => {
    const e = await refusedWat(`(module (func $catcher (block $b (try_table (catch_all $b) (nop)))))`);
    expect(e.where).toBe(`code section, function 0 "catcher"`);
    expect(e.reason).toMatch(/exception handling \(try_table\)/);
  });

  // Same bug as try_table above.
  it("table.init, table.copy and table.fill name the instruction", async () => {
    const table = `(table $t 4 funcref) (func $a) (elem $e func $a)`;
    for (const [op, code] of [
      ["table.init", "(table.init $t $e (i32.const 0) (i32.const 0) (i32.const 1))"],
      ["table.copy", "(table.copy $t $t (i32.const 0) (i32.const 1) (i32.const 1))"],
      ["table.fill", "(table.fill $t (i32.const 0) (ref.null func) (i32.const 1))"],
    ]) {
      const e = await refusedWat(`(module ${table} (func $tables ${code}))`);
      expect(e.where).toBe(`code section, function 1 "tables"`);
      expect(e.reason).toContain(op!);
    }
  });

  it("exception handling: a declared tag", async () => {
    const e = await refusedWat(`(module (tag $e) (func (export "_start")))`);
    expect(e.where).toBe("tag section");
    expect(e.reason).toMatch(/exception handling/);
  });
});
