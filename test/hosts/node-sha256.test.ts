// The Node host's SHA-256 hashes in slices of 1 MiB with a turn of the event loop between them
// (node-loader.ts): on either side of a slice's edge it must give node:crypto's digest.
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { nodeSha256 } from "../../src/hosts/node/node-loader.ts";

describe("nodeSha256", () => {
  it("gives node:crypto's digest on either side of a slice's edge", async () => {
    for (const size of [0, 5, (1 << 20) - 1, 1 << 20, (1 << 20) + 1, 3 << 20]) {
      const bytes = new Uint8Array(size).map((_, i) => (i * 2654435761) >>> 24);
      // A view into a larger buffer: only its own bytes count.
      const framed = new Uint8Array(size + 16);
      framed.set(bytes, 8);
      const view = framed.subarray(8, 8 + size);
      const expected = createHash("sha256").update(bytes).digest("hex");
      expect(await nodeSha256(bytes)).toBe(expected);
      expect(await nodeSha256(view)).toBe(expected);
    }
  });
});
