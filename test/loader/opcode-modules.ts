// Modules that between them hold every instruction the loader accepts, one exported function per
// instruction (or a few per function for control flow, references and tables), each taking numbers
// from JavaScript and returning a number, so that the same call can run natively and under Dogma.
// Numeric and SIMD instructions are generated from their opcodes and signatures; the rest is WAT.
import { ByteWriter } from "../../src/loader/wasm/byte-writer.ts";

const I32 = 0x7f, I64 = 0x7e, F32 = 0x7d, F64 = 0x7c, V128 = 0x7b;
type T = number;

/** The signature of a one-byte numeric opcode (0x45-0xc4). */
function numericSignature(op: number): [T[], T] {
  const cmp = (t: T): [T[], T] => [[t, t], I32];
  const un = (t: T): [T[], T] => [[t], t];
  const bin = (t: T): [T[], T] => [[t, t], t];
  if (op === 0x45) return [[I32], I32];
  if (op <= 0x4f) return cmp(I32);
  if (op === 0x50) return [[I64], I32];
  if (op <= 0x5a) return cmp(I64);
  if (op <= 0x60) return cmp(F32);
  if (op <= 0x66) return cmp(F64);
  if (op <= 0x69) return un(I32);
  if (op <= 0x78) return bin(I32);
  if (op <= 0x7b) return un(I64);
  if (op <= 0x8a) return bin(I64);
  if (op <= 0x91) return un(F32);
  if (op <= 0x98) return bin(F32);
  if (op <= 0x9f) return un(F64);
  if (op <= 0xa6) return bin(F64);
  const conversions: Record<number, [T, T]> = {
    0xa7: [I64, I32], 0xa8: [F32, I32], 0xa9: [F32, I32], 0xaa: [F64, I32], 0xab: [F64, I32], 0xac: [I32, I64], 0xad: [I32, I64],
    0xae: [F32, I64], 0xaf: [F32, I64], 0xb0: [F64, I64], 0xb1: [F64, I64], 0xb2: [I32, F32], 0xb3: [I32, F32], 0xb4: [I64, F32],
    0xb5: [I64, F32], 0xb6: [F64, F32], 0xb7: [I32, F64], 0xb8: [I32, F64], 0xb9: [I64, F64], 0xba: [I64, F64], 0xbb: [F32, F64],
    0xbc: [F32, I32], 0xbd: [F64, I64], 0xbe: [I32, F32], 0xbf: [I64, F64], 0xc0: [I32, I32], 0xc1: [I32, I32], 0xc2: [I64, I64],
    0xc3: [I64, I64], 0xc4: [I64, I64],
  };
  const [from, to] = conversions[op]!;
  return [[from], to];
}

/** Saturating truncations, 0xfc 0-7. */
const TRUNC_SAT: Array<[T, T]> = [[F32, I32], [F32, I32], [F64, I32], [F64, I32], [F32, I64], [F32, I64], [F64, I64], [F64, I64]];

type SimdShape = "binary" | "unary" | "ternary" | "test" | "shift" | "splat" | "extract" | "replace" | "const" | "shuffle";

export const SIMD_GAPS = new Set([154, 162, 165, 166, 175, 176, 178, 179, 180, 187, 194, 197, 198, 207, 208, 210, 211, 212, 226, 238]);
const SIMD_UNARY = new Set([
  77, 94, 95, 96, 97, 98, 103, 104, 105, 106, 116, 117, 122, 124, 125, 126, 127, 128, 129, 135, 136, 137, 138, 148, 160, 161, 167, 168, 169,
  170, 192, 193, 199, 200, 201, 202, 224, 225, 227, 236, 237, 239, 248, 249, 250, 251, 252, 253, 254, 255, 257, 258, 259, 260,
]);
const SIMD_TEST = new Set([83, 99, 100, 131, 132, 163, 164, 195, 196]);
const SIMD_SHIFT = new Set([107, 108, 109, 139, 140, 141, 171, 172, 173, 203, 204, 205]);
const SIMD_TERNARY = new Set([82, 261, 262, 263, 264, 265, 266, 267, 268, 275]);
/** Lane type of splat (15-20) and extract/replace lane (21-34). */
const LANE_TYPE = [I32, I32, I32, I64, F32, F64];

