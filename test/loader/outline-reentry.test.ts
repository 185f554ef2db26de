// An outlined loop really leaves and is called again at run time (docs/LOADER.md "Loops moved out of
// functions called once"), not only in the code's shape (outline.test.ts): a loop that runs over
// many refills of its fuel, watched at every safe point's call into the kernel.
//
// What shows a return and a new call: when the kernel gives the loop fuel back, its outlined
// function G branches out of the loop and returns to main, whose dispatch calls G again; G's entry
// spends 1 unit and its header the loop's charge. So a refill of 1 unit (given by the hook below
// for a few calls) brings the loop straight back to its header's safe point without running an
// iteration: the progress the loop stores each time round stays where it was. The only way from
// that safe point back to it without an iteration is out of G and into it again. Not outlined,
// the same refills let an iteration or two run between two calls (as many as 1 unit pays for), which
// the test checks too: the observation tells the two apart.
import { describe, expect, it } from "vitest";
import { FUEL_PER_CHECK } from "../../src/kernel/constants.ts";
import { captureFrames, type Frame } from "../../src/kernel/debug-frames.ts";
import { functionTable } from "../../src/kernel/debug-functions.ts";
import type { RewriteVariant } from "../../src/loader/output-layout.ts";
import { hookMmu } from "../helpers/mmu-hooks.ts";
import { testMachine } from "../helpers/test-host.ts";
import { watToBinary } from "./wat.ts";

const PROGRESS = 0x10000;
const ROUNDS = 300_000;
const PROGRAM = watToBinary(
  `(module
    (memory 2)
    (func $main (result i32)
      (local $i i32) (local $h i32)
      (loop $spin
        (local.set $h (i32.add (i32.mul (local.get $h) (i32.const 31)) (i32.xor (local.get $i) (i32.shr_u (local.get $h) (i32.const 7)))))
        (i32.store (i32.const ${PROGRESS}) (local.get $i))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $spin (i32.lt_u (local.get $i) (i32.const ${ROUNDS}))))
      (local.get $h))
    (func (export "_start") (result i32) (call $main)))`,
  { what: "re-entry program", names: true },
);

/** The calls (by their order) at which the hook gives back 1 unit of fuel instead of the kernel's refill. */
const SMALL_REFILLS = [5, 6, 7, 8, 9];

interface Call {
  readonly frames: Frame[];
  readonly progress: number;
}

async function watched(rewrite: RewriteVariant): Promise<{ calls: Call[]; result: unknown; name: (engineIndex: number) => string }> {
  const t = testMachine({ loader: { rewrite } });
  const kernel = t.kernel;
  const calls: Call[] = [];
  hookMmu(
    kernel,
    /^$/,
    (_, original) => original,
    () => {
      const process = kernel.current();
      const progress = new DataView(process.space.read(PROGRESS, 4).buffer).getUint32(0, true);
      calls.push({ frames: captureFrames().frames, progress });
      return SMALL_REFILLS.includes(calls.length - 1) ? 1 : kernel.safePoint(process, FUEL_PER_CHECK);
    },
  );
  const image = await t.loader.load(PROGRAM, "re-entry program");
  const table = functionTable(image);
  const process = kernel.spawn(image, { entry: "_start", mapImage: false });
  await kernel.run();
  expect(process.outcome).toEqual({ kind: "exited", code: 0 });
  const name = (engineIndex: number) => (table.outlined(engineIndex) ? `${table.name(table.original(engineIndex))} (outlined)` : table.name(table.original(engineIndex)));
  // The safe point's call comes through the loader's helper (dogma$safe_point_or_wait): the frames below it are the program's.
  const program = calls.map((call) => ({ ...call, frames: call.frames.filter((frame) => !table.safePointHelper(frame.function)) }));
  return { calls: program, result: process.returnValue, name };
}

describe("an outlined loop at run time", () => {
  const native = (new WebAssembly.Instance(new WebAssembly.Module(PROGRAM)).exports["_start"] as () => number)();

  it("returns to its function when the kernel gives it fuel, and is called again, over many refills, to the native result", async () => {
    const { calls, result, name } = await watched({});
    expect(result).toBe(native);
    // The loop ran over many refills, each of its calls into the kernel from the outlined function's
    // header, with main below it at its dispatch's call.
    expect(calls.length).toBeGreaterThan(30);
    const header = calls[2]!.frames;
    expect(name(header[0]!.function)).toBe("main (outlined)");
    expect(name(header[1]!.function)).toBe("main");
    for (const call of calls.slice(1)) expect(call.frames.slice(0, 2)).toEqual(header.slice(0, 2));
    // After each refill of 1 unit: no iteration ran before the header called again (left, and
    // entered anew); after the kernel's own refills, thousands did.
    for (const k of SMALL_REFILLS) expect(calls[k + 1]!.progress, `call ${k + 1}`).toBe(calls[k]!.progress);
    expect(calls[4]!.progress - calls[3]!.progress).toBeGreaterThan(1000);
    expect(calls.at(-1)!.progress).toBeGreaterThan(ROUNDS - FUEL_PER_CHECK);
  });

  it("not outlined, the same refills let iterations run between two calls (what the test above tells apart)", async () => {
    const { calls, result, name } = await watched({ outline: "none" });
    expect(result).toBe(native);
    expect(name(calls[2]!.frames[0]!.function)).toBe("main");
    for (const k of SMALL_REFILLS) expect(calls[k + 1]!.progress - calls[k]!.progress, `call ${k + 1}`).toBeGreaterThan(0);
  });
});
