import { ACCESS_KINDS, MMU_FUNCTIONS, RETRIED_CALLS, SAFE_POINT_HELPER, findAccessKind, slowPathImportOf, slowPathOf, type AccessKind, type MmuCallName, type ValueType } from "../kernel/mmu-abi.ts";
import { MAX_PRIVATE_WASM_PAGES, tlbEntriesFor, tlbIndexMask, tlbVictimsFor } from "../kernel/constants.ts";
import { STREAM_LOCALS } from "./access-streams.ts";
import type { LoopGroupKinds } from "./loop-groups.ts";
import { OUTLINE_ITERATIONS, type OutlineMode } from "./outline-plan.ts";
import { F32, F64, I32, I64 } from "./wasm/value-types.ts";

/**
 * Where everything sits in a rewritten module's index spaces. The loader adds imports after the
 * program's own function imports, so a defined function of the program moves up by
 * `addedImports`; its helper functions come after the program's, and the loops it moved out of
 * functions called once (outline-plan.ts) last, so that no body but their functions' depends on how
 * many there are (they are known only once every body is rewritten); a global import (the TLB
 * address) comes before the program's globals, and the fuel global and the fault flag after them.
 *
 *   functions: [program imports][dogma:mmu imports][program functions][loader helpers][outlined loops]
 *   globals:   [tlb][program globals][fuel][fault_pending]
 *
 * A CodeLayout is plain numbers, so that a worker thread can be given it.
 */
export const VALUE_TYPE_BYTE: Record<ValueType, number> = { i32: I32, i64: I64, f32: F32, f64: F64 };

export interface ImportedCall {
  readonly name: string;
  readonly params: readonly number[];
  readonly results: readonly number[];
}

/** An access kind's slow-path wrapper (`dogma$NAME`): `(address, offset[, value]) -> [value]`. */
export function accessSignature(kind: AccessKind): ImportedCall {
  const value = VALUE_TYPE_BYTE[kind.type];
  return kind.store ? { name: kind.name, params: [I32, I32, value], results: [] } : { name: kind.name, params: [I32, I32], results: [value] };
}

/** The `dogma:mmu` functions every rewritten module imports, in order (mmu-abi.ts MMU_FUNCTIONS): the slow paths (the kind passed last), then the calls. */
export const MMU_FUNCTION_IMPORTS: readonly ImportedCall[] = MMU_FUNCTIONS.map(({ name, params, results }) => ({
  name,
  params: params.map((t) => VALUE_TYPE_BYTE[t]),
  results: results.map((t) => VALUE_TYPE_BYTE[t]),
}));

const callImport = (name: MmuCallName): number => MMU_FUNCTION_IMPORTS.findIndex((i) => i.name === name);

/** The access helper of a load or store opcode, with or without a static offset. */
export function accessHelperName(opcode: number, withOffset: boolean): string {
  return `dogma$access_${opcode.toString(16)}${withOffset ? "_offset" : ""}`;
}

/** Access helpers: one per load and store opcode (0x28-0x3e), without and with an offset. */
export const ACCESS_HELPER_COUNT = (0x3e - 0x28 + 1) * 2;

/** A helper a program may not call: a slow path's retrying wrapper (its kind's index in ACCESS_KINDS), or an access helper (its slot: (opcode - 0x28) * 2, + 1 with an offset). */
export type OptionalHelper = { readonly slowPath: number } | { readonly access: number };

/**
 * The slow-path wrappers and access helpers in the order they come among the helpers: kind by
 * kind, those compiled code uses most first (32-bit words, 64-bit words, bytes, halves, floats,
 * the narrow 64-bit kinds), each kind's wrappers before its access helpers, so that a module
 * using only common kinds leaves out the rest (HELPERS).
 */
