/**
 * The `fuzzing-support` imports that binaryen's fuzzer (`-ttf`) calls, implemented twice with
 * the same meaning: as a Dogma personality (acting for the kernel's current process) and as plain
 * JavaScript for a native instance. Both append to the same kind of log, so a test can compare the
 * two runs call by call.
 *
 * Meanings (ours, not binaryen's fuzz_shell.js exactly, but identical on both sides):
 * - `log-i32|i64|f32|f64(v)`: log the value (every NaN logs as "nan").
 * - `call-export(i, flags)`: call export `i` (of the module's export list, in order) with zero
 *   arguments; a throw is caught and logged unless `flags & 1`. Export `i` that is not a function,
 *   or a nesting deeper than MAX_DEPTH, throws.
 * - `call-export-catch(i)`: the same, returning 1 when the call threw and 0 when it did not.
 * - `sleep(ms, id)`: returns `id`; on Dogma it first yields the CPU (a real suspension).
 *
 * Limits (the same on both sides, so they keep runs comparable): at most MAX_CALLS call-exports
 * and MAX_LOG log entries per run; past them the import throws. Without them a run need not end:
 * the fuzzer's hang limit resets when it traps, so a loop that catches a trapping call-export
 * can go on for ever, logging as it goes.
 */
import { binaryen } from "./binaryen-access.ts";
import type { ValueType } from "../../src/kernel/mmu-abi.ts";
import { sig, type ImportModuleSpec } from "../../src/kernel/personality.ts";
import type { KernelServices } from "../../src/kernel/services.ts";

export interface ExportInfo {
  readonly name: string;
  readonly isFunction: boolean;
  readonly params: readonly ValueType[];
}

const typeNames = new Map<number, ValueType>([
  [binaryen.i32, "i32"],
  [binaryen.i64, "i64"],
  [binaryen.f32, "f32"],
  [binaryen.f64, "f64"],
]);

/** The module's exports in order, with each function's parameter types. */
export function describeExports(bytes: Uint8Array): ExportInfo[] {
  const module = binaryen.readBinary(bytes);
  try {
    const list: ExportInfo[] = [];
    for (let i = 0; i < module.getNumExports(); i++) {
      const info = binaryen.getExportInfo(module.getExportByIndex(i));
      if (info.kind !== binaryen.ExternalFunction) {
        list.push({ name: info.name, isFunction: false, params: [] });
        continue;
      }
      const func = binaryen.getFunctionInfo(module.getFunction(info.value));
      list.push({ name: info.name, isFunction: true, params: binaryen.expandType(func.params).map((t) => typeNames.get(t) ?? "i32") });
    }
    return list;
  } finally {
    module.dispose();
  }
}

export const zeroArguments = (params: readonly ValueType[]): Array<number | bigint> => params.map((t) => (t === "i64" ? 0n : 0));

/** A value as the logs show it: NaNs all alike, -0 kept apart from 0. */
export function showValue(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(showValue).join(", ")}]`;
  if (typeof value === "number") return Number.isNaN(value) ? "nan" : Object.is(value, -0) ? "-0" : String(value);
  if (typeof value === "bigint") return `${value}n`;
  return String(value);
}

export const MAX_DEPTH = 4;
export const MAX_CALLS = 100;
export const MAX_LOG = 10_000;

/** Per-run state both implementations write to. */
export class Recorder {
  log: string[] = [];
  exports: readonly ExportInfo[] = [];
  depth = 0;
  calls = 0;

  reset(exports: readonly ExportInfo[]): void {
    this.log = [];
    this.exports = exports;
    this.depth = 0;
    this.calls = 0;
  }

  push(entry: string): void {
    if (this.log.length >= MAX_LOG) throw new Error("fuzzing-support: log limit");
    this.log.push(entry);
  }

  /** The export `call-export` names, or a throw with the reason. */
  target(index: number): ExportInfo {
    const info = this.exports[index >>> 0];
    if (!info || !info.isFunction) throw new Error(`call-export: export ${index >>> 0} is not a function`);
    if (this.depth >= MAX_DEPTH) throw new Error("call-export: nested too deep");
    if (this.calls++ >= MAX_CALLS) throw new Error("call-export: too many calls");
    return info;
  }
}

const logging = (recorder: Recorder) => ({
  "log-i32": (v: number) => void recorder.push(`i32 ${showValue(v)}`),
  "log-i64": (v: bigint) => void recorder.push(`i64 ${showValue(v)}`),
  "log-f32": (v: number) => void recorder.push(`f32 ${showValue(v)}`),
  "log-f64": (v: number) => void recorder.push(`f64 ${showValue(v)}`),
});

export const FUZZING_SUPPORT = "fuzzing-support";

/** The Dogma personality. */
export function fuzzingSupportPersonality(recorder: Recorder): ImportModuleSpec<KernelServices> {
  return {
    module: FUZZING_SUPPORT,
    functions: {
      "log-i32": sig(["i32"], []),
      "log-i64": sig(["i64"], []),
      "log-f32": sig(["f32"], []),
      "log-f64": sig(["f64"], []),
      "call-export": sig(["i32", "i32"], [], true),
      "call-export-catch": sig(["i32"], ["i32"], true),
      sleep: sig(["i32", "i32"], ["i32"], true),
    },
    bind(k) {
      // The nested call runs on its own JSPI stack inside this blocking import, so that safe
      // points in it can still suspend the process.
      const call = async (index: number): Promise<void> => {
        const process = k.current();
        const info = recorder.target(index);
        recorder.push(`call ${info.name}`);
        const fn = process.instance!.exports[info.name] as (...args: unknown[]) => unknown;
        recorder.depth++;
        try {
          await WebAssembly.promising(fn)(...zeroArguments(info.params));
        } finally {
          recorder.depth--;
        }
      };
      return {
        ...logging(recorder),
        "call-export": async (index: number, flags: number): Promise<void> => {
          try {
            await call(index);
          } catch (error) {
            if (flags & 1) throw error;
            recorder.push("caught");
          }
        },
        "call-export-catch": async (index: number): Promise<number> => {
          try {
            await call(index);
            return 0;
          } catch {
            recorder.push("caught");
            return 1;
          }
        },
        sleep: (_ms: number, id: number) => k.yield(k.current()).then(() => id),
      };
    },
  };
}

/** The same imports for a native instance whose exports `exports()` returns once it exists. */
export function nativeFuzzingSupport(recorder: Recorder, exports: () => WebAssembly.Exports | null): WebAssembly.ModuleImports {
  const call = (index: number): void => {
    const info = recorder.target(index);
    recorder.push(`call ${info.name}`);
    const table = exports();
    if (!table) throw new Error("call-export: no instance yet");
    recorder.depth++;
    try {
      (table[info.name] as (...args: unknown[]) => unknown)(...zeroArguments(info.params));
    } finally {
      recorder.depth--;
    }
  };
  return {
    ...logging(recorder),
    "call-export": (index: number, flags: number) => {
      try {
        call(index);
      } catch (error) {
        if (flags & 1) throw error;
        recorder.push("caught");
      }
    },
    "call-export-catch": (index: number) => {
      try {
        call(index);
        return 0;
      } catch {
        recorder.push("caught");
        return 1;
      }
    },
    sleep: (_ms: number, id: number) => id,
  };
}
