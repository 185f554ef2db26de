/**
 * A module record in Cache Storage carries a SHA-256 of its key and its bytes (WebCrypto's, native):
 * the record is run as the program in place of its binary, and V8 validates bodies lazily, so a
 * record damaged where it is stored (one bit turning `offset=4` into `offset=68` in an access that
 * shares its page check) would reach memory its check never covered. A record whose digest does
 * not match, or that was stored under another key, is a miss: the binary is rewritten again.
 * (The Node host's disk cache checks a CRC-32 the same way: src/hosts/node/disk-cache.ts.)
 */
const DIGEST_BYTES = 32;

/** `record` with its check after it, as it is stored under `key`. */
export async function withCheck(key: string, record: Uint8Array): Promise<Uint8Array> {
  const stored = new Uint8Array(record.length + DIGEST_BYTES);
  stored.set(record);
  stored.set(await checkOf(key, record), record.length);
  return stored;
}

/** The record stored under `key`, or null when its check does not match (damaged, or another key's). */
export async function checked(key: string, stored: Uint8Array): Promise<Uint8Array | null> {
  if (stored.length < DIGEST_BYTES) return null;
  const record = stored.subarray(0, stored.length - DIGEST_BYTES);
  const expected = stored.subarray(record.length);
  const actual = await checkOf(key, record);
  let differs = 0;
  for (let i = 0; i < DIGEST_BYTES; i++) differs |= actual[i]! ^ expected[i]!;
  return differs === 0 ? record : null;
}

// The digest of the record's digest and the key: the record itself is never copied to be joined.
async function checkOf(key: string, record: Uint8Array): Promise<Uint8Array> {
  const body = new Uint8Array(await crypto.subtle.digest("SHA-256", record as Uint8Array<ArrayBuffer>));
  const named = new Uint8Array([...body, ...new TextEncoder().encode(key)]);
  return new Uint8Array(await crypto.subtle.digest("SHA-256", named));
}
