import { MAX_PRIVATE_WASM_PAGES, WASM_PAGE_SIZE } from "../kernel/constants.ts";
import type { DataSegment } from "../kernel/image.ts";
import { MMU_MODULE } from "../kernel/mmu-abi.ts";
import type { ImportSignature } from "../kernel/personality.ts";
import { coalesceSegments } from "./data-runs.ts";
import { capTables, instanceBytes } from "./host-cost.ts";
import { LoadError } from "./load-error.ts";
import type { Names } from "./name-section.ts";
import { ByteReader, DecodeError } from "./wasm/byte-reader.ts";
import { ExternalKind, type ModuleInfo } from "./wasm/module-info.ts";

export interface LoaderPolicy {
  /** Largest binary accepted, in bytes. */
  readonly maxBinaryBytes: number;
  /** Most memory a program may ask for, in 64 KiB pages (initial, and the cap on growth). */
  readonly maxMemoryPages: number;
  /** Import modules a program may use, by module name. */
  readonly importModules: ReadonlyMap<string, Readonly<Record<string, ImportSignature>>>;
}

/** What policy learned about an accepted module. */
export interface ModuleFacts {
  readonly initialPages: number;
  readonly maximumPages: number;
  readonly segments: readonly DataSegment[];
  readonly importModules: readonly string[];
  /** Host bytes an instance may take (host-cost.ts). */
  readonly instanceBytes: number;
  /** Each table's maximum, capped (host-cost.ts), which the output declares. */
  readonly tableMaxima: readonly number[];
}

/** The loader names its own functions `dogma$…` and its exports `__dogma_…`; a program may not. */
export const RESERVED_NAME_PREFIX = "dogma$";
export const RESERVED_EXPORT_PREFIX = "__dogma_";

/**
 * Enforces the rules in docs/ABI.md ("What a program may import", "Memory"): only known imports
 * with the right signatures, one private memory within limits, data that fits in it, tables whose
 * growth is bounded, no exception handling, none of the loader's names.
 */
export function checkPolicy(name: string, info: ModuleInfo, names: Names, policy: LoaderPolicy): ModuleFacts {
  const used = checkImports(name, info, policy);
  checkTags(name, info);
  checkReservedNames(name, info, names);
  const memory = checkMemory(name, info, policy);
  const segments = coalesceSegments(checkSegments(name, info, memory.initialPages));
  const tableMaxima = capTableGrowth(name, info);
  return {
    ...memory,
    segments,
    importModules: [...used],
    instanceBytes: instanceBytes(tableMaxima, { globals: info.globals.length, functions: info.functionImports + info.functions.length, exports: info.exports.length, dataSegments: info.data.length }),
    tableMaxima,
  };
}

function checkImports(name: string, info: ModuleInfo, policy: LoaderPolicy): Set<string> {
  const used = new Set<string>();
  let functionIndex = 0;
  for (const entry of info.imports) {
    const quoted = `"${entry.module}"."${entry.field}"`;
    if (entry.kind === ExternalKind.global) throw new LoadError(name, `import section, global import ${quoted}`, "global imports are not part of the Dogma ABI");
    if (entry.kind === ExternalKind.table) throw new LoadError(name, `import section, table import ${quoted}`, "table imports are not part of the Dogma ABI");
    if (entry.kind === ExternalKind.tag) throw new LoadError(name, `import section, tag import ${quoted}`, "exception handling (tags) is not supported by Dogma");
    if (entry.kind !== ExternalKind.function) continue; // the memory: replaced by the machine's
    const where = `import section, function import ${functionIndex++} ${quoted}`;
    if (entry.module === MMU_MODULE) throw new LoadError(name, where, `the module "${MMU_MODULE}" belongs to the loader; programs may not import it`);
    const functions = policy.importModules.get(entry.module);
    if (!functions) {
      const allowed = [...policy.importModules.keys()].map((m) => `"${m}"`).join(", ");
      throw new LoadError(name, where, `module "${entry.module}" is not part of the Dogma ABI (allowed: ${allowed})`);
    }
    const signature = Object.hasOwn(functions, entry.field) ? functions[entry.field] : undefined;
    if (!signature) throw new LoadError(name, where, `"${entry.module}" has no function "${entry.field}"`);
    const type = info.types[entry.typeIndex];
    const params = type ? type.params.join(", ") : "?";
    const results = type ? type.results.join(", ") : "?";
    if (params !== signature.params.join(", ") || results !== signature.results.join(", ")) {
      throw new LoadError(
        name,
        where,
        `declared as (${params}) -> (${results}) but the ABI says (${signature.params.join(", ")}) -> (${signature.results.join(", ")})`,
      );
    }
    used.add(entry.module);
  }
  return used;
}

/** Exception handling is not supported (the rewriter and the scheduler's stacks assume none). */
function checkTags(name: string, info: ModuleInfo): void {
  if (info.tagCount > 0) throw new LoadError(name, "tag section", `declares ${info.tagCount} tag${info.tagCount === 1 ? "" : "s"}: exception handling is not supported by Dogma`);
}

