/**
 * Random WebAssembly modules for the loader fuzz test: binaryen's own fuzzer (`wasm-opt -ttf`,
 * "translate to fuzz") turns seeded random bytes into a valid module that logs through the
 * `fuzzing-support` imports, then `shiftOutOfPageZero` moves everything the module addresses up
 * by one 4 KiB page, because Dogma never maps page 0 and binaryen's fuzzer puts its data and
 * most of its accesses there.
 *
 * Generation runs binaryen's CLI (an Emscripten build, so a Node process of ~0.5 s each); the
 * outputs are cached in the OS temp directory by binaryen version, flags and seed, so that only
 * the first run pays for it.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { addLocal, binaryen, clearStart, dataSegments, nodes, type BinaryenModule, type ExpressionRef } from "./binaryen-access.ts";
import { childrenById } from "./expression-children.ts";

const run = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const wasmOpt = path.join(root, "node_modules/binaryen/bin/wasm-opt");
const binaryenVersion: string = createRequire(import.meta.url)(path.join(root, "node_modules/binaryen/package.json")).version;

/** What Dogma's loader accepts (docs/ABI.md), in wasm-opt's words. */
export const TTF_FLAGS = [
  "--mvp-features",
  "--enable-bulk-memory",
  "--enable-sign-ext",
  "--enable-nontrapping-float-to-int",
  "--enable-mutable-globals",
  "--enable-multivalue",
];

const TTF_FEATURES =
  binaryen.Features.MVP | binaryen.Features.BulkMemory | binaryen.Features.BulkMemoryOpt | binaryen.Features.SignExt | binaryen.Features.NontrappingFPToInt |
  binaryen.Features.MutableGlobals | binaryen.Features.Multivalue;

/**
 * Passes run after generation. `--denan` turns every NaN a float operation produces into 0 at
 * run time (binaryen's own fuzzer does the same for its differential runs): WebAssembly leaves the
 * bits of such NaNs open, and binaryen's optimizer, which the loader runs, folds them differently
 * from V8. Without it about one module in 500 logs differently on the two sides, legitimately
 * (e.g. a branch on the low bits of a NaN that binaryen folded to the canonical NaN).
 */
export const TTF_PASSES = ["--denan"];

/** The least shift: one frame, so that nothing lands in Dogma's unmapped page 0. */
export const MIN_SHIFT = 4096;

/** Deterministic bytes for `seed` (splitmix32). */
export function seededBytes(seed: number, length: number): Uint8Array {
  let state = (seed * 0x9e3779b9) >>> 0;
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    out[i] = (z ^ (z >>> 16)) & 0xff;
  }
  return out;
}

function cacheDir(): string {
  const key = `${binaryenVersion}-${[...TTF_FLAGS, ...TTF_PASSES].join("").replace(/[^a-z]/gi, "")}`.slice(0, 140);
  return path.join(os.tmpdir(), "dogma-fuzz", key);
}

/** The fuzzer's module for `seed` (input size varies with the seed), from the cache when there. */
export async function ttfModule(seed: number): Promise<Uint8Array> {
  const dir = cacheDir();
  const out = path.join(dir, `seed-${seed}.wasm`);
  if (existsSync(out)) return new Uint8Array(await readFile(out));
  await mkdir(dir, { recursive: true });
  const unique = `${process.pid}-${seed}-${Math.random().toString(36).slice(2)}`;
  const input = path.join(dir, `in-${unique}.bin`);
  const partial = path.join(dir, `out-${unique}.wasm`);
  await writeFile(input, seededBytes(seed, 2048 + (seed % 8) * 1024));
  try {
    // process.execPath is the Node running the tests (26); the script's own shebang would pick
    // whatever `node` is first on PATH.
    await run(process.execPath, [wasmOpt, input, "-ttf", ...TTF_FLAGS, ...TTF_PASSES, "-o", partial], { maxBuffer: 16 << 20 });
    await rename(partial, out);
  } finally {
    await rm(input, { force: true });
    await rm(partial, { force: true });
  }
  return new Uint8Array(await readFile(out));
}

