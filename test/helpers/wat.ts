import binaryen from "binaryen";

/** Assembles WebAssembly text into a binary, keeping function names. */
export function wat(text: string): Uint8Array {
  const module = binaryen.parseText(text);
  try {
    module.setFeatures(binaryen.Features.All);
    binaryen.setDebugInfo(true);
    return module.emitBinary();
  } finally {
    module.dispose();
  }
}
