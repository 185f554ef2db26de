import type { ByteReader } from "./byte-reader.ts";

/**
 * Value types and heap types as the binary encodes them (WebAssembly 2.0 and the
 * typed-reference and GC proposals, which V8 has): number and vector types are one byte,
 * abstract reference types one byte, `(ref null? ht)` is 0x63/0x64 then a heap type.
 */
export const I32 = 0x7f;
export const I64 = 0x7e;
export const F32 = 0x7d;
export const F64 = 0x7c;
export const V128 = 0x7b;
export const REF_NULL = 0x63;
export const REF = 0x64;
/** The empty block type. */
export const EMPTY_BLOCK = 0x40;

/** Abstract heap types, written alone as a reference type (e.g. 0x70 is funcref). */
function isAbstractHeapType(byte: number): boolean {
  return byte >= 0x69 && byte <= 0x74;
}

export function isNumberType(byte: number): boolean {
  return byte >= F64 && byte <= I32;
}

const NAMES: Record<number, string> = { [I32]: "i32", [I64]: "i64", [F32]: "f32", [F64]: "f64", [V128]: "v128" };

/** A heap type: an abstract one (one negative byte) or a type index (s33). */
export function skipHeapType(r: ByteReader): void {
  const start = r.at;
  const index = r.s33();
  if (index < 0 && !isAbstractHeapType(r.bytes[start]!)) r.fail(`unknown heap type 0x${r.bytes[start]!.toString(16)}`, start);
}

/** Reads a value type; returns its name for a number or vector type, "ref" for any reference. */
export function readValueType(r: ByteReader): string {
  const start = r.at;
  const byte = r.u8();
  const name = NAMES[byte];
  if (name) return name;
  if (isAbstractHeapType(byte)) return "ref";
  if (byte === REF || byte === REF_NULL) {
    skipHeapType(r);
    return "ref";
  }
  return r.fail(`unknown value type 0x${byte.toString(16)}`, start);
}

export function skipValueType(r: ByteReader): void {
  readValueType(r);
}
