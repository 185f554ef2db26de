import type { ImportFunction, ImportSignature } from "./personality.ts";
import type { ValueType } from "./mmu-abi.ts";

/**
 * Kernel calls that block only sometimes, without JSPI's cost when they do not. A
 * `WebAssembly.Suspending` import suspends and resumes the program's stack at every call, even
 * one that returns a value at once (~100 ns a call, bench/wasi-read.ts: most of what a WASI
 * clock_time_get cost). So each blocking call is given to programs as a function of a small
 * WebAssembly module made here (the shim), which calls the implementation as a plain import;
 * when the implementation answered with a promise, the plain import keeps it, sets the shim's
 * flag and returns a placeholder, and the shim then takes the promise through a Suspending import,
 * which suspends the program's stack as before and returns the promise's value. Only WebAssembly
 * frames lie between the program and that import, as JSPI requires; nothing runs between the
 * plain import's return and the Suspending one's call, so one place holds the promise.
 *
 * The shim's functions are named `dogma$calls.MODULE.NAME`: stack walks for faults and the
 * debugger skip them (`isShimFrame`), as they are not the program's code.
 */
export const SHIM_FRAME_PREFIX = "dogma$calls.";

/** Whether a stack frame's text or function name is one of a shim's (not the program's). */
export function isShimFrame(text: string): boolean {
  return text.includes(SHIM_FRAME_PREFIX);
}

export interface BlockingCall {
  readonly name: string;
  readonly signature: ImportSignature;
  /** The implementation: a value, or a promise of one when the call blocks. */
  readonly call: ImportFunction;
}

const VALUE_TYPE: Record<ValueType, number> = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c };
/** What the plain import returns while the real answer is a promise (its type's zero). */
const PLACEHOLDER: Record<ValueType, unknown> = { i32: 0, i64: 0n, f32: 0, f64: 0 };

/** The functions programs import for `calls` of module `module`, by name. */
export function shimBlockingCalls(module: string, calls: readonly BlockingCall[]): Record<string, ImportFunction> {
  for (const { name, signature } of calls) {
    if (signature.results.length > 1) throw new Error(`kernel bug: ${module}.${name} has more than one result`);
  }
  const flag = flagByte();
  let pending: unknown = null;
  const imports: Record<string, unknown> = { flag: flagMemory };
  calls.forEach(({ call, signature }, i) => {
    const placeholder = signature.results.length === 0 ? undefined : PLACEHOLDER[signature.results[0]!];
    imports[`call${i}`] = (...args: never[]) => {
      const result = call(...args);
      if (!(result instanceof Promise)) return result;
      pending = result;
      flag[0] = 1;
      return placeholder;
    };
  });
  const take = () => {
    const promise = pending;
    pending = null;
    return promise;
  };
  for (const result of resultKinds(calls)) imports[`await_${result}`] = new WebAssembly.Suspending(take);
  const instance = new WebAssembly.Instance(new WebAssembly.Module(shimModule(module, calls)), { k: imports as WebAssembly.ModuleImports });
  const shimmed: Record<string, ImportFunction> = {};
  calls.forEach(({ name }, i) => (shimmed[name] = instance.exports[`f${i}`] as ImportFunction));
  return shimmed;
}

/**
 * The flag: byte 0 of one page of memory every shim of this JavaScript realm shares (a store to a
 * typed array, where a Global's value setter is a call into the engine's C++ on every wait; one
 * memory, as each is a reservation of address space). Sharing it is safe: a shim reads and clears
 * it right after the plain import that set it returns, and nothing runs in between.
 */
let flagMemory: WebAssembly.Memory | null = null;
let flagView: Uint8Array | null = null;

function flagByte(): Uint8Array {
  flagMemory ??= new WebAssembly.Memory({ initial: 1, maximum: 1 });
  // Its memory never grows, so the view stays good.
  return (flagView ??= new Uint8Array(flagMemory.buffer, 0, 1));
}

type ResultKind = ValueType | "void";

function resultKind(signature: ImportSignature): ResultKind {
  return signature.results[0] ?? "void";
}

