// Every instruction the loader accepts appears in a module here (or in test/wat), and every
// exported function of these modules returns the same thing (or traps alike) natively and
// under Dogma, for a few arguments each.
import { readFileSync, readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { LoadedImage } from "../../src/kernel/image.ts";
import { ByteReader } from "../../src/loader/wasm/byte-reader.ts";
import { Imm, immediates, refusedSimd, simdImmediateBytes, ACCEPTED_GC } from "../../src/loader/wasm/opcodes.ts";
import { readModule } from "../../src/loader/wasm/module-info.ts";
import { testMachine } from "../helpers/test-host.ts";
import { CONTROL_WAT, SIMD_GAPS, numericModule, simdModule } from "./opcode-modules.ts";
import { watToBinary } from "./wat.ts";

/** Every instruction in `bytes`' function bodies, as "op" or "prefix:sub" strings. */
function instructionsOf(bytes: Uint8Array): Set<string> {
  const info = readModule(bytes);
  const seen = new Set<string>();
  for (const body of info.bodies) {
    const r = new ByteReader(bytes, body.start, body.end);
    for (let groups = r.u32(), i = 0; i < groups; i++) (r.u32(), skipType(r));
    while (!r.done) {
      const op = r.u8();
      const kind = immediates[op];
      if (kind === Imm.prefixMisc || kind === Imm.prefixSimd || kind === Imm.prefixGc) {
        const sub = r.u32();
        seen.add(`${op}:${sub}`);
        if (kind === Imm.prefixSimd) r.skip(simdImmediateBytes(sub));
        if (kind === Imm.prefixMisc) for (let k = 0; k < miscImmediates(sub); k++) r.u32();
        continue;
      }
      seen.add(String(op));
      skipImmediates(r, kind!);
    }
  }
  return seen;
}

function miscImmediates(sub: number): number {
  return sub <= 7 ? 0 : sub === 8 || sub === 10 ? 2 : 1;
}

function skipType(r: ByteReader): void {
  const b = r.u8();
  if (b === 0x63 || b === 0x64) r.s33();
}

function skipImmediates(r: ByteReader, kind: number): void {
  switch (kind) {
    case Imm.blockType:
    case Imm.loop:
      if (r.bytes[r.at] === 0x63 || r.bytes[r.at] === 0x64) r.u8();
      r.s33();
      return;
    case Imm.u32: case Imm.tableSet: case Imm.functionIndex: case Imm.globalIndex: case Imm.memorySize: case Imm.memoryGrow: case Imm.heapType:
      r.s33();
      return;
    case Imm.twoU32:
      r.u32();
      r.u32();
      return;
    case Imm.brTable:
      for (let n = r.u32(), i = 0; i <= n; i++) r.u32();
      return;
    case Imm.selectTypes:
      for (let n = r.u32(), i = 0; i < n; i++) skipType(r);
      return;
    case Imm.load: case Imm.store:
      r.u32();
      r.u32();
      return;
    case Imm.i32Const: case Imm.i64Const:
      r.skipSigned(64);
      return;
    case Imm.f32Const:
      r.skip(4);
      return;
    case Imm.f64Const:
      r.skip(8);
      return;
  }
}

/** What the loader accepts: every one-byte opcode it does not refuse, and the accepted prefixed ones. */
function acceptedInstructions(): string[] {
  const accepted: string[] = [];
  for (let op = 0; op < 256; op++) {
    const kind = immediates[op]!;
    if (kind !== Imm.refused && kind !== Imm.prefixMisc && kind !== Imm.prefixSimd && kind !== Imm.prefixGc) accepted.push(String(op));
  }
  for (const sub of [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 15, 16]) accepted.push(`252:${sub}`);
  for (let sub = 0; sub <= 0x113; sub++) if (refusedSimd(sub) === null && !SIMD_GAPS.has(sub)) accepted.push(`253:${sub}`);
  for (const sub of ACCEPTED_GC) accepted.push(`251:${sub}`);
  return accepted;
}

const WAT_DIR = new URL("../wat/", import.meta.url);
const modules: Array<[string, Uint8Array<ArrayBuffer>]> = [
  ["numeric", numericModule()],
  ["simd", simdModule()],
  ["control", watToBinary(CONTROL_WAT)],
];

it("every instruction the loader accepts appears in a test module", () => {
  const covered = new Set<string>();
  const watFiles = readdirSync(WAT_DIR).filter((f) => f.endsWith(".wat"));
  for (const file of watFiles) for (const i of instructionsOf(watToBinary(readFileSync(new URL(file, WAT_DIR), "utf8")))) covered.add(i);
  for (const [, bytes] of modules) for (const i of instructionsOf(bytes)) covered.add(i);
  const missing = acceptedInstructions().filter((i) => !covered.has(i));
  expect(missing).toEqual([]);
});

type Arg = number | bigint;
const VALUES: Record<string, Arg[]> = {
  i32: [0, 1, -1, 0x7fffffff, 0x12345678, -0x80000000],
  i64: [0n, 1n, -1n, 0x0123456789abcdefn, -0x7edcba9876543210n, 0x8000000000000000n],
  f32: [0, 1.5, -2.25, NaN, Infinity, 3e9],
  f64: [0, -1.5, 2.25e300, NaN, -Infinity, 1e19],
};

function argsFor(params: readonly string[], variant: number): Arg[] {
  return params.map((type, i) => {
    const pool = VALUES[type]!;
    return pool[(variant + i * 2) % pool.length]!;
  });
}

type Outcome = { value: unknown } | { trap: true };

function runNative(module: WebAssembly.Module, entry: string, args: Arg[]): Outcome {
  try {
    return { value: (new WebAssembly.Instance(module, {}).exports[entry] as (...a: Arg[]) => unknown)(...args) };
  } catch (error) {
    if (error instanceof WebAssembly.RuntimeError) return { trap: true };
    throw error;
  }
}

const show = (v: unknown) => (typeof v === "number" && Number.isNaN(v) ? "NaN" : typeof v === "bigint" ? `${v}n` : JSON.stringify(v));

describe("native and Dogma agree, instruction by instruction", () => {
  const t = testMachine();
  for (const [label, bytes] of modules) {
    it(label, async () => {
      const native = new WebAssembly.Module(bytes);
      const image: LoadedImage = await t.loader.load(bytes, `${label}.wasm`);
      const types = new Map(WebAssembly.Module.exports(native).map((e) => [e.name, e.kind]));
      const signatures = paramTypes(bytes);
      let compared = 0;
      for (const [entry, kind] of types) {
        if (kind !== "function") continue;
        for (let variant = 0; variant < 3; variant++) {
          const args = argsFor(signatures.get(entry)!, variant);
          const want = runNative(native, entry, args);
          const process = t.kernel.spawn(image, { entry, entryArgs: args, mapImage: false });
          await t.kernel.run();
          const got: Outcome = process.outcome?.kind === "faulted" ? { trap: true } : { value: process.returnValue };
          expect(show("value" in got ? got.value : "trap"), `${label} ${entry}(${args.map(show).join(", ")})`).toBe(show("value" in want ? want.value : "trap"));
          compared++;
        }
      }
      expect(compared).toBeGreaterThan(10);
      expect(t.kernel.liveCount()).toBe(0);
    });
  }
});

/** Parameter types of each exported function, by export name. */
function paramTypes(bytes: Uint8Array): Map<string, string[]> {
  const info = readModule(bytes);
  const result = new Map<string, string[]>();
  for (const e of info.exports) {
    if (e.kind !== 0) continue;
    const type = info.types[info.functions[e.index - info.functionImports]!]!;
    result.set(e.name, [...type.params]);
  }
  return result;
}
