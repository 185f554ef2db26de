// Self-checking memory exercise over 8 MiB of freshly grown memory. Each 1 MiB part is written
// with one access width (aligned or not, so stores straddle 4 KiB pages), then everything is read
// back with other widths, then memory.fill and memory.copy (overlapping both ways) run across
// pages. Expected bytes are a function of their address, so a page mapped twice or in the wrong
// place shows up as a mismatch. Nothing may allocate until the checks are done (see lib/pages.ts),
// so a failure is only recorded here and printed at the end.
import { print, growPages, exit } from "../lib";

const SIZE: usize = 8 << 20;
const PART: usize = 1 << 20;
const PAGE: usize = 4096;
const F32_COUNT: usize = PART / 4 - 1; // f32s at part 4 + 1 + 4i
const F64_COUNT: usize = PART / 8 - 1; // f64s at part 5 + 3 + 8i

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

function part(n: usize): usize {
  return base + n * PART;
}

/** The pattern byte at `addr`: the product's high bits depend on every bit of the address. */
function pat(addr: usize): u8 {
  return <u8>((<u32>addr * 0x9e3779b1) >>> 24);
}

/** `n` pattern bytes from `addr` as a little-endian integer. */
function patLE(addr: usize, n: usize): u64 {
  let v: u64 = 0;
  for (let i: usize = 0; i < n; i++) v |= <u64>pat(addr + i) << (<u64>i << 3);
  return v;
}

// Floats stay clear of NaN: their bits are under test, not NaN canonicalisation.
function f32At(i: usize): f32 {
  return <f32>i * 0.25 + 1.5;
}

function f64At(i: usize): f64 {
  return <f64>i * 1.0000001 - 7.5;
}

/** What the write phase leaves at `addr`. */
function expected(addr: usize): u8 {
  const rel32 = addr - (part(4) + 1); // wraps to huge below the part
  // The explicit masks: AssemblyScript 0.28 does not always wrap a `<u8>` of a variable shift.
  if (rel32 < F32_COUNT * 4) return <u8>((reinterpret<u32>(f32At(rel32 >> 2)) >>> (<u32>(rel32 & 3) << 3)) & 0xff);
  const rel64 = addr - (part(5) + 3);
  if (rel64 < F64_COUNT * 8) return <u8>((reinterpret<u64>(f64At(rel64 >> 3)) >>> (<u64>(rel64 & 7) << 3)) & 0xff);
  return pat(addr);
}

function expectedLE(addr: usize, n: usize): u64 {
  let v: u64 = 0;
  for (let i: usize = 0; i < n; i++) v |= <u64>expected(addr + i) << (<u64>i << 3);
  return v;
}

function checkFresh(): void {
  for (let a = base; a < end; a += 64) {
    if (load<u64>(a) != 0) return fail("fresh pages are zero", a, 0, load<u64>(a));
  }
}

/** The bytes at a part's ends that its unaligned stores leave out. */
function edges(s: usize): void {
  for (let i: usize = 0; i < 8; i++) {
    store<u8>(s + i, pat(s + i));
    store<u8>(s + PART - 8 + i, pat(s + PART - 8 + i));
  }
}

function write(): void {
  let s = part(0);
  for (let a = s; a < s + PART; a++) store<u8>(a, pat(a));
  // Odd addresses: the u16 at a page's last byte straddles into the next page; so do the u32s at
  // 3 mod 4 and the u64s at 5 mod 8 (4093 is both).
  edges((s = part(1)));
  for (let a = s + 1; a + 2 <= s + PART; a += 2) store<u16>(a, <u16>patLE(a, 2));
  edges((s = part(2)));
  for (let a = s + 3; a + 4 <= s + PART; a += 4) store<u32>(a, <u32>patLE(a, 4));
  edges((s = part(3)));
  for (let a = s + 5; a + 8 <= s + PART; a += 8) store<u64>(a, patLE(a, 8));
  edges((s = part(4)));
  for (let i: usize = 0; i < F32_COUNT; i++) store<f32>(s + 1 + (i << 2), f32At(i));
  edges((s = part(5)));
  for (let i: usize = 0; i < F64_COUNT; i++) store<f64>(s + 3 + (i << 3), f64At(i));
  s = part(6);
  for (let a = s; a < s + PART; a += 4) store<u32>(a, <u32>patLE(a, 4));
  s = part(7);
  for (let a = s; a < s + PART; a += 8) store<u64>(a, patLE(a, 8));
}

