// The check a module record carries in the browser's Cache Storage (src/hosts/web/worker/record-check.ts),
// run here with Node's WebCrypto: a record damaged where it was stored, or stored under another
// key, is a miss, so a flipped bit never runs as rewritten code.
import { describe, expect, it } from "vitest";
import { checked, withCheck } from "../../src/hosts/web/worker/record-check.ts";

describe("a module record's check in Cache Storage", () => {
  const record = new Uint8Array(5000).map((_, i) => (i * 7) & 0xff);

  it("gives back the record stored under its key", async () => {
    expect(await checked("k1", await withCheck("k1", record))).toEqual(record);
  });

  it("refuses any flipped bit, a record cut short, and a record under another key", async () => {
    const stored = await withCheck("k1", record);
    for (const at of [0, 4, 2500, 4999, 5000, stored.length - 1]) {
      const damaged = stored.slice();
      damaged[at]! ^= 0x40;
      expect(await checked("k1", damaged)).toBe(null);
    }
    expect(await checked("k1", stored.subarray(0, stored.length - 1))).toBe(null);
    expect(await checked("k1", stored.subarray(0, 10))).toBe(null);
    expect(await checked("k2", stored)).toBe(null);
  });
});
