import binaryen from "binaryen";

/**
 * Compiles WebAssembly text with every feature enabled (the loader decides what it accepts),
 * except compact imports: with it binaryen groups imports in an encoding V8 does not read.
 */
// Missing from binaryen.js's type definitions.
const COMPACT_IMPORTS = (binaryen.Features as unknown as { CompactImports: number }).CompactImports;

export function watToBinary(wat: string, options: { names?: boolean; what?: string } = {}): Uint8Array<ArrayBuffer> {
  let module: binaryen.Module;
  try {
    module = binaryen.parseText(wat);
  } catch (error) {
    // binaryen.js throws a non-Error object whose message is the parser's.
    throw new Error(`${options.what ?? "WAT"}: ${(error as { message?: string }).message ?? String(error)}`);
  }
  try {
    module.setFeatures(binaryen.Features.All & ~COMPACT_IMPORTS);
    if (!module.validate()) throw new Error(`${options.what ?? "WAT"} does not validate`);
    binaryen.setDebugInfo(options.names ?? false);
    return module.emitBinary() as Uint8Array<ArrayBuffer>;
  } finally {
    binaryen.setDebugInfo(false);
    module.dispose();
  }
}
