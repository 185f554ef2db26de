import { expect } from "vitest";

/**
 * Expects two byte arrays to be equal, at the speed of a memcmp: `toEqual` walks a typed array
 * element by element through its generic equality (46 s for a few 2 MiB arrays on a loaded
 * machine, past the test's timeout). On a difference it says where the first one is.
 */
export function expectSameBytes(actual: Uint8Array, expected: Uint8Array, what = "bytes"): void {
  const a = Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength);
  const b = Buffer.from(expected.buffer, expected.byteOffset, expected.byteLength);
  if (a.equals(b)) return;
  let at = 0;
  while (at < Math.min(a.length, b.length) && a[at] === b[at]) at++;
  const around = (bytes: Buffer) => [...bytes.subarray(at, at + 8)].join(", ");
  expect.fail(`${what}: ${a.length} bytes where ${b.length} were expected; the first difference at byte ${at}: [${around(a)}] where [${around(b)}]`);
}
