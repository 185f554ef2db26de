import { CodeOutput, releaseBytes } from "./code-output.ts";
import type { ChunkOutcome } from "./rewrite-code.ts";

type Refused = Extract<ChunkOutcome, { ok: false }>;

/**
 * What the chunks of one module's rewrite gave, taken as they come (in any order, from workers)
 * and placed in the output in the chunks' order: the code appended to the module's buffer and
 * freed at once (a chunk waits only for those before it), the branch hints, the helpers used.
 */
export class RewrittenChunks {
  readonly bodies: CodeOutput;
  readonly hintPieces: Uint8Array[] = [];
  hintedFunctions = 0;
  readonly accessHelpers = new Set<number>();
  readonly bulkHelpers: [boolean, boolean] = [false, false];
  writesTables = false;
  /** Outlined loops' bodies and hint entries, kept until every program function is placed (they follow them). */
  private readonly outlined: Uint8Array[] = [];
  private readonly outlinedHints: Uint8Array[] = [];
  private outlinedHinted = 0;
  /** The first chunk not yet placed. */
  private next = 0;
  private readonly waiting = new Map<number, Extract<ChunkOutcome, { ok: true }>>();
  private refused: { readonly index: number; readonly outcome: Refused } | null = null;

  /** `codeBytes`: the size of the original's code section. */
  constructor(codeBytes: number) {
    this.bodies = new CodeOutput(codeBytes);
  }

  /** Chunk `index`'s outcome. */
  take(index: number, outcome: ChunkOutcome): void {
    if (!outcome.ok) {
      if (this.refused === null || index < this.refused.index) this.refused = { index, outcome };
      return;
    }
    if (this.refused !== null) return releaseBytes(outcome.code); // the load fails: keep nothing
    this.waiting.set(index, outcome);
    for (let ready = this.waiting.get(this.next); ready; ready = this.waiting.get(this.next)) {
      this.waiting.delete(this.next++);
      this.place(ready);
    }
  }

  /** The refusal of the first chunk refused, if any. */
  get refusal(): Refused | null {
    return this.refused?.outcome ?? null;
  }

  /** Chunks placed in the output, in order from the first. */
  get placed(): number {
    return this.next;
  }

  /** Once every chunk is placed: the outlined loops' bodies after the program's, their hints after the program's. */
  appendOutlined(): void {
    for (const piece of this.outlined) this.bodies.append(piece);
    this.outlined.length = 0;
    this.hintPieces.push(...this.outlinedHints);
    this.hintedFunctions += this.outlinedHinted;
  }

  private place(outcome: Extract<ChunkOutcome, { ok: true }>): void {
    if (outcome.outlined.length > 0) this.outlined.push(outcome.outlined);
    if (outcome.outlinedHinted > 0) this.outlinedHints.push(outcome.outlinedHints);
    this.outlinedHinted += outcome.outlinedHinted;
    this.bodies.append(outcome.code);
    releaseBytes(outcome.code);
    this.hintPieces.push(outcome.hints);
    this.hintedFunctions += outcome.hintedFunctions;
    this.writesTables ||= outcome.writesTables;
    for (const helper of outcome.accessHelpers) this.accessHelpers.add(helper);
    this.bulkHelpers[0] ||= outcome.bulkHelpers[0];
    this.bulkHelpers[1] ||= outcome.bulkHelpers[1];
  }
}
