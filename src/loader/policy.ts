import { MAX_PRIVATE_WASM_PAGES, WASM_PAGE_SIZE } from "../kernel/constants.ts";
import type { DataSegment } from "../kernel/image.ts";
import { MMU_MODULE, type ValueType } from "../kernel/mmu-abi.ts";
import type { ImportSignature } from "../kernel/personality.ts";
import { binaryen, setTableMax, type BinaryenModule } from "./binaryen.ts";
import { capTables, instanceBytes } from "./host-cost.ts";
import { LoadError } from "./load-error.ts";
import { countMemories, findTags, scanDataSegments } from "./section-scan.ts";

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
}

const typeNames = new Map<number, ValueType>([
  [binaryen.i32, "i32"],
  [binaryen.i64, "i64"],
  [binaryen.f32, "f32"],
  [binaryen.f64, "f64"],
]);

function typeList(type: number): string {
  return binaryen.expandType(type).map((t) => typeNames.get(t) ?? "other").join(", ");
}

/**
 * Enforces the rules in docs/ABI.md ("What a program may import", "Memory"): only known imports
 * with the right signatures, one private memory within limits, no data in page 0.
 */
export function checkPolicy(name: string, bytes: Uint8Array, module: BinaryenModule, policy: LoaderPolicy): ModuleFacts {
  const used = checkFunctionImports(name, module, policy);
  checkOtherImports(name, module);
  checkTags(name, bytes);
  checkReservedNames(name, module);
  const memory = checkMemory(name, bytes, module, policy);
  const segments = checkSegments(name, bytes, memory.initialPages);
  const tableMaxima = capTableGrowth(name, module);
  return { ...memory, segments, importModules: [...used], instanceBytes: instanceBytes(tableMaxima, module.getNumGlobals(), module.getNumFunctions()) };
}

/** Declares every table's capped maximum in the module, so a grow past it fails; the maxima. */
function capTableGrowth(name: string, module: BinaryenModule): number[] {
  const tables = [];
  for (let i = 0; i < module.getNumTables(); i++) tables.push(binaryen.getTableInfo(module.getTableByIndex(i)));
  const maxima = capTables(name, tables.map((t) => ({ initial: t.initial, maximum: t.max ?? null })));
  maxima.forEach((max, i) => setTableMax(module.getTableByIndex(i), max));
  return maxima;
}

function checkFunctionImports(name: string, module: BinaryenModule, policy: LoaderPolicy): Set<string> {
  const used = new Set<string>();
  for (let i = 0; i < module.getNumFunctions(); i++) {
    const info = binaryen.getFunctionInfo(module.getFunctionByIndex(i));
    if (!info.module) continue;
    const where = `import section, function import ${i} "${info.module}"."${info.base}"`;
    if (info.module === MMU_MODULE) throw new LoadError(name, where, `the module "${MMU_MODULE}" belongs to the loader; programs may not import it`);
    const functions = policy.importModules.get(info.module);
    if (!functions) {
      const allowed = [...policy.importModules.keys()].map((m) => `"${m}"`).join(", ");
      throw new LoadError(name, where, `module "${info.module}" is not part of the Dogma ABI (allowed: ${allowed})`);
    }
    const base = info.base ?? "";
    const signature = Object.hasOwn(functions, base) ? functions[base] : undefined;
    if (!signature) throw new LoadError(name, where, `"${info.module}" has no function "${info.base}"`);
    const params = typeList(info.params);
    const results = typeList(info.results);
    if (params !== signature.params.join(", ") || results !== signature.results.join(", ")) {
      throw new LoadError(
        name,
        where,
        `declared as (${params}) -> (${results}) but the ABI says (${signature.params.join(", ")}) -> (${signature.results.join(", ")})`,
      );
    }
    used.add(info.module);
  }
  return used;
}

