// Benchmark: byte-at-a-time passes over a 4 MiB buffer (fill, PASSES transforms, checksum) with
// load<u8>/store<u8>. Imports nothing. run(n) does it n times and returns a checksum.
import { growPages } from "../lib/pages";

const SIZE: usize = 4 << 20;
const PASSES: i32 = 6;

let buf: usize = 0;

function fill(seed: u32): void {
  let x = seed;
  for (let i: usize = 0; i < SIZE; i++) {
    x = x * 1664525 + 1013904223;
    store<u8>(buf + i, <u8>(x >>> 24));
  }
}

// Each byte depends on the one before it, so the loop cannot be vectorised into word accesses.
function transform(pass: u32): void {
  let prev: u32 = pass;
  for (let i: usize = 0; i < SIZE; i++) {
    const b = (<u32>load<u8>(buf + i) * 5 + prev) ^ <u32>(i & 0xff);
    store<u8>(buf + i, <u8>b);
    prev = b & 0xff;
  }
}

// Fletcher-32 over bytes.
function checksum(): u32 {
  let a: u32 = 1;
  let b: u32 = 0;
  for (let i: usize = 0; i < SIZE; i++) {
    a = (a + <u32>load<u8>(buf + i)) % 65521;
    b = (b + a) % 65521;
  }
  return (b << 16) | a;
}

export function run(n: i32): i32 {
  if (buf == 0) buf = growPages(SIZE);
  let result: u32 = 0;
  for (let r = 0; r < n; r++) {
    fill(0x1234567 + <u32>r);
    for (let p = 0; p < PASSES; p++) transform(<u32>p);
    result ^= checksum();
  }
  return <i32>result;
}

run(1);