/** Runs `task` over `items` with at most `limit` at a time, keeping order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await task(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

type Getter = (expr: ExpressionRef) => number;
type Setter = (expr: ExpressionRef, value: number) => void;
const cls = binaryen as unknown as Record<string, Record<string, Getter & Setter>>;

/**
 * How far `seed`'s module is moved up. The fuzzer's addresses are small (mostly a masked
 * pointer plus an offset below ~40), so the shift decides where in Dogma's address space the
 * accesses land: just past page 0, straddling a page boundary (unaligned and page-crossing
 * slow paths), or against the end of memory (faults, which must not write partially).
 */
export function shiftFor(seed: number, initialPages: number, dataEnd: number): { shift: number; kind: string } {
  switch (seed % 4) {
    case 0:
      return { shift: MIN_SHIFT, kind: "page 1" };
    case 1:
      return { shift: 2 * MIN_SHIFT - 1 - (seed % 7), kind: "across a page boundary" };
    case 2:
      return { shift: MIN_SHIFT * (2 + (seed % 200)) - 3, kind: "across a page boundary, higher" };
    default: {
      const shift = initialPages * 65536 - dataEnd - (seed % 16);
      return shift >= MIN_SHIFT ? { shift, kind: "against the end of memory" } : { shift: MIN_SHIFT, kind: "page 1" };
    }
  }
}

/**
 * Returns `bytes` with every memory address moved up by `shiftFor(seed)`: loads and stores get
 * that much more static offset, active data segments that much more offset, and the addresses of
 * memory.copy, memory.fill and memory.init become `addr + shift`, or 0x7fffffff when that sum
 * would wrap or reach the high half (the original access trapped anyway, and 0x7fffffff keeps it
 * trapping instead of landing in page 0). The high half is left out for bulk operations because
 * there Dogma does not trap a zero-length one where WebAssembly does (see
 * test/isolation/isolation.test.ts); the isolation tests probe it directly.
 * The result is what both sides of the differential run; semantics change only at the top of
 * memory (the last `shift` bytes become unreachable), identically for both.
 */
export interface ShiftedModule {
  /** What Dogma loads: the shifted module, with its start function if it had one. */
  readonly dogma: Uint8Array;
  /**
   * What runs natively: the same, but with the start function exported as `__fuzz_start`
   * instead, as Dogma's loader does, so that the harness can run it once the instance (and so
   * its exports, which `call-export` needs) exists.
   */
  readonly native: Uint8Array;
  readonly hasStart: boolean;
  readonly shift: number;
  /** Where the shift puts the accesses, in words. */
  readonly kind: string;
}

export const NATIVE_START_EXPORT = "__fuzz_start";
export const NATIVE_MEMORY_EXPORT = "__fuzz_memory";

