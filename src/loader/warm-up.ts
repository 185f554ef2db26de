import type { BodyChunk } from "./rewrite-code.ts";
import { ByteWriter } from "./wasm/byte-writer.ts";

/**
 * A few function bodies that take the rewriter down its rarer paths (call_indirect and the return
 * calls, float constants, memory.grow, bulk memory, blocks nested past 64, accesses at constant
 * addresses past 2 GiB, loops with groups and streams, a function big enough for the access
 * helpers), for a loader worker to rewrite once before its first chunk and throw away.
 *
 * Why: V8 optimizes the rewriter (its one large function above all) within a worker's first
 * chunk, then throws the optimized code away at each path the chunks it had seen never took, and
 * optimizes it again: a fresh worker compiled `rewriteOnce` about ten times with TurboFan for its
 * half of yosys, each time on the worker's own thread (loader-workers.ts withoutConcurrentJit).
 * These bodies give V8 those paths' feedback before it optimizes. The bodies need not validate:
 * the rewriter reads anything within its bounds (the binary it rewrites is validated alongside).
 */
export function warmUpBodies(): { readonly bytes: Uint8Array; readonly chunk: BodyChunk } {
  const w = new ByteWriter(16 << 10);
  const chunk: { index: number; start: number; end: number; params: number }[] = [];
  const body = (write: (b: ByteWriter) => void) => {
    const b = new ByteWriter(8 << 10);
    b.bytes(new Uint8Array([4, 4, 0x7f, 1, 0x7e, 1, 0x7d, 1, 0x7c])); // locals: 4 i32, i64, f32, f64
    write(b);
    b.u8(0x0b);
    w.u32(b.length);
    const start = w.length;
    w.bytes(b.view());
    chunk.push({ index: chunk.length + 1, start, end: w.length, params: 2 });
  };
  // The return calls first: V8 optimized the rewriter (Maglev) within the bodies below, and threw
  // that away at the first return_call_indirect it had not seen.
  body((b) => b.bytes(new Uint8Array([0x20, 0, 0x20, 1, 0x41, 0, 0x13, 0, 0]))); // return_call_indirect
  body((b) => b.bytes(new Uint8Array([0x20, 0, 0x20, 1, 0x12, 0]))); // return_call
  body(mixed);
  body(constants);
  body(loops);
  body((b) => nested(b, 80)); // grows the rewriter's block arrays at a block (64 deep)
  body((b) => nested(b, 140)); // and again at a loop (128 deep)
  body(huge);
  return { bytes: w.take(), chunk };
}

const LOADS = [0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35];
const STORES: ReadonlyArray<readonly [number, number[]]> = [
  [0x36, [0x20, 1]], [0x37, [0x42, 7]], [0x38, [0x43, 0, 0, 0x80, 0x3f]], [0x39, [0x44, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f]],
  [0x3a, [0x20, 1]], [0x3b, [0x20, 1]], [0x3c, [0x42, 7]], [0x3d, [0x42, 7]], [0x3e, [0x42, 7]],
];

/** Every load and store at an address computed and at constants (small, and past 2 GiB), calls of every kind, the numeric, table and bulk-memory instructions. */
function mixed(b: ByteWriter): void {
  for (const offset of [0, 8, 70_000]) {
    for (const op of LOADS) b.bytes(new Uint8Array([0x20, 0, op, 0])), b.u32(offset), b.u8(0x1a);
    for (const [op, value] of STORES) b.bytes(new Uint8Array([0x20, 0, ...value, op, 0])), b.u32(offset);
    for (const address of [4096, 0x7fff_fff0, 0x9000_0000, 0xffff_fffe]) {
      b.u8(0x41), b.s32(address | 0), b.bytes(new Uint8Array([0x28, 2])), b.u32(offset), b.u8(0x1a);
      b.u8(0x41), b.s32(address | 0), b.bytes(new Uint8Array([0x20, 1, 0x36, 2])), b.u32(offset);
    }
  }
  b.bytes(new Uint8Array([
    0x3f, 0, 0x1a, 0x41, 1, 0x40, 0, 0x1a, // memory.size, memory.grow
    0x20, 0, 0x20, 1, 0x10, 0, 0x1a, // call
    0x20, 0, 0x20, 1, 0x41, 0, 0x11, 0, 0, 0x1a, // call_indirect
    0x23, 0, 0x24, 0, // global.get, global.set
    0x02, 0x40, 0x41, 1, 0x0d, 0, 0x0b, // block, br_if
    0x02, 0x40, 0x02, 0x40, 0x20, 0, 0x0e, 2, 0, 1, 0, 0x0b, 0x0b, // br_table
    0x20, 0, 0x04, 0x40, 0x01, 0x05, 0x01, 0x0b, // if, else
    0x20, 0, 0x20, 1, 0x20, 0, 0x1b, 0x1a, 0x20, 0, 0x20, 1, 0x20, 0, 0x1c, 1, 0x7f, 0x1a, // select, select t
    0xd2, 0, 0x1a, 0xd0, 0x70, 0xd1, 0x1a, // ref.func, ref.null, ref.is_null
    0x41, 0, 0x25, 0, 0x1a, 0x41, 0, 0xd0, 0x70, 0x26, 0, // table.get, table.set
    0xd0, 0x70, 0x41, 1, 0xfc, 15, 0, 0x1a, 0xfc, 16, 0, 0x1a, // table.grow, table.size
    0x20, 0, 0x20, 1, 0x41, 8, 0xfc, 10, 0, 0, // memory.copy
    0x20, 0, 0x20, 1, 0x41, 8, 0xfc, 11, 0, // memory.fill
    0x20, 0, 0x41, 0, 0x41, 8, 0xfc, 8, 0, 0, 0xfc, 9, 0, // memory.init, data.drop
    0x43, 0, 0, 0x80, 0x3f, 0xfc, 0, 0x1a, 0x44, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0xfc, 6, 0x1a, // trunc_sat
    0x42, 0x80, 0x80, 0x80, 0x80, 0x10, 0xa7, 0x1a, // i64.const (long), i32.wrap
    0x20, 0, 0x20, 1, 0x6a, 0x21, 2, 0x20, 2, 0x22, 3, 0x1a, // add, local.set, local.tee
  ]));
}

