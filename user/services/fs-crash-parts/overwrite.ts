// What the overwrite crash test (test/fs/crash.test.ts) writes, shared by its writer
// (../fs-over-writer.ts) and checker (../fs-over-check.ts): /over.dat, OVER_BYTES long, first
// filled with `baseByte`, then each round overwrites a range of it in place with that round's
// bytes; /log.dat grows by each round's append, whose byte at offset p is always `logByte(p)`.

export const OVER_BYTES: u32 = 768 << 10;

export function baseByte(i: u32): u8 {
  return <u8>((i * 13) ^ (i >>> 9) ^ 0xa5);
}

/** Round R's byte at offset i of /over.dat. */
export function roundByte(round: u32, i: u32): u8 {
  return <u8>((round * 197 + i * 11) ^ (i >>> 7) ^ (round >>> 3));
}

function mix(round: u32, salt: u32): u32 {
  let x = round * 0x9e3779b1 + salt * 0x85ebca6b;
  x ^= x >>> 15;
  x *= 0x2c1b3c6d;
  x ^= x >>> 12;
  return x;
}

/** The length of round R's overwrite: 1 byte to 48 KiB (mid-block ends, several blocks). */
export function roundLength(round: u32): u32 {
  return 1 + mix(round, 1) % (48 << 10);
}

/** Where round R's overwrite starts. */
export function roundStart(round: u32): u32 {
  return mix(round, 2) % (OVER_BYTES - roundLength(round));
}

/** How much round R appends to /log.dat: 1 byte to 20 KiB. */
export function appendLength(round: u32): u32 {
  return 1 + mix(round, 3) % (20 << 10);
}

export function logByte(p: u32): u8 {
  return <u8>((p * 7) ^ (p >>> 10) ^ 0x3c);
}
