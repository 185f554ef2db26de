/**
 * The private contract between rewritten code and the kernel: the `dogma:mmu` import module the
 * loader adds to every module. Programs may not import it themselves (the loader refuses).
 *
 * Each memory instruction the fast path cannot serve calls one of these. Loads take
 * `(address, offset)` and return the value; stores take `(address, offset, value)`. `address` is
 * `ptr + offset` wrapped to 32 bits and `offset` the instruction's static offset, from which the
 * kernel recovers the full 33-bit effective address.
 */
export const MMU_MODULE = "dogma:mmu";
export const MMU_TLB_GLOBAL = "tlb";
/**
 * The process's home addend H (src/kernel/tlb.ts), an immutable i32 global like the TLB's base: a
 * TLB hit whose tag is the page's plain tag reads `a + H`, without loading the entry's addend.
 */
export const MMU_HOME_GLOBAL = "home";
/**
 * A mutable `i32` global of the module's own, exported under this name: a slow path that hit a
 * fault the process's fault handler will take sets it to 1 and returns a dummy; the loader's
 * wrapper around the slow path then calls `fault_handle` (which runs the handler) and, once it
 * returns, calls the slow path again. See docs/MEMORY.md "Fault handlers". (An import until issue
 * 18: a Global object made per process cost each spawn about 2 µs.)
 */
export const FAULT_EXPORT = "__dogma_fault_pending";

export type ValueType = "i32" | "i64" | "f32" | "f64";

export interface AccessKind {
  /** Import name in `dogma:mmu`, e.g. `load_i64_16_u`. */
  readonly name: string;
  readonly store: boolean;
  readonly type: ValueType;
  readonly bytes: 1 | 2 | 4 | 8;
  readonly signed: boolean;
}

function widthOf(type: ValueType): number {
  return type === "i32" || type === "f32" ? 32 : 64;
}

function kind(store: boolean, type: ValueType, bytes: 1 | 2 | 4 | 8, signed: boolean): AccessKind {
  const partial = bytes * 8 !== widthOf(type);
  const suffix = partial ? `_${bytes * 8}${store ? "" : signed ? "_s" : "_u"}` : "";
  return { name: `${store ? "store" : "load"}_${type}${suffix}`, store, type, bytes, signed: partial && !store && signed };
}

/**
 * The slow-path imports: integer accesses only. A float access that misses goes through the
 * integer access of its width and a reinterpret in the rewritten code (`slowPathOf`), so its
 * bits never become a JS number, which would quiet a signalling NaN.
 */
export const ACCESS_KINDS: readonly AccessKind[] = [
  kind(false, "i32", 4, false), kind(false, "i32", 1, true), kind(false, "i32", 1, false),
  kind(false, "i32", 2, true), kind(false, "i32", 2, false),
  kind(false, "i64", 8, false), kind(false, "i64", 1, true), kind(false, "i64", 1, false),
  kind(false, "i64", 2, true), kind(false, "i64", 2, false), kind(false, "i64", 4, true),
  kind(false, "i64", 4, false),
  kind(true, "i32", 4, false), kind(true, "i32", 1, false), kind(true, "i32", 2, false),
  kind(true, "i64", 8, false), kind(true, "i64", 1, false), kind(true, "i64", 2, false),
  kind(true, "i64", 4, false),
];

const FLOAT_KINDS: readonly AccessKind[] = [kind(false, "f32", 4, false), kind(false, "f64", 8, false), kind(true, "f32", 4, false), kind(true, "f64", 8, false)];

export function findAccessKind(store: boolean, type: ValueType, bytes: number, signed: boolean): AccessKind {
  const wanted = kind(store, type, bytes as 1 | 2 | 4 | 8, signed).name;
  const found = ACCESS_KINDS.find((k) => k.name === wanted) ?? FLOAT_KINDS.find((k) => k.name === wanted);
  if (!found) throw new Error(`no access kind for ${store ? "store" : "load"} ${type} of ${bytes} bytes`);
  return found;
}

