import type { LoadedImage } from "./image.ts";
import { MMU_MODULE, SAFE_POINT_HELPER } from "./mmu-abi.ts";
import { SMALL_LEAF_BYTES } from "./constants.ts";

/**
 * What a debugger needs to know about a binary's functions: their names (the rewritten module's
 * name section, which the loader keeps at the new indices and completes with original indices),
 * how the engine's function indices (the rewritten module's) map back to the program's own, and
 * which functions can hold a breakpoint (those with a safe point: docs/LOADER.md "Safe points").
 *
 * The rewritten module's index space is `[program imports][dogma:mmu imports][program
 * functions][loader helpers][outlined loops]` (docs/LOADER.md), so a program function's original
 * index is its engine index less the loader's imports, and an outlined loop (named `F.loopN`) is
 * taken for its function F. The engine gives the module's custom sections back
 * (`WebAssembly.Module.customSections`), and the kernel has the original binary; it never needs
 * the loader itself.
 */
export interface FunctionTable {
  /** Functions of the program, imported and defined, by original index. */
  readonly count: number;
  /** The program's imported functions come first; they have no code. */
  readonly imports: number;
  name(original: number): string;
  /** The original index of a function named `name`, or -1. */
  find(name: string): number;
  /**
   * The original index of the engine's function `engineIndex`; -1 for the loader's own. A loop the
   * loader moved into a function of its own (docs/LOADER.md "Loops moved out of functions called
   * once", named `F.loopN` after the program's functions) is its function F's code.
   */
  original(engineIndex: number): number;
  /** Whether the engine's function `engineIndex` is such an outlined loop: its entry is no entry of F's. */
  outlined(engineIndex: number): boolean;
  /** Whether it is the loader's helper that a safe point's slow path calls (mmu-abi.ts SAFE_POINT_HELPER). */
  safePointHelper(engineIndex: number): boolean;
  /** Whether the function's code has a safe point: false for an import or a small leaf (no loop, no call). */
  hasSafePoints(original: number): boolean;
  /** A global's name by its index in the program (what `__dogma_global_N` exports), when the binary names it. */
  globalName(original: number): string | null;
  /** A global's value type (GlobalType), or null for one the binary does not declare or that is no number. */
  globalType(original: number): GlobalType | null;
}

/** A global's value type as the debugging operations number it. */
export const GlobalType = { I32: 0, I64: 1, F32: 2, F64: 3 } as const;
export type GlobalType = (typeof GlobalType)[keyof typeof GlobalType];

const tables = new WeakMap<LoadedImage, FunctionTable>();

/** The image's function table, read once and kept as long as the image. */
export function functionTable(image: LoadedImage): FunctionTable {
  let table = tables.get(image);
  if (!table) {
    table = readFunctionTable(image);
    tables.set(image, table);
  }
  return table;
}

function readFunctionTable(image: LoadedImage): FunctionTable {
  const imports = WebAssembly.Module.imports(image.module);
  const programImports = imports.filter((i) => i.kind === "function" && i.module !== MMU_MODULE).length;
  const loaderImports = imports.filter((i) => i.kind === "function" && i.module === MMU_MODULE).length;
  const globalShift = imports.filter((i) => i.kind === "global").length;
  const sections = WebAssembly.Module.customSections(image.module, "name");
  const names = sections.length > 0 ? readNameMaps(new Uint8Array(sections[0]!)) : { functions: new Map<number, string>(), globals: new Map<number, string>() };
  const { bodies, globals } = readSections(image.bytes);
  const count = programImports + bodies.length;
  const byName = new Map<string, number>();
  const nameOf = (original: number): string => names.functions.get(original < programImports ? original : original + loaderImports) ?? String(original);
  for (let i = count - 1; i >= 0; i--) byName.set(nameOf(i), i);
  // Outlined loops come after the program's functions and the loader's helpers (`dogma$…`): known by their names.
  const outlinedParent = (engineIndex: number): number => {
    const name = names.functions.get(engineIndex);
    const parent = name === undefined || name.startsWith("dogma$") ? null : /^(.*)\.loop\d+$/.exec(name);
    if (!parent) return -1;
    return byName.get(parent[1]!) ?? (/^\d+$/.test(parent[1]!) && Number(parent[1]) < count ? Number(parent[1]) : -1);
  };
  return {
    count,
    imports: programImports,
    name: nameOf,
    find: (name) => byName.get(name) ?? (/^\d+$/.test(name) && Number(name) < count ? Number(name) : -1),
    original(engineIndex) {
      if (engineIndex < programImports) return engineIndex;
      const original = engineIndex - loaderImports;
      if (original >= programImports && original < count) return original;
      return outlinedParent(engineIndex);
    },
    outlined: (engineIndex) => engineIndex - loaderImports >= count && outlinedParent(engineIndex) >= 0,
    safePointHelper: (engineIndex) => engineIndex - loaderImports >= count && names.functions.get(engineIndex) === SAFE_POINT_HELPER,
    hasSafePoints(original) {
      const body = bodies[original - programImports];
      return body !== undefined && (body.size >= SMALL_LEAF_BYTES || body.mayLoopOrCall);
    },
    globalName: (original) => (original < globals.length ? (names.globals.get(original + globalShift) ?? null) : null),
    globalType: (original) => globals[original] ?? null,
  };
}

