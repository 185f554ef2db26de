// LoopPaths (src/loader/loop-paths.ts) keeps its figures per open block and per open loop in typed
// arrays it grows itself (a JavaScript array that grew as it went changed its elements' kind and
// threw the optimized rewriter away): the longest path of a loop nested past their first size is
// what it is at the top.
import { describe, expect, it } from "vitest";
import { LoopPaths } from "../../src/loader/loop-paths.ts";

/**
 * Positions as the rewriter hands them over (rewrite-body.ts): `nesting` loops, then one loop whose
 * body is an if/else with arms of 10 and 100 bytes; the innermost loop's longest path.
 */
function innermostLongest(nesting: number): number {
  const paths = new LoopPaths();
  let at = 0;
  paths.reset(at);
  let depth = 0;
  const open = (isLoop: boolean, isIf = false) => {
    paths.step(at);
    at += 2;
    if (isLoop) paths.loop(depth, at);
    else paths.block(depth, isIf, at);
    depth++;
  };
  for (let i = 0; i < nesting; i++) open(true);
  open(true);
  open(false, true);
  paths.step(at);
  at += 10; // then
  paths.step(at);
  at += 1;
  paths.otherwise(depth - 1, at);
  paths.step(at);
  at += 100; // else
  paths.step(at);
  at += 1;
  paths.endBlock(--depth, at);
  paths.step(at);
  at += 1;
  depth--;
  return paths.endLoop(at);
}

describe("LoopPaths", () => {
  it("finds a loop's longest path nested 150 and 1,000 loops deep as at the top", () => {
    const top = innermostLongest(0);
    expect(top).toBeGreaterThanOrEqual(100);
    expect(top).toBeLessThan(110);
    expect(innermostLongest(150)).toBe(top);
    expect(innermostLongest(1_000)).toBe(top);
  });
});
