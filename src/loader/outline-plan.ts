import { InstructionWalker, singleByteType } from "./outline-walk.ts";
import { CallGraph, CallSites } from "./call-sites.ts";
import { type ModuleInfo } from "./wasm/module-info.ts";
import { I32 } from "./wasm/value-types.ts";

/**
 * Which loops the loader moves into functions of their own (loop outlining, docs/LOADER.md "Loops
 * moved out of functions called once"). Decided once every body is rewritten, from the call sites
 * the rewrite recorded; the functions whose loops move are then rewritten again with them
 * (rewrite-module.ts, outline-bodies.ts writes their bodies). The outlined loops come after the
 * loader's helpers, so no other body depends on how many there are.
 *
 * Why: V8 has no on-stack replacement for WebAssembly. A function called once (a C program's
 * `main`) runs its whole course in Liftoff, its baseline code, even after TurboFan has compiled it,
 * since TurboFan's code is used from the next call on. An outlined loop returns to its function
 * every few thousand iterations and is called again, and so runs TurboFan's code once it is ready.
 *
 * Which functions: those that run at most once a process ("once-run": the start function and the
 * `_start` export, and a function whose only reference is one direct call outside any loop of a
 * once-run function: call-sites.ts). A function called many times tiers up by its calls and
 * gains nothing. Which loops: each outermost loop of such a function, and each loop nested in one
 * (down to `maxDepth` levels) that has loops inside it (a loop nest inside an outer loop of a few
 * rounds needs its own); a nested loop with no loop inside stays in its parent's outlined
 * function (it may be entered once per iteration of its parent, and a call each time cost more
 * than it gained: sort.c, hash.c), unless `leaves`. Each must have a shape the outlining takes:
 * - a block type without parameters (clang never gives a loop any);
 * - every label around it carries at most one value, of a one-byte type (its function's results
 *   included): an exit to it is returned as a code and that value;
 * - no tail call inside (it would return the callee's results from the outlined function);
 * - the locals it uses at most OUTLINE_MAX_LOCALS (they are its function's parameters and results).
 * The variant "all" outlines every such loop of every function (tests: the differential tests and
 * the fuzzer run it).
 */

export type OutlineMode = "once-run" | "all" | "none";

/**
 * A code section this large or larger gets no outlining by default (RewriteVariant.outlineMaxCode
 * lifts it). Finding the functions that run once costs nothing apart any more (call-sites.ts), and
 * the loader outlines any size when told to; but clang's, yosys's and esbuild's whole runs gained
 * nothing from it (their hot loops are in functions called many times) while their cold loads
 * paid 3-7% more CPU and yosys's peak 13-35 MB more, the engine optimizing the rewriter again for
 * the functions rewritten a second time (docs/LOADER.md "Loops moved out of functions called once").
 */
export const OUTLINE_MAX_CODE = 1 << 20;
/** The most locals an outlined loop may take (parameters) and give back (results, with its exits' values): V8 allows 1000 of each. */
export const OUTLINE_MAX_LOCALS = 400;
/**
 * Loops a module has outlined at most (but under the test variant "all"). Each is a function of its own, rewritten apart on the
 * machine's thread with its function (about 0.2 ms each), and adds locals to the function it
 * came from: a 180 KB _start of 60,000 loops took 12 s to load and was refused for passing the
 * engine's 50,000 locals (redteam13). A program's loops that run once are a few dozen.
 */
export const OUTLINE_MAX_LOOPS = 1000;
/**
 * Labels around loops (each loop's count, summed over the loops considered) a function may have per
 * byte of its body: the outlined code grows with them, not with the body (see functionLoops).
 */
export const LABEL_BUDGET = 1;
/** How deep in a loop nest loops are outlined by default (1: outermost loops only). */
export const OUTLINE_DEPTH = 8;
/**
 * How many times an outlined loop's header runs before the loop returns to its caller to be called
 * again, counted in a local; 0 (the default): it returns when its header's safe point called the
 * kernel and got fuel back, which costs nothing on the loop's path (a counter cost interp.c 9% in
 * TurboFan). Tests set a few, to make every loop return often.
 */
export const OUTLINE_ITERATIONS = 0;

