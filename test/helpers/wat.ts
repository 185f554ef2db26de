import binaryen from "binaryen";

/** Assembles WebAssembly text into a binary, keeping function names. */
export function wat(text: string): Uint8Array {
  const module = binaryen.parseText(text);
  try {
    // Not Features.All: binaryen then emits proposals (compact imports) that engines reject.
    const F = binaryen.Features;
    module.setFeatures(F.MutableGlobals | F.SignExt | F.NontrappingFPToInt | F.BulkMemory | F.Multivalue | F.ReferenceTypes | F.SIMD128 | F.Atomics | F.ExceptionHandling | F.Memory64 | F.MultiMemory);
    binaryen.setDebugInfo(true);
    return module.emitBinary();
  } finally {
    module.dispose();
  }
}