const KIND_ORDER: ReadonlyArray<readonly [readonly string[], readonly number[]]> = [
  [["load_i32", "store_i32"], [0x28, 0x36]],
  [["load_i64", "store_i64"], [0x29, 0x37]],
  [["load_i32_8_u", "store_i32_8", "load_i32_8_s"], [0x2d, 0x3a, 0x2c]],
  [["load_i32_16_u", "store_i32_16", "load_i32_16_s"], [0x2f, 0x3b, 0x2e]],
  [[], [0x2a, 0x38, 0x2b, 0x39]],
  [["load_i64_8_u", "load_i64_8_s", "load_i64_16_u", "load_i64_16_s", "load_i64_32_u", "load_i64_32_s", "store_i64_8", "store_i64_16", "store_i64_32"], [0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x3c, 0x3d, 0x3e]],
];
export const OPTIONAL_HELPERS: readonly OptionalHelper[] = KIND_ORDER.flatMap(([slowPaths, opcodes]) => [
  ...slowPaths.map((name) => ({ slowPath: ACCESS_KINDS.findIndex((k) => k.name === name) })),
  ...opcodes.flatMap((opcode) => [{ access: (opcode - 0x28) * 2 }, { access: (opcode - 0x28) * 2 + 1 }]),
]);
{
  const slowPaths = new Set(OPTIONAL_HELPERS.map((h) => ("slowPath" in h ? h.slowPath : -2)));
  const slots = new Set(OPTIONAL_HELPERS.map((h) => ("access" in h ? h.access : -2)));
  if (slowPaths.has(-1) || slowPaths.size !== ACCESS_KINDS.length + 1 || slots.size !== ACCESS_HELPER_COUNT + 1) throw new Error("loader bug: OPTIONAL_HELPERS misses a helper");
}

/** The name of an optional helper (HELPERS). */
export function optionalHelperName(helper: OptionalHelper): string {
  return "slowPath" in helper ? `dogma$${ACCESS_KINDS[helper.slowPath]!.name}` : accessHelperName(0x28 + (helper.access >> 1), (helper.access & 1) === 1);
}

/**
 * The helper functions the loader defines, in order: the retrying wrappers of the bulk calls, the
 * memory.init helper and every safe point's slow path, then those a program may not call: the
 * slow paths' retrying wrappers (rewrite-helpers.ts) and the access helpers (OPTIONAL_HELPERS),
 * copy and fill, the group checks. Those come last so that a module with no outlined loops leaves
 * out the ones after the last it calls (rewrite-helpers.ts helperFunctions): V8 charges every
 * instance the module's size estimate, about 200 bytes a declared function, as external memory,
 * and a full collection follows each 64 MB of it (docs/MEMORY.md "How many processes").
 */
export const HELPERS = [
  ...RETRIED_CALLS.map((call) => ({ name: `dogma$${call}`, retries: call as string })),
  { name: "dogma$init", retries: null },
  // Every safe point's slow path: the plain check, and the suspending wait only when it says so.
  { name: SAFE_POINT_HELPER, retries: null },
  // The retrying wrapper of each slow path, and one access helper per load and store opcode
  // (0x28-0x3e), without and with a static offset: the whole translated access, for accesses
  // that call it instead of writing it inline.
  ...OPTIONAL_HELPERS.map((helper) => ({ name: optionalHelperName(helper), retries: "slowPath" in helper ? ACCESS_KINDS[helper.slowPath]!.name : null })),
  { name: "dogma$copy", retries: null },
  { name: "dogma$fill", retries: null },
  // A group's check as a function, for heads in functions of ALL_CALLS_MIN_BODY bytes or more.
  { name: "dogma$group_check_read", retries: null },
  { name: "dogma$group_check_write", retries: null },
];

/** Each access helper's place among the helpers, by slot. */
const ACCESS_HELPER_AT: readonly number[] = Array.from({ length: ACCESS_HELPER_COUNT }, (_, slot) => HELPERS.findIndex((h) => h.name === accessHelperName(0x28 + (slot >> 1), (slot & 1) === 1)));

