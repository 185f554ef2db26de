import { CallGraph } from "./call-sites.ts";
import { CodeOutput, releaseBytes, type Replacement } from "./code-output.ts";
import type { BodyChunk, ChunkOutcome } from "./rewrite-code.ts";

type Refused = Extract<ChunkOutcome, { ok: false }>;
type Rewritten = Extract<ChunkOutcome, { ok: true }>;

/**
 * What the chunks of one module's rewrite gave, taken as they come (in any order, from workers)
 * and placed in the output in the chunks' order: the code appended to the module's buffer and
 * freed at once (a chunk waits only for those before it), the branch hints, the helpers used, the
 * call sites (which functions run once: call-sites.ts). Then loop outlining's functions, rewritten
 * again with their loops moved out (`takeAgain`), take their first rewrite's place when the module
 * is framed (`outlining`), and their loops' bodies follow the helpers.
 */
export class RewrittenChunks {
  readonly bodies: CodeOutput;
  /** One piece per chunk, in order (an outlined function's entry is replaced in its chunk's piece), then the outlined loops'. */
  readonly hintPieces: Uint8Array[] = [];
  hintedFunctions = 0;
  readonly accessHelpers = new Set<number>();
  readonly bulkHelpers: [boolean, boolean] = [false, false];
  writesTables = false;
  /** The direct references of every body placed, added up. */
  readonly calls: CallGraph;
  /** Where each chunk placed starts in the code written. */
  private readonly starts: number[] = [];
  /** The first chunk not yet placed. */
  private next = 0;
  private readonly waiting = new Map<number, Rewritten>();
  private refused: { readonly index: number; readonly outcome: Refused } | null = null;
  /** Functions rewritten again with their loops outlined, by function index. */
  private readonly again = new Map<number, Rewritten>();

  /** What becomes of a chunk's code once placed in the output (CodeWorkers.recycle), freed by default. */
  private readonly spent: (code: Uint8Array) => void;
  /** Chunks' code is a view valid only while `take` runs (CodeWorkers.transientCode): copied if held. */
  private readonly transient: boolean;

  /**
   * `codeBytes`: the size of the original's code section; the module's function imports and
   * defined functions; `spent`: see above, null when the chunks' code is transient (neither
   * freed nor recycled: its runner writes the next chunk over it).
   */
  constructor(codeBytes: number, functionImports: number, definedFunctions: number, spent: ((code: Uint8Array) => void) | null = releaseBytes) {
    this.spent = spent ?? (() => {});
    this.transient = spent === null;
    this.bodies = new CodeOutput(codeBytes);
    this.calls = new CallGraph(functionImports, definedFunctions);
  }

  /** Chunk `index`'s outcome. */
  take(index: number, outcome: ChunkOutcome): void {
    if (!outcome.ok) {
      if (this.refused === null || index < this.refused.index) this.refused = { index, outcome };
      return;
    }
    if (this.refused !== null) return this.spent(outcome.code); // the load fails: keep nothing
    this.waiting.set(index, this.transient && index !== this.next ? { ...outcome, code: outcome.code.slice() } : outcome);
    for (let ready = this.waiting.get(this.next); ready; ready = this.waiting.get(this.next)) {
      this.waiting.delete(this.next++);
      this.place(ready);
    }
  }

  /**
   * The outcome of rewriting function `functionIndex` again, alone, with its loops outlined;
   * `transient`: its code is a view valid only during this call (CodeWorkers.transientCode).
   */
  takeAgain(functionIndex: number, outcome: ChunkOutcome, transient = false): void {
    if (this.refused !== null) return;
    if (!outcome.ok) {
      this.refused ??= { index: Number.MAX_SAFE_INTEGER, outcome };
      return;
    }
    this.again.set(functionIndex, transient ? { ...outcome, code: outcome.code.slice() } : outcome);
    this.takeFacts(outcome);
  }

  /** The refusal of the first chunk refused, if any. */
  get refusal(): Refused | null {
    return this.refused?.outcome ?? null;
  }

