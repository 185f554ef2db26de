// What the rename crash test's writer and checker share (test/fs/crash.test.ts): FILES files, each
// named "fK" or "fK.gN" (N: the round that last renamed it), in /ren/a or /ren/b, holding "file K";
// some have a second name "hK" in /ren/a (a hard link).

export const FILES: u32 = 16;

/** The file a name "fK" or "fK.gN" stands for, with N in `generation` (0 for "fK"); -1 for any other name. */
export let generation: u32 = 0;
export function fileOf(name: usize, length: u32): i32 {
  return numbered(name, length, 0x66);
}

/** The file a hard link's name "hK" stands for; -1 for any other name. */
export function linkOf(name: usize, length: u32): i32 {
  return numbered(name, length, 0x68);
}

function numbered(name: usize, length: u32, first: u8): i32 {
  generation = 0;
  if (length < 2 || load<u8>(name) != first) return -1;
  let i: u32 = 1;
  let k: u32 = 0;
  while (i < length && load<u8>(name + i) >= 0x30 && load<u8>(name + i) <= 0x39) k = k * 10 + <u32>(load<u8>(name + i++) - 0x30);
  if (i == 1 || k >= FILES) return -1;
  if (i == length) return <i32>k;
  if (first != 0x66 || i + 3 > length || load<u8>(name + i) != 0x2e || load<u8>(name + i + 1) != 0x67) return -1;
  i += 2;
  let n: u32 = 0;
  const digits = i;
  while (i < length && load<u8>(name + i) >= 0x30 && load<u8>(name + i) <= 0x39) n = n * 10 + <u32>(load<u8>(name + i++) - 0x30);
  if (i != length || i == digits) return -1;
  generation = n;
  return <i32>k;
}

export function content(k: u32): string {
  return "file " + k.toString();
}