function verify(): void {
  for (let a = base; a < end; a += 8) {
    const got = load<u64>(a);
    if (got != expectedLE(a, 8)) return fail("aligned u64 reads", a, expectedLE(a, 8), got);
  }
  for (let a = base + 3; a + 4 <= end; a += 16) {
    const got = load<u32>(a);
    if (<u64>got != expectedLE(a, 4)) return fail("unaligned u32 reads", a, expectedLE(a, 4), got);
  }
  for (let b = base + PAGE; b < end; b += PAGE) {
    for (let k: usize = 1; k < 8; k++) {
      const got = load<u64>(b - k);
      if (got != expectedLE(b - k, 8)) return fail("u64 reads across a page", b - k, expectedLE(b - k, 8), got);
    }
    for (let k: usize = 1; k < 4; k++) {
      const got = load<u32>(b - k);
      if (<u64>got != expectedLE(b - k, 4)) return fail("u32 reads across a page", b - k, expectedLE(b - k, 4), got);
    }
    const got = load<u16>(b - 1);
    if (<u64>got != expectedLE(b - 1, 2)) return fail("u16 reads across a page", b - 1, expectedLE(b - 1, 2), got);
  }
  for (let i: usize = 0; i < F32_COUNT; i++) {
    const a = part(4) + 1 + (i << 2);
    if (load<f32>(a) != f32At(i)) return fail("f32 reads", a, reinterpret<u32>(f32At(i)), load<u32>(a));
  }
  for (let i: usize = 0; i < F64_COUNT; i++) {
    const a = part(5) + 3 + (i << 3);
    if (load<f64>(a) != f64At(i)) return fail("f64 reads", a, reinterpret<u64>(f64At(i)), load<u64>(a));
  }
}

function checkPattern(phase: string, from: usize, to: usize): void {
  for (let a = from; a < to; a++) {
    if (load<u8>(a) != pat(a)) return fail(phase, a, pat(a), load<u8>(a));
  }
}

/** memory.fill over `len` bytes of part 6 at `from`, then it and its neighbours checked. */
function fill(phase: string, from: usize, len: usize, value: u8): void {
  memory.fill(from, value, len);
  for (let a = from; a < from + len; a++) {
    if (load<u8>(a) != value) return fail(phase, a, value, load<u8>(a));
  }
  checkPattern(phase, from - 64, from);
  checkPattern(phase, from + len, from + len + 64);
}

/** memory.copy of `len` pattern bytes from `src` to `dst`, then the whole span checked. */
function copy(phase: string, src: usize, dst: usize, len: usize): void {
  memory.copy(dst, src, len);
  for (let i: usize = 0; i < len; i++) {
    if (load<u8>(dst + i) != pat(src + i)) return fail(phase, dst + i, pat(src + i), load<u8>(dst + i));
  }
  // What the copy must not have touched: around dst, and the part of src outside dst.
  checkPattern(phase, dst - 16, dst);
  checkPattern(phase, dst + len, dst + len + 16);
  if (src < dst) checkPattern(phase, src, min(dst, src + len));
  else checkPattern(phase, max(dst + len, src), src + len);
}

base = growPages(SIZE);
end = base + SIZE;
checkFresh();
if (ok()) write();
if (ok()) verify();
if (ok()) fill("memory.fill", part(6) + 123, 3 * PAGE + 77, 0xa5);
if (ok()) fill("memory.fill of 64 pages", part(6) + 8 * PAGE, 64 * PAGE + 5, 0);
if (ok()) copy("memory.copy apart", part(7) + 1, part(6) + 100 * PAGE + 4093, 5 * PAGE + 3);
if (ok()) copy("memory.copy overlapping forward", part(7) + 64 * PAGE + 7, part(7) + 64 * PAGE + 1007, 3 * PAGE + 5);
if (ok()) copy("memory.copy overlapping backward", part(7) + 128 * PAGE + 3011, part(7) + 128 * PAGE + 11, 3 * PAGE + 9);

if (ok()) {
  print("memtest ok");
} else {
  print("memtest: " + failPhase! + " mismatch at 0x" + failAddr.toString(16) +
    ": want 0x" + failWant.toString(16) + ", got 0x" + failGot.toString(16));
  exit(1);
}