/** Every SIMD sub-opcode the loader accepts (no memory access), with its shape. */
export function acceptedSimd(): Array<[number, SimdShape]> {
  const result: Array<[number, SimdShape]> = [];
  for (let sub = 12; sub <= 0x113; sub++) {
    if ((sub >= 84 && sub <= 93) || SIMD_GAPS.has(sub)) continue;
    let shape: SimdShape = "binary";
    if (sub === 12) shape = "const";
    else if (sub === 13) shape = "shuffle";
    else if (sub >= 15 && sub <= 20) shape = "splat";
    else if (sub >= 21 && sub <= 34) shape = laneOp(sub).replace ? "replace" : "extract";
    else if (SIMD_UNARY.has(sub)) shape = "unary";
    else if (SIMD_TEST.has(sub)) shape = "test";
    else if (SIMD_SHIFT.has(sub)) shape = "shift";
    else if (SIMD_TERNARY.has(sub)) shape = "ternary";
    result.push([sub, shape]);
  }
  return result;
}

/** i8x16.extract_lane_s is 21, _u 22, replace 23; i16x8: 24, 25, 26; then extract/replace pairs 27-34. */
function laneOp(sub: number): { lanes: number; type: T; replace: boolean } {
  if (sub <= 23) return { lanes: 16, type: I32, replace: sub === 23 };
  if (sub <= 26) return { lanes: 8, type: I32, replace: sub === 26 };
  const k = Math.floor((sub - 27) / 2);
  return { lanes: [4, 2, 4, 2][k]!, type: [I32, I64, F32, F64][k]!, replace: (sub - 27) % 2 === 1 };
}

interface Fn {
  name: string;
  params: T[];
  result: T;
  code: number[];
}

function leb(n: number): number[] {
  const w = new ByteWriter(8);
  w.u32(n);
  return [...w.view()];
}

/** Code that pushes a v128 built from two i64 parameters. */
const v128From = (lo: number, hi: number) => [0x20, lo, 0xfd, ...leb(18), 0x20, hi, 0xfd, ...leb(30), 1];
/** Code that turns a v128 on the stack into one i64 (lane 0 xor lane 1 rotated). */
const foldV128 = () => [0x22, 0, 0xfd, ...leb(29), 0, 0x20, 0, 0xfd, ...leb(29), 1, 0x42, 1, 0x89, 0x85].flat();

/** One function per SIMD instruction: v128 operands come in as two i64 each, a v128 result goes out folded. */
function simdFunctions(): Fn[] {
  const fns: Fn[] = [];
  for (const [sub, shape] of acceptedSimd()) {
    const op = [0xfd, ...leb(sub)];
    const name = `simd_${sub}`;
    const vecs = (n: number) => Array.from({ length: n }, (_, i) => v128From(2 * i, 2 * i + 1)).flat();
    const params = (n: number) => Array.from({ length: 2 * n }, () => I64);
    // Local 0 of a v128 result's fold is a v128 scratch local: declared by the body builder.
    switch (shape) {
      case "const":
        fns.push({ name, params: [], result: I64, code: [...op, ...Array.from({ length: 16 }, (_, i) => i * 17), ...foldV128()] });
        break;
      case "shuffle":
        fns.push({ name, params: params(2), result: I64, code: [...vecs(2), ...op, ...Array.from({ length: 16 }, (_, i) => (i * 7) % 32), ...foldV128()] });
        break;
      case "splat": {
        const type = LANE_TYPE[sub - 15]!;
        fns.push({ name, params: [type], result: I64, code: [0x20, 0, ...op, ...foldV128()] });
        break;
      }
      case "extract": {
        const { lanes, type } = laneOp(sub);
        fns.push({ name, params: params(1), result: type, code: [...vecs(1), ...op, lanes - 1] });
        break;
      }
      case "replace": {
        const { lanes, type } = laneOp(sub);
        fns.push({ name, params: [...params(1), type], result: I64, code: [...vecs(1), 0x20, 2, ...op, lanes - 2, ...foldV128()] });
        break;
      }
      case "test":
        fns.push({ name, params: params(1), result: I32, code: [...vecs(1), ...op] });
        break;
      case "shift":
        fns.push({ name, params: [...params(1), I32], result: I64, code: [...vecs(1), 0x20, 2, ...op, ...foldV128()] });
        break;
      case "unary":
        fns.push({ name, params: params(1), result: I64, code: [...vecs(1), ...op, ...foldV128()] });
        break;
      case "binary":
        fns.push({ name, params: params(2), result: I64, code: [...vecs(2), ...op, ...foldV128()] });
        break;
      case "ternary":
        fns.push({ name, params: params(3), result: I64, code: [...vecs(3), ...op, ...foldV128()] });
        break;
    }
  }
  return fns;
}

