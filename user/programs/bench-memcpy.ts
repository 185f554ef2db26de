// Benchmark: memory.copy of blocks from 64 B to 64 KiB between pseudo-random (often unaligned,
// sometimes overlapping) places in a 4 MiB arena, BYTES_PER_SIZE bytes for each size. Imports
// nothing. run(n) does it n times and returns a checksum of sampled bytes.
import { growPages } from "../lib/pages";

const ARENA: usize = 4 << 20;
const BYTES_PER_SIZE: usize = 32 << 20;
const MIN_BLOCK: usize = 64;
const MAX_BLOCK: usize = 64 << 10;

let arena: usize = 0;

function fill(): void {
  for (let i: usize = 0; i < ARENA; i += 4) store<u32>(arena + i, <u32>i * 0x9e3779b1);
}

export function run(n: i32): i32 {
  if (arena == 0) arena = growPages(ARENA);
  let sum: u32 = 0;
  for (let r = 0; r < n; r++) {
    fill();
    let x: u32 = 0x6c078965 + <u32>r;
    for (let size = MIN_BLOCK; size <= MAX_BLOCK; size <<= 1) {
      const span = <u32>(ARENA - size);
      for (let done: usize = 0; done < BYTES_PER_SIZE; done += size) {
        x = x * 1664525 + 1013904223;
        const src = arena + <usize>((x >>> 8) % span);
        x = x * 1664525 + 1013904223;
        const dst = arena + <usize>((x >>> 8) % span);
        memory.copy(dst, src, size);
        sum = (sum << 5 | sum >>> 27) ^ <u32>load<u8>(dst + <usize>(x & <u32>(size - 1)));
      }
    }
  }
  return <i32>sum;
}

run(1);
