import { ByteReader } from "./byte-reader.ts";
import { readValueType, skipValueType } from "./value-types.ts";

/**
 * The sections of a binary, read once into what the loader needs to check and rewrite it: every
 * section but code and custom sections fully decoded; the code section as the byte range of each
 * function body, which the rewriter decodes later (in parallel). Linear in the binary's size.
 * Throws DecodeError (with the byte offset) on anything malformed.
 */

export const SectionId = {
  custom: 0,
  type: 1,
  import: 2,
  function: 3,
  table: 4,
  memory: 5,
  global: 6,
  export: 7,
  start: 8,
  element: 9,
  code: 10,
  data: 11,
  dataCount: 12,
  tag: 13,
} as const;

export const ExternalKind = { function: 0, table: 1, memory: 2, global: 3, tag: 4 } as const;

/** Where each non-custom section must come, in order (the tag section sits between memory and global). */
const ORDER: Record<number, number> = { 1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 13: 6, 6: 7, 7: 8, 8: 9, 9: 10, 12: 11, 10: 12, 11: 13 };

export interface Section {
  readonly id: number;
  /** Offset of the section's id byte. */
  readonly header: number;
  /** Its payload: [start, end). */
  readonly start: number;
  readonly end: number;
}

export interface FunctionType {
  readonly params: readonly string[];
  readonly results: readonly string[];
}

export interface Limits {
  readonly initial: number;
  readonly maximum: number | null;
  readonly shared: boolean;
  readonly is64: boolean;
  /** Flag bits this reader does not know (custom page sizes, ...). */
  readonly unknownFlags: number;
}

export interface Import {
  readonly module: string;
  readonly field: string;
  readonly kind: number;
  /** A function's type index. */
  readonly typeIndex: number;
  /** A table's or memory's limits. */
  readonly limits: Limits | null;
  /** [start, end) of the whole entry, to copy it. */
  readonly start: number;
  readonly end: number;
}

export interface Table {
  /** Bytes of the reference type, to copy. */
  readonly refType: Uint8Array;
  readonly limits: Limits;
  /** [start, end) of the initializer expression (with its end), when the table has one. */
  readonly init: readonly [number, number] | null;
}

export interface Global {
  /** "i32", "i64", "f32", "f64", "v128" or "ref". */
  readonly type: string;
  /** Bytes of the value type, to copy. */
  readonly typeBytes: Uint8Array;
  readonly mutable: boolean;
  /** [start, end) of the initializer expression, its end included. */
  readonly init: readonly [number, number];
}

export interface Export {
  readonly name: string;
  readonly kind: number;
  readonly index: number;
}

export interface DataSegment {
  /** [start, end) of the offset expression of an active segment, its end included; null if passive. */
  readonly offsetExpr: readonly [number, number] | null;
  readonly data: Uint8Array;
}

export interface FunctionBody {
  /** The body after its size: local declarations, then the code, ending with `end`. */
  readonly start: number;
  readonly end: number;
}

export interface ModuleInfo {
  readonly bytes: Uint8Array;
  readonly sections: Section[];
  /** Type indices defined (a recursion group counts each of its types). */
  typeCount: number;
  /** Entries in the type section's vector (a recursion group is one entry). */
  typeEntries: number;
  /** Function types by type index; null for a struct or array type. */
  readonly types: Array<FunctionType | null>;
  readonly imports: Import[];
  functionImports: number;
  /** Type index of each function the module defines. */
  readonly functions: number[];
  readonly tables: Table[];
  readonly memories: Limits[];
  tagCount: number;
  readonly globals: Global[];
  readonly exports: Export[];
  start: number | null;
  element: Section | null;
  readonly bodies: FunctionBody[];
  readonly data: DataSegment[];
  /** The name section, if there is one. */
  nameSection: Section | null;
}

function emptyInfo(bytes: Uint8Array): ModuleInfo {
  return {
    bytes, sections: [], typeCount: 0, typeEntries: 0, types: [], imports: [], functionImports: 0, functions: [], tables: [],
    memories: [], tagCount: 0, globals: [], exports: [], start: null, element: null, bodies: [], data: [], nameSection: null,
  };
}

