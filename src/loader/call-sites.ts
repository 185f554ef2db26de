import { ExternalKind, type ModuleInfo } from "./wasm/module-info.ts";

/**
 * Which functions run at most once a process, found from the direct references to each function
 * (calls, return calls, `ref.func`) as the rewriter meets them: each chunk of bodies records its
 * own as it is rewritten (`CallSites`, in whatever thread rewrites it), and the machine's thread
 * adds up the chunks' summaries (`CallGraph`) once all are back. So finding them costs no pass of
 * its own over the code, and none on the machine's thread (loop outlining, outline-plan.ts: the
 * scan used to be a pass over every body on the machine's thread, 10-20 ms a MB, so that binaries
 * with 1 MiB of code or more got no outlining).
 *
 * Only three things matter per function: none, one or several references; and for exactly one,
 * which function holds it and whether inside a loop there. A chunk's summary is a triple per
 * function it references (Int32Array: callee, caller, flags), a few thousand for 256 KiB of code.
 */

/** A summary's flags: the references counted (saturating at 2: several), and whether the last is in a loop. */
const REFS = 3;
const IN_LOOP = 4;

/** The references one chunk's bodies make, recorded as they are rewritten. */
export class CallSites {
  /** Callee (original index) → [caller, flags]. */
  private readonly callees = new Map<number, number>();
  private readonly callers = new Map<number, number>();
  /** The body being rewritten's references (callee, weight | in loop), counted once it is done. */
  private readonly pending: number[] = [];

  /** A body's rewrite starts (again: a rewrite may restart): what it noted before is dropped. */
  begin(): void {
    this.pending.length = 0;
  }

  /** A direct reference to function `callee` (original index): a call (weight 1) or a `ref.func` (2: it may be called from anywhere). */
  note(callee: number, inLoop: boolean, ref: boolean): void {
    this.pending.push(callee, (ref ? 2 : 1) | (inLoop ? IN_LOOP : 0));
  }

  /** Function `caller`'s body is done: its references count. */
  commit(caller: number): void {
    const pending = this.pending;
    for (let i = 0; i < pending.length; i += 2) {
      const callee = pending[i]!;
      const flags = pending[i + 1]!;
      const refs = Math.min(2, ((this.callees.get(callee) ?? 0) & REFS) + (flags & REFS));
      this.callees.set(callee, refs | (flags & IN_LOOP));
      this.callers.set(callee, caller);
    }
    pending.length = 0;
  }

  /** The summary: a triple (callee, caller, flags) per function referenced; the recorder is emptied. */
  take(): Int32Array {
    const out = new Int32Array(this.callees.size * 3);
    let i = 0;
    for (const [callee, flags] of this.callees) {
      out[i++] = callee;
      out[i++] = this.callers.get(callee)!;
      out[i++] = flags;
    }
    this.callees.clear();
    this.callers.clear();
    return out;
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
