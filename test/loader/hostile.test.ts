// Hostile and odd binaries: every one is refused with a LoadError that says what and where, or
// loads and runs; nothing else ever comes out of the loader. The loader's own decoder is also fed
// thousands of damaged binaries directly, without the engine's validation in front of it.
import { describe, expect, it } from "vitest";
import { LoadError } from "../../src/loader/load-error.ts";
import { codeLayout } from "../../src/loader/output-layout.ts";
import { chunkBodies, rewriteChunk } from "../../src/loader/rewrite-code.ts";
import { DecodeError } from "../../src/loader/wasm/byte-reader.ts";
import { ByteWriter } from "../../src/loader/wasm/byte-writer.ts";
import { readModule } from "../../src/loader/wasm/module-info.ts";
import { readNames } from "../../src/loader/name-section.ts";
import { testMachine } from "../helpers/test-host.ts";
import { watToBinary } from "./wat.ts";

const t = testMachine();

async function outcome(bytes: Uint8Array, name = "hostile.wasm"): Promise<LoadError | "loaded"> {
  try {
    await t.loader.load(bytes, name);
    return "loaded";
  } catch (error) {
    expect(error).toBeInstanceOf(LoadError);
    const e = error as LoadError;
    expect(e.reason).toMatch(/^[^\n]{5,400}$/);
    return e;
  }
}

async function refused(bytes: Uint8Array): Promise<LoadError> {
  const result = await outcome(bytes);
  expect(result).not.toBe("loaded");
  return result as LoadError;
}

/** A module from sections given as [id, payload bytes]. */
function moduleOf(sections: Array<[number, number[]]>): Uint8Array {
  return new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, ...sections.flatMap(([id, payload]) => [id, ...leb(payload.length), ...payload])]);
}

function leb(n: number): number[] {
  const w = new ByteWriter(8);
  w.u32(n);
  return [...w.view()];
}

const name = (text: string) => [...leb(text.length), ...new TextEncoder().encode(text)];
const TYPE_VOID = [1, [1, 0x60, 0, 0]] as [number, number[]];
const ONE_FUNCTION = [3, [1, 0]] as [number, number[]];
const EMPTY_BODY = [10, [1, 2, 0, 0x0b]] as [number, number[]];

/** Runs export `entry` of `bytes` under Dogma and returns its value. */
async function run(bytes: Uint8Array, entry: string, args: number[] = []): Promise<unknown> {
  const image = await t.loader.load(bytes, "odd.wasm");
  const process = t.kernel.spawn(image, { entry, entryArgs: args, mapImage: false });
  await t.kernel.run();
  expect(process.outcome).toEqual({ kind: "exited", code: 0 });
  return process.returnValue;
}

describe("malformed binaries are refused with what and where", () => {
  it("an overlong LEB128 (a section size in six bytes)", async () => {
    const e = await refused(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 0x84, 0x80, 0x80, 0x80, 0x80, 0x00, 1, 0x60, 0, 0]));
    expect(e.where).toMatch(/offset \d+/);
  });

  it("sections out of order", async () => {
    const e = await refused(moduleOf([TYPE_VOID, EMPTY_BODY, ONE_FUNCTION]));
    expect(e.where).toMatch(/offset \d+/);
  });

  it("a count past the end of its section", async () => {
    const e = await refused(moduleOf([[1, [200, 1, 0x60, 0, 0]]]));
    expect(e.where).toMatch(/offset \d+/);
  });

  it("a function body whose size lies", async () => {
    for (const size of [1, 3, 9, 200]) {
      const e = await refused(moduleOf([TYPE_VOID, ONE_FUNCTION, [10, [1, size, 0, 0x0b]]]));
      expect(e.where, `size ${size}`).toMatch(/offset \d+/);
    }
  });

  it("a section that runs past the end of the binary", async () => {
    const e = await refused(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 100, 1, 0x60, 0, 0]));
    expect(e.where).toMatch(/offset \d+/);
  });

  it("a binary cut at every length", async () => {
    const good = watToBinary(`(module (memory 1) (global (mut i32) (i32.const 1)) (func (export "f") (param i32) (result i32)
      (loop (br_if 0 (i32.load (local.get 0)))) (i32.store offset=8 (local.get 0) (i32.const 5)) (local.get 0)) (data (i32.const 16) "x"))`, { names: true });
    for (let length = 8; length < good.length; length++) {
      const result = await outcome(good.slice(0, length));
      if (result !== "loaded") expect(result.where, `cut at ${length}`).toMatch(/offset \d+|header|module/);
    }
  });
});

