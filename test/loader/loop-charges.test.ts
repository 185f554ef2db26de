// A loop's safe point charges fuel for the longest path one iteration can run (loop-paths.ts), and
// a function's entry for the longest path outside its loops, not for the whole body: an if/else charges its longer branch, a switch its longest case. It never
// charges less than a path really runs: straight-line code and code after a block an inner loop
// branches out to are counted. The fuel spent is told by the safe point's slow path, which the
// kernel enters once every FUEL_PER_CHECK units: counted, as bench/slow-paths.ts counts it.
import { describe, expect, it } from "vitest";
import { CODE_BYTES_PER_FUEL, FUEL_PER_CHECK } from "../../src/kernel/constants.ts";
import type { ImportObject } from "../../src/kernel/imports.ts";
import { MMU_MODULE } from "../../src/kernel/mmu-abi.ts";
import type { RewriteVariant } from "../../src/loader/output-layout.ts";
import { testMachine } from "../helpers/test-host.ts";
import { watToBinary } from "./wat.ts";

/** `n` dependent steps of 7 bytes each (local.get, i32.const, i32.xor, local.set: 2 + 2 + 1 + 2). */
const steps = (n: number): string => Array.from({ length: n }, () => "(local.set $x (i32.xor (local.get $x) (i32.const 5)))").join(" ");
const STEP_BYTES = 7;
const LONG = 300; // 2100 bytes: about 33 units of fuel
const ROUNDS = 6000;

const wat = `(module
  (memory 1 1)
  ;; Each round runs one arm of an if/else, the arms alike and long.
  (func (export "branches") (result i32) (local $i i32) (local $x i32)
    (loop $again
      (if (i32.and (local.get $i) (i32.const 1))
        (then ${steps(LONG)})
        (else ${steps(LONG)}))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $again (i32.lt_u (local.get $i) (i32.const ${ROUNDS}))))
    (local.get $x))
  ;; A switch: each round runs one of four long cases.
  (func (export "switch") (result i32) (local $i i32) (local $x i32)
    (loop $again
      (block $done
        (block $c3 (block $c2 (block $c1 (block $c0
          (br_table $c0 $c1 $c2 $c3 (i32.and (local.get $i) (i32.const 3))))
          ${steps(LONG)} (br $done))
          ${steps(LONG)} (br $done))
          ${steps(LONG)} (br $done))
          ${steps(LONG)})
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $again (i32.lt_u (local.get $i) (i32.const ${ROUNDS}))))
    (local.get $x))
  ;; Straight-line: the whole body is the path.
  (func (export "straight") (result i32) (local $i i32) (local $x i32)
    (loop $again
      ${steps(LONG)}
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $again (i32.lt_u (local.get $i) (i32.const ${ROUNDS}))))
    (local.get $x))
  ;; A function whose body is an if/else of two long arms, called from a loop: its entry charges one arm.
  (func $arms (param $i i32) (param $x i32) (result i32)
    (if (i32.and (local.get $i) (i32.const 1))
      (then ${steps(LONG)})
      (else ${steps(LONG)}))
    (local.get $x))
  (func (export "calls") (result i32) (local $i i32) (local $x i32)
    (loop $again
      (local.set $x (call $arms (local.get $i) (local.get $x)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $again (i32.lt_u (local.get $i) (i32.const ${ROUNDS}))))
    (local.get $x))
  ;; An inner loop leaves at once for the end of a block of the outer loop's body, after which the
  ;; outer iteration runs long code: the outer loop's path counts it.
  (func (export "escape") (result i32) (local $i i32) (local $x i32)
    (loop $outer
      (block $out
        (loop $inner
          (br_if $out (i32.const 1))
          (br $inner)))
      ${steps(LONG)}
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $outer (i32.lt_u (local.get $i) (i32.const ${ROUNDS}))))
    (local.get $x)))`;

/** The fuel a run of `entry` spent, to within FUEL_PER_CHECK: the safe point's slow paths it took, counted. */
async function fuelSpent(entry: string, variant: RewriteVariant = {}): Promise<number> {
  const t = testMachine({ loader: { rewrite: variant } });
  const kernel = t.kernel;
  const imports = (kernel as unknown as { imports: ImportObject }).imports;
  const forProcess = imports.forProcess.bind(imports);
  let slowPaths = 0;
  imports.forProcess = (tlbBase, home) => {
    const object = forProcess(tlbBase, home);
    const source = object[MMU_MODULE] as Record<string, unknown>;
    const mmu: Record<string, unknown> = {};
    for (const name in source) mmu[name] = source[name];
    mmu.safe_point = new WebAssembly.Suspending(() => {
      slowPaths++;
      return kernel.safePoint(kernel.current(), FUEL_PER_CHECK);
    });
    const counted = Object.create(object) as Record<string, unknown>;
    counted[MMU_MODULE] = mmu;
    return counted as WebAssembly.Imports;
  };
  const image = await t.loader.load(watToBinary(wat), "loop-charges");
  const p = kernel.spawn(image, { entry, mapImage: false });
  await kernel.run();
  expect(p.outcome).toEqual({ kind: "exited", code: 0 });
  return slowPaths * FUEL_PER_CHECK;
}

const units = (bytes: number): number => bytes / CODE_BYTES_PER_FUEL;

describe("a loop's safe point", () => {
  it("charges an if/else for one arm, not both", async () => {
    const spent = await fuelSpent("branches");
    expect(spent).toBeGreaterThan(ROUNDS * units(LONG * STEP_BYTES) - FUEL_PER_CHECK);
    expect(spent).toBeLessThan(ROUNDS * units(1.2 * LONG * STEP_BYTES));
    // The whole body, as before: about twice as much.
    expect(await fuelSpent("branches", { loopPaths: false })).toBeGreaterThan(ROUNDS * units(2 * LONG * STEP_BYTES) - FUEL_PER_CHECK);
  });

  it("charges a switch for its longest case, not all four", async () => {
    const spent = await fuelSpent("switch");
    expect(spent).toBeGreaterThan(ROUNDS * units(LONG * STEP_BYTES) - FUEL_PER_CHECK);
    expect(spent).toBeLessThan(ROUNDS * units(1.2 * LONG * STEP_BYTES));
    expect(await fuelSpent("switch", { loopPaths: false })).toBeGreaterThan(ROUNDS * units(4 * LONG * STEP_BYTES) - FUEL_PER_CHECK);
  });

  it("at a function's entry charges its longer arm, not both", async () => {
    const spent = await fuelSpent("calls");
    expect(spent).toBeGreaterThan(ROUNDS * units(LONG * STEP_BYTES) - FUEL_PER_CHECK);
    expect(spent).toBeLessThan(ROUNDS * units(1.2 * LONG * STEP_BYTES));
    expect(await fuelSpent("calls", { loopPaths: false })).toBeGreaterThan(ROUNDS * units(2 * LONG * STEP_BYTES) - FUEL_PER_CHECK);
  });

  it("charges straight-line code for all of it", async () => {
    expect(await fuelSpent("straight")).toBeGreaterThan(ROUNDS * units(LONG * STEP_BYTES) - FUEL_PER_CHECK);
  });

  it("charges the code after a block an inner loop branches out to", async () => {
    expect(await fuelSpent("escape")).toBeGreaterThan(ROUNDS * units(LONG * STEP_BYTES) - FUEL_PER_CHECK);
  });
});