function resultKinds(calls: readonly BlockingCall[]): ResultKind[] {
  return [...new Set(calls.map((c) => resultKind(c.signature)))];
}

/**
 * The shim's binary: imports `k.call<i>` (each call's own type), `k.await_<result>` (no
 * parameters, the result) and `k.flag`, a memory of one page whose byte 0 is the flag; exports
 * `f<i>`, each
 *   r = call<i>(params...); if (flag) { flag = 0; r = await_<result>(); } return r
 */
function shimModule(module: string, calls: readonly BlockingCall[]): Uint8Array<ArrayBuffer> {
  const kinds = resultKinds(calls);
  const types = new TypeTable();
  const callTypes = calls.map((c) => types.index(c.signature.params, c.signature.results));
  const awaitTypes = kinds.map((kind) => types.index([], kind === "void" ? [] : [kind]));
  const importCount = calls.length + kinds.length;
  const imports: number[][] = [
    ...calls.map((_, i) => [...name("k"), ...name(`call${i}`), 0x00, ...uleb(callTypes[i]!)]),
    ...kinds.map((kind, i) => [...name("k"), ...name(`await_${kind}`), 0x00, ...uleb(awaitTypes[i]!)]),
    [...name("k"), ...name("flag"), 0x02, 0x01, 0x01, 0x01],
  ];
  const bodies = calls.map(({ signature }, i) => {
    const kind = resultKind(signature);
    const result = signature.params.length;
    const code: number[] = [];
    signature.params.forEach((_, p) => code.push(0x20, ...uleb(p)));
    code.push(0x10, ...uleb(i));
    if (kind !== "void") code.push(0x21, ...uleb(result));
    // if (i32.load8_u (i32.const 0)) { i32.store8 (i32.const 0) (i32.const 0); call await_<result> }
    code.push(0x41, 0x00, 0x2d, 0x00, 0x00, 0x04, 0x40, 0x41, 0x00, 0x41, 0x00, 0x3a, 0x00, 0x00, 0x10, ...uleb(calls.length + kinds.indexOf(kind)));
    if (kind !== "void") code.push(0x21, ...uleb(result));
    code.push(0x0b);
    if (kind !== "void") code.push(0x20, ...uleb(result));
    code.push(0x0b);
    const locals = kind === "void" ? [0x00] : [0x01, 0x01, VALUE_TYPE[kind]];
    return vector([...locals, ...code]);
  });
  const functionNames = calls.map(({ name: call }, i) => [...uleb(importCount + i), ...name(`${SHIM_FRAME_PREFIX}${module}.${call}`)]);
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, list(types.entries)),
    ...section(2, list(imports)),
    ...section(3, list(callTypes.map((t) => uleb(t)))),
    ...section(7, list(calls.map((_, i) => [...name(`f${i}`), 0x00, ...uleb(importCount + i)]))),
    ...section(10, list(bodies)),
    ...section(0, [...name("name"), 0x01, ...vector(list(functionNames))]),
  ]);
}

/** The type section's entries, each signature once. */
export class TypeTable {
  readonly entries: number[][] = [];
  private readonly known = new Map<string, number>();

  index(params: readonly ValueType[], results: readonly ValueType[]): number {
    const key = `${params.join(",")}->${results.join(",")}`;
    let at = this.known.get(key);
    if (at === undefined) {
      at = this.entries.length;
      this.entries.push([0x60, ...list(params.map((t) => [VALUE_TYPE[t]])), ...list(results.map((t) => [VALUE_TYPE[t]]))]);
      this.known.set(key, at);
    }
    return at;
  }
}

export function uleb(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    out.push(byte);
  } while (value !== 0);
  return out;
}

/** A byte vector: its length, then its bytes. */
export function vector(bytes: readonly number[]): number[] {
  return [...uleb(bytes.length), ...bytes];
}

/** A vector of items: their count, then each. */
export function list(items: readonly (readonly number[])[]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

export function name(text: string): number[] {
  return vector([...new TextEncoder().encode(text)]);
}

export function section(id: number, content: readonly number[]): number[] {
  return [id, ...vector(content)];
}
