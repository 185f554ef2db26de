/**
 * The longest path one iteration of a loop can run, in bytes of the original code, found in the
 * rewriter's single pass: what the loop's safe point charges fuel for (docs/LOADER.md "Safe
 * points"). A loop's body size overstates it for a loop that branches: an interpreter's dispatch
 * loop runs one case of its switch an iteration, and charged for every case it looked at the
 * clock fifty times too often (8% of its time).
 *
 * Structured control flow makes this a forward pass. `distance` is the longest path from the
 * innermost open loop's start to the current instruction, -1 where nothing reaches (after a br,
 * a return, unreachable). A block's end takes the longest of the paths that branch to it and the
 * one that falls through; an `else` starts again from its `if`. A loop nested in another costs its
 * enclosing loop nothing (its own safe point charges each of its iterations) and hands back the
 * distance it started at; a branch from inside it to a label of an enclosing loop's body counts
 * that distance for the label. A branch to a loop's start ends an iteration. Every point a path
 * reaches counts toward its loop's longest path, so that a path that leaves by any way is charged.
 */
export class LoopPaths {
  private distance = 0;
  private last = 0;
  /** Open loops (frames), innermost last: the longest path seen in each, and the distance its enclosing frame was at when it started. */
  private frame = 0;
  // Typed arrays, grown by `room`: a JavaScript array's elements change kind (small integers, holes,
  // floating point) as values come, and each change threw away the optimized rewriter that
  // inlines these methods (rewrite-body.ts), in every fresh loader worker.
  private frameLongest = new Int32Array(64);
  private frameStartedAt = new Int32Array(64);
  /** Open blocks by depth: their frame, the longest branch to their end, and for an if the distance at its start (-2 once its else is seen). */
  private blockFrame = new Int32Array(64);
  private blockIsLoop = new Uint8Array(64);
  private labelLongest = new Int32Array(64);
  private ifEntry = new Int32Array(64);

  /** Starts a body whose first instruction is at `start`. */
  reset(start: number): void {
    this.distance = 0;
    this.last = start;
    this.frame = 0;
    this.frameLongest[0] = 0;
  }

  /** Called at the start of each instruction: the one before it is on the path. */
  step(opStart: number): void {
    if (this.distance >= 0) this.distance += opStart - this.last;
    this.last = opStart;
  }

  /** The path as far as the end of the current instruction, whose immediates end at `after`. */
  private through(after: number): number {
    return this.distance < 0 ? -1 : this.distance + (after - this.last);
  }

  private reach(value: number): void {
    if (value > this.frameLongest[this.frame]!) this.frameLongest[this.frame] = value;
  }

  /** Makes room for the block at `depth` (and its frame, at most one past it). */
  private room(depth: number): void {
    if (depth + 1 < this.blockFrame.length) return;
    const size = Math.max(2 * this.blockFrame.length, depth + 2);
    const grown = <T extends Int32Array | Uint8Array>(old: T, make: (n: number) => T): T => {
      const next = make(size);
      next.set(old);
      return next;
    };
    this.frameLongest = grown(this.frameLongest, (n) => new Int32Array(n));
    this.frameStartedAt = grown(this.frameStartedAt, (n) => new Int32Array(n));
    this.blockFrame = grown(this.blockFrame, (n) => new Int32Array(n));
    this.blockIsLoop = grown(this.blockIsLoop, (n) => new Uint8Array(n));
    this.labelLongest = grown(this.labelLongest, (n) => new Int32Array(n));
    this.ifEntry = grown(this.ifEntry, (n) => new Int32Array(n));
  }

  /** `block` or `if` at `depth`, its block type ending at `after`. */
  block(depth: number, isIf: boolean, after: number): void {
    if (depth + 1 >= this.blockFrame.length) this.room(depth);
    this.blockFrame[depth] = this.frame;
    this.blockIsLoop[depth] = 0;
    this.labelLongest[depth] = -1;
    this.ifEntry[depth] = isIf ? this.through(after) : -2;
  }

  /** `loop` at `depth`: a new frame. */
  loop(depth: number, after: number): void {
    const here = this.through(after);
    this.reach(here);
    if (depth + 1 >= this.blockFrame.length) this.room(depth);
    this.blockFrame[depth] = ++this.frame;
    this.blockIsLoop[depth] = 1;
    this.frameLongest[this.frame] = 0;
    this.frameStartedAt[this.frame] = here;
    this.distance = 0;
    this.last = after;
  }

  /** `else` of the `if` at `depth`. */
  otherwise(depth: number, after: number): void {
    this.labelLongest[depth] = Math.max(this.labelLongest[depth]!, this.through(after));
    this.distance = this.ifEntry[depth]!;
    this.ifEntry[depth] = -2;
    this.last = after;
  }

  /** `end` of the block or if at `depth`. */
  endBlock(depth: number, after: number): void {
    let longest = Math.max(this.labelLongest[depth]!, this.ifEntry[depth]!);
    const here = this.through(after);
    if (here > longest) longest = here;
    this.distance = longest < 0 ? -1 : longest;
    this.last = after;
  }

  /** `end` of the loop at `depth`: the longest path of one of its iterations. */
  endLoop(after: number): number {
    this.reach(this.through(after));
    const longest = this.frameLongest[this.frame]!;
    this.distance = this.frameStartedAt[this.frame--]!;
    this.last = after;
    return longest;
  }

  /** A branch (br, br_if, one target of br_table) to relative depth `label` from `depth` open blocks. */
  branch(depth: number, label: number, after: number): void {
    const here = this.through(after);
    this.reach(here);
    const target = depth - 1 - label;
    if (target < 0 || this.blockIsLoop[target] === 1) return; // the function's end, or a loop's start: the path ends
    const frame = this.blockFrame[target]!;
    const value = frame === this.frame ? here : this.frameStartedAt[frame + 1]!;
    if (value > this.labelLongest[target]!) this.labelLongest[target] = value;
  }

  /** The function's last `end` at `after`: the longest path from its entry to any point outside its loops. */
  finish(after: number): number {
    this.reach(this.through(after));
    return this.frameLongest[0]!;
  }

  /** After br, br_table, return, unreachable or a tail call: nothing falls through. */
  unreachable(after: number): void {
    this.reach(this.through(after));
    this.distance = -1;
    this.last = after;
  }
}
