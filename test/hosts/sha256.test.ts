import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { nodeSha256 } from "../../src/hosts/node/node-loader.ts";
import { sha256Hex } from "../../src/hosts/node/sha256.ts";

const reference = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
const bytesOf = (length: number, seed: number) => Uint8Array.from({ length }, (_, i) => (i * 131 + seed * 7 + (i >> 8)) & 0xff);

describe("the JavaScript SHA-256 (cache keys and small programs)", () => {
  it("gives node:crypto's digest at every length around the block and padding boundaries", () => {
    for (let length = 0; length <= 200; length++) expect(sha256Hex(bytesOf(length, length)), `length ${length}`).toBe(reference(bytesOf(length, length)));
    for (const length of [511, 512, 513, 1000, 6361, 65_535]) expect(sha256Hex(bytesOf(length, 3)), `length ${length}`).toBe(reference(bytesOf(length, 3)));
    expect(sha256Hex(new Uint8Array(0))).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  });

  it("is what nodeSha256 gives below its threshold, and node:crypto's above", async () => {
    for (const length of [0, 100, 65_535, 65_536, 3 << 20]) expect(await nodeSha256(bytesOf(length, 5)), `length ${length}`).toBe(reference(bytesOf(length, 5)));
  });
});