/**
 * The slow-path imports: one per integer type and direction, the access kind (its index in
 * ACCESS_KINDS) passed last, so that a module imports four functions for its accesses, not
 * nineteen (V8 spends about 0.4 µs an import on every instantiation: bench/RESULTS.md "Process
 * start"). Loads take `(address, offset, kind)`, stores `(address, offset, value, kind)`.
 */
export const SLOW_PATH_IMPORTS = [
  { name: "load_i32", store: false, type: "i32" },
  { name: "load_i64", store: false, type: "i64" },
  { name: "store_i32", store: true, type: "i32" },
  { name: "store_i64", store: true, type: "i64" },
] as const satisfies ReadonlyArray<{ name: string; store: boolean; type: ValueType }>;

/** Index in SLOW_PATH_IMPORTS of the import an integer access kind goes through. */
export function slowPathImportOf(kind: AccessKind): number {
  return SLOW_PATH_IMPORTS.findIndex((i) => i.store === kind.store && i.type === kind.type);
}

/** The access kind a slow path's wrapper handles: itself, or for a float the integer access of its width. */
export function slowPathOf(kind: AccessKind): AccessKind {
  if (kind.type === "f32") return findAccessKind(kind.store, "i32", 4, false);
  if (kind.type === "f64") return findAccessKind(kind.store, "i64", 8, false);
  return kind;
}

/** Bulk and size operations, and the safe point: `name: [params, results]`. */
export const MMU_CALLS = {
  memory_size: [[], ["i32"]],
  memory_grow: [["i32"], ["i32"]],
  memory_copy: [["i32", "i32", "i32"], []],
  memory_fill: [["i32", "i32", "i32"], []],
  memory_init: [["i32", "i32", "i32", "i32"], []],
  data_drop: [["i32"], []],
  safe_point: [[], ["i32"]],
  fault_handle: [[], []],
  safe_point_wait: [[], ["i32"]],
} as const satisfies Record<string, readonly [readonly ValueType[], readonly ValueType[]]>;

export type MmuCallName = keyof typeof MMU_CALLS;

/**
 * Every `dogma:mmu` function a rewritten module imports, in the order it imports them: the slow
 * paths (the access kind passed last), then MMU_CALLS. The loader's import section and the
 * kernel's relay (import-relay.ts), whose functions must have exactly these types, both read it.
 */
export const MMU_FUNCTIONS: ReadonlyArray<{ readonly name: string; readonly params: readonly ValueType[]; readonly results: readonly ValueType[] }> = [
  ...SLOW_PATH_IMPORTS.map(({ name, store, type }) =>
    store ? { name, params: ["i32", "i32", type, "i32"] as const, results: [] } : { name, params: ["i32", "i32", "i32"] as const, results: [type] },
  ),
  ...(Object.entries(MMU_CALLS) as Array<[MmuCallName, readonly [readonly ValueType[], readonly ValueType[]]]>).map(([name, [params, results]]) => ({ name, params, results })),
];

/** The calls besides ACCESS_KINDS that can fault, and so run again after a fault handler repairs it. */
export const RETRIED_CALLS: readonly MmuCallName[] = ["memory_copy", "memory_fill", "memory_init"];

/**
 * What the plain `safe_point` import returns when the process must stop at this safe point (its
 * slice is over, an interrupt is pending, a debugger observes it, it is ending): the loader's
 * helper SAFE_POINT_HELPER then calls `safe_point_wait`, the suspending import, which does.
 * Any other value is the fuel to go on with (-1 included: a debugger's every-safe-point fuel).
 */
export const SAFE_POINT_WAIT = -0x8000_0000;
/** The loader's helper that every safe point's slow path calls (docs/LOADER.md "Safe points"). */
export const SAFE_POINT_HELPER = "dogma$safe_point_or_wait";

/** Names of the exports the loader adds. */
export const INIT_EXPORT = "__dogma_init";
export const FUEL_EXPORT = "__dogma_fuel";
/** Followed by the global's index: each mutable global of the program (PROCESS_CLONE copies them). */
export const GLOBAL_EXPORT_PREFIX = "__dogma_global_";
