import { ProcessFault } from "../kernel/fault.ts";
import { sig, type ImportModuleSpec } from "../kernel/personality.ts";
import type { KernelServices } from "../kernel/services.ts";

/**
 * AssemblyScript's runtime hooks (`env.abort`, `env.seed`), so programs compiled with the default
 * settings run unchanged. An abort becomes a fault of kind "abort" with the program's message.
 */
export const assemblyScriptEnv: ImportModuleSpec<KernelServices> = {
  module: "env",
  functions: {
    // Blocking: its message may be on a paged-out page.
    abort: sig(["i32", "i32", "i32", "i32"], [], true),
    seed: sig([], ["f64"]),
  },
  bind(k) {
    const readString = (ptr: number): string => {
      if (ptr === 0) return "";
      const header = k.readMemory(k.current(), (ptr - 4) >>> 0, 4);
      if (header === null) return "(unreadable message)";
      const length = Math.min(new DataView(header.buffer).getUint32(0, true), 4096);
      const bytes = k.readMemory(k.current(), ptr, length);
      return bytes === null ? "(unreadable message)" : new TextDecoder("utf-16le").decode(bytes);
    };
    return {
      abort(message: number, file: number, line: number, column: number): never {
        throw new ProcessFault("abort", null, `abort: ${readString(message)} at ${readString(file)}:${line}:${column}`);
      },
      seed(): number {
        const bytes = new Uint32Array(2);
        k.entropy.fill(new Uint8Array(bytes.buffer));
        return bytes[0]! * 2 ** 21 + (bytes[1]! >>> 11);
      },
    };
  },
};
