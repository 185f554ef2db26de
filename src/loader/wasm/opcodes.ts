/**
 * What follows each instruction's opcode in a function body, for the instructions the loader
 * accepts, and the names of those it refuses. An opcode with no entry is refused too: nothing
 * reaches memory unexamined.
 */
export const Imm = {
  /** Not accepted: see `refusedOpcodes` (or the opcode is unknown). */
  refused: 0,
  none: 1,
  /** block, if: a block type. */
  blockType: 2,
  /** loop: a block type; gets a safe point. */
  loop: 3,
  /** One u32: a label, local, table or similar index the rewrite leaves alone. */
  u32: 4,
  /** call, return_call, ref.func: a function index, renumbered. */
  functionIndex: 5,
  /** call_indirect, return_call_indirect: a type index and a table index. */
  twoU32: 6,
  /** global.get, global.set: a global index, renumbered. */
  globalIndex: 7,
  brTable: 8,
  /** select with types: a vector of value types. */
  selectTypes: 9,
  load: 10,
  store: 11,
  memorySize: 12,
  memoryGrow: 13,
  i32Const: 14,
  i64Const: 15,
  f32Const: 16,
  f64Const: 17,
  /** ref.null: a heap type. */
  heapType: 18,
  /** table.set: one u32, and the table's contents become state. */
  tableSet: 19,
  prefixGc: 20,
  prefixMisc: 21,
  prefixSimd: 22,
} as const;

export const immediates = new Uint8Array(256);

function set(kind: number, ...opcodes: number[]): void {
  for (const op of opcodes) immediates[op] = kind;
}
function range(first: number, last: number): number[] {
  return Array.from({ length: last - first + 1 }, (_, i) => first + i);
}

set(Imm.none, 0x00, 0x01, 0x05, 0x0b, 0x0f, 0x1a, 0x1b, 0xd1, 0xd3, 0xd4, ...range(0x45, 0xc4));
set(Imm.blockType, 0x02, 0x04);
set(Imm.loop, 0x03);
set(Imm.u32, 0x0c, 0x0d, 0x20, 0x21, 0x22, 0x25);
set(Imm.tableSet, 0x26);
set(Imm.brTable, 0x0e);
set(Imm.functionIndex, 0x10, 0x12, 0xd2);
set(Imm.twoU32, 0x11, 0x13);
set(Imm.selectTypes, 0x1c);
set(Imm.globalIndex, 0x23, 0x24);
set(Imm.load, ...range(0x28, 0x35));
set(Imm.store, ...range(0x36, 0x3e));
set(Imm.memorySize, 0x3f);
set(Imm.memoryGrow, 0x40);
set(Imm.i32Const, 0x41);
set(Imm.i64Const, 0x42);
set(Imm.f32Const, 0x43);
set(Imm.f64Const, 0x44);
set(Imm.heapType, 0xd0);
set(Imm.prefixGc, 0xfb);
set(Imm.prefixMisc, 0xfc);
set(Imm.prefixSimd, 0xfd);

const THREADS = "(threads are not supported)";

/** Why each refused one-byte opcode is refused, in WebAssembly's words. */
export const refusedOpcodes: Record<number, string> = {
  0x06: "exception handling (try)",
  0x07: "exception handling (catch)",
  0x08: "exception handling (throw)",
  0x09: "exception handling (rethrow)",
  0x0a: "exception handling (throw_ref)",
  0x14: "call_ref, which Dogma does not support",
  0x15: "return_call_ref, which Dogma does not support",
  0x18: "exception handling (delegate)",
  0x19: "exception handling (catch_all)",
  0x1f: "exception handling (try_table)",
  0xd5: "br_on_null, which Dogma does not support",
  0xd6: "br_on_non_null, which Dogma does not support",
  0xfe: `atomic memory access ${THREADS}`,
};

/** 0xfe sub-opcodes with names of their own. */
export function refusedAtomic(sub: number): string {
  if (sub === 0x00) return `memory.atomic.notify ${THREADS}`;
  if (sub === 0x01 || sub === 0x02) return `memory.atomic.wait ${THREADS}`;
  if (sub === 0x03) return `atomic.fence ${THREADS}`;
  return `atomic memory access ${THREADS}`;
}

/** The GC proposal's instructions (0xfb): the two extern/any conversions are accepted, as before. */
export const ACCEPTED_GC = new Set([26, 27]);
const GC_NAMES: Record<number, string> = {
  0: "struct.new", 1: "struct.new_default", 2: "struct.get", 3: "struct.get_s", 4: "struct.get_u", 5: "struct.set",
  6: "array.new", 7: "array.new_default", 8: "array.new_fixed", 9: "array.new_data", 10: "array.new_elem", 11: "array.get",
  12: "array.get_s", 13: "array.get_u", 14: "array.set", 15: "array.len", 16: "array.fill", 17: "array.copy",
  18: "array.init_data", 19: "array.init_elem", 20: "ref.test", 21: "ref.test", 22: "ref.cast", 23: "ref.cast",
  24: "br_on_cast", 25: "br_on_cast_fail", 28: "ref.i31", 29: "i31.get_s", 30: "i31.get_u",
};
export function refusedGc(sub: number): string {
  const name = GC_NAMES[sub];
  return name ? `${name}, which Dogma does not support` : `an instruction Dogma does not support (0xfb ${sub})`;
}

/** Sub-opcodes of 0xfc (saturating truncation, bulk memory, tables). */
export const Misc = { memoryInit: 8, dataDrop: 9, memoryCopy: 10, memoryFill: 11, tableGrow: 15, tableSize: 16 } as const;
const MISC_REFUSED: Record<number, string> = {
  12: "table.init (not supported yet)",
  13: "elem.drop (not supported yet)",
  14: "table.copy (not supported yet)",
  17: "table.fill (not supported yet)",
};
export function refusedMisc(sub: number): string {
  return MISC_REFUSED[sub] ?? `an instruction Dogma does not support (0xfc ${sub})`;
}

/** SIMD (0xfd): which sub-opcodes touch memory (refused), and which carry immediates. */
export function refusedSimd(sub: number): string | null {
  if (sub <= 10 || sub === 92 || sub === 93) return "a SIMD memory access (v128 loads are not supported yet)";
  if (sub === 11) return "a SIMD memory access (v128 stores are not supported yet)";
  if (sub >= 84 && sub <= 91) return "a SIMD lane memory access (not supported yet)";
  if (sub > 0x113) return `an instruction Dogma does not support (0xfd ${sub})`;
  return null;
}
/** Bytes of immediates after a SIMD sub-opcode that is not refused. */
export function simdImmediateBytes(sub: number): number {
  if (sub === 12 || sub === 13) return 16; // v128.const, i8x16.shuffle
  if (sub >= 21 && sub <= 34) return 1; // extract_lane, replace_lane
  return 0;
}