export function readModule(bytes: Uint8Array): ModuleInfo {
  const info = emptyInfo(bytes);
  const r = new ByteReader(bytes, 8);
  let last = 0;
  const seen = new Set<number>();
  while (!r.done) {
    const header = r.at;
    const id = r.u8();
    const size = r.u32();
    if (size > r.end - r.at) r.fail(`section ${id} of ${size} bytes runs past the end of the binary`, header);
    const section: Section = { id, header, start: r.at, end: r.at + size };
    if (id !== SectionId.custom) {
      const rank = ORDER[id];
      if (rank === undefined) r.fail(`unknown section id ${id}`, header);
      if (seen.has(id)) r.fail(`a second section ${id}`, header);
      if (rank < last) r.fail(`section ${id} is out of order`, header);
      seen.add(id);
      last = rank;
    }
    info.sections.push(section);
    const s = new ByteReader(bytes, section.start, section.end);
    switch (id) {
      case SectionId.custom:
        if (s.name() === "name" && info.nameSection === null) info.nameSection = section;
        break;
      case SectionId.type:
        readTypes(s, info);
        break;
      case SectionId.import:
        readImports(s, info);
        break;
      case SectionId.function:
        for (let n = s.count(), i = 0; i < n; i++) info.functions.push(s.u32());
        break;
      case SectionId.table:
        for (let n = s.count(), i = 0; i < n; i++) info.tables.push(readTable(s));
        break;
      case SectionId.memory:
        for (let n = s.count(), i = 0; i < n; i++) info.memories.push(readLimits(s));
        break;
      case SectionId.tag:
        info.tagCount = s.count();
        s.at = s.end;
        break;
      case SectionId.global:
        for (let n = s.count(2), i = 0; i < n; i++) info.globals.push(readGlobal(s));
        break;
      case SectionId.export:
        for (let n = s.count(3), i = 0; i < n; i++) info.exports.push({ name: s.name(), kind: s.u8(), index: s.u32() });
        break;
      case SectionId.start:
        info.start = s.u32();
        break;
      case SectionId.element:
        info.element = section;
        s.at = s.end;
        break;
      case SectionId.dataCount:
        s.u32();
        break;
      case SectionId.code:
        readBodies(s, info);
        break;
      case SectionId.data:
        for (let n = s.count(), i = 0; i < n; i++) info.data.push(readDataSegment(s));
        break;
    }
    if (id !== SectionId.custom && s.at !== s.end) s.fail(`section ${id} has ${s.end - s.at} bytes after its contents`);
    r.at = section.end;
  }
  if (info.bodies.length !== info.functions.length) r.fail(`${info.functions.length} functions declared but ${info.bodies.length} bodies`, bytes.length);
  return info;
}

function readTypes(r: ByteReader, info: ModuleInfo): void {
  info.typeEntries = r.count();
  for (let i = 0; i < info.typeEntries; i++) {
    if (r.bytes[r.at] === 0x4e) {
      r.at++;
      for (let n = r.count(), k = 0; k < n; k++) info.types.push(readSubType(r));
    } else info.types.push(readSubType(r));
  }
  info.typeCount = info.types.length;
}

function readSubType(r: ByteReader): FunctionType | null {
  const form = r.bytes[r.at];
  if (form === 0x50 || form === 0x4f) {
    r.at++;
    for (let n = r.count(), i = 0; i < n; i++) r.u32();
  }
  const start = r.at;
  const kind = r.u8();
  if (kind === 0x60) {
    const params: string[] = [];
    for (let n = r.count(), i = 0; i < n; i++) params.push(readValueType(r));
    const results: string[] = [];
    for (let n = r.count(), i = 0; i < n; i++) results.push(readValueType(r));
    return { params, results };
  }
  if (kind === 0x5f) {
    for (let n = r.count(), i = 0; i < n; i++) skipFieldType(r);
    return null;
  }
  if (kind === 0x5e) {
    skipFieldType(r);
    return null;
  }
  return r.fail(`unknown type form 0x${kind.toString(16)}`, start);
}

function skipFieldType(r: ByteReader): void {
  const byte = r.bytes[r.at];
  if (byte === 0x78 || byte === 0x77) r.at++; // i8, i16 (packed storage types)
  else skipValueType(r);
  r.u8(); // mutability
}

export function readLimits(r: ByteReader): Limits {
  const start = r.at;
  const flags = r.u8();
  const is64 = (flags & 4) !== 0;
  const read = () => (is64 ? readU64AsNumber(r) : r.u32());
  const initial = read();
  const maximum = flags & 1 ? read() : null;
  if (flags > 0x0f) r.fail(`unknown limits flags 0x${flags.toString(16)}`, start);
  return { initial, maximum, shared: (flags & 2) !== 0, is64, unknownFlags: flags & 8 };
}

/** A 64-bit limit (memory64, table64), as a number; beyond 2^53 it only needs to be large. */
function readU64AsNumber(r: ByteReader): number {
  const start = r.at;
  let result = 0;
  for (let shift = 0; shift < 70; shift += 7) {
    const byte = r.u8();
    result += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return result;
  }
  return r.fail("an unsigned 64-bit integer is too long", start);
}