function numericFunctions(): Fn[] {
  const fns: Fn[] = [];
  for (let op = 0x45; op <= 0xc4; op++) {
    const [params, result] = numericSignature(op);
    fns.push({ name: `op_${op.toString(16)}`, params, result, code: [...params.flatMap((_, i) => [0x20, i]), op] });
  }
  TRUNC_SAT.forEach(([from, to], sub) => fns.push({ name: `sat_${sub}`, params: [from], result: to, code: [0x20, 0, 0xfc, sub] }));
  return fns;
}

/**
 * A module of one exported function per generated instruction. SIMD functions get a v128 local
 * (after their parameters) for folding their result.
 */
function moduleOf(fns: Fn[], v128Scratch: boolean): Uint8Array<ArrayBuffer> {
  const w = new ByteWriter(1 << 16);
  w.bytes(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
  w.section(1, (s) => {
    s.u32(fns.length);
    for (const f of fns) {
      s.u8(0x60);
      s.u32(f.params.length);
      f.params.forEach((p) => s.u8(p));
      s.u8(1);
      s.u8(f.result);
    }
  });
  w.section(3, (s) => {
    s.u32(fns.length);
    fns.forEach((_, i) => s.u32(i));
  });
  w.section(5, (s) => s.bytes(new Uint8Array([1, 0, 1])));
  w.section(7, (s) => {
    s.u32(fns.length);
    fns.forEach((f, i) => {
      s.name(f.name);
      s.u8(0);
      s.u32(i);
    });
  });
  w.section(10, (s) => {
    s.u32(fns.length);
    for (const f of fns) {
      s.sized((b) => {
        if (v128Scratch) {
          b.bytes(new Uint8Array([1, 1, V128]));
        } else b.u8(0);
        // The fold's scratch local is local 0 in foldV128: renumber to the first non-parameter local.
        const scratch = f.params.length;
        const code = v128Scratch ? relocateScratch(f.code, scratch) : f.code;
        b.bytes(new Uint8Array(code));
        b.u8(0x0b);
      });
    }
  });
  return w.take() as Uint8Array<ArrayBuffer>;
}

/** foldV128 tees and gets local 0; the real scratch local follows the parameters. */
function relocateScratch(code: number[], scratch: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < code.length; i++) {
    out.push(code[i]!);
    const isFold = (code[i] === 0x22 || code[i] === 0x20) && code[i + 1] === 0 && code[i + 2] === 0xfd && code[i + 3] === 29;
    if (isFold) {
      out.push(scratch);
      i++;
    }
  }
  return out;
}

export const numericModule = (): Uint8Array<ArrayBuffer> => moduleOf(numericFunctions(), false);
export const simdModule = (): Uint8Array<ArrayBuffer> => moduleOf(simdFunctions(), true);

