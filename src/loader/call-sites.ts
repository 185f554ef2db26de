import { ExternalKind, type ModuleInfo } from "./wasm/module-info.ts";

/**
 * Which functions run at most once a process, found from the direct references to each function
 * (calls, return calls, `ref.func`) as the rewriter meets them: each chunk of bodies records its
 * own as it is rewritten (`CallSites`, in whatever thread rewrites it), and the machine's thread
 * adds up the chunks' summaries (`CallGraph`) once all are back. So finding them costs no pass of
 * its own over the code, and none on the machine's thread (loop outlining, outline-plan.ts: the
 * scan used to be a pass over every body on the machine's thread, 10-20 ms a MB, so that binaries
 * with 1 MiB of code or more could get no outlining; now that limit is a choice, OUTLINE_MAX_CODE).
 *
 * Only three things matter per function: none, one or several references; and for exactly one,
 * which function holds it and whether inside a loop there. A chunk's summary is a triple per
 * function it references (Int32Array: callee, caller, flags), a few thousand for 256 KiB of code.
 */

/** A summary's flags: the references counted (saturating at 2: several), and whether the last is in a loop. */
const REFS = 3;
const IN_LOOP = 4;

/**
 * The references one chunk's bodies make, recorded as they are rewritten: in tables indexed by
 * callee (typed arrays, grown as indices need; a Map cost clang's cold load about 0.4 s of CPU
 * for its millions of calls), and the callees touched, so that `take` reads and clears only those.
 * One per thread serves every chunk it rewrites (rewrite-code.ts).
 */
export class CallSites {
  /** By callee (original index): flags (0: not referenced in this chunk), and the caller of the last reference. */
  private flags = new Uint8Array(0);
  private callers = new Int32Array(0);
  private readonly touched: number[] = [];
  /** The body being rewritten (its function index), and the furthest place in it a reference was noted at. */
  private caller = -1;
  private noted = -1;

  /**
   * Function `caller`'s body starts. Its rewrite may start again from the top (rewrite-body.ts),
   * reading the same references again: each is noted once, the first time its place is passed.
   */
  begin(caller: number): void {
    this.caller = caller;
    this.noted = -1;
  }

  /** A direct reference at `at` in the body to function `callee` (original index): a call, or a `ref.func` (it may be called from anywhere: counts as two). */
  note(at: number, callee: number, inLoop: boolean, ref: boolean): void {
    if (at <= this.noted) return;
    this.noted = at;
    if (callee >= this.flags.length) this.grow(callee);
    const before = this.flags[callee]!;
    if (before === 0) this.touched.push(callee);
    this.flags[callee] = Math.min(2, (before & REFS) + (ref ? 2 : 1)) | (inLoop ? IN_LOOP : 0);
    this.callers[callee] = this.caller;
  }

  /** The summary: a triple (callee, caller, flags) per function referenced; the recorder is emptied. */
  take(): Int32Array {
    const touched = this.touched;
    const out = new Int32Array(touched.length * 3);
    for (let i = 0; i < touched.length; i++) {
      const callee = touched[i]!;
      out[3 * i] = callee;
      out[3 * i + 1] = this.callers[callee]!;
      out[3 * i + 2] = this.flags[callee]!;
      this.flags[callee] = 0;
    }
    touched.length = 0;
    return out;
  }

  private grow(index: number): void {
    const size = Math.max(1024, 2 ** Math.ceil(Math.log2(index + 1)));
    const flags = new Uint8Array(size);
    flags.set(this.flags);
    const callers = new Int32Array(size);
    callers.set(this.callers);
    this.flags = flags;
    this.callers = callers;
  }
}

/** The chunks' summaries added up, for a module's defined functions. */
export class CallGraph {
  private readonly imports: number;
  /** By defined function (position among the defined): references (0, 1, 2+), the caller (original index) of the last, whether in a loop. */
  private readonly refs: Uint8Array;
  private readonly caller: Int32Array;
  private readonly inLoop: Uint8Array;

  constructor(functionImports: number, definedFunctions: number) {
    this.imports = functionImports;
    this.refs = new Uint8Array(definedFunctions);
    this.caller = new Int32Array(definedFunctions).fill(-1);
    this.inLoop = new Uint8Array(definedFunctions);
  }

  /** Adds one chunk's summary (CallSites.take). References to imports, or past the defined functions, are not counted. */
  add(summary: Int32Array): void {
    const defined = this.refs.length;
    for (let i = 0; i + 2 < summary.length; i += 3) {
      const f = summary[i]! - this.imports;
      if (f < 0 || f >= defined) continue;
      const flags = summary[i + 2]!;
      this.refs[f] = Math.min(2, this.refs[f]! + (flags & REFS));
      this.caller[f] = summary[i + 1]!;
      this.inLoop[f] = flags & IN_LOOP ? 1 : 0;
    }
  }

  /**
   * Defined functions (by position among the defined) that run at most once a process: the start
   * function and the `_start` export when nothing else refers to them, and a function whose only
   * reference is one direct call outside any loop of such a function (not itself). Any other
   * export may be called any number of times.
   */
  onceRun(info: ModuleInfo): number[] {
    const defined = this.refs.length;
    const imports = this.imports;
    const refs = Uint8Array.from(this.refs);
    const roots = new Uint8Array(defined);
    if (info.start !== null && info.start >= imports) roots[info.start - imports] = 1;
    for (const e of info.exports) {
      if (e.kind !== ExternalKind.function || e.index < imports) continue;
      if (e.name === "_start") roots[e.index - imports] = 1;
      else refs[e.index - imports] = 2;
    }
    const caller = this.caller;
    const inLoop = this.inLoop;
    const state = new Int8Array(defined); // 0 unknown, 1 being decided, 2 yes, 3 no
    // Iterative: a chain of calls may be as long as the program has functions.
    const decide = (start: number): boolean => {
      const chain: number[] = [];
      let f = start;
      let answer: boolean;
      for (;;) {
        if (state[f] === 2 || state[f] === 3) {
          answer = state[f] === 2;
          break;
        }
        if (state[f] === 1) {
          answer = false; // a cycle of calls: recursion
          break;
        }
        state[f] = 1;
        chain.push(f);
        if (roots[f] === 1) {
          answer = refs[f] === 0;
          chain.pop();
          state[f] = answer ? 2 : 3;
          break;
        }
        const up = caller[f]! - imports;
        if (refs[f] !== 1 || up < 0 || up >= defined || inLoop[f] === 1 || up === f) {
          answer = false;
          chain.pop();
          state[f] = 3;
          break;
        }
        f = up;
      }
      // Each function on the chain is called once, outside loops, by the next: it runs once iff that one does.
      for (const g of chain) state[g] = answer ? 2 : 3;
      return state[start] === 2;
    };
    const result: number[] = [];
    for (let f = 0; f < defined; f++) if (decide(f)) result.push(f);
    return result;
  }
}
