// Self-checking memory exercise over 8 MiB of freshly grown memory: every access width, aligned
// and not, accesses straddling 4 KiB pages, memory.fill and memory.copy (overlapping both ways).
// Every expected byte is a function of its address, so a page mapped twice or in the wrong place
// shows up as a mismatch. Nothing may allocate until the checks are done (see lib/pages.ts), so a
// failure is only recorded here and printed at the end.
import { print, growPages, exit } from "../lib";

const SIZE: usize = 8 << 20;
const PAGE: usize = 4096;
const MIB: usize = 1 << 20;

let base: usize = 0;
let end: usize = 0;

let failPhase: string | null = null;
let failAddr: usize = 0;
let failWant: u64 = 0;
let failGot: u64 = 0;

function fail(phase: string, addr: usize, want: u64, got: u64): void {
  if (failPhase !== null) return;
  failPhase = phase;
  failAddr = addr;
  failWant = want;
  failGot = got;
}

function ok(): bool {
  return failPhase === null;
}

/** The byte the pattern `seed` puts at `addr`; the high bits of the product depend on every bit. */
function pat(addr: usize, seed: u32): u8 {
  return <u8>((<u32>addr * 0x9e3779b1 + seed * 0x85ebca6b) >>> 24);
}

/** `n` pattern bytes from `addr` as a little-endian integer. */
function patLE(addr: usize, n: usize, seed: u32): u64 {
  let v: u64 = 0;
  for (let i: usize = 0; i < n; i++) v |= <u64>pat(addr + i, seed) << (<u64>i << 3);
  return v;
}

function checkBytes(phase: string, from: usize, to: usize, seed: u32): void {
  for (let a = from; a < to; a++) {
    const got = load<u8>(a);
    if (got != pat(a, seed)) return fail(phase, a, pat(a, seed), got);
  }
}

function checkFresh(): void {
  for (let a = base; a < end; a += 8) {
    const got = load<u64>(a);
    if (got != 0) return fail("fresh pages are zero", a, 0, got);
  }
}

function bytes(): void {
  for (let a = base; a < end; a++) store<u8>(a, pat(a, 1));
  for (let a = base; a < end; a += 4) {
    const got = load<u32>(a);
    if (<u64>got != patLE(a, 4, 1)) return fail("u8 store / u32 load", a, patLE(a, 4, 1), got);
  }
  // Every way a u64 can straddle each page boundary.
  for (let page = base + PAGE; page < end; page += PAGE) {
    for (let k: usize = 1; k < 8; k++) {
      const got = load<u64>(page - k);
      if (got != patLE(page - k, 8, 1)) return fail("u64 load across a page", page - k, patLE(page - k, 8, 1), got);
    }
  }
}

// Odd addresses: every u16 at a page's last byte straddles into the next page.
function halves(): void {
  for (let a = base + 1; a + 2 <= end; a += 2) store<u16>(a, <u16>patLE(a, 2, 2));
  for (let a = base + 8; a + 8 <= end; a += 8) {
    const got = load<u64>(a - 5);
    if (got != patLE(a - 5, 8, 2)) return fail("u16 store / u64 load", a - 5, patLE(a - 5, 8, 2), got);
  }
}

// Addresses 3 mod 4 (4093 is one of them: a page's last three bytes plus the next page's first).
function words(): void {
  for (let a = base + 3; a + 4 <= end; a += 4) store<u32>(a, <u32>patLE(a, 4, 3));
  for (let a = base + 4; a + 2 <= end - 1; a += 2) {
    const got = load<u16>(a - 1);
    if (<u64>got != patLE(a - 1, 2, 3)) return fail("u32 store / u16 load", a - 1, patLE(a - 1, 2, 3), got);
  }
}

// Addresses 5 mod 8; the whole region ends up in pattern 4 (but its first 5 and last 3 bytes).
function doubles(): void {
  for (let a = base + 5; a + 8 <= end; a += 8) store<u64>(a, patLE(a, 8, 4));
  for (let a = base + 6; a + 4 <= end - 3; a += 4) {
    const got = load<u32>(a);
    if (<u64>got != patLE(a, 4, 4)) return fail("u64 store / u32 load", a, patLE(a, 4, 4), got);
  }
}

// Floats stay clear of NaN: only their bits are under test, not NaN canonicalisation.
function floats(): void {
  const f32s = base + 1;
  const n32: u32 = <u32>(MIB / 4) - 1;
  for (let i: u32 = 0; i < n32; i++) store<f32>(f32s + (<usize>i << 2), <f32>i * 0.25 + 1.5);
  for (let i: u32 = 0; i < n32; i++) {
    const a = f32s + (<usize>i << 2);
    const want = <f32>i * 0.25 + 1.5;
    if (load<f32>(a) != want) return fail("f32", a, reinterpret<u32>(want), load<u32>(a));
  }
  const f64s = base + MIB + 3;
  const n64: u32 = <u32>(MIB / 8) - 1;
  for (let i: u32 = 0; i < n64; i++) store<f64>(f64s + (<usize>i << 3), <f64>i * 1.0000001 - 7.5);
  for (let i: u32 = 0; i < n64; i++) {
    const a = f64s + (<usize>i << 3);
    const want = <f64>i * 1.0000001 - 7.5;
    if (load<u64>(a) != reinterpret<u64>(want)) return fail("f64", a, reinterpret<u64>(want), load<u64>(a));
  }
}

function fill(): void {
  const from = base + 3 * MIB + 123;
  const len: usize = 3 * PAGE + 77;
  memory.fill(from, 0xa5, len);
  for (let a = from; a < from + len; a++) {
    if (load<u8>(a) != 0xa5) return fail("memory.fill", a, 0xa5, load<u8>(a));
  }
  checkBytes("memory.fill's neighbours", from - 64, from, 4);
  checkBytes("memory.fill's neighbours", from + len, from + len + 64, 4);
}

/** memory.copy of `len` bytes in pattern 4 from `src` to `dst`, then the whole span checked. */
function copy(phase: string, src: usize, dst: usize, len: usize): void {
  memory.copy(dst, src, len);
  for (let i: usize = 0; i < len; i++) {
    const got = load<u8>(dst + i);
    if (got != pat(src + i, 4)) return fail(phase, dst + i, pat(src + i, 4), got);
  }
  // What the copy must not have touched: around dst, and the part of src outside dst.
  checkBytes(phase, dst - 16, dst, 4);
  checkBytes(phase, dst + len, dst + len + 16, 4);
  if (src < dst) checkBytes(phase, src, min(dst, src + len), 4);
  else checkBytes(phase, max(dst + len, src), src + len, 4);
}

base = growPages(SIZE);
end = base + SIZE;
checkFresh();
if (ok()) bytes();
if (ok()) halves();
if (ok()) words();
if (ok()) doubles();
if (ok()) floats();
if (ok()) fill();
if (ok()) copy("memory.copy apart", base + 4 * MIB + 1, base + 6 * MIB + 4093, 5 * PAGE + 3);
if (ok()) copy("memory.copy overlapping forward", base + 5 * MIB + 7, base + 5 * MIB + 1007, 3 * PAGE + 5);
if (ok()) copy("memory.copy overlapping backward", base + 5 * MIB + 3011 + MIB / 2, base + 5 * MIB + 11 + MIB / 2, 3 * PAGE + 9);

if (ok()) {
  print("memtest ok");
} else {
  print("memtest: " + failPhase! + " mismatch at 0x" + failAddr.toString(16) +
    ": want 0x" + failWant.toString(16) + ", got 0x" + failGot.toString(16));
  exit(1);
}
