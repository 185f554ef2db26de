import { SHIM_FRAME_PREFIX, TypeTable, list, name, section, uleb, vector } from "./call-shim.ts";
import type { ValueType } from "./mmu-abi.ts";

/**
 * The kernel's functions that every process imports, given to instantiation as WebAssembly
 * functions of one small module per machine (the relay), each of which calls its JavaScript
 * function with its own arguments. V8 links a WebAssembly function import for about half of
 * what a JavaScript one costs at every instantiation (no import wrapper to look up: with the 13
 * `dogma:mmu` functions, 12-19 µs against 6-13 µs an instance, bench/RESULTS.md "Process start");
 * the call through the relay costs one WebAssembly call more on a slow path that enters
 * JavaScript anyway. A `WebAssembly.Suspending` goes in as it came: the relay's import suspends,
 * and only WebAssembly frames lie between it and the program, as JSPI requires.
 *
 * The relay's functions are named `dogma$calls.MODULE.NAME`, so that fault reports and the
 * debugger's stack walks skip them as they skip the call shims' (call-shim.ts isShimFrame).
 */
export interface RelayedCall {
  readonly name: string;
  readonly params: readonly ValueType[];
  readonly results: readonly ValueType[];
}

/** Compiled relays by module name and signatures (the same for every machine of the host). */
const compiled = new Map<string, WebAssembly.Module>();

/** `functions` (by name: a function or a Suspending) as the relay's WebAssembly functions, by name. */
export function relayCalls(module: string, calls: readonly RelayedCall[], functions: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const key = `${module}:${calls.map((c) => `${c.name}(${c.params.join(",")})${c.results.join(",")}`).join(";")}`;
  let compiledRelay = compiled.get(key);
  if (!compiledRelay) compiled.set(key, (compiledRelay = new WebAssembly.Module(relayModule(module, calls))));
  const imports: Record<string, unknown> = {};
  calls.forEach(({ name: call }, i) => {
    const fn = functions[call];
    if (fn === undefined) throw new Error(`kernel bug: ${module}.${call} has no implementation`);
    imports[`f${i}`] = fn;
  });
  const instance = new WebAssembly.Instance(compiledRelay, { k: imports as WebAssembly.ModuleImports });
  const relayed: Record<string, unknown> = {};
  calls.forEach(({ name: call }, i) => (relayed[call] = instance.exports[`f${i}`]));
  return relayed;
}

/** Imports `k.f<i>` (each call's type) and exports `f<i>`: `call f<i>(params...)`, its results returned. */
function relayModule(module: string, calls: readonly RelayedCall[]): Uint8Array<ArrayBuffer> {
  const types = new TypeTable();
  const callTypes = calls.map((c) => types.index(c.params, c.results));
  const bodies = calls.map(({ params }, i) => {
    const code: number[] = [0x00];
    params.forEach((_, p) => code.push(0x20, ...uleb(p)));
    code.push(0x10, ...uleb(i), 0x0b);
    return vector(code);
  });
  const functionNames = calls.map(({ name: call }, i) => [...uleb(calls.length + i), ...name(`${SHIM_FRAME_PREFIX}${module}.${call}`)]);
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, list(types.entries)),
    ...section(2, list(calls.map((_, i) => [...name("k"), ...name(`f${i}`), 0x00, ...uleb(callTypes[i]!)]))),
    ...section(3, list(callTypes.map((t) => uleb(t)))),
    ...section(7, list(calls.map((_, i) => [...name(`f${i}`), 0x00, ...uleb(calls.length + i)]))),
    ...section(10, list(bodies)),
    ...section(0, [...name("name"), 0x01, ...vector(list(functionNames))]),
  ]);
}