export interface OutlinedLoop {
  /**
   * Where its `loop` instruction is and where it ends (after its `end`), from the start of its
   * function's body (a chunk sent to a worker has its bodies moved: these stay right).
   */
  readonly at: number;
  readonly end: number;
  /** The new function's index in the original's index space (after the program's functions and the loader's helpers: output-layout.ts firstOutlined). */
  readonly index: number;
  /** The function it comes from (original index), and which of its outlined loops it is (in order of appearance). */
  readonly parent: number;
  readonly ordinal: number;
  /** The parent's locals it takes (its parameters, in order), and those it gives back (its first results). */
  readonly locals: readonly number[];
  readonly written: readonly number[];
  /** The labels around it, innermost first, the function's last: the type of the value a branch to each carries, or 0 for none. */
  readonly labels: readonly number[];
  /** The values the loop leaves when it ends (its block type's results). */
  readonly fallthrough: readonly number[];
  /** The value slots its exits share (value types), after the locals in its results. */
  readonly slots: readonly number[];
  /** Its function type. */
  readonly params: readonly number[];
  readonly results: readonly number[];
}

export interface OutlinePlan {
  /** Every outlined loop, in index order. */
  readonly loops: readonly OutlinedLoop[];
  /** The outlined loops of each function (original index), in order of appearance. */
  readonly byFunction: ReadonlyMap<number, readonly OutlinedLoop[]>;
}

export const NO_OUTLINING: OutlinePlan = { loops: [], byFunction: new Map() };

const TYPE_BYTES: Record<string, number> = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c, v128: 0x7b };
const typeBytes = (types: readonly string[]): number[] | null => {
  const out = types.map((t) => TYPE_BYTES[t] ?? -1);
  return out.includes(-1) ? null : out;
};

/**
 * The whole plan for `info` at once, the call sites scanned here (tests and measurements). The
 * loader finds which functions run once from the call sites its rewrite of the chunks records
 * (call-sites.ts), then plans their loops with planLoops. `first`: the first outlined loop's index
 * in the original's index space (output-layout.ts firstOutlined).
 */
export function planOutlining(info: ModuleInfo, mode: OutlineMode, first: number, maxDepth = OUTLINE_DEPTH, leaves = false): OutlinePlan {
  if (mode === "none" || maxDepth <= 0 || info.bodies.length === 0) return NO_OUTLINING;
  const chosen = outlineChoice(info, mode, () => scanCalls(info).onceRun(info), leaves);
  return planLoops(info, chosen.candidates, first, maxDepth, chosen.leaves, chosen.most);
}

/**
 * What `mode` outlines: the functions whose loops may move (those `onceRun` finds, every one under
 * the test variant "all", none under "none"), whether leaf loops too, and at most how many loops.
 */
export function outlineChoice(info: ModuleInfo, mode: OutlineMode, onceRun: () => number[], leaves: boolean): { candidates: number[]; leaves: boolean; most: number } {
  const all = mode === "all";
  return {
    candidates: mode === "none" ? [] : all ? info.bodies.map((_, i) => i) : onceRun(),
    leaves: leaves || all,
    most: all ? Infinity : OUTLINE_MAX_LOOPS,
  };
}

/**
 * The loops of the defined functions `candidates` (by position among the defined, in order) that
 * can be outlined, numbered from `first`: at most `most` (the variant "all" of tests and the fuzzer
 * takes every one).
 */
export function planLoops(info: ModuleInfo, candidates: readonly number[], first: number, maxDepth = OUTLINE_DEPTH, leaves = false, most = OUTLINE_MAX_LOOPS): OutlinePlan {
  if (maxDepth <= 0 || candidates.length === 0) return NO_OUTLINING;
  const walker = new InstructionWalker(info.bytes);
  const found: Array<Omit<OutlinedLoop, "index" | "ordinal">> = [];
  for (const i of candidates) {
    if (found.length >= most) break;
    try {
      const loops = functionLoops(info, walker, i, maxDepth, leaves);
      // The first ones of a function (a loop comes before those nested in it).
      for (const loop of loops) if (found.length < most) found.push(loop);
    } catch (error) {
      if (!(error instanceof Error)) throw error; // a malformed body: the rewriter says what and where
    }
  }
  const byFunction = new Map<number, OutlinedLoop[]>();
  const loops = found.map((loop, k): OutlinedLoop => {
    const list = byFunction.get(loop.parent) ?? [];
    const outlined = { ...loop, index: first + k, ordinal: list.length };
    list.push(outlined);
    byFunction.set(loop.parent, list);
    return outlined;
  });
  return { loops, byFunction };
}