describe("valid binaries the engine accepts and the loader must not crash on", () => {
  const reserved = ["__dogma_fuel", "__dogma_init", "__dogma_global_0"];
  for (const exportName of reserved) {
    it(`an export named ${exportName} is refused: the name is the loader's`, async () => {
      const e = await refused(watToBinary(`(module (memory 1) (global $g (mut i32) (i32.const 0)) (func $f)
        (export "${exportName}" ${exportName === "__dogma_init" ? "(func $f)" : "(global $g)"}))`));
      expect(e.where).toBe(`export section, export "${exportName}"`);
      expect(e.reason).toMatch(/reserved/);
    });
  }

  const body = [10, [1, 4, 0, 0x41, 42, 0x0b]] as [number, number[]];
  const returns42: Array<[number, number[]]> = [[1, [1, 0x60, 0, 1, 0x7f]], ONE_FUNCTION, [7, [1, ...name("f"), 0, 0]], body];

  it("a malformed name section: loaded, its names dropped", async () => {
    const broken: Array<[number, number[]]> = [
      [0, [...name("name"), 1, 50, 1, 0]], // a function-names subsection that claims 50 bytes
      [0, [...name("name"), 1, 3, 1, 0, 200]], // a name longer than the subsection
      [0, [...name("name"), 1, 2, 0, 0, 1, 2, 0, 0]], // subsections out of order (1 then 1)
      [0, [...name("name"), 1, 4, 1, 0, 1, 0xff]], // a name that is not UTF-8
    ];
    for (const section of broken) {
      const bytes = moduleOf([...returns42, section]);
      expect(readNames(bytes, readModule(bytes).nameSection).functions.size).toBe(0);
      expect(await run(bytes, "f")).toBe(42);
    }
  });

  it("target_features, dylink, dylink.0, branch hints and other custom sections: loaded", async () => {
    const customs: Array<[number, number[]]> = [
      [0, [...name("target_features"), 1, 0x2b, ...name("bulk-memory")]],
      [0, [...name("dylink"), 0, 0, 0, 0]],
      [0, [...name("dylink.0"), 1, 4, 0, 0, 0, 0]],
      [0, [...name("metadata.code.branch_hint"), 1, 0, 1, 1, 1, 1]],
      [0, [...name("producers"), 0]],
      [0, [...name("")]],
    ];
    // Custom sections may sit anywhere: before the type section, between the others, at the end.
    const bytes = moduleOf([customs[0]!, returns42[0]!, customs[1]!, returns42[1]!, customs[2]!, returns42[2]!, customs[3]!, returns42[3]!, customs[4]!, customs[5]!]);
    new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>);
    expect(await run(bytes, "f")).toBe(42);
  });

  it("an imported memory becomes the machine's, with its limits and data", async () => {
    const bytes = watToBinary(`(module (import "env" "memory" (memory 2 3)) (data (i32.const 70000) "\\07")
      (func (export "f") (result i32) (i32.add (i32.load8_u (i32.const 70000)) (memory.grow (i32.const 1)))))`);
    expect(await run(bytes, "f")).toBe(9);
    expect(await t.loader.load(bytes, "imported-memory.wasm")).toMatchObject({ initialPages: 2, maximumPages: 3 });
  });

  it("5,000 nested loops and 5,000 nested blocks load and run (the rewrite is iterative)", async () => {
    const depth = 5000;
    const code = [...Array(depth).fill([0x03, 0x40]).flat(), ...Array(depth).fill([0x02, 0x40]).flat(), ...Array(2 * depth).fill(0x0b), 0x41, 7, 0x0b];
    const bytes = moduleOf([[1, [1, 0x60, 0, 1, 0x7f]], ONE_FUNCTION, [7, [1, ...name("f"), 0, 0]], [10, [1, ...leb(code.length + 1), 0, ...code]]]);
    expect(await run(bytes, "f")).toBe(7);
  });

  it("a function of 20,000 locals loads in linear time", async () => {
    const locals = 20_000;
    const code: number[] = [];
    for (let i = 0; i < locals; i += 97) code.push(0x41, 1, 0x21, ...leb(i));
    code.push(0x20, ...leb(locals - 1), 0x0b);
    const bytes = moduleOf([[1, [1, 0x60, 0, 1, 0x7f]], ONE_FUNCTION, [7, [1, ...name("f"), 0, 0]], [10, [1, ...leb(code.length + 4 + 1), 1, ...leb(locals), 0x7f, ...code]]]);
    expect(await run(bytes, "f")).toBe(0);
  });
});

