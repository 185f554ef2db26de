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
 * The bytes of the code section's contents, read from the section headers alone (before the binary
 * is validated, to choose where to rewrite it); a header that runs past the end counts the rest of
 * the binary, for validation to refuse.
 */
export function codeSectionBytes(bytes: Uint8Array): number {
  let at = 8;
  while (at < bytes.length) {
    const id = bytes[at++]!;
    let size = 0;
    for (let shift = 0; ; shift += 7) {
      if (at >= bytes.length || shift > 28) return bytes.length;
      const byte = bytes[at++]!;
      size += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) break;
    }
    if (id === 10) return Math.min(size, bytes.length - at);
    at += size;
  }
  return 0;
}

/**
 * The largest function body's bytes, read from the code section's size fields alone (0 when it
 * cannot tell: the reader refuses such a binary later). A body is rewritten in one piece, so this
 * bounds how long one piece holds the thread that rewrites it.
 */
export function largestBodyBytes(bytes: Uint8Array): number {
  const code = codeSectionBytes(bytes);
  if (code === 0 || code === bytes.length) return 0;
  let at = 8;
  while (at < bytes.length && bytes[at] !== 10) {
    at++;
    at = skipLeb(bytes, at, true);
  }
  at = skipLeb(bytes, at + 1, false); // the section's size
  const end = Math.min(bytes.length, at + code);
  let count = 0;
  [count, at] = readLeb(bytes, at);
  let largest = 0;
  for (let i = 0; i < count && at < end; i++) {
    let size = 0;
    [size, at] = readLeb(bytes, at);
    largest = Math.max(largest, Math.min(size, end - at));
    at += size;
  }
  return largest;
}

function readLeb(bytes: Uint8Array, from: number): [number, number] {
  let value = 0;
  let at = from;
  for (let shift = 0; at < bytes.length && shift <= 28; shift += 7) {
    const byte = bytes[at++]!;
    value += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return [value, at];
  }
  return [0, bytes.length];
}

/** Skips a LEB128 at `from`, and when `andThatMany`, as many bytes as it says. */
function skipLeb(bytes: Uint8Array, from: number, andThatMany: boolean): number {
  const [value, at] = readLeb(bytes, from);
  return andThatMany ? at + value : at;
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
