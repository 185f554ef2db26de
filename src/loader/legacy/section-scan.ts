/**
 * Facts binaryen.js cannot tell, read from a validated binary by walking its section headers:
 * how many memories it has (binaryen.js names at most one), and its tags (binaryen.js 132 has no
 * way to list them).
 */
class ByteReader {
  at: number;
  private readonly bytes: Uint8Array;
  constructor(bytes: Uint8Array, at: number) {
    this.bytes = bytes;
    this.at = at;
  }
  get done(): boolean {
    return this.at >= this.bytes.length;
  }
  byte(): number {
    return this.bytes[this.at++]!;
  }
  leb(): number {
    let result = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = this.byte();
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return result;
    }
  }
  /** A signed LEB128 of at most 32 bits, as i32.const writes it. */
  sleb32(): number {
    let result = 0;
    let shift = 0;
    let byte: number;
    do {
      byte = this.byte();
      result |= (byte & 0x7f) << shift;
      shift += 7;
    } while (byte & 0x80 && shift < 35);
    if (shift < 32 && byte & 0x40) result |= -1 << shift;
    return result | 0;
  }
  skip(count: number): void {
    this.at += count;
  }
  limits(): void {
    const flags = this.byte();
    this.leb();
    if (flags & 1) this.leb();
  }
}

const IMPORT_SECTION = 2;
const MEMORY_SECTION = 5;
const TAG_SECTION = 13;
const DATA_SECTION = 11;
const TAG_IMPORT = 4;

export function countMemories(bytes: Uint8Array): number {
  const reader = new ByteReader(bytes, 8);
  let memories = 0;
  while (!reader.done) {
    const id = reader.byte();
    const end = reader.leb() + reader.at;
    if (id === IMPORT_SECTION) memories += countMemoryImports(reader);
    if (id === MEMORY_SECTION) memories += reader.leb();
    reader.at = end;
  }
  return memories;
}

function countMemoryImports(reader: ByteReader): number {
  let memories = 0;
  const count = reader.leb();
  for (let i = 0; i < count; i++) {
    reader.skip(reader.leb()); // module name
    reader.skip(reader.leb()); // field name
    const kind = reader.byte();
    if (kind === 0) reader.leb(); // function: type index
    else if (kind === 1) (reader.byte(), reader.limits()); // table: reftype, limits
    else if (kind === 2) (memories++, reader.limits());
    else if (kind === 3) reader.skip(2); // global: valtype, mutability
    else return memories; // tags and later kinds are refused by policy; nothing after them matters here
  }
  return memories;
}

export interface TagFacts {
  /** The first tag import, as module and field names, or null. */
  readonly imported: readonly [string, string] | null;
  /** Tags the module defines itself. */
  readonly defined: number;
}

export function findTags(bytes: Uint8Array): TagFacts {
  const reader = new ByteReader(bytes, 8);
  let imported: [string, string] | null = null;
  let defined = 0;
  while (!reader.done) {
    const id = reader.byte();
    const end = reader.leb() + reader.at;
    if (id === IMPORT_SECTION) imported = firstTagImport(reader, bytes);
    if (id === TAG_SECTION) defined += reader.leb();
    reader.at = end;
  }
  return { imported, defined };
}

function firstTagImport(reader: ByteReader, bytes: Uint8Array): [string, string] | null {
  const name = (): string => {
    const length = reader.leb();
    const text = new TextDecoder().decode(bytes.subarray(reader.at, reader.at + length));
    reader.skip(length);
    return text;
  };
  const count = reader.leb();
  for (let i = 0; i < count; i++) {
    const module = name();
    const field = name();
    const kind = reader.byte();
    if (kind === 0) reader.leb();
    else if (kind === 1) (reader.byte(), reader.limits());
    else if (kind === 2) reader.limits();
    else if (kind === 3) reader.skip(2);
    else if (kind === TAG_IMPORT) return [module, field];
    else return null;
  }
  return null;
}

/** A data segment as the binary has it: `offset` is null for a passive one. */
export interface ScannedSegment {
  readonly offset: number | null;
  readonly data: Uint8Array;
}

/**
 * The data segments of a validated binary, with active offsets evaluated. binaryen.js 132 throws
 * on an offset that is not a plain i32.const (extended-const), so the loader reads them here.
 * Throws a RangeError naming the segment when an offset is a constant expression this cannot
 * evaluate (global.get).
 */
export function scanDataSegments(bytes: Uint8Array): ScannedSegment[] {
  const reader = new ByteReader(bytes, 8);
  while (!reader.done) {
    const id = reader.byte();
    const end = reader.leb() + reader.at;
    if (id === DATA_SECTION) {
      const segments: ScannedSegment[] = [];
      const count = reader.leb();
      for (let i = 0; i < count; i++) {
        const flags = reader.leb();
        if (flags === 2) reader.leb(); // memory index (validation allows only 0)
        const offset = flags === 1 ? null : constantOffset(reader, i);
        const size = reader.leb();
        segments.push({ offset, data: bytes.slice(reader.at, reader.at + size) });
        reader.skip(size);
      }
      return segments;
    }
    reader.at = end;
  }
  return [];
}

/** Evaluates an i32 constant expression (i32.const, and extended-const add, sub, mul). */
function constantOffset(reader: ByteReader, segment: number): number {
  const stack: number[] = [];
  for (;;) {
    const op = reader.byte();
    if (op === 0x0b) break;
    if (op === 0x41) stack.push(reader.sleb32());
    else if (op === 0x6a || op === 0x6b || op === 0x6c) {
      const b = stack.pop()!;
      const a = stack.pop()!;
      stack.push(op === 0x6a ? (a + b) | 0 : op === 0x6b ? (a - b) | 0 : Math.imul(a, b));
    } else throw new RangeError(`data segment ${segment}: its offset uses an instruction (0x${op.toString(16)}) other than i32.const, i32.add, i32.sub and i32.mul`);
  }
  return stack.pop()! >>> 0;
}