/** Every body's direct references to functions, as the rewriter records them (CallSites), read by a pass of their own. */
function scanCalls(info: ModuleInfo): CallGraph {
  const walker = new InstructionWalker(info.bytes);
  const sites = new CallSites();
  const locals: number[] = [];
  info.bodies.forEach((body, i) => {
    sites.begin(info.functionImports + i);
    locals.length = 0;
    let loops = 0;
    const loopStack: number[] = [];
    try {
      let at = walker.locals(body.start, body.end, locals);
      while (at < body.end) {
        const next = walker.step(at, body.end);
        if (next < 0) return;
        const op = walker.op;
        if (op === 0x02 || op === 0x04 || op === 0x03) {
          loopStack.push(op === 0x03 ? 1 : 0);
          if (op === 0x03) loops++;
        } else if (op === 0x0b && loopStack.length > 0) loops -= loopStack.pop()!;
        else if (op === 0x10 || op === 0x12 || op === 0xd2) sites.note(at, walker.index, loops > 0, op === 0xd2);
        at = next;
      }
    } catch (error) {
      if (!(error instanceof Error)) throw error;
    }
  });
  const graph = new CallGraph(info.functionImports, info.bodies.length);
  graph.add(sites.take());
  return graph;
}

interface OpenLabel {
  readonly loop: boolean;
  /** The value a branch to it carries (0: none), or -1 for a label outlining cannot return through. */
  readonly carries: number;
  /** For a loop being considered: what is known of it so far; else null. */
  readonly candidate: Candidate | null;
}

interface Candidate {
  readonly at: number;
  /** Inside another loop; and whether a loop is inside it. */
  readonly nested: boolean;
  inner: boolean;
  readonly labels: number[];
  readonly fallthrough: number[];
  readonly used: Set<number>;
  readonly written: Set<number>;
  ok: boolean;
}

/** The loops of defined function `i` that can be outlined, in order of appearance. */
function functionLoops(info: ModuleInfo, walker: InstructionWalker, i: number, maxDepth: number, leaves: boolean): Array<Omit<OutlinedLoop, "index" | "ordinal">> {
  const body = info.bodies[i]!;
  const type = info.types[info.functions[i]!];
  if (!type) return [];
  const params = typeBytes(type.params);
  const results = typeBytes(type.results);
  if (params === null) return [];
  const localTypes = [...params];
  let at = walker.locals(body.start, body.end, localTypes);
  if (localTypes.some((t) => t < 0)) return [];
  const functionLabel = results === null || results.length > 1 ? -1 : (results[0] ?? 0);
  const stack: OpenLabel[] = [];
  const open: Candidate[] = [];
  const out: Array<Omit<OutlinedLoop, "index" | "ordinal">> = [];
  let loops = 0;
  // Open labels outlining cannot return through (a loop inside one is not outlined), counted as
  // they open and close; and the labels the function's candidates may carry in all (LABEL_BUDGET):
  // each label around an outlined loop costs a block in its function and a test in its dispatch,
  // while the blocks are written once for every loop inside them. Without a bound, a 12 KB
  // _start of 2,000 loops inside 2,000 blocks took 3.4 s to plan on the machine's thread and 22 s
  // to load (every process stopped meanwhile), growing with the square of its size (redteam13).
  let blocked = 0;
  let labelBudget = LABEL_BUDGET * (body.end - body.start);
  while (at < body.end) {
    const start = at;
    const next = walker.step(at, body.end);
    if (next < 0) return [];
    const op = walker.op;
    if (op === 0x02 || op === 0x04 || op === 0x03) {
      const blockType = walker.blockTypeAt(walker.immediate, body.end);
      const loop = op === 0x03;
      const carried = labelValues(info, blockType, loop);
      let candidate: Candidate | null = null;
      if (loop) {
        const ownType = blockType < 0 ? info.types[-blockType - 1] : null;
        const fallthrough = blockType === 0x40 ? [] : blockType > 0 ? (singleByteType(blockType) ? [blockType] : null) : ownType && ownType.params.length === 0 ? typeBytes(ownType.results) : null;
        for (const c of open) c.inner = true;
        if (loops < maxDepth && fallthrough !== null && blocked === 0 && functionLabel >= 0 && stack.length + 1 <= labelBudget) {
          labelBudget -= stack.length + 1;
          const labels = [...stack.map((l) => l.carries).reverse(), functionLabel];
          candidate = { at: start, nested: loops > 0, labels, fallthrough, used: new Set(), written: new Set(), ok: true, inner: false };
          open.push(candidate);
        }
        loops++;
      }
      const carries = carried === null || carried.length > 1 ? -1 : (carried[0] ?? 0);
      if (carries < 0) blocked++;
      stack.push({ loop, carries, candidate });
    } else if (op === 0x0b && stack.length > 0) {
      const label = stack.pop()!;
      if (label.carries < 0) blocked--;
      if (label.loop) loops--;
      const c = label.candidate;
      if (c !== null) {
        open.pop();
        // A nested loop without loops inside stays in its parent's function unless `leaves`: it may
        // be entered once per iteration of its parent, and a call each time costs more than it gains.
        const loop = c.ok && (leaves || !c.nested || c.inner) ? finish(c, body.start, next, i + info.functionImports, localTypes) : null;
        if (loop !== null) out.push(loop);
      }
    } else if (op === 0x20 || op === 0x21 || op === 0x22) {
      for (const c of open) {
        c.used.add(walker.index);
        if (op !== 0x20) c.written.add(walker.index);
      }
    } else if (op === 0x12 || op === 0x13) {
      for (const c of open) c.ok = false;
    }
    at = next;
  }
  return out.sort((a, b) => a.at - b.at);
}

