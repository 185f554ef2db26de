// f32/f64 loads and stores copy bits: a signalling NaN must come back exactly as it went in.
// Under Dogma a TLB miss, an unaligned or a page-crossing access takes the kernel's slow path,
// where the value crosses into JavaScript as a number.
import { describe, expect, it } from "vitest";
import { testMachine } from "../helpers/test-host.ts";
import { watToBinary } from "./wat.ts";

// Each export writes a bit pattern one way and reads it back the other; address 8190 makes the
// float access unaligned and page-crossing, so it always takes the slow path.
const wat = `(module
  (memory 1 1)
  (func (export "f32.store") (param $a i32) (param $v i32) (result i32)
    (f32.store (local.get $a) (f32.reinterpret_i32 (local.get $v))) (i32.load (local.get $a)))
  (func (export "f32.load") (param $a i32) (param $v i32) (result i32)
    (i32.store (local.get $a) (local.get $v)) (i32.reinterpret_f32 (f32.load (local.get $a))))
  (func (export "f64.store") (param $a i32) (param $v i64) (result i64)
    (f64.store (local.get $a) (f64.reinterpret_i64 (local.get $v))) (i64.load (local.get $a)))
  (func (export "f64.load") (param $a i32) (param $v i64) (result i64)
    (i64.store (local.get $a) (local.get $v)) (i64.reinterpret_f64 (f64.load (local.get $a))))
)`;

const SNAN32 = 0x7fa00001;
const SNAN64 = 0x7ff4000000000001n;

async function roundTrip(entry: string, address: number, bits: number | bigint): Promise<unknown> {
  const t = testMachine();
  const image = await t.loader.load(watToBinary(wat), "nan-bits");
  const process = t.kernel.spawn(image, { entry, entryArgs: [address, bits], mapImage: false });
  await t.kernel.run();
  expect(process.outcome).toEqual({ kind: "exited", code: 0 });
  return process.returnValue;
}

describe("NaN bit patterns", () => {
  it("are kept natively (the reference this test holds Dogma to)", () => {
    const exports = new WebAssembly.Instance(new WebAssembly.Module(watToBinary(wat) as Uint8Array<ArrayBuffer>)).exports as Record<string, (a: number, v: number | bigint) => unknown>;
    expect(exports["f32.store"]!(8190, SNAN32)).toBe(SNAN32);
    expect(exports["f32.load"]!(8190, SNAN32)).toBe(SNAN32);
    expect(exports["f64.store"]!(8190, SNAN64)).toBe(SNAN64);
    expect(exports["f64.load"]!(8190, SNAN64)).toBe(SNAN64);
  });

  it("quiet NaNs with a payload survive Dogma's slow path", async () => {
    expect(await roundTrip("f32.store", 8190, 0x7fc00001)).toBe(0x7fc00001);
    expect(await roundTrip("f32.load", 8190, 0xffc12345 | 0)).toBe(0xffc12345 | 0);
    expect(await roundTrip("f64.load", 8190, 0x7ff8000000000001n)).toBe(0x7ff8000000000001n);
  });

  // The slow path of a float access is the integer access of its width plus a reinterpret in the
  // rewritten code (src/kernel/mmu-abi.ts slowPathOf), so float bits never become JS numbers,
  // whose f32 → f64 conversion would quiet a signalling NaN (0x7fa00001 came back as 0x7fe00001).
  it("signalling NaNs survive Dogma's slow path (f32 store and load)", async () => {
    expect(await roundTrip("f32.store", 8190, SNAN32)).toBe(SNAN32);
    expect(await roundTrip("f32.load", 8190, SNAN32)).toBe(SNAN32);
  });

  it("signalling NaNs survive Dogma's slow path (f64 load and store)", async () => {
    expect(await roundTrip("f64.load", 8190, SNAN64)).toBe(SNAN64);
    expect(await roundTrip("f64.store", 8190, SNAN64)).toBe(SNAN64);
  });
});
