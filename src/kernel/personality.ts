import type { ValueType } from "./mmu-abi.ts";

/**
 * An import module that programs may use: the kernel's own `dogma` module, or a personality
 * (WASI, AssemblyScript's env) that turns foreign calls into kernel calls. The loader checks
 * imports against `functions`; the kernel instantiates with `bind`.
 */
export interface ImportSignature {
  readonly params: readonly ValueType[];
  readonly results: readonly ValueType[];
  /** A blocking call may suspend the process; it is wrapped for JSPI, which costs ~100 ns a call. */
  readonly blocks: boolean;
  /**
   * A blocking call that waits nearly every time (a receive, a sleep): given to programs as a
   * suspending import. The others go through the kernel's shim (call-shim.ts), which spares a
   * call answered at once JSPI's cost and costs one that waits ~40 ns more.
   */
  readonly usuallyWaits: boolean;
}

export type ImportFunction = (...args: never[]) => unknown;

export interface ImportModuleSpec<Services> {
  readonly module: string;
  readonly functions: Readonly<Record<string, ImportSignature>>;
  /** Implementations, each acting for the kernel's current process. */
  bind(services: Services): Record<string, ImportFunction>;
  /**
   * Whether a blocking call's promise may reject with PageInRequired (a personality's own async
   * code reaching memory it did not touch first), so that the kernel pages in and calls again
   * (resident-call.ts). An async function's always may; with this, so may a plain function that
   * answers at once when it can and returns a promise only when it waits, which spares a call
   * answered at once the stack switch a promise costs.
   */
  readonly promisesNeedPages?: boolean;
}

export function sig(params: readonly ValueType[], results: readonly ValueType[], blocks = false, usuallyWaits = false): ImportSignature {
  return { params, results, blocks, usuallyWaits };
}

/** A blocking call that waits nearly every time (ImportSignature.usuallyWaits). */
export function waiting(params: readonly ValueType[], results: readonly ValueType[]): ImportSignature {
  return sig(params, results, true, true);
}
