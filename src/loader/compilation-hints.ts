import type { CodeLayout } from "./output-layout.ts";
import { mapFunction } from "./rewrite-sections.ts";
import type { ByteWriter } from "./wasm/byte-writer.ts";
import { ExternalKind, type ModuleInfo } from "./wasm/module-info.ts";

/**
 * The compilation-priority section (the WebAssembly compilation-hints proposal's code metadata):
 * V8 has no on-stack replacement for WebAssembly, so a function called once with its hot loops
 * inside (a C program's `main` with its dispatch loop) runs its whole life in Liftoff, where a
 * checked access costs several times what it does in TurboFan. A function with an optimization
 * priority in this section is compiled by TurboFan at its first call instead (V8 14.6 with
 * `--experimental-wasm-compilation-hints`, set by the Node host: src/hosts/node/engine-flags.ts;
 * an engine without the flag, a browser's, ignores the section). docs/LOADER.md "How V8
 * compiles the output" has the measurements.
 */
export const COMPILATION_PRIORITY_SECTION = "metadata.code.compilation_priority";

/**
 * What V8 14.6 reads for each function (module-decoder-impl.h DecodeCompilationPrioritySection,
 * found by trying it: `--trace-wasm-compilation-hints` reports a refusal): its index, a byte offset
 * that must be 0 (function-level only; no count of hints before it, unlike branch hints), the
 * payload's length, then the compilation priority and the optional optimization priority as
 * LEB128. An optimization priority of 0-125 makes V8 compile the function with TurboFan at once;
 * 126 and 127 (the proposal's "runs once") and none leave it to Liftoff and tiering. 0, 0: first,
 * and hottest.
 */
const ENTRY_PAYLOAD = [0, 0] as const;

/**
 * The functions the section names (original indices, ascending), by `layout.compilationHints`:
 * "once", those that loop and have at most one call site (each direct call, ref.func, export and
 * the start function counts one; a function only an element segment holds counts none, so that it
 * may be called indirectly from anywhere: it costs a TurboFan compile at most); "looping", every
 * function that loops.
 */
export function hintedFunctions(info: ModuleInfo, layout: CodeLayout, loopingFunctions: readonly number[], callees: readonly Uint32Array[]): number[] {
  if (layout.compilationHints === "off" || loopingFunctions.length === 0) return [];
  const looping = [...loopingFunctions].sort((a, b) => a - b);
  if (layout.compilationHints === "looping") return looping;
  // Call sites per function, saturating at 2.
  const sites = new Uint8Array(info.functionImports + info.functions.length);
  const count = (index: number) => {
    if (index < sites.length && sites[index]! < 2) sites[index]!++;
  };
  for (const chunk of callees) for (const index of chunk) count(index);
  for (const e of info.exports) if (e.kind === ExternalKind.function) count(e.index);
  if (info.start !== null) count(info.start);
  return looping.filter((index) => sites[index]! <= 1);
}

/** The section's payload after its name: one entry per function of `hinted` (original indices, ascending). */
export function writeCompilationPriorities(w: ByteWriter, layout: CodeLayout, hinted: readonly number[]): void {
  w.u32(hinted.length);
  for (const index of hinted) {
    w.u32(mapFunction(layout, index));
    w.u32(0);
    w.u32(ENTRY_PAYLOAD.length);
    for (const value of ENTRY_PAYLOAD) w.u32(value);
  }
}
