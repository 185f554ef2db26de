// The Node host's SHA-256 hashes small binaries on the machine's thread and big ones on libuv's
// thread pool (node-loader.ts): both ways must give the same digest.
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { nodeSha256 } from "../../src/hosts/node/node-loader.ts";

describe("nodeSha256", () => {
  it("gives node:crypto's digest on either side of the size where it moves off the thread", async () => {
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