/** splitmix32: the same damaged binaries every run. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

describe("the loader's own decoder, without the engine's validation in front", () => {
  it("throws nothing but DecodeError on thousands of damaged binaries", () => {
    const seedModule = watToBinary(`(module (type $t (func (param i32) (result i32))) (memory 1 2) (table 2 funcref) (global $g (mut i32) (i32.const 3))
      (elem (i32.const 0) func $f $g) (data (i32.const 1024) "data") (data "passive")
      (func $f (type $t) (loop (br_if 0 (i32.load8_u offset=3 (local.get 0)))) (i64.store (local.get 0) (i64.const -1))
        (memory.copy (local.get 0) (i32.const 8) (i32.const 4)) (memory.init 1 (local.get 0) (i32.const 0) (i32.const 2))
        (call_indirect (type $t) (local.get 0) (i32.const 1)))
      (func $g (type $t) (global.set $g (local.get 0)) (block (br_table 0 0 (local.get 0))) (global.get $g))
      (export "f" (func $f)) (start $h) (func $h))`, { names: true });
    const next = random(20);
    const unexpected: string[] = [];
    let decoded = 0;
    for (let round = 0; round < 4000; round++) {
      const bytes = seedModule.slice();
      const edits = 1 + (next() % 4);
      for (let k = 0; k < edits; k++) {
        const at = 8 + (next() % (bytes.length - 8));
        const kind = next() % 3;
        bytes[at] = kind === 0 ? next() & 0xff : kind === 1 ? bytes[at]! ^ (1 << (next() % 8)) : [0x00, 0x0b, 0x80, 0xff, 0x41][next() % 5]!;
      }
      try {
        const info = readModule(bytes);
        readNames(bytes, info.nameSection);
        const layout = codeLayout(info.functionImports, info.functions.length, info.globals.length);
        for (const chunk of chunkBodies(info, 1 << 20)) rewriteChunk(bytes, layout, chunk);
        decoded++;
      } catch (error) {
        if (!(error instanceof DecodeError)) unexpected.push(`round ${round}: ${String(error)}`);
      }
    }
    expect(unexpected).toEqual([]);
    expect(decoded).toBeGreaterThan(100);
  });

  it("and the loader turns whatever the engine lets through into a LoadError or a module", async () => {
    const seedModule = watToBinary(`(module (memory 1) (func (export "f") (param i32) (result i32) (i32.load offset=4 (local.get 0))))`, { names: true });
    const next = random(7);
    for (let round = 0; round < 300; round++) {
      const bytes = seedModule.slice();
      bytes[8 + (next() % (bytes.length - 8))] = next() & 0xff;
      await outcome(bytes);
    }
  });
});