export interface CodeLayout {
  /** The program's function imports: indices below this do not move. */
  readonly functionImports: number;
  /** How far each function the program defines moves up. */
  readonly addedImports: number;
  /** How far each of the program's globals moves up. */
  readonly globalShift: number;
  readonly tlbGlobal: number;
  /** The home addend's immutable global (src/kernel/tlb.ts): a plain tag's hit reads `a + home`. */
  readonly homeGlobal: number;
  /** The TLB's index mask, a constant of the module: its processes' TLBs have the size it says (src/kernel/tlb.ts tlbEntriesFor). */
  readonly tlbIndexMask: number;
  /**
   * The victim entries of its processes' TLBs (src/kernel/tlb.ts, constants.ts tlbVictimsFor: a
   * function of the TLB's size, as the mask is), which the slow paths' wrappers look in before
   * the kernel; 0 with none, or with the variant victimTier off.
   */
  readonly tlbVictims: number;
  readonly faultGlobal: number;
  readonly fuelGlobal: number;
  /** What a safe point's slow path calls: the helper SAFE_POINT_HELPER (rewrite-helpers.ts). */
  readonly safePoint: number;
  /** The plain `safe_point` import and the suspending `safe_point_wait`, which only the helper calls. */
  readonly safePointCheck: number;
  readonly safePointWait: number;
  /** Function indices of the imports called inline. */
  readonly memorySize: number;
  readonly memoryGrow: number;
  readonly dataDrop: number;
  readonly faultHandle: number;
  /** Function indices of the helpers. */
  readonly copyHelper: number;
  readonly fillHelper: number;
  readonly initHelper: number;
  /** By index in ACCESS_KINDS: the raw import and the retrying wrapper. */
  readonly rawSlowPaths: readonly number[];
  readonly slowPaths: readonly number[];
  /** By name in RETRIED_CALLS: the raw import and the retrying wrapper. */
  readonly rawCalls: Readonly<Record<string, number>>;
  readonly retriedCalls: Readonly<Record<string, number>>;
  /** Index of the first helper. */
  readonly firstHelper: number;
  /** Index of the first outlined loop (after the helpers). */
  readonly firstOutlined: number;
  /** Whether function entries and loop headers get safe points (false only for measurements: such code cannot be preempted). */
  readonly safePoints: boolean;
  /** Whether a function reads the TLB's address once, at its entry, into a local. */
  readonly tlbLocal: boolean;
  /**
   * Where a load or store calls its access helper (`accessHelper`) instead of translating inline:
   * "never", "always", "cold" (outside loops, in functions of at least coldCallsMinBody bytes) or
   * "cold-in-looping" (outside loops in functions that have a loop; a function without one may be
   * the hot body of a caller's loop, and keeps every access inline).
   */
  readonly accessCalls: AccessCalls;
  /** Under "cold", functions smaller than this (input bytes) translate every access inline. */
  readonly coldCallsMinBody: number;
  /**
   * Functions of at least this many input bytes call the access helpers for every access, in loops
   * too (unless accessCalls is "never"): the engine's optimizing compiler takes time superlinear in
   * a function's size, and inline translations made yosys's and clang's largest functions 4-6x
   * their size, so compiling them took most of a short run (docs/LOADER.md, "Huge functions").
   */
  readonly allCallsMinBody: number;
  /**
   * A function of at least allCallsDenseBody input bytes whose body, accesses inline, would grow
   * to allCallsDensity times its size or more calls the helpers for every access too: the engine
   * compiles the output, and a function dense in accesses (Go's grow 3-5x inline, C's 2-2.5x)
   * costs its optimizing compiler as much as a much bigger one (docs/LOADER.md "Huge functions").
   */
  readonly allCallsDenseBody: number;
  readonly allCallsDensity: number;
  /**
   * In a huge function, a loop nest of at most this many input bytes (the loop with every loop
   * nested in it, the outermost such loop) is written as in any other function: its accesses
   * inline, with streams, groups and hoisted checks. 0: every access of a huge function calls a
   * helper (before REWRITE_VERSION 27). A short hot loop inside a big function (bzip2's sorts,
   * inlined into BZ2_blockSort) then runs at the speed of the same loop in a small function, and
   * the growth it costs the engine's compiler is bounded: only while the function's whole output
   * stays under hugeInlineOutput bytes, the size of what a function that is not huge becomes
   * (docs/LOADER.md "Small loop nests of huge functions are inline").
   */
  readonly hugeInlineNest: number;
  readonly hugeInlineOutput: number;
  /**
   * Whether a call of an access helper passes the TLB's address (from the caller's local: before
   * REWRITE_VERSION 20), or the helper reads the TLB global itself (the default): a huge function
   * then keeps no TLB local live across its calls, and each call is two bytes shorter (code 3.6-5%
   * smaller for the big tools, run time the same: docs/LOADER.md "Huge functions").
   */
  readonly helperTlbArgument: boolean;
  /**
   * Whether an inline check of an access with an offset K > 0 computes its key in 64 bits
   * (mmu-sequences.ts translate): `zext(ptr) + K + size - 1` masked to its page, compared with the
   * tag loaded zero-extended, so that an address past 4 GiB matches no tag without the wrap term.
   */
  readonly wideKeys: boolean;
  /**
   * Whether accesses share checks in functions of allCallsMinBody bytes or more too (true), or only
   * inside their loops ("loops"): a group's head calls groupCheckRead/Write for its check, its
   * members are inline (mmu-sequences.ts emitCalledGroupHead); otherwise every access there calls
   * its access helper. Off by default: clang -O2 -c and yosys's SAT proof ran 35% and 60% longer
   * with it (docs/LOADER.md "Huge functions call a helper for every access").
   */
  readonly hugeFunctionGroups: boolean | "loops";
  readonly groupCheckRead: number;
  readonly groupCheckWrite: number;
  /**
   * Whether the output has a branch-hint section marking every slow path unlikely: only for a
   * code section under branchHintsMaxCode bytes (see BRANCH_HINTS_MAX_CODE).
   */
  readonly branchHints: boolean;
  /** Whether a loop's safe point charges the longest path through its body (loop-paths.ts) rather than the whole body. */
  readonly loopPaths: boolean;
  /** Whether an inline access whose address is an `i32.const` is translated with constants (mmu-sequences.ts emitLoad with a constant). */
  readonly constantAddresses: boolean;
  /** The longest span (bytes) one check may cover for a group of accesses sharing it (access-groups.ts); 0: no sharing. */
  readonly groupSpan: number;
  /** Whether a run of code sharing checks goes on past block, if and br_if (access-groups.ts STRAIGHT). */
  readonly groupAcrossBranches: boolean;
  /** Whether accesses at constant addresses (static variables) share checks with each other too. */
  readonly groupConstants: boolean;
  /** Whether a loop's accesses off a local it never writes, or a constant page, share a check made at its header (loop-groups.ts). */
  readonly loopGroups: boolean;
  /** The fewest accesses of a loop's body a group checked at its header must serve. */
  readonly loopGroupMembers: number;
  /** Whether a loop that calls (anything but its safe point) hoists checks too: each call ends its groups, and the next iteration checks again. */
  readonly loopGroupsWithCalls: boolean;
  /** Which groups loops check at their header (loop-groups.ts). */
  readonly loopGroupKinds: LoopGroupKinds;
  /** At most how many accesses of a loop nest keep the page they reached last (access-streams.ts; 0: none). */
  readonly accessStreams: number;
  /** Whether streams keep their page and addend in globals of the module (accessStreams of each from streamGlobal: pages, then addends), or in locals. */
  readonly streamGlobals: boolean;
  readonly streamGlobal: number;
  /** How many times an outlined loop's header runs before it returns to be called again (outline-plan.ts). */
  readonly outlineIterations: number;
}


