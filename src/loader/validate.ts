import { LoadError } from "./load-error.ts";

const MAGIC = [0x00, 0x61, 0x73, 0x6d];

/**
 * Checks that `bytes` are a well-formed WebAssembly module before anything else reads them
 * (binaryen aborts on malformed input). The engine's own validator gives the precise reason and
 * byte offset.
 */
export function validateBinary(name: string, bytes: Uint8Array, maxBytes: number): void {
  if (bytes.length > maxBytes) throw new LoadError(name, "file", `${bytes.length} bytes is more than the ${maxBytes} bytes a binary may have`);
  if (bytes.length < 8 || MAGIC.some((byte, i) => bytes[i] !== byte)) {
    throw new LoadError(name, "header", "not a WebAssembly binary (it does not start with \\0asm)");
  }
  const version = bytes[4]! | (bytes[5]! << 8) | (bytes[6]! << 16) | (bytes[7]! << 24);
  if (version !== 1) throw new LoadError(name, "header", `WebAssembly version ${version} is not supported (only version 1)`);
  if (WebAssembly.validate(bytes as Uint8Array<ArrayBuffer>)) return;
  try {
    new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>);
  } catch (error) {
    throw new LoadError(name, locate(error), reasonOf(error));
  }
  throw new LoadError(name, "module", "the engine refused the module without saying why");
}

/** V8 says e.g. "Compiling function #3:"f" failed: ... @+1234"; pull out the function and offset. */
function locate(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const offset = /@\+(\d+)/.exec(message)?.[1];
  const fn = /function #(\d+)(?::"([^"]*)")?/.exec(message);
  const parts: string[] = [];
  if (fn) parts.push(`function ${fn[1]}${fn[2] ? ` (${fn[2]})` : ""}`);
  if (offset !== undefined) parts.push(`offset ${offset}`);
  return parts.length > 0 ? parts.join(", ") : "module";
}

function reasonOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/^WebAssembly\.Module\(\): /, "").replace(/^Compiling function #\d+(:"[^"]*")? failed: /, "").replace(/ @\+\d+$/, "");
}
