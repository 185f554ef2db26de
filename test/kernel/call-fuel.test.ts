/**
 * The kernel's work in a call is charged to the caller's fuel, so that its next safe point looks
 * at the clock: page-table updates (redteam13). A Region of 30,000 pages sent to its owner's own
 * Receiver and received back made 60,000 updates (47 ms) a round for a few units of fuel, and 200
 * rounds ran 9.4 s without one look at the clock: no other process ran meanwhile.
 */
import { expect, it } from "vitest";
import { ALL_RIGHTS, CAP_MOVE, Op, Rights } from "../../src/kernel/caps/object-abi.ts";
import { FUEL_PER_CHECK } from "../../src/kernel/constants.ts";
import { testMachine } from "../helpers/test-host.ts";
import { invokeOp, wat } from "../helpers/wat.ts";

const BUF = 4096;
// `go(pages, n)`: a Region of `pages`, moved to its own Receiver and received back n times; the rounds done.
const pingPong = wat(`(module
  (import "dogma" "invoke" (func $invoke (param i32 i32 i32) (result i32)))
  (memory 1)
  ${invokeOp(BUF)}
  (func (export "go") (param $pages i32) (param $n i32) (result i32)
    (local $i i32) (local $receiver i32) (local $send i32) (local $region i32)
    (i32.store (i32.const ${BUF + 20}) (i32.const 0))
    (drop (call $op (i32.const 2) (i32.const ${Op.MEMORY_CREATE_RECEIVER}) (i32.const 1) (i32.const 0)))
    (local.set $receiver (i32.load (i32.const ${BUF + 20})))
    (i32.store (i32.const ${BUF + 20}) (i32.const 7))
    (i32.store (i32.const ${BUF + 24}) (i32.const ${Rights.RECEIVER_SEND}))
    (drop (call $op (local.get $receiver) (i32.const ${Op.RECEIVER_MINT}) (i32.const 2) (i32.const 0)))
    (local.set $send (i32.load (i32.const ${BUF + 20})))
    (drop (call $op (i32.const 1) (i32.const ${Op.PROCESS_LISTEN}) (i32.const 1) (i32.const 0)))
    (i32.store (i32.const ${BUF + 20}) (local.get $pages))
    (i32.store (i32.const ${BUF + 24}) (i32.const 0))
    (if (i32.lt_s (call $op (i32.const 2) (i32.const ${Op.MEMORY_CREATE_REGION}) (i32.const 2) (i32.const 0)) (i32.const 0)) (then (return (i32.const -1))))
    (local.set $region (i32.load (i32.const ${BUF + 20})))
    (block $out (loop $again
      (br_if $out (i32.ge_u (local.get $i) (local.get $n)))
      (i32.store (i32.const ${BUF + 20}) (i32.or (local.get $region) (i32.const ${CAP_MOVE})))
      (if (i32.lt_s (call $op (local.get $send) (i32.const 5) (i32.const 0) (i32.const 1)) (i32.const 0)) (then (return (i32.const -2))))
      (i32.store (i32.const ${BUF + 20}) (i32.const -1))
      (i32.store (i32.const ${BUF + 24}) (i32.const -1))
      (if (i32.lt_s (call $op (local.get $receiver) (i32.const ${Op.RECEIVER_RECEIVE}) (i32.const 2) (i32.const 0)) (i32.const 0)) (then (return (i32.const -3))))
      (local.set $region (i32.load (i32.const ${BUF + 20})))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $again)))
    (local.get $i)))`);

it("charges a call the page-table updates it made, so that a Region moved back and forth cannot keep the clock unread", async () => {
  const t = testMachine({ memory: 64 << 20 });
  // Each round sends the Region (its range unmapped) and receives it (mapped again): 2 updates a page.
  const pages = FUEL_PER_CHECK / 2;
  const rounds = 12;
  const kernel = t.kernel as unknown as { safePoint: (...args: unknown[]) => unknown };
  const safePoint = kernel.safePoint.bind(t.kernel);
  let looks = 0;
  kernel.safePoint = (...args: unknown[]) => {
    looks++;
    return safePoint(...args);
  };
  const process = t.kernel.spawn(await t.loader.load(pingPong, "ping-pong"), { entry: "go", entryArgs: [pages, rounds], caps: [t.kernel.capability(t.kernel.memoryObject(pages + 200), ALL_RIGHTS)] });
  await t.kernel.run();
  expect(t.kernel.returnValues.get(process.pid)).toBe(rounds);
  // A look at the clock at least every round (without the charge: none at all, 1 at most).
  expect(looks).toBeGreaterThanOrEqual(rounds);
});