/** Accesses at constant addresses, each alone in its run (a call between), small and past 2 GiB, with offsets. */
function constants(b: ByteWriter): void {
  for (const address of [4096, 0x7fff_f000, 0x9000_0000, 0xffff_f000]) {
    for (const offset of [0, 16]) {
      b.bytes(new Uint8Array([0x20, 0, 0x20, 1, 0x10, 0, 0x1a, 0x41])), b.s32(address | 0), b.bytes(new Uint8Array([0x28, 2])), b.u32(offset), b.u8(0x1a);
      b.bytes(new Uint8Array([0x20, 0, 0x20, 1, 0x10, 0, 0x1a, 0x41])), b.s32(address | 0), b.bytes(new Uint8Array([0x20, 1, 0x36, 2])), b.u32(offset);
      b.bytes(new Uint8Array([0x20, 0, 0x20, 1, 0x10, 0, 0x1a, 0x41])), b.s32(address | 0), b.bytes(new Uint8Array([0x42, 7, 0x37, 3])), b.u32(offset);
    }
  }
}

/** Loops: accesses off one base (a group, hoisted), a nest that calls nothing (streams), calls and an indirect call inside. */
function loops(b: ByteWriter): void {
  b.bytes(new Uint8Array([0x03, 0x40])); // loop
  for (let k = 0; k < 6; k++) b.bytes(new Uint8Array([0x20, 0, 0x28, 2, 4 * k, 0x20, 2, 0x6a, 0x21, 2]));
  b.bytes(new Uint8Array([0x20, 0, 0x20, 2, 0x36, 2, 24]));
  b.bytes(new Uint8Array([0x03, 0x40])); // an inner loop walking a pointer
  b.bytes(new Uint8Array([0x20, 3, 0x2d, 0, 0, 0x20, 3, 0x41, 1, 0x6a, 0x22, 3, 0x20, 1, 0x49, 0x0d, 0, 0x1a]));
  b.bytes(new Uint8Array([0x0b]));
  b.bytes(new Uint8Array([0x20, 0, 0x41, 4, 0x6a, 0x22, 0, 0x20, 1, 0x49, 0x0d, 0])); // br_if back
  b.bytes(new Uint8Array([0x0b]));
  b.bytes(new Uint8Array([0x03, 0x40, 0x20, 0, 0x20, 1, 0x10, 0, 0x1a, 0x20, 0, 0x28, 2, 0, 0x20, 0, 0x20, 1, 0x41, 0, 0x11, 0, 0, 0x6a, 0x0d, 0, 0x0b]));
  b.bytes(new Uint8Array([0x03, 0x40, 0x20, 0, 0x29, 3, 0, 0x20, 0, 0x29, 3, 8, 0x7c, 0x50, 0x0d, 0, 0x0b]));
  // Accesses off a base the loop never writes (checked at its header), then an indirect call.
  b.bytes(new Uint8Array([0x03, 0x40]));
  for (let k = 0; k < 4; k++) b.bytes(new Uint8Array([0x20, 1, 0x28, 2, 4 * k, 0x20, 2, 0x6a, 0x21, 2]));
  b.bytes(new Uint8Array([0x20, 0, 0x20, 1, 0x41, 0, 0x11, 0, 0, 0x1a, 0x20, 2, 0x41, 1, 0x6b, 0x22, 2, 0x0d, 0, 0x0b]));
}

/** Blocks nested `depth` deep, every eighth from the first a loop, an access at the bottom. */
function nested(b: ByteWriter, depth: number): void {
  for (let i = 0; i < depth; i++) b.bytes(new Uint8Array([i % 8 === 0 ? 0x03 : 0x02, 0x40]));
  b.bytes(new Uint8Array([0x20, 0, 0x28, 2, 0, 0x0d, 3]));
  for (let i = 0; i < depth; i++) b.u8(0x0b);
}

/** Past ALL_CALLS_MIN_BODY bytes: every access calls a helper. */
function huge(b: ByteWriter): void {
  b.bytes(new Uint8Array([0x03, 0x40]));
  for (let k = 0; k < 700; k++) b.bytes(new Uint8Array([0x20, 0, 0x28, 2, 4 * (k % 32), 0x1a]));
  b.bytes(new Uint8Array([0x20, 0, 0x0d, 0, 0x0b]));
}
