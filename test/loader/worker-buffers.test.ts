// A loader worker's rewriter reads and writes plain buffers (code-output.ts rewriterBuffer) whatever
// buffers a chunk crosses in: over the pool's page-mapped (resizable) ones, V8's optimized code
// reached each byte about four times slower and was optimized again for them after the worker's
// warm-up. The code still crosses back in a page-mapped buffer, the same bytes.
import { describe, expect, it, vi } from "vitest";
import { pageCopy } from "../../src/loader/code-output.ts";
import { codeLayout } from "../../src/loader/output-layout.ts";
import { chunkBodies, rewriteChunk } from "../../src/loader/rewrite-code.ts";
import { codeSectionBytes } from "../../src/loader/validate.ts";
import { readModule } from "../../src/loader/wasm/module-info.ts";
import { rewriteRequest } from "../../src/hosts/node/loader-worker.ts";
import { generatedModule } from "../../bench/generated-module.ts";

/** For each rewriteChunk call: whether its input's and its writer's buffers were resizable. */
const seen = vi.hoisted(() => [] as Array<{ input: boolean; writer: boolean }>);
vi.mock("../../src/loader/rewrite-code.ts", async (importOriginal) => {
  const original = await importOriginal<typeof import("../../src/loader/rewrite-code.ts")>();
  return {
    ...original,
    rewriteChunk: (...args: Parameters<typeof original.rewriteChunk>) => {
      seen.push({ input: (args[0].buffer as ArrayBuffer).resizable, writer: (args[3]?.buffer.buffer as ArrayBuffer | undefined)?.resizable ?? false });
      return original.rewriteChunk(...args);
    },
  };
});

describe("a loader worker's rewrite of a chunk", () => {
  it("reads and writes plain buffers when the chunk and the spare for its code are page-mapped, and sends the same code back page-mapped", () => {
    const bytes = generatedModule(300);
    const info = readModule(bytes);
    const layout = codeLayout(info.functionImports, info.functions.length, info.globals.length, {}, undefined, codeSectionBytes(bytes));
    const chunk = chunkBodies(info, 256 << 10)[0]!;
    const base = chunk[0]!.start;
    const end = chunk.at(-1)!.end;
    const expected = rewriteChunk(bytes, layout, chunk);
    if (!expected.ok) throw new Error("the chunk was refused");
    const rebased = chunk.map((body) => ({ ...body, start: body.start - base, end: body.end - base }));
    for (let round = 0; round < 2; round++) {
      // As the pool sends them (loader-workers.ts): the chunk's bodies and a spare for its code, both page-mapped.
      const input = pageCopy(bytes.subarray(base, end));
      const spare = pageCopy(new Uint8Array(8 << 20)).buffer;
      seen.length = 0;
      const { reply, transfer } = rewriteRequest({ id: 1, kind: "rewrite", bytes: input, base, layout, chunk: rebased, spare });
      expect(seen.length).toBeGreaterThanOrEqual(1); // and the warm-up's, the first time
      expect(seen.filter((s) => s.input || s.writer)).toEqual([]);
      if (reply.kind !== "rewritten" || !reply.outcome.ok) throw new Error("no code came back");
      const code = reply.outcome.code;
      expect(Buffer.from(code).equals(Buffer.from(expected.code))).toBe(true);
      expect((code.buffer as ArrayBuffer).resizable).toBe(true);
      expect(transfer).toContain(code.buffer);
      expect(transfer).toContain(input.buffer);
    }
  });
});