/** The helper doing the whole access of a load or store opcode, with or without a static offset. */
export function accessHelper(layout: CodeLayout, opcode: number, withOffset: boolean): number {
  return layout.firstHelper + ACCESS_HELPER_AT[(opcode - 0x28) * 2 + (withOffset ? 1 : 0)]!;
}

/** Variants of the rewrite for measurements; the loader always uses the defaults. */
export type AccessCalls = "never" | "always" | "cold" | "cold-in-looping";

/** Functions smaller than this (input bytes) translate every access inline under "cold". */
export const COLD_CALLS_MIN_BODY = 0;

/** Functions of this many input bytes or more call a helper for every access (see allCallsMinBody). */
export const ALL_CALLS_MIN_BODY = 4096;

/** Functions of this many input bytes or more whose translation inline grows ALL_CALLS_DENSITY times their size call a helper for every access (see allCallsDenseBody). */
export const ALL_CALLS_DENSE_BODY = 1024;
export const ALL_CALLS_DENSITY = 3;

/** A huge function's loop nests of at most this many input bytes are inline, while its output stays under HUGE_INLINE_OUTPUT bytes (see hugeInlineNest). */
export const HUGE_INLINE_NEST = 512;
export const HUGE_INLINE_OUTPUT = 16384;

/**
 * A binary whose code section is this many bytes or more gets no branch hints. V8 decodes the
 * whole hint section into hash tables at every compile, a cache hit's included (about 125 ns a
 * hint, a hint per access in a loop): clang's 66 MB of code paid about 0.25 s a start for them,
 * yosys's 28 MB 0.1 s, and their runs gained nothing that made it back; the C programs (0.02 MB)
 * and flite (0.2 MB) run about 8% faster with them (docs/LOADER.md "How V8 compiles the output").
 */
export const BRANCH_HINTS_MAX_CODE = 4 << 20;

