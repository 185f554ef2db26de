import { LoadError } from "./load-error.ts";

const MAGIC = [0x00, 0x61, 0x73, 0x6d];

/** Size, magic and version: what can be refused before anything reads the binary. */
export function checkHeader(name: string, bytes: Uint8Array, maxBytes: number): void {
  if (bytes.length > maxBytes) throw new LoadError(name, "file", `${bytes.length} bytes is more than the ${maxBytes} bytes a binary may have`);
  if (bytes.length < 8 || MAGIC.some((byte, i) => bytes[i] !== byte)) {
    throw new LoadError(name, "header", "not a WebAssembly binary (it does not start with \\0asm)");
  }
  const version = bytes[4]! | (bytes[5]! << 8) | (bytes[6]! << 16) | (bytes[7]! << 24);
  if (version !== 1) throw new LoadError(name, "header", `WebAssembly version ${version} is not supported (only version 1)`);
}

/**
 * The code section's contents, from the section headers alone (before the binary is validated):
 * where they start and their bytes; null when there is none. A header that runs past the end
 * counts the rest of the binary (start -1), for validation to refuse.
 */
function codeSection(bytes: Uint8Array): { readonly start: number; readonly size: number } | null {
  let at = 8;
  while (at < bytes.length) {
    const id = bytes[at++]!;
    const header = readLeb(bytes, at);
    if (header === null) return { start: -1, size: bytes.length };
    const [size, next] = header;
    if (id === 10) return { start: next, size: Math.min(size, bytes.length - next) };
    at = next + size;
  }
  return null;
}

/** The bytes of the code section's contents (codeSection), to choose where to rewrite the binary. */
export function codeSectionBytes(bytes: Uint8Array): number {
  return codeSection(bytes)?.size ?? 0;
}

/**
 * The largest function body's bytes, read from the code section's size fields alone (0 when it
 * cannot tell: the reader refuses such a binary later). A body is rewritten in one piece, so this
 * bounds how long one piece holds the thread that rewrites it.
 */
export function largestBodyBytes(bytes: Uint8Array): number {
  const code = codeSection(bytes);
  if (code === null || code.start < 0) return 0;
  const end = code.start + code.size;
  const count = readLeb(bytes, code.start);
  if (count === null) return 0;
  let at = count[1];
  let largest = 0;
  for (let i = 0; i < count[0] && at < end; i++) {
    const body = readLeb(bytes, at);
    if (body === null) break;
    const [size, next] = body;
    largest = Math.max(largest, Math.min(size, end - next));
    at = next + size;
  }
  return largest;
}

/** An unsigned LEB128 of at most 5 bytes at `from`, and where it ends; null when it runs past the end or longer. */
function readLeb(bytes: Uint8Array, from: number): [number, number] | null {
  let value = 0;
  let at = from;
  for (let shift = 0; at < bytes.length && shift <= 28; shift += 7) {
    const byte = bytes[at++]!;
    value += (byte & 0x7f) * 2 ** shift;
    // A small integer to the engine where it can be (ByteReader.u32 says why), not the sum's heap number.
    if ((byte & 0x80) === 0) return [value < 2 ** 30 ? value | 0 : value, at];
  }
  return null;
}

/**
 * Where the engine's message comes from when it validates function bodies lazily (the Node host
 * has V8 do so: src/hosts/node/engine-flags.ts): `WebAssembly.validate` still checks every body,
 * but `new WebAssembly.Module` then compiles a module whose bodies are wrong, so it cannot say
 * what is wrong. The host that set the engine so sets how to ask an engine that validates eagerly.
 */
let explainRefusal: ((bytes: Uint8Array) => Promise<string | null>) | null = null;

/** Called by a host whose engine validates bodies lazily, in each thread that loads. */
export function setRefusalExplainer(explain: (bytes: Uint8Array) => Promise<string | null>): void {
  explainRefusal = explain;
}

/**
 * The engine's own validation: null when `bytes` are a valid module, else the engine's message,
 * which gives the precise reason and byte offset.
 */
export async function engineValidation(bytes: Uint8Array): Promise<string | null> {
  if (WebAssembly.validate(bytes as Uint8Array<ArrayBuffer>)) return null;
  try {
    new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>);
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  return (await explainRefusal?.(bytes)) ?? "the engine refused the module without saying why";
}

/** Checks the header, then runs the engine's validator; rejects with a LoadError naming what and where. */
export async function validateBinary(name: string, bytes: Uint8Array, maxBytes: number): Promise<void> {
  checkHeader(name, bytes, maxBytes);
  const message = await engineValidation(bytes);
  if (message !== null) throw validationError(name, message);
}

/** V8 says e.g. "Compiling function #3:"f" failed: ... @+1234": the function and offset become `where`. */
export function validationError(name: string, message: string): LoadError {
  const offset = /@\+(\d+)/.exec(message)?.[1];
  const fn = /function #(\d+)(?::"([^"]*)")?/.exec(message);
  const parts: string[] = [];
  if (fn) parts.push(`function ${fn[1]}${fn[2] ? ` (${fn[2]})` : ""}`);
  if (offset !== undefined) parts.push(`offset ${offset}`);
  const reason = message
    .replace(/^WebAssembly\.(Module|compile|validate)\(\): /, "")
    .replace(/^Compiling function #\d+(:"[^"]*")? failed: /, "")
    .replace(/ @\+\d+$/, "");
  return new LoadError(name, parts.length > 0 ? parts.join(", ") : "module", reason);
}
