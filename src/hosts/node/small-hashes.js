/**
 * SHA-256 and CRC-32 of small inputs in a WebAssembly module made here (plain JavaScript: bin/dogma.js
 * checks the bundle's code cache with it before any TypeScript is loaded, cli-bundle.js), so that a warm `dogma
 * run` loads neither node:crypto (for the module cache's key, 6.4 KB) nor node:zlib (for the
 * CRC-32 of a small record): each is dozens of Node's modules, compiled from their sources at
 * that point, since V8's flags changed before (engine-flags.ts) and a flag change makes Node's
 * code caches of its own modules stale. Callgrind, the main thread of a Node that has loaded
 * what `dogma run` loads and set its flags: node:crypto and a hash 45 million instructions,
 * node:zlib and a CRC-32 of 20 KB 19 million; this module's compile and its work well under
 * one (the SHA-256 in JavaScript was about 15 million: the interpreter). Big inputs go to
 * node:crypto's and node:zlib's native code, many times faster per byte (node-loader.ts
 * nodeSha256, disk-cache.ts). FIPS 180-4 and ISO-HDLC CRC-32 (zlib's), checked against
 * node:crypto and node:zlib by test/hosts/small-hashes.test.ts.
 */

/** The most bytes `sha256Small` and one step of `crc32Small` take. */
export const SMALL_HASH_BYTES = 64 << 10;

// The module's memory (two pages): SHA-256's state, its round constants and message schedule,
// the CRC-32 table, then the input (with SHA-256's padding).
const STATE = 0;
const ROUND_CONSTANTS = 32;
const SCHEDULE = 288;
const CRC_TABLE = 1024;
const INPUT = 4096;

const K = [
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
  0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
  0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];
const H0 = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

// The opcodes used, and helpers that write an instruction's bytes.
const LOOP = 0x03;
const BLOCK = 0x02;
const VOID = 0x40;
const END = 0x0b;
const BR_IF = 0x0d;
const ADD = 0x6a;
const SUB = 0x6b;
const AND = 0x71;
const OR = 0x72;
const XOR = 0x73;
const SHL = 0x74;
const SHR_U = 0x76;
const ROTR = 0x78;
const LT_U = 0x49;
const EQZ = 0x45;
const get = (local) => [0x20, local];
const set = (local) => [0x21, local];
const tee = (local) => [0x22, local];
const load = (offset) => [0x28, 2, ...unsigned(offset)];
const load8 = (offset) => [0x2d, 0, ...unsigned(offset)];
const store = (offset) => [0x36, 2, ...unsigned(offset)];
const i32 = (value) => [0x41, ...signed(value)];

/** @param {number} value @returns {number[]} */
function unsigned(value) {
  const out = [];
  do {
    const byte = value & 0x7f;
    value >>>= 7;
    out.push(value === 0 ? byte : byte | 0x80);
  } while (value !== 0);
  return out;
}

/** @param {number} value @returns {number[]} */
function signed(value) {
  const out = [];
  for (;;) {
    const byte = value & 0x7f;
    value >>= 7;
    if ((value === 0 && (byte & 0x40) === 0) || (value === -1 && (byte & 0x40) !== 0)) return [...out, byte];
    out.push(byte | 0x80);
  }
}

/** `(x rotr a) ^ (x rotr b) ^ (x rotr c)`, or `... ^ (x >>> c)` when `shift`: SHA-256's sigmas. */
const sigma = (x, a, b, c, shift = false) => [...get(x), ...i32(a), ROTR, ...get(x), ...i32(b), ROTR, XOR, ...get(x), ...i32(c), shift ? SHR_U : ROTR, XOR];