export interface RewriteVariant {
  readonly safePoints?: boolean;
  readonly tlbLocal?: boolean;
  readonly accessCalls?: AccessCalls;
  readonly coldCallsMinBody?: number;
  readonly allCallsMinBody?: number;
  readonly allCallsDenseBody?: number;
  readonly allCallsDensity?: number;
  readonly hugeInlineNest?: number;
  readonly hugeInlineOutput?: number;
  readonly helperTlbArgument?: boolean;
  readonly wideKeys?: boolean;
  /** Whether the slow paths' wrappers look in the TLB's victim entries (default true; the kernel keeps them either way). */
  readonly victimTier?: boolean;
  readonly branchHints?: boolean;
  /** Hints only for a code section under this many bytes (default BRANCH_HINTS_MAX_CODE). */
  readonly branchHintsMaxCode?: number;
  readonly constantAddresses?: boolean;
  readonly loopPaths?: boolean;
  readonly groupSpan?: number;
  readonly groupAcrossBranches?: boolean;
  readonly groupConstants?: boolean;
  readonly hugeFunctionGroups?: boolean | "loops";
  readonly loopGroups?: boolean;
  readonly loopGroupMembers?: number;
  readonly loopGroupsWithCalls?: boolean;
  readonly loopGroupKinds?: LoopGroupKinds;
  readonly accessStreams?: number;
  readonly streamGlobals?: boolean;
  /** Which functions' loops are outlined (outline-plan.ts): "once-run" by default; "all" for tests. */
  readonly outline?: OutlineMode;
  /** How deep in a nest loops are outlined (1: outermost only). */
  readonly outlineDepth?: number;
  /** Whether a nested loop without loops inside is outlined too (by default it stays in its parent's function). */
  readonly outlineLeaves?: boolean;
  /** A code section this large or larger gets no outlining (default OUTLINE_MAX_CODE; Infinity: any size). */
  readonly outlineMaxCode?: number;
  readonly outlineIterations?: number;
}

/** How many accesses of a loop nest that calls nothing keep the page they reached last (access-streams.ts). */
export const ACCESS_STREAMS = 4;

/** The longest span one shared check covers (access-groups.ts). */
export const GROUP_SPAN = 64;

/** The first outlined loop's index in the original's index space (outline-plan.ts: the rewrite adds the loader's imports to it, as to every defined function's). */
export function firstOutlined(functionImports: number, definedFunctions: number): number {
  return functionImports + definedFunctions + HELPERS.length;
}

/** `definedFunctions`: the program's (outlined loops come after the helpers). */
export function codeLayout(functionImports: number, definedFunctions: number, programGlobals: number, variant: RewriteVariant = {}, maximumPages = MAX_PRIVATE_WASM_PAGES, codeBytes = 0): CodeLayout {
  const added = MMU_FUNCTION_IMPORTS.length;
  const firstHelper = functionImports + added + definedFunctions;
  const helper = (name: string) => firstHelper + HELPERS.findIndex((h) => h.name === name);
  return {
    functionImports,
    addedImports: added,
    globalShift: 2,
    tlbGlobal: 0,
    homeGlobal: 1,
    tlbIndexMask: tlbIndexMask(tlbEntriesFor(maximumPages)),
    tlbVictims: variant.victimTier === false ? 0 : tlbVictimsFor(tlbEntriesFor(maximumPages)),
    faultGlobal: 3 + programGlobals,
    fuelGlobal: 2 + programGlobals,
    safePoint: helper(SAFE_POINT_HELPER),
    safePointCheck: functionImports + callImport("safe_point"),
    safePointWait: functionImports + callImport("safe_point_wait"),
    memorySize: functionImports + callImport("memory_size"),
    memoryGrow: functionImports + callImport("memory_grow"),
    dataDrop: functionImports + callImport("data_drop"),
    faultHandle: functionImports + callImport("fault_handle"),
    copyHelper: helper("dogma$copy"),
    fillHelper: helper("dogma$fill"),
    initHelper: helper("dogma$init"),
    rawSlowPaths: ACCESS_KINDS.map((k) => functionImports + slowPathImportOf(k)),
    slowPaths: ACCESS_KINDS.map((k) => helper(`dogma$${k.name}`)),
    rawCalls: Object.fromEntries(RETRIED_CALLS.map((c) => [c, functionImports + callImport(c)])),
    retriedCalls: Object.fromEntries(RETRIED_CALLS.map((c) => [c, helper(`dogma$${c}`)])),
    firstHelper,
    firstOutlined: firstHelper + HELPERS.length,
    safePoints: variant.safePoints ?? true,
    tlbLocal: variant.tlbLocal ?? true,
    accessCalls: variant.accessCalls ?? "cold-in-looping",
    coldCallsMinBody: variant.coldCallsMinBody ?? COLD_CALLS_MIN_BODY,
    allCallsMinBody: variant.allCallsMinBody ?? ALL_CALLS_MIN_BODY,
    allCallsDenseBody: variant.allCallsDenseBody ?? ALL_CALLS_DENSE_BODY,
    allCallsDensity: variant.allCallsDensity ?? ALL_CALLS_DENSITY,
    hugeInlineNest: variant.hugeInlineNest ?? HUGE_INLINE_NEST,
    hugeInlineOutput: variant.hugeInlineOutput ?? HUGE_INLINE_OUTPUT,
    helperTlbArgument: variant.helperTlbArgument ?? false,
    wideKeys: variant.wideKeys ?? true,
    hugeFunctionGroups: variant.hugeFunctionGroups ?? false,
    groupCheckRead: helper("dogma$group_check_read"),
    groupCheckWrite: helper("dogma$group_check_write"),
    branchHints: (variant.branchHints ?? true) && codeBytes < (variant.branchHintsMaxCode ?? BRANCH_HINTS_MAX_CODE),
    constantAddresses: variant.constantAddresses ?? true,
    loopPaths: variant.loopPaths ?? true,
    groupSpan: variant.groupSpan ?? GROUP_SPAN,
    groupAcrossBranches: variant.groupAcrossBranches ?? true,
    groupConstants: variant.groupConstants ?? true,
    loopGroups: variant.loopGroups ?? true,
    loopGroupMembers: variant.loopGroupMembers ?? 1,
    loopGroupsWithCalls: variant.loopGroupsWithCalls ?? true,
    loopGroupKinds: variant.loopGroupKinds ?? "constants",
    accessStreams: Math.min(variant.accessStreams ?? ACCESS_STREAMS, STREAM_LOCALS),
    streamGlobals: (variant.accessStreams ?? ACCESS_STREAMS) > 0 && (variant.streamGlobals ?? true),
    streamGlobal: 4 + programGlobals,
    outlineIterations: variant.outlineIterations ?? OUTLINE_ITERATIONS,
  };
}