function readImports(r: ByteReader, info: ModuleInfo): void {
  for (let n = r.count(4), i = 0; i < n; i++) {
    const start = r.at;
    const module = r.name();
    const field = r.name();
    const kind = r.u8();
    let typeIndex = -1;
    let limits: Limits | null = null;
    switch (kind) {
      case ExternalKind.function:
        typeIndex = r.u32();
        info.functionImports++;
        break;
      case ExternalKind.table:
        skipValueType(r);
        limits = readLimits(r);
        break;
      case ExternalKind.memory:
        limits = readLimits(r);
        break;
      case ExternalKind.global:
        skipValueType(r);
        r.u8();
        break;
      case ExternalKind.tag:
        r.u8();
        typeIndex = r.u32();
        break;
      default:
        r.fail(`unknown import kind ${kind}`, r.at - 1);
    }
    info.imports.push({ module, field, kind, typeIndex, limits, start, end: r.at });
  }
}

function readTable(r: ByteReader): Table {
  let init: [number, number] | null = null;
  const hasInit = r.bytes[r.at] === 0x40;
  if (hasInit) {
    r.at++;
    if (r.u8() !== 0) r.fail("a table with an initializer must have a 0x00 byte after 0x40", r.at - 1);
  }
  const typeStart = r.at;
  skipValueType(r);
  const refType = r.bytes.subarray(typeStart, r.at);
  const limits = readLimits(r);
  if (hasInit) init = skipConstExpr(r);
  return { refType, limits, init };
}

function readGlobal(r: ByteReader): Global {
  const typeStart = r.at;
  const type = readValueType(r);
  const typeBytes = r.bytes.subarray(typeStart, r.at);
  const mutability = r.u8();
  if (mutability > 1) r.fail(`global mutability ${mutability}`, r.at - 1);
  return { type, typeBytes, mutable: mutability === 1, init: skipConstExpr(r) };
}

/**
 * Skips a constant expression up to and including its `end`; returns its range. The binary was
 * validated, so only the instructions a constant expression may hold can appear; their encoding
 * is walked (const-expr.ts rewrites them).
 */
export function skipConstExpr(r: ByteReader): [number, number] {
  const start = r.at;
  for (;;) {
    const op = r.u8();
    if (op === 0x0b) return [start, r.at];
    skipConstInstruction(r, op);
  }
}

/** The immediates of one constant instruction whose opcode `op` was just read. */
export function skipConstInstruction(r: ByteReader, op: number): void {
  switch (op) {
    case 0x41:
      r.s32();
      return;
    case 0x42:
      r.skipSigned(64);
      return;
    case 0x43:
      r.skip(4);
      return;
    case 0x44:
      r.skip(8);
      return;
    case 0x23: // global.get
    case 0xd2: // ref.func
      r.u32();
      return;
    case 0xd0: // ref.null heaptype
      r.s33();
      return;
    case 0x6a: case 0x6b: case 0x6c: case 0x7c: case 0x7d: case 0x7e: // extended-const add, sub, mul
      return;
    case 0xfd: {
      const sub = r.u32();
      if (sub !== 12) r.fail(`instruction 0xfd ${sub} in a constant expression`, r.at - 1);
      r.skip(16);
      return;
    }
    case 0xfb: {
      const sub = r.u32();
      if (sub === 0 || sub === 1 || sub === 6 || sub === 7) r.u32(); // struct.new(_default), array.new(_default): type
      else if (sub === 8) (r.u32(), r.u32()); // array.new_fixed: type, count
      else if (sub !== 26 && sub !== 27 && sub !== 28) r.fail(`instruction 0xfb ${sub} in a constant expression`, r.at - 1);
      return;
    }
    default:
      r.fail(`instruction 0x${op.toString(16)} in a constant expression`, r.at - 1);
  }
}

function readBodies(r: ByteReader, info: ModuleInfo): void {
  for (let n = r.count(2), i = 0; i < n; i++) {
    const sizeAt = r.at;
    const size = r.u32();
    if (size > r.end - r.at) r.fail(`function body ${i} of ${size} bytes runs past the end of the code section`, sizeAt);
    if (size === 0) r.fail(`function body ${i} is empty`, sizeAt);
    info.bodies.push({ start: r.at, end: r.at + size });
    r.at += size;
  }
}

function readDataSegment(r: ByteReader): DataSegment {
  const start = r.at;
  const flags = r.u32();
  let offsetExpr: [number, number] | null = null;
  if (flags === 2) r.u32(); // memory index
  else if (flags > 2) r.fail(`unknown data segment flags ${flags}`, start);
  if (flags !== 1) offsetExpr = skipConstExpr(r);
  const length = r.u32();
  return { offsetExpr, data: r.view(length) };
}