/** `sha(ptr, blocks)`: SHA-256's compression of `blocks` 64-byte blocks at `ptr` into the state. */
function shaBody() {
  const [p, n, a, b, c, d, e, f, g, h, t1, t2, i, x] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13];
  const letters = [a, b, c, d, e, f, g, h];
  const increment = (limit) => [...get(i), ...i32(1), ADD, ...tee(i), ...i32(limit), LT_U, BR_IF, 0];
  return [
    LOOP, VOID,
    // W[0..15]: the block's words, big-endian.
    ...i32(0), ...set(i),
    LOOP, VOID,
    ...get(i), ...i32(2), SHL, ...set(x),
    ...get(x),
    ...get(p), ...get(x), ADD, ...load(0), ...tee(t1), ...i32(24), SHL,
    ...get(t1), ...i32(8), SHL, ...i32(0xff0000), AND, OR,
    ...get(t1), ...i32(8), SHR_U, ...i32(0xff00), AND, OR,
    ...get(t1), ...i32(24), SHR_U, OR,
    ...store(SCHEDULE),
    ...increment(16),
    END,
    // W[16..63] = W[i-16] + s0(W[i-15]) + W[i-7] + s1(W[i-2]).
    LOOP, VOID,
    ...get(i), ...i32(2), SHL, ...set(x),
    ...get(x),
    ...get(x), ...load(SCHEDULE - 60), ...set(t1), ...sigma(t1, 7, 18, 3, true),
    ...get(x), ...load(SCHEDULE - 64), ADD,
    ...get(x), ...load(SCHEDULE - 28), ADD,
    ...get(x), ...load(SCHEDULE - 8), ...set(t1), ...sigma(t1, 17, 19, 10, true), ADD,
    ...store(SCHEDULE),
    ...increment(64),
    END,
    ...letters.flatMap((letter, k) => [...i32(0), ...load(STATE + 4 * k), ...set(letter)]),
    // The 64 rounds.
    ...i32(0), ...set(i),
    LOOP, VOID,
    ...get(i), ...i32(2), SHL, ...set(x),
    ...get(h), ...sigma(e, 6, 11, 25), ADD,
    ...get(e), ...get(f), AND, ...get(e), ...i32(-1), XOR, ...get(g), AND, XOR, ADD,
    ...get(x), ...load(ROUND_CONSTANTS), ADD,
    ...get(x), ...load(SCHEDULE), ADD,
    ...set(t1),
    ...sigma(a, 2, 13, 22),
    ...get(a), ...get(b), AND, ...get(a), ...get(c), AND, XOR, ...get(b), ...get(c), AND, XOR, ADD,
    ...set(t2),
    ...get(g), ...set(h), ...get(f), ...set(g), ...get(e), ...set(f), ...get(d), ...get(t1), ADD, ...set(e),
    ...get(c), ...set(d), ...get(b), ...set(c), ...get(a), ...set(b), ...get(t1), ...get(t2), ADD, ...set(a),
    ...increment(64),
    END,
    ...letters.flatMap((letter, k) => [...i32(0), ...i32(0), ...load(STATE + 4 * k), ...get(letter), ADD, ...store(STATE + 4 * k)]),
    ...get(p), ...i32(64), ADD, ...set(p),
    ...get(n), ...i32(1), SUB, ...tee(n), BR_IF, 0,
    END,
    END,
  ];
}

/** `crc(ptr, length, crc) -> crc`: the CRC-32 of `length` bytes at `ptr`, going on from `crc`. */
function crcBody() {
  const [p, n, crc] = [0, 1, 2];
  return [
    ...get(crc), ...i32(-1), XOR, ...set(crc),
    BLOCK, VOID,
    ...get(n), EQZ, BR_IF, 0,
    LOOP, VOID,
    ...get(crc), ...i32(8), SHR_U,
    ...get(crc), ...get(p), ...load8(0), XOR, ...i32(255), AND, ...i32(2), SHL, ...load(CRC_TABLE),
    XOR, ...set(crc),
    ...get(p), ...i32(1), ADD, ...set(p),
    ...get(n), ...i32(1), SUB, ...tee(n), BR_IF, 0,
    END,
    END,
    ...get(crc), ...i32(-1), XOR,
    END,
  ];
}

/** `hash(ptr, words, h) -> h`: `words` 8-byte words at `ptr` mixed into `h` (wordHash). */
function hashBody() {
  const [p, n, h] = [0, 1, 2];
  return [
    BLOCK, VOID,
    ...get(n), EQZ, BR_IF, 0,
    LOOP, VOID,
    ...get(h), ...get(p), 0x29, 3, 0, 0x85, 0x42, ...signed64(WORD_HASH_MULTIPLIER), 0x7e, 0x42, 31, 0x89, ...set(h), // i64: load, xor, const, mul, const, rotl
    ...get(p), ...i32(8), ADD, ...set(p),
    ...get(n), ...i32(1), SUB, ...tee(n), BR_IF, 0,
    END,
    END,
    ...get(h),
    END,
  ];
}