/** What a load or store opcode does, for the rewriter. */
export interface MemoryOp {
  readonly kind: AccessKind;
  /** Value type byte of the value loaded or stored. */
  readonly valueType: number;
  /** Index in ACCESS_KINDS of the slow path it calls (for a float, the integer access of its width). */
  readonly slowPath: number;
  /** For a float: the reinterpret opcode around the slow path's integer (load: after; store: before). */
  readonly reinterpret: number | null;
}

const OPS: Array<[opcode: number, store: boolean, type: ValueType, bytes: 1 | 2 | 4 | 8, signed: boolean]> = [
  [0x28, false, "i32", 4, false], [0x29, false, "i64", 8, false], [0x2a, false, "f32", 4, false], [0x2b, false, "f64", 8, false],
  [0x2c, false, "i32", 1, true], [0x2d, false, "i32", 1, false], [0x2e, false, "i32", 2, true], [0x2f, false, "i32", 2, false],
  [0x30, false, "i64", 1, true], [0x31, false, "i64", 1, false], [0x32, false, "i64", 2, true], [0x33, false, "i64", 2, false],
  [0x34, false, "i64", 4, true], [0x35, false, "i64", 4, false],
  [0x36, true, "i32", 4, false], [0x37, true, "i64", 8, false], [0x38, true, "f32", 4, false], [0x39, true, "f64", 8, false],
  [0x3a, true, "i32", 1, false], [0x3b, true, "i32", 2, false], [0x3c, true, "i64", 1, false], [0x3d, true, "i64", 2, false],
  [0x3e, true, "i64", 4, false],
];

const REINTERPRET = { load: { f32: 0xbe, f64: 0xbf }, store: { f32: 0xbc, f64: 0xbd } } as const;

/** By opcode (0x28-0x3e). */
export const MEMORY_OPS: ReadonlyArray<MemoryOp | undefined> = (() => {
  const table: Array<MemoryOp | undefined> = [];
  for (const [opcode, store, type, bytes, signed] of OPS) {
    const kind = findAccessKind(store, type, bytes, signed);
    const slow = slowPathOf(kind);
    const reinterpret = type === "f32" || type === "f64" ? REINTERPRET[store ? "store" : "load"][type] : null;
    table[opcode] = { kind, valueType: VALUE_TYPE_BYTE[type], slowPath: ACCESS_KINDS.indexOf(slow), reinterpret };
  }
  return table;
})();