  /** Chunks placed in the output, in order from the first. */
  get placed(): number {
    return this.next;
  }

  /**
   * Once every chunk is placed and every function to outline rewritten again (`chunks`: the first
   * rewrite's): where each such function's new code goes in the code written, its hints put in
   * its chunk's piece in place of the first rewrite's, the outlined loops' hints after every
   * function's; and the outlined loops' bodies, in order, which follow the helpers.
   */
  outlining(chunks: readonly BodyChunk[], addedImports: number): { readonly replaced: Replacement[]; readonly loops: Uint8Array[] } {
    const replaced: Replacement[] = [];
    const loops: Uint8Array[] = [];
    const loopHints: Uint8Array[] = [];
    const functions = [...this.again.keys()].sort((a, b) => a - b);
    // A cursor forward through the chunks and their bodies (each body written starts with its size).
    let k = -1;
    let at = 0;
    let fn = 0;
    for (const f of functions) {
      let chunk = k;
      while (chunk + 1 < chunks.length && chunks[chunk + 1]![0]!.index <= f) chunk++;
      if (chunk < 0) throw new Error(`loader bug: function ${f}, rewritten again, is in no chunk`);
      if (chunk !== k) {
        k = chunk;
        at = this.starts[k]!;
        fn = chunks[k]![0]!.index;
      }
      for (; fn < f; fn++) at = this.bodies.bodyEnd(at);
      const outcome = this.again.get(f)!;
      replaced.push({ at, length: this.bodies.bodyEnd(at) - at, bytes: outcome.code });
      const hints = spliceHints(this.hintPieces[k]!, f + addedImports, outcome.hints);
      this.hintPieces[k] = hints.piece;
      this.hintedFunctions += hints.added;
      loops.push(outcome.outlined);
      loopHints.push(outcome.outlinedHints);
      this.hintedFunctions += outcome.outlinedHinted;
    }
    this.hintPieces.push(...loopHints);
    this.again.clear();
    return { replaced, loops };
  }

  private place(outcome: Rewritten): void {
    this.starts.push(this.bodies.length);
    this.bodies.append(outcome.code);
    this.spent(outcome.code);
    this.hintPieces.push(outcome.hints);
    this.hintedFunctions += outcome.hintedFunctions;
    this.calls.add(outcome.calls);
    this.takeFacts(outcome);
  }

  private takeFacts(outcome: Rewritten): void {
    this.writesTables ||= outcome.writesTables;
    for (const helper of outcome.accessHelpers) this.accessHelpers.add(helper);
    this.bulkHelpers[0] ||= outcome.bulkHelpers[0];
    this.bulkHelpers[1] ||= outcome.bulkHelpers[1];
  }
}

/**
 * A chunk's branch-hint entries (each: function index, count, then count × offset, 1, hint; in
 * order of function) with function `output`'s replaced by `entry` (empty: none), and how many
 * entries that adds (-1, 0 or 1).
 */
function spliceHints(piece: Uint8Array, output: number, entry: Uint8Array): { piece: Uint8Array; added: number } {
  let at = 0;
  const u32 = (): number => {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = piece[at++];
      if (byte === undefined) throw new Error("loader bug: a chunk's branch hints end early");
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
  };
  // Find where f's entry is, or where it would go.
  let from = piece.length;
  let to = piece.length;
  while (at < piece.length) {
    const start = at;
    const index = u32();
    for (let n = u32(); n > 0; n--) {
      u32();
      at += 2;
    }
    if (index >= output) {
      from = start;
      to = index === output ? at : start;
      break;
    }
  }
  const added = (entry.length > 0 ? 1 : 0) - (to > from ? 1 : 0);
  if (entry.length === 0 && to === from) return { piece, added };
  const out = new Uint8Array(piece.length - (to - from) + entry.length);
  out.set(piece.subarray(0, from));
  out.set(entry, from);
  out.set(piece.subarray(to), from + entry.length);
  return { piece: out, added };
}
