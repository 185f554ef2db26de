import { createHash, randomBytes } from "node:crypto";
import { crc32 } from "node:zlib";
import { describe, expect, it } from "vitest";
import { MODULE_BASE64, SMALL_HASH_BYTES, crc32Small, moduleBytes, sha256Small } from "../../src/hosts/node/small-hashes.js";

/** Lengths around every padding boundary, and up to the most it takes. */
const LENGTHS = [...Array.from({ length: 200 }, (_, n) => n), 447, 448, 511, 512, 6393, 6457, SMALL_HASH_BYTES - 9, SMALL_HASH_BYTES - 8, SMALL_HASH_BYTES];

describe("small hashes (WebAssembly)", () => {
  it("runs the module its functions write (kept written in MODULE_BASE64: write it again after a change)", () => {
    expect(Buffer.from(moduleBytes()).toString("base64")).toBe(MODULE_BASE64);
  });

  it("SHA-256 as node:crypto's", () => {
    for (const length of LENGTHS) {
      const bytes = randomBytes(length);
      expect(sha256Small(bytes), `${length} bytes`).toBe(createHash("sha256").update(bytes).digest("hex"));
    }
    expect(sha256Small(new Uint8Array(0))).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  });

  it("refuses more than it takes", () => {
    expect(() => sha256Small(new Uint8Array(SMALL_HASH_BYTES + 1))).toThrow(RangeError);
  });

  it("CRC-32 as node:zlib's, of bytes and strings, going on from a value, past its memory's size", () => {
    for (const length of [...LENGTHS, 3 * SMALL_HASH_BYTES + 5]) {
      const bytes = randomBytes(length);
      expect(crc32Small(bytes), `${length} bytes`).toBe(crc32(bytes));
      expect(crc32Small(bytes, 0xdeadbeef)).toBe(crc32(bytes, 0xdeadbeef));
    }
    const key = "41f2e3ad274f6d780c63d4c4cfe8273965b7b321e5f5ecf9b40261c62a7b3028";
    const record = randomBytes(20_000);
    expect(crc32Small(record, crc32Small(key))).toBe(crc32(record, crc32(key)));
    expect(crc32Small("")).toBe(0);
  });
});