interface BodyShape {
  readonly size: number;
  /**
   * Whether a byte of the body is a loop or call opcode. A byte scan over-approximates (an
   * immediate may hold such a byte) and never misses one, which is what refusing a breakpoint
   * needs: a function without any of them surely has no safe point.
   */
  readonly mayLoopOrCall: boolean;
}

const LOOP_OR_CALL = new Set([0x03, 0x10, 0x11, 0x12, 0x13]);

interface Sections {
  readonly bodies: BodyShape[];
  /** Each global's value type, by index; null for a type that is no number. */
  readonly globals: (GlobalType | null)[];
}

/** The original binary's function bodies (sizes, for the small-leaf rule, and a loop-or-call scan) and global types. */
function readSections(bytes: Uint8Array): Sections {
  const found: Sections = { bodies: [], globals: [] };
  try {
    readInto(bytes, found);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
  }
  return found;
}

const VALUE_TYPES = new Map<number, GlobalType>([
  [0x7f, GlobalType.I32],
  [0x7e, GlobalType.I64],
  [0x7d, GlobalType.F32],
  [0x7c, GlobalType.F64],
]);

function readInto(bytes: Uint8Array, found: Sections): void {
  const r = new Reader(bytes, 8);
  while (r.at < bytes.length) {
    const id = r.byte();
    const size = r.u32();
    const end = r.at + size;
    if (end > bytes.length) return;
    if (id === 6) readGlobals(r, end, found.globals);
    if (id === 10) {
      for (let n = r.u32(); n > 0 && r.at < end; n--) {
        const bodySize = r.u32();
        let mayLoopOrCall = false;
        if (bodySize < SMALL_LEAF_BYTES) for (let i = r.at; i < r.at + bodySize; i++) mayLoopOrCall ||= LOOP_OR_CALL.has(bytes[i]!);
        found.bodies.push({ size: bodySize, mayLoopOrCall });
        r.at += bodySize;
      }
      return;
    }
    r.at = end;
  }
}

/** The global section: each global's type; its initializer is skipped (constant expressions only). */
function readGlobals(r: Reader, end: number, types: (GlobalType | null)[]): void {
  for (let n = r.u32(); n > 0 && r.at < end; n--) {
    types.push(VALUE_TYPES.get(r.byte()) ?? null);
    r.byte(); // mutability
    skipConstantExpression(r);
  }
}

function skipConstantExpression(r: Reader): void {
  for (;;) {
    const op = r.byte();
    if (op === 0x0b) return;
    if (op === 0x41 || op === 0x42 || op === 0x23 || op === 0xd2 || op === 0xd0) r.skipLeb(); // consts, global.get, ref.func, ref.null
    else if (op === 0x43) r.at += 4;
    else if (op === 0x44) r.at += 8;
    else if (op === 0xfd) {
      r.skipLeb();
      r.at += 16; // v128.const
    } else if (![0x6a, 0x6b, 0x6c, 0x7c, 0x7d, 0x7e].includes(op)) throw new RangeError(`opcode 0x${op.toString(16)} in a constant expression`);
  }
}

/** The function and global name maps of a name section (subsections 1 and 7); what is malformed is left out. */
function readNameMaps(bytes: Uint8Array): { functions: Map<number, string>; globals: Map<number, string> } {
  const functions = new Map<number, string>();
  const globals = new Map<number, string>();
  const r = new Reader(bytes, 0);
  try {
    while (r.at < bytes.length) {
      const id = r.byte();
      const size = r.u32();
      const end = r.at + size;
      if (id === 1 || id === 7) {
        const into = id === 1 ? functions : globals;
        for (let n = r.u32(); n > 0 && r.at < end; n--) into.set(r.u32(), r.name());
      }
      r.at = end;
    }
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
  }
  return { functions, globals };
}

const utf8 = new TextDecoder("utf-8", { fatal: false });

/** LEB128 and names; throws RangeError past the end. */
class Reader {
  private readonly bytes: Uint8Array;
  at: number;

  constructor(bytes: Uint8Array, at: number) {
    this.bytes = bytes;
    this.at = at;
  }

  byte(): number {
    if (this.at >= this.bytes.length) throw new RangeError("past the end");
    return this.bytes[this.at++]!;
  }

  u32(): number {
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const b = this.byte();
      value += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return value;
    }
    throw new RangeError("a LEB128 longer than 5 bytes");
  }

  /** Any LEB128 (signed or not, up to 64 bits). */
  skipLeb(): void {
    for (let i = 0; i < 10; i++) if ((this.byte() & 0x80) === 0) return;
    throw new RangeError("a LEB128 longer than 10 bytes");
  }

  name(): string {
    const length = this.u32();
    if (this.at + length > this.bytes.length) throw new RangeError("past the end");
    const text = utf8.decode(this.bytes.subarray(this.at, this.at + length));
    this.at += length;
    return text;
  }
}
