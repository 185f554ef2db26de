// Many small active data segments (Go's linker writes up to 100,000) are merged into runs at load
// time (src/loader/data-runs.ts): the program's initial memory is byte for byte what the segments
// make natively, the image keeps a few runs, and memory.init / data.drop of a merged segment's
// index behave as natively (it is dropped). Segments out of order, overlapping or next to a
// passive one keep their meaning.
import { describe, expect, it } from "vitest";
import { COALESCE_MAX_GAP, COALESCE_MIN_SEGMENTS, coalesceSegments } from "../../src/loader/data-runs.ts";
import { testMachine } from "../helpers/test-host.ts";
import { watToBinary } from "./wat.ts";

const SEGMENTS = 300;
const AREA = 3 * 4096; // the bytes the checksum reads: three pages from 1024

/** Segment i: 1-5 bytes at a growing offset, gaps of 0 to COALESCE_MAX_GAP + 20 (some too wide to merge). */
function layout(descending: boolean): Array<{ offset: number; bytes: number[] }> {
  const segments: Array<{ offset: number; bytes: number[] }> = [];
  let at = 1024;
  for (let i = 0; i < SEGMENTS; i++) {
    const bytes = Array.from({ length: 1 + (i % 5) }, (_, k) => (i * 7 + k * 13 + 1) & 0xff);
    segments.push({ offset: at, bytes });
    at += bytes.length + ((i * 11) % (COALESCE_MAX_GAP + 21));
  }
  if (!descending) return segments;
  // Out of order and overlapping: the later segment must win where they overlap.
  return [...segments.reverse(), { offset: 1030, bytes: [0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee] }];
}

const hex = (bytes: number[]) => bytes.map((b) => `\\${b.toString(16).padStart(2, "0")}`).join("");

function moduleText(segments: Array<{ offset: number; bytes: number[] }>, passive: boolean): string {
  return `(module
  (memory 4 4)
  ${segments.map((s) => `(data (i32.const ${s.offset}) "${hex(s.bytes)}")`).join("\n  ")}
  ${passive ? `(data $p "\\01\\02\\03")` : ""}
  ;; A checksum of the data area, position-weighted, so that any byte out of place shows.
  (func (export "sum") (result i64) (local $i i32) (local $s i64)
    (loop $l
      (local.set $s (i64.add (local.get $s) (i64.mul (i64.extend_i32_u (i32.load8_u offset=1024 (local.get $i))) (i64.extend_i32_u (i32.add (local.get $i) (i32.const 1))))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const ${AREA}))))
    (local.get $s))
  ;; memory.init of an active segment, dropped since instantiation: a trap for one byte.
  (func (export "init-active") (result i64) (memory.init 7 (i32.const 0) (i32.const 0) (i32.const 1)) (i64.const 0))
  ;; ... and of none, a no-op; data.drop of it too.
  (func (export "init-active-empty") (result i64) (memory.init ${SEGMENTS - 1} (i32.const 0) (i32.const 0) (i32.const 0)) (data.drop ${SEGMENTS - 1}) (i64.const 1))
  ${passive ? `(func (export "init-passive") (result i64) (memory.init $p (i32.const 15000) (i32.const 1) (i32.const 2)) (i64.load16_u (i32.const 15000)))` : ""}
)`;
}

function native(bytes: Uint8Array<ArrayBuffer>, entry: string): { value?: bigint; trapped?: boolean } {
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes));
  try {
    return { value: (instance.exports[entry] as () => bigint)() };
  } catch (error) {
    if (error instanceof WebAssembly.RuntimeError) return { trapped: true };
    throw error;
  }
}

async function underDogma(bytes: Uint8Array<ArrayBuffer>, entries: string[]): Promise<{ segments: number; results: Array<{ value?: bigint; trapped?: boolean }> }> {
  const t = testMachine();
  const image = await t.loader.load(bytes, "data-runs");
  const results = [];
  for (const entry of entries) {
    const process = t.kernel.spawn(image, { entry, mapImage: false });
    await t.kernel.run();
    const outcome = process.outcome as { kind: string };
    results.push(outcome.kind === "exited" ? { value: process.returnValue as bigint } : { trapped: true });
  }
  return { segments: image.segments.length, results };
}

describe("data segments merged into runs", () => {
  it("give the initial memory the segments give natively, in a few runs; memory.init and data.drop of a merged index as natively", async () => {
    const bytes = watToBinary(moduleText(layout(false), false));
    const entries = ["sum", "init-active", "init-active-empty"];
    const { segments, results } = await underDogma(bytes, entries);
    expect(results).toEqual(entries.map((e) => native(bytes, e)));
    expect(results[1]).toEqual({ trapped: true });
    // Gaps over COALESCE_MAX_GAP start a new run: a run for every such gap, plus one.
    const wide = layout(false).filter((s, i, all) => i > 0 && s.offset - (all[i - 1]!.offset + all[i - 1]!.bytes.length) > COALESCE_MAX_GAP).length;
    expect(segments).toBe(wide + 1);
    expect(segments).toBeLessThan(SEGMENTS / 4);
  });

  it("out of order and overlapping: merged only where they touch, the later one winning", async () => {
    const bytes = watToBinary(moduleText(layout(true), false));
    const { segments, results } = await underDogma(bytes, ["sum"]);
    expect(results).toEqual([native(bytes, "sum")]);
    expect(segments).toBeGreaterThan(1);
  });

  it("are left as they are in a module with a passive segment, whose indices matter", async () => {
    const bytes = watToBinary(moduleText(layout(false), true));
    const entries = ["sum", "init-active", "init-passive"];
    const { segments, results } = await underDogma(bytes, entries);
    expect(results).toEqual(entries.map((e) => native(bytes, e)));
    expect(segments).toBe(SEGMENTS + 1);
  });

  it("are left as they are below COALESCE_MIN_SEGMENTS; the gap is written as zeros", () => {
    const few = Array.from({ length: COALESCE_MIN_SEGMENTS - 1 }, (_, i) => ({ offset: i * 4, data: new Uint8Array([i + 1, i + 1]) }));
    expect(coalesceSegments(few)).toBe(few);
    const many = Array.from({ length: COALESCE_MIN_SEGMENTS }, (_, i) => ({ offset: i * 4, data: new Uint8Array([i + 1, i + 1]) }));
    const [run, ...rest] = coalesceSegments(many);
    expect(rest).toEqual([]);
    expect(run!.offset).toBe(0);
    expect([...run!.data.subarray(0, 8)]).toEqual([1, 1, 0, 0, 2, 2, 0, 0]);
    expect(run!.data.length).toBe(COALESCE_MIN_SEGMENTS * 4 - 2);
  });
});