/** The values a branch to a label of this block type carries (a loop's: its parameters), or null if they cannot be named in one byte each. */
function labelValues(info: ModuleInfo, blockType: number, loop: boolean): number[] | null {
  if (blockType === 0x40) return [];
  if (blockType > 0) return singleByteType(blockType) ? (loop ? [] : [blockType]) : null;
  const type = info.types[-blockType - 1];
  if (!type) return null;
  return typeBytes(loop ? type.params : type.results);
}

function finish(c: Candidate, bodyStart: number, end: number, parent: number, localTypes: readonly number[]): Omit<OutlinedLoop, "index" | "ordinal"> | null {
  const locals = [...c.used].sort((a, b) => a - b);
  const written = [...c.written].sort((a, b) => a - b);
  const slots = slotTypes([c.fallthrough, ...c.labels.map((t) => (t === 0 ? [] : [t]))]);
  const results = [...written.map((l) => localTypes[l]!), ...slots, I32];
  if (locals.length > OUTLINE_MAX_LOCALS || results.length > OUTLINE_MAX_LOCALS + 64) return null;
  return { at: c.at - bodyStart, end: end - bodyStart, parent, locals, written, labels: c.labels, fallthrough: c.fallthrough, slots, params: locals.map((l) => localTypes[l]!), results };
}

/** The slots the exits share: for each type, as many as the exit carrying most values of it. */
function slotTypes(exits: readonly (readonly number[])[]): number[] {
  const most = new Map<number, number>();
  for (const exit of exits) {
    const count = new Map<number, number>();
    for (const t of exit) count.set(t, (count.get(t) ?? 0) + 1);
    for (const [t, n] of count) most.set(t, Math.max(most.get(t) ?? 0, n));
  }
  return [...most.keys()].sort((a, b) => b - a).flatMap((t) => Array<number>(most.get(t)!).fill(t));
}

/** Which slot (index into `slots`) each of an exit's values goes to. */
export function slotsOf(slots: readonly number[], values: readonly number[]): number[] {
  const taken = new Map<number, number>();
  return values.map((t) => {
    const k = taken.get(t) ?? 0;
    taken.set(t, k + 1);
    const slot = slots.indexOf(t) + k;
    if (slots.indexOf(t) < 0 || slots[slot] !== t) throw new Error(`loader bug: no slot for an exit's value of type 0x${t.toString(16)}`);
    return slot;
  });
}