/** The loader names its own functions and globals `dogma$…`; a program may not, or it could pose as them. */
function checkReservedNames(name: string, module: BinaryenModule): void {
  const reserved = (n: string | null) => n !== null && n.startsWith("dogma$");
  for (let i = 0; i < module.getNumFunctions(); i++) {
    const fn = binaryen.getFunctionInfo(module.getFunctionByIndex(i)).name;
    if (reserved(fn)) throw new LoadError(name, `name section, function ${i} "${fn}"`, `names starting with "dogma$" are reserved for the loader`);
  }
  for (let i = 0; i < module.getNumGlobals(); i++) {
    const global = binaryen.getGlobalInfo(module.getGlobalByIndex(i)).name;
    if (reserved(global)) throw new LoadError(name, `name section, global ${i} "${global}"`, `names starting with "dogma$" are reserved for the loader`);
  }
}

function checkOtherImports(name: string, module: BinaryenModule): void {
  for (let i = 0; i < module.getNumGlobals(); i++) {
    const info = binaryen.getGlobalInfo(module.getGlobalByIndex(i));
    if (info.module) throw new LoadError(name, `import section, global import "${info.module}"."${info.base}"`, "global imports are not part of the Dogma ABI");
  }
  for (let i = 0; i < module.getNumTables(); i++) {
    const info = binaryen.getTableInfo(module.getTableByIndex(i));
    if (info.module) throw new LoadError(name, `import section, table import "${info.module}"."${info.base}"`, "table imports are not part of the Dogma ABI");
  }
}

/** Exception handling is not supported (the rewriter and the scheduler's stacks assume none). */
function checkTags(name: string, bytes: Uint8Array): void {
  const tags = findTags(bytes);
  if (tags.imported) {
    const [from, field] = tags.imported;
    throw new LoadError(name, `import section, tag import "${from}"."${field}"`, "exception handling (tags) is not supported by Dogma");
  }
  if (tags.defined > 0) throw new LoadError(name, "tag section", `declares ${tags.defined} tag${tags.defined === 1 ? "" : "s"}: exception handling is not supported by Dogma`);
}

function checkMemory(name: string, bytes: Uint8Array, module: BinaryenModule, policy: LoaderPolicy): { initialPages: number; maximumPages: number } {
  const count = countMemories(bytes);
  if (count > 1) throw new LoadError(name, "memory section", `${count} memories declared; a Dogma process has exactly one private memory`);
  if (count === 0) return { initialPages: 0, maximumPages: 0 };
  const info = module.getMemoryInfo();
  if (info.shared) throw new LoadError(name, "memory section", "shared memory (threads) is not supported: Dogma processes have no threads");
  if (info.is64) throw new LoadError(name, "memory section", "64-bit memory is not supported: Dogma addresses are 32-bit");
  const cap = Math.min(policy.maxMemoryPages, MAX_PRIVATE_WASM_PAGES);
  if (info.initial > cap) {
    throw new LoadError(name, "memory section", `asks for ${info.initial} pages of 64 KiB (${mib(info.initial)}) at start; at most ${cap} (${mib(cap)}) are allowed`);
  }
  const declaredMax = info.max ?? MAX_PRIVATE_WASM_PAGES;
  return { initialPages: info.initial, maximumPages: Math.min(declaredMax, cap) };
}

function mib(pages: number): string {
  return `${(pages * WASM_PAGE_SIZE) / 2 ** 20} MiB`;
}

function checkSegments(name: string, bytes: Uint8Array, initialPages: number): DataSegment[] {
  let segments;
  try {
    segments = scanDataSegments(bytes);
  } catch (error) {
    if (error instanceof RangeError) throw new LoadError(name, "data section", error.message);
    throw error;
  }
  return segments.map(({ offset, data }, index) => {
    if (offset === null) return { offset: null, data };
    const where = `data section, segment ${index}`;
    if (offset + data.length > initialPages * WASM_PAGE_SIZE) {
      throw new LoadError(name, where, `${data.length} bytes at offset ${offset} do not fit in the initial memory of ${initialPages} pages`);
    }
    return { offset, data };
  });
}
