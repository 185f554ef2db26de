// Benchmark: open-addressing (linear probing) u32 -> u32 hash table, INSERTS inserts then as many
// lookups, half of them hits. Imports nothing. run(n) does it n times and returns a checksum.
import { growPages } from "../lib/pages";

const INSERTS: u32 = 1_000_000;
const BITS: u32 = 21; // 2M slots: load factor under one half
const SLOTS: u32 = 1 << BITS;
const MASK: u32 = SLOTS - 1;

let table: usize = 0; // slot i: key at 8i (0 = empty), value at 8i + 4

@inline function slot(k: u32): u32 {
  return (k * 0x9e3779b1) >>> (32 - BITS);
}

function insert(k: u32, v: u32): void {
  let i = slot(k);
  while (true) {
    const at = table + (<usize>i << 3);
    const key = load<u32>(at);
    if (key == 0 || key == k) {
      store<u32>(at, k);
      store<u32>(at, v, 4);
      return;
    }
    i = (i + 1) & MASK;
  }
}

/** The value stored for `k`, or 0xffffffff. */
function lookup(k: u32): u32 {
  let i = slot(k);
  while (true) {
    const at = table + (<usize>i << 3);
    const key = load<u32>(at);
    if (key == k) return load<u32>(at, 4);
    if (key == 0) return 0xffffffff;
    i = (i + 1) & MASK;
  }
}

@inline function next(x: u32): u32 {
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  return x;
}

function round(seed: u32): u32 {
  memory.fill(table, 0, <usize>SLOTS << 3);
  let x = seed | 1;
  for (let i: u32 = 0; i < INSERTS; i++) {
    x = next(x);
    insert(x, i); // xorshift never yields 0, the empty key
  }
  let sum: u32 = 0;
  let hit = seed | 1; // replays the inserted keys
  let miss = ~seed | 1;
  for (let i: u32 = 0; i < INSERTS; i++) {
    let k: u32;
    if (i & 1) {
      hit = next(hit);
      k = hit;
    } else {
      miss = next(miss);
      k = miss;
    }
    sum = sum * 31 + lookup(k);
  }
  return sum;
}

export function run(n: i32): i32 {
  if (table == 0) table = growPages(<usize>SLOTS << 3);
  let result: u32 = 0;
  for (let r = 0; r < n; r++) result ^= round(0x2545f491 + <u32>r);
  return <i32>result;
}

run(1);
