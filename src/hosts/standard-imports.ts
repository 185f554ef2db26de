import { dogmaAbi } from "../kernel/abi.ts";
import type { ImportModuleSpec } from "../kernel/personality.ts";
import type { KernelServices } from "../kernel/services.ts";
import { assemblyScriptEnv } from "../personality/assemblyscript-env.ts";
import { wasiPreview1 } from "../personality/wasi/preview1.ts";

/** The import modules a Dogma machine offers programs: the kernel's own, then the personalities. */
export function standardImportModules(): ImportModuleSpec<KernelServices>[] {
  return [dogmaAbi, wasiPreview1, assemblyScriptEnv];
}
