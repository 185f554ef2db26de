import { binaryen } from "./binaryen-access.ts";

/** The features Dogma's loader accepts in programs (and the ones test modules use). */
const FEATURES =
  binaryen.Features.MVP | binaryen.Features.BulkMemory | binaryen.Features.BulkMemoryOpt | binaryen.Features.SignExt |
  binaryen.Features.NontrappingFPToInt | binaryen.Features.MutableGlobals | binaryen.Features.Multivalue;

/**
 * Assembles WebAssembly text with binaryen. The name section is kept (function, memory and global
 * names as written), which some isolation tests depend on.
 */
export function wat(text: string): Uint8Array {
  const module = binaryen.parseText(text);
  try {
    module.setFeatures(FEATURES);
    if (!module.validate()) throw new Error(`invalid test module:\n${text}`);
    binaryen.setDebugInfo(true);
    return module.emitBinary();
  } finally {
    module.dispose();
  }
}