/** An odd 64-bit constant (2^64 over the golden ratio): multiplying by it is a bijection. */
const WORD_HASH_MULTIPLIER = -0x61c8864680b583ebn;

/** @param {bigint} value @returns {number[]} */
function signed64(value) {
  const out = [];
  for (;;) {
    const byte = Number(value & 0x7fn);
    value >>= 7n;
    if ((value === 0n && (byte & 0x40) === 0) || (value === -1n && (byte & 0x40) !== 0)) return [...out, byte];
    out.push(byte | 0x80);
  }
}

/** @param {number} id @param {number[]} content */
function section(id, content) {
  return [id, ...unsigned(content.length), ...content];
}

/** @param {string} text */
function name(text) {
  return [text.length, ...[...text].map((ch) => ch.charCodeAt(0))];
}

/**
 * The module's bytes as `moduleBytes` writes them, made once (test/hosts/small-hashes.test.ts
 * holds the two equal): writing them at each start, in the interpreter, cost about as much as
 * the rest of the bundle's code cache check (3-4 ms of CPU and 100 page faults of a warm
 * `dogma run`), where decoding these takes microseconds.
 */
export const MODULE_BASE64 =
  "AGFzbQEAAAABFANgAn9/AGADf39/AX9gA39/fgF+AwQDAAECBQQBAQICBx0EBm1lbW9yeQIAA3NoYQAAA2NyYwABBGhhc2gAAgr5BAP4AwEMfwNAQQAhDANAIAxBAnQhDSANIAAgDWooAgAiCkEYdCAKQQh0QYCA/AdxciAKQQh2QYD+A3FyIApBGHZyNgKgAiAMQQFqIgxBEEkNAAsDQCAMQQJ0IQ0gDSANKALkASEKIApBB3ggCkESeHMgCkEDdnMgDSgC4AFqIA0oAoQCaiANKAKYAiEKIApBEXggCkETeHMgCkEKdnNqNgKgAiAMQQFqIgxBwABJDQALQQAoAgAhAkEAKAIEIQNBACgCCCEEQQAoAgwhBUEAKAIQIQZBACgCFCEHQQAoAhghCEEAKAIcIQlBACEMA0AgDEECdCENIAkgBkEGeCAGQQt4cyAGQRl4c2ogBiAHcSAGQX9zIAhxc2ogDSgCIGogDSgCoAJqIQogAkECeCACQQ14cyACQRZ4cyACIANxIAIgBHFzIAMgBHFzaiELIAghCSAHIQggBiEHIAUgCmohBiAEIQUgAyEEIAIhAyAKIAtqIQIgDEEBaiIMQcAASQ0AC0EAQQAoAgAgAmo2AgBBAEEAKAIEIANqNgIEQQBBACgCCCAEajYCCEEAQQAoAgwgBWo2AgxBAEEAKAIQIAZqNgIQQQBBACgCFCAHajYCFEEAQQAoAhggCGo2AhhBAEEAKAIcIAlqNgIcIABBwABqIQAgAUEBayIBDQALC0QAIAJBf3MhAgJAIAFFDQADQCACQQh2IAIgAC0AAHNB/wFxQQJ0KAKACHMhAiAAQQFqIQAgAUEBayIBDQALCyACQX9zCzgAAkAgAUUNAANAIAIgACkDAIVClfip+pe33puef35CH4khAiAAQQhqIQAgAUEBayIBDQALCyACCw==";

/** The module's bytes, written from the functions above (MODULE_BASE64 holds them). */
export function moduleBytes() {
  const sha = [1, 12, 0x7f, ...shaBody()]; // one run of 12 i32 locals
  const crc = [0, ...crcBody()];
  const hash = [0, ...hashBody()];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [3, 0x60, 2, 0x7f, 0x7f, 0, 0x60, 3, 0x7f, 0x7f, 0x7f, 1, 0x7f, 0x60, 3, 0x7f, 0x7f, 0x7e, 1, 0x7e]),
    ...section(3, [3, 0, 1, 2]),
    ...section(5, [1, 0x01, 2, 2]), // two pages, no more
    ...section(7, [4, ...name("memory"), 0x02, 0, ...name("sha"), 0x00, 0, ...name("crc"), 0x00, 1, ...name("hash"), 0x00, 2]),
    ...section(10, [3, ...unsigned(sha.length), ...sha, ...unsigned(crc.length), ...crc, ...unsigned(hash.length), ...hash]),
  ]);
}

