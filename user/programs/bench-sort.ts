// Benchmark: quicksort of N pseudo-random i32 in a raw buffer. Imports nothing, so it runs the
// same in Dogma and natively. run(n) sorts ROUNDS * n arrays and returns a checksum.
import { growPages } from "../lib/pages";

const N: i32 = 200_000;
const ROUNDS: i32 = 2; // makes run(1) take a few tens of milliseconds natively
const INSERTION_MAX: i32 = 16;

let data: usize = 0; // grown on first use: globals with constant initialisers need no _start

@inline function at(i: i32): i32 {
  return load<i32>(data + (<usize>i << 2));
}

@inline function set(i: i32, v: i32): void {
  store<i32>(data + (<usize>i << 2), v);
}

function fill(seed: u32): void {
  let x = seed | 1;
  for (let i = 0; i < N; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    set(i, <i32>x);
  }
}

function insertionSort(lo: i32, hi: i32): void {
  for (let i = lo + 1; i <= hi; i++) {
    const v = at(i);
    let j = i - 1;
    while (j >= lo && at(j) > v) {
      set(j + 1, at(j));
      j--;
    }
    set(j + 1, v);
  }
}

// Hoare partition around a median of three; recursing into the smaller side bounds the depth.
function quicksort(lo: i32, hi: i32): void {
  while (hi - lo > INSERTION_MAX) {
    const mid = lo + ((hi - lo) >> 1);
    if (at(mid) < at(lo)) swap(mid, lo);
    if (at(hi) < at(lo)) swap(hi, lo);
    if (at(hi) < at(mid)) swap(hi, mid);
    const pivot = at(mid);
    let i = lo - 1;
    let j = hi + 1;
    while (true) {
      do i++; while (at(i) < pivot);
      do j--; while (at(j) > pivot);
      if (i >= j) break;
      swap(i, j);
    }
    if (j - lo < hi - j) {
      quicksort(lo, j);
      lo = j + 1;
    } else {
      quicksort(j + 1, hi);
      hi = j;
    }
  }
  insertionSort(lo, hi);
}

@inline function swap(i: i32, j: i32): void {
  const t = at(i);
  set(i, at(j));
  set(j, t);
}

function checksum(): i32 {
  let sum: i32 = 0;
  for (let i = 0; i < N; i++) {
    if (i > 0 && at(i - 1) > at(i)) unreachable(); // not sorted
    sum = sum * 31 + at(i);
  }
  return sum;
}

export function run(n: i32): i32 {
  if (data == 0) data = growPages(<usize>N << 2);
  let result: i32 = 0;
  for (let round = 0; round < n * ROUNDS; round++) {
    fill(0x9e3779b9 + <u32>round);
    quicksort(0, N - 1);
    result ^= checksum() + round;
  }
  return result;
}

run(1);
