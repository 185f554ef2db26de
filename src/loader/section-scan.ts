/**
 * Counts memories in a validated binary by walking its section headers: binaryen.js can name at
 * most one memory, so a second one would otherwise go unseen.
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
