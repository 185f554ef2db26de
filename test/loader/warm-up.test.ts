// The bodies a loader worker rewrites before its first chunk (src/loader/warm-up.ts) go through
// the rewriter whole, every path they are there for taken: a body the rewriter refused would end
// the warm-up there, and V8 would meet the paths after it in the real chunks only.
import { describe, expect, it } from "vitest";
import { codeLayout } from "../../src/loader/output-layout.ts";
import { rewriteChunk } from "../../src/loader/rewrite-code.ts";
import { warmUpBodies } from "../../src/loader/warm-up.ts";

describe("the loader workers' warm-up", () => {
  it("is rewritten without a refusal, its accesses translated, helpers and bulk memory used", () => {
    const warm = warmUpBodies();
    const layout = codeLayout(1, warm.chunk.length + 1, 1, {}, 256, 32 << 20);
    const outcome = rewriteChunk(warm.bytes, layout, warm.chunk);
    if (!outcome.ok) throw new Error(`refused: ${outcome.message}`);
    expect(warm.chunk.length).toBeGreaterThanOrEqual(7);
    // Its accesses grow to translations (calls in the big body): the output is half as big again at least.
    expect(outcome.code.length).toBeGreaterThan(1.5 * warm.bytes.length);
    // The big body calls the access helpers; memory.copy and memory.fill have theirs.
    expect(outcome.accessHelpers.length).toBeGreaterThan(0);
    expect(outcome.bulkHelpers).toEqual([true, true]);
  });
});