function checkReservedNames(name: string, info: ModuleInfo, names: Names): void {
  for (const e of info.exports) {
    if (e.name.startsWith(RESERVED_EXPORT_PREFIX)) {
      throw new LoadError(name, `export section, export "${e.name}"`, `export names starting with "${RESERVED_EXPORT_PREFIX}" are reserved for the loader's own exports`);
    }
  }
  for (const [index, fn] of names.functions) {
    if (fn.startsWith(RESERVED_NAME_PREFIX)) throw new LoadError(name, `name section, function ${index} "${fn}"`, `names starting with "${RESERVED_NAME_PREFIX}" are reserved for the loader`);
  }
  for (const [index, global] of names.globals) {
    if (global.startsWith(RESERVED_NAME_PREFIX)) throw new LoadError(name, `name section, global ${index} "${global}"`, `names starting with "${RESERVED_NAME_PREFIX}" are reserved for the loader`);
  }
}

function checkMemory(name: string, info: ModuleInfo, policy: LoaderPolicy): { initialPages: number; maximumPages: number } {
  const imported = info.imports.filter((i) => i.kind === ExternalKind.memory).map((i) => i.limits!);
  const memories = [...imported, ...info.memories];
  const where = imported.length > 0 && info.memories.length === 0 ? "import section, memory import" : "memory section";
  if (memories.length > 1) throw new LoadError(name, "memory section", `${memories.length} memories declared; a Dogma process has exactly one private memory`);
  const memory = memories[0];
  if (!memory) return { initialPages: 0, maximumPages: 0 };
  if (memory.shared) throw new LoadError(name, where, "shared memory (threads) is not supported: Dogma processes have no threads");
  if (memory.is64) throw new LoadError(name, where, "64-bit memory is not supported: Dogma addresses are 32-bit");
  if (memory.unknownFlags) throw new LoadError(name, where, "custom page sizes are not supported: Dogma memory comes in 64 KiB pages");
  const cap = Math.min(policy.maxMemoryPages, MAX_PRIVATE_WASM_PAGES);
  if (memory.initial > cap) {
    throw new LoadError(name, where, `asks for ${memory.initial} pages of 64 KiB (${mib(memory.initial)}) at start; at most ${cap} (${mib(cap)}) are allowed`);
  }
  return { initialPages: memory.initial, maximumPages: Math.min(memory.maximum ?? MAX_PRIVATE_WASM_PAGES, cap) };
}

function mib(pages: number): string {
  return `${(pages * WASM_PAGE_SIZE) / 2 ** 20} MiB`;
}

/**
 * Every data segment, with active offsets evaluated. Data may lie anywhere in the initial memory,
 * page 0 included (compilers put it at 1024 or 16; the kernel keeps page 0 out of the TLB).
 */
/**
 * Each segment's bytes are a view of the binary, which the image keeps as it is anyway (it is
 * mapped into the global space) and which nothing changes after a load: copies would hold its
 * data twice (17 MB of flite's 21.5).
 */
function checkSegments(name: string, info: ModuleInfo, initialPages: number): DataSegment[] {
  return info.data.map((segment, index) => {
    const where = `data section, segment ${index}`;
    if (segment.offsetExpr === null) return { offset: null, data: segment.data };
    const offset = constantOffset(name, where, info.bytes, segment.offsetExpr);
    if (offset + segment.data.length > initialPages * WASM_PAGE_SIZE) {
      throw new LoadError(name, where, `${segment.data.length} bytes at offset ${offset} do not fit in the initial memory of ${initialPages} pages`);
    }
    return { offset, data: segment.data };
  });
}

/** Evaluates an i32 constant expression (i32.const, and extended-const add, sub, mul). */
function constantOffset(name: string, where: string, bytes: Uint8Array, [start, end]: readonly [number, number]): number {
  const r = new ByteReader(bytes, start, end);
  const stack: number[] = [];
  try {
    for (;;) {
      const op = r.u8();
      if (op === 0x0b) break;
      if (op === 0x41) stack.push(r.s32());
      else if ((op === 0x6a || op === 0x6b || op === 0x6c) && stack.length >= 2) {
        const b = stack.pop()!;
        const a = stack.pop()!;
        stack.push(op === 0x6a ? (a + b) | 0 : op === 0x6b ? (a - b) | 0 : Math.imul(a, b));
      } else throw new LoadError(name, where, `its offset uses an instruction (0x${op.toString(16)}) other than i32.const, i32.add, i32.sub and i32.mul`);
    }
  } catch (error) {
    if (error instanceof DecodeError) throw new LoadError(name, `${where}, offset ${error.offset}`, `its offset is malformed: ${error.message}`);
    throw error;
  }
  if (stack.length !== 1) throw new LoadError(name, where, "its offset expression does not leave one value");
  return stack[0]! >>> 0;
}

/** Each table's capped maximum (host-cost.ts); the output declares it, so a grow past it fails. */
function capTableGrowth(name: string, info: ModuleInfo): number[] {
  info.tables.forEach((table, index) => {
    if (table.limits.is64) throw new LoadError(name, `table section, table ${index}`, "64-bit tables are not supported");
  });
  return capTables(name, info.tables.map((t) => ({ initial: t.limits.initial, maximum: t.limits.maximum })));
}