/**
 * @typedef {{ bytes: Uint8Array, words: Uint32Array, sha: (ptr: number, blocks: number) => void, crc: (ptr: number, length: number, crc: number) => number, hash: (ptr: number, words: number, h: bigint) => bigint }} SmallHashes
 * @type {SmallHashes | null}
 */
let made = null;

/** @returns {SmallHashes} */
function hashes() {
  if (made) return made;
  const { exports } = new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(MODULE_BASE64, "base64")));
  const memory = /** @type {WebAssembly.Memory} */ (exports.memory);
  // The memory never grows: the views stay good.
  const words = new Uint32Array(memory.buffer);
  words.set(K, ROUND_CONSTANTS / 4);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    words[CRC_TABLE / 4 + n] = c;
  }
  made = {
    bytes: new Uint8Array(memory.buffer),
    words,
    sha: /** @type {SmallHashes["sha"]} */ (exports.sha),
    crc: /** @type {SmallHashes["crc"]} */ (exports.crc),
    hash: /** @type {SmallHashes["hash"]} */ (exports.hash),
  };
  return made;
}

/** The SHA-256 of `bytes` (at most SMALL_HASH_BYTES) as 64 hex digits. */
/** @param {Uint8Array} bytes @returns {string} */
export function sha256Small(bytes) {
  if (bytes.length > SMALL_HASH_BYTES) throw new RangeError(`sha256Small: ${bytes.length} bytes, more than ${SMALL_HASH_BYTES}`);
  const { bytes: memory, words, sha } = hashes();
  // The message, a 1 bit, zeros, and its length in bits (big-endian), to a whole number of blocks.
  const blocks = Math.ceil((bytes.length + 9) / 64);
  const end = INPUT + blocks * 64;
  memory.set(bytes, INPUT);
  memory.fill(0, INPUT + bytes.length, end);
  memory[INPUT + bytes.length] = 0x80;
  const view = new DataView(memory.buffer);
  view.setUint32(end - 8, Math.floor(bytes.length / 0x20000000));
  view.setUint32(end - 4, (bytes.length << 3) >>> 0);
  words.set(H0, STATE / 4);
  sha(INPUT, blocks);
  let hex = "";
  for (let k = 0; k < 8; k++) hex += /** @type {number} */ (words[STATE / 4 + k]).toString(16).padStart(8, "0");
  return hex;
}

/** The CRC-32 of `data` (a string's UTF-8 bytes) going on from `value`, as node:zlib's crc32 gives it. */
/** @param {Uint8Array | string} data @param {number} [value] @returns {number} */
export function crc32Small(data, value = 0) {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const { bytes: memory, crc } = hashes();
  let check = value;
  for (let at = 0; at < bytes.length; at += SMALL_HASH_BYTES) {
    const piece = bytes.subarray(at, at + SMALL_HASH_BYTES);
    memory.set(piece, INPUT);
    check = crc(INPUT, piece.length, check);
  }
  return check >>> 0;
}

/**
 * A 64-bit hash of `data`, of any length, against damage (not against someone choosing bytes):
 * each 8-byte word is mixed in by a xor, a multiplication by an odd constant and a rotation, each
 * a bijection of the state, so one changed word always changes the result; seeded with the
 * length. About 1.5 instructions a byte, where crc32Small takes about 15 (the bundle's code
 * cache, 600 KB, is checked at every start: cli-bundle.js).
 * @param {Uint8Array} data
 * @returns {bigint}
 */
export function wordHash(data) {
  const { bytes: memory, hash } = hashes();
  let h = BigInt(data.length);
  for (let at = 0; at < data.length; at += SMALL_HASH_BYTES) {
    const piece = data.subarray(at, at + SMALL_HASH_BYTES);
    const words = Math.ceil(piece.length / 8);
    memory.set(piece, INPUT);
    memory.fill(0, INPUT + piece.length, INPUT + words * 8);
    h = hash(INPUT, words, h);
  }
  return h;
}