export function shiftOutOfPageZero(bytes: Uint8Array, seed: number): ShiftedModule {
  const module = binaryen.readBinary(bytes);
  try {
    module.setFeatures(binaryen.Features.All);
    const initialPages = module.hasMemory() ? module.getMemoryInfo().initial : 0;
    const dataEnd = Math.max(0, ...dataSegments(module).filter((s) => !s.passive).map((s) => (s.offset ?? 0) + s.data.byteLength));
    const { shift: SHIFT, kind } = shiftFor(seed, initialPages, dataEnd);
    for (let i = 0; i < module.getNumFunctions(); i++) {
      const func = module.getFunctionByIndex(i);
      const info = binaryen.getFunctionInfo(func);
      if (info.module) continue;
      let temp = -1;
      const tempLocal = () => (temp >= 0 ? temp : (temp = addLocal(func, binaryen.i32)));
      const shifted = (ptr: ExpressionRef): ExpressionRef => {
        if (binaryen.getExpressionType(ptr) === binaryen.unreachable) return ptr;
        const t = tempLocal();
        const get = () => module.local.get(t, binaryen.i32);
        const sum = () => module.i32.add(get(), module.i32.const(SHIFT));
        const outside = module.i32.or(module.i32.ge_u(get(), module.i32.const(-SHIFT)), module.i32.lt_s(sum(), module.i32.const(0)));
        return module.block(null, [module.local.set(t, ptr), module.select(outside, module.i32.const(0x7fffffff), sum())], binaryen.i32);
      };
      const visit = (expr: ExpressionRef): void => {
        const id = binaryen.getExpressionId(expr);
        const shiftChild = (className: string, field: string) => {
          const child = cls[className]![`get${field}`]!(expr);
          visit(child);
          cls[className]![`set${field}`]!(expr, shifted(child));
        };
        const plain = (className: string, ...fields: string[]) => {
          for (const field of fields) visit(cls[className]![`get${field}`]!(expr));
        };
        switch (id) {
          case binaryen.LoadId:
          case binaryen.StoreId: {
            const name = id === binaryen.LoadId ? "Load" : "Store";
            plain(name, ...(name === "Load" ? ["Ptr"] : ["Ptr", "Value"]));
            const offset = cls[name]!.getOffset!(expr) >>> 0;
            cls[name]!.setOffset!(expr, offset + SHIFT > 0xffffffff ? 0xffffffff : offset + SHIFT);
            return;
          }
          case binaryen.MemoryCopyId:
            shiftChild("MemoryCopy", "Dest");
            shiftChild("MemoryCopy", "Source");
            plain("MemoryCopy", "Size");
            return;
          case binaryen.MemoryFillId:
            shiftChild("MemoryFill", "Dest");
            plain("MemoryFill", "Value", "Size");
            return;
          case binaryen.MemoryInitId:
            shiftChild("MemoryInit", "Dest");
            plain("MemoryInit", "Offset", "Size");
            return;
          case binaryen.MemoryGrowId:
            plain("MemoryGrow", "Delta");
            return;
          case binaryen.MemorySizeId:
          case binaryen.DataDropId:
            return;
        }
        const children = childrenById.get(id);
        if (!children) throw new Error(`shiftOutOfPageZero: expression id ${id} is not handled`);
        for (const slot of children(expr)) {
          const child = slot.get(expr);
          if (child) visit(child);
        }
      };
      visit(nodes.Function.getBody(func));
    }
    shiftSegments(module, SHIFT);
    module.setFeatures(TTF_FEATURES);
    if (!module.validate()) throw new Error("shiftOutOfPageZero: the shifted module does not validate");
    const dogma = module.emitBinary();
    const start = module.getStart();
    if (!start) return { dogma, native: dogma, hasStart: false, shift: SHIFT, kind };
    module.addFunctionExport(binaryen.getFunctionInfo(start).name, NATIVE_START_EXPORT);
    clearStart(module);
    if (!module.validate()) throw new Error("shiftOutOfPageZero: the native variant does not validate");
    return { dogma, native: module.emitBinary(), hasStart: true, shift: SHIFT, kind };
  } finally {
    module.dispose();
  }
}

function shiftSegments(module: BinaryenModule, SHIFT: number): void {
  if (!module.hasMemory()) return;
  const info = module.getMemoryInfo();
  let exportName: string | null = null;
  for (let i = 0; i < module.getNumExports(); i++) {
    const e = binaryen.getExportInfo(module.getExportByIndex(i));
    if (e.kind === binaryen.ExternalMemory) exportName = e.name;
  }
  // The native run reads the memory through this export; Dogma's loader drops memory exports.
  if (exportName) module.removeExport(exportName);
  const segments = dataSegments(module).map((s) => ({
    name: s.name,
    data: new Uint8Array(s.data),
    passive: s.passive,
    offset: s.passive ? 0 : module.i32.const((s.offset ?? 0) + SHIFT),
  }));
  // Binaryen names an unnamed memory "0", which is what every load and store refers to.
  module.setMemory(info.initial, info.max ?? 65536, NATIVE_MEMORY_EXPORT, segments as never, info.shared, info.is64, "0");
}
