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