/** Control flow, calls, variables, references, tables and the GC proposal's two conversions. */
export const CONTROL_WAT = `(module
  (type $ii (func (param i32) (result i32)))
  (memory 1)
  (table $t 4 8 funcref)
  (table $e 2 externref)
  (global $g (mut i32) (i32.const 7))
  (global $c i64 (i64.const 9))
  (elem (table $t) (i32.const 0) func $double $inc)
  (elem declare func $double $inc)
  (func $double (type $ii) (i32.mul (local.get 0) (i32.const 2)))
  (func $inc (type $ii) (i32.add (local.get 0) (i32.const 1)))
  (func $tail (param i32) (result i32) (return_call $double (local.get 0)))
  (func $tail_indirect (param i32) (result i32) (return_call_indirect $t (type $ii) (local.get 0) (i32.const 1)))
  (func (export "blocks") (param i32) (result i32) (local i32)
    (block $out
      (loop $again
        (local.set 1 (i32.add (local.get 1) (i32.const 1)))
        (br_if $again (i32.lt_u (local.get 1) (i32.and (local.get 0) (i32.const 15))))
        (if (i32.eqz (local.get 0)) (then (nop)) (else (nop)))
        (block $inner (br_table $inner $out $inner (i32.and (local.get 1) (i32.const 1))))
        (br_if $again (i32.lt_u (local.get 1) (i32.const 3)))))
    (drop (i32.const 0))
    (block $r (result i32) (br $r (local.get 1))))
  (func (export "calls") (param i32) (result i32)
    (i32.add (call $double (local.get 0))
      (i32.add (call_indirect $t (type $ii) (local.get 0) (i32.and (local.get 0) (i32.const 1)))
        (i32.add (call $tail (local.get 0)) (call $tail_indirect (local.get 0))))))
  (func (export "returns") (param i32) (result i32)
    (if (local.get 0) (then (return (i32.const 5))))
    (i32.const 6))
  (func (export "traps") (param i32) (result i32)
    (if (local.get 0) (then (unreachable)))
    (i32.const 1))
  (func (export "variables") (param i32) (result i64) (local i32)
    (local.set 1 (local.tee 0 (i32.add (local.get 0) (global.get $g))))
    (global.set $g (local.get 1))
    (i64.add (global.get $c) (i64.extend_i32_u (global.get $g))))
  (func (export "selects") (param i32) (result i32)
    (i32.add (select (i32.const 1) (i32.const 2) (local.get 0))
      (i32.add (select (result i32) (i32.const 10) (i32.const 20) (local.get 0))
        (ref.is_null (select (result funcref) (ref.null func) (table.get $t (i32.const 0)) (local.get 0))))))
  (func (export "constants") (result f64)
    (f64.add (f64.const 1.5) (f64.promote_f32 (f32.const 2.25))))
  (func (export "references") (param i32) (result i32)
    (local $f funcref)
    (local.set $f (ref.func $double))
    (i32.add (ref.is_null (ref.null func))
      (i32.add (ref.is_null (local.get $f))
        (i32.add (ref.is_null (ref.as_non_null (local.get $f)))
          (ref.is_null (extern.convert_any (any.convert_extern (ref.null extern))))))))
  (func (export "ref_eq") (result i32) (ref.eq (ref.null eq) (ref.null eq)))
  (func (export "tables") (param i32) (result i32)
    (table.set $t (i32.const 2) (table.get $t (i32.and (local.get 0) (i32.const 1))))
    (i32.add (table.size $t)
      (i32.add (table.grow $t (ref.null func) (local.get 0))
        (table.grow $e (ref.null extern) (i32.const 1)))))
  (func (export "multivalue") (param i32) (result i32)
    (block (result i32 i32) (local.get 0) (i32.const 3))
    (i32.sub))
  (func (export "memory") (param i32) (result i32)
    (drop (memory.grow (local.get 0)))
    (memory.size)))`;
