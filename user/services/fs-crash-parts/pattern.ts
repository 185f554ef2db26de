// What the crash tests' writer puts in round N's file, shared with the checker.

/** Round N's file size: 1 to about 600 KiB, varied so that writes end mid-block and span indirect blocks. */
export function crashFileSize(round: u32): u32 {
  return 1 + (round * 104729) % (600 << 10);
}

export function crashByte(round: u32, i: u32): u8 {
  return <u8>((round * 131 + i * 7) ^ (i >>> 8));
}

/** N of a name "rN.dat" or "rN.tmp", or -1. */
export function roundOf(name: usize, length: u32): i32 {
  if (length < 6 || load<u8>(name) != 0x72) return -1;
  let n: i32 = 0;
  let i: u32 = 1;
  for (; i < length && load<u8>(name + i) >= 0x30 && load<u8>(name + i) <= 0x39; i++) n = n * 10 + <i32>(load<u8>(name + i) - 0x30);
  return i > 1 && i + 4 == length ? n : -1;
}

/** Whether a name ends in ".dat". */
export function isDat(name: usize, length: u32): bool {
  return length > 4 && load<u8>(name + length - 3) == 0x64 && load<u8>(name + length - 2) == 0x61 && load<u8>(name + length - 1) == 0x74;
}
