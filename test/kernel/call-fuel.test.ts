/**
 * The kernel's work in a call is charged to the caller's fuel, so that its next safe point looks
 * at the clock (redteam13): page-table updates (a Region of 30,000 pages sent to its owner's own
 * Receiver and received back made 60,000 updates, 47 ms, a round for a few units of fuel, and 200
 * rounds ran 9.4 s without one look at the clock: no other process ran meanwhile), and a Page's
 * walks over its mappings (1.8 ms a PAGE_MAP at 40,000).
 */
import { beforeEach, expect, it } from "vitest";
import { ALL_RIGHTS, CAP_MOVE, Op, Rights } from "../../src/kernel/caps/object-abi.ts";
import { FUEL_PER_CHECK } from "../../src/kernel/constants.ts";
import { testMachine } from "../helpers/test-host.ts";
import { invokeOp, receiverWithSend, wat } from "../helpers/wat.ts";

const BUF = 4096;
// `go(pages, n)`: a Region of `pages`, moved to its own Receiver and received back n times; the rounds done.
const pingPong = wat(`(module
  (import "dogma" "invoke" (func $invoke (param i32 i32 i32) (result i32)))
  (memory 1)
  ${invokeOp(BUF)}
  (func (export "go") (param $pages i32) (param $n i32) (result i32)
    (local $i i32) (local $receiver i32) (local $send i32) (local $region i32)
    ${receiverWithSend(BUF)}
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

// `go(n)`: maps one Page of its own at n addresses, one call each; the calls that succeeded.
const mapper = wat(`(module
  (import "dogma" "invoke" (func $invoke (param i32 i32 i32) (result i32)))
  (memory 1 4096)
  ${invokeOp(BUF)}
  (func (export "go") (param $n i32) (result i32)
    (local $i i32) (local $page i32)
    (drop (memory.grow (i32.const 1000)))
    (drop (call $op (i32.const 2) (i32.const ${Op.MEMORY_CREATE_PAGE}) (i32.const 0) (i32.const 0)))
    (local.set $page (i32.load (i32.const ${BUF + 20})))
    (block $out (loop $again
      (br_if $out (i32.ge_u (local.get $i) (local.get $n)))
      (i32.store (i32.const ${BUF + 20}) (i32.add (i32.const 0x100000) (i32.mul (local.get $i) (i32.const 4096))))
      (i32.store (i32.const ${BUF + 24}) (i32.const 0))
      (br_if $out (i32.lt_s (call $op (local.get $page) (i32.const ${Op.PAGE_MAP}) (i32.const 2) (i32.const 0)) (i32.const 0)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $again)))
    (local.get $i)))`);

/** The kernel's looks at the clock (its safe point's slow path: the plain import's check, which every one calls first) from now on. */
let looks = 0;
function countLooks(kernel: object): void {
  const spied = kernel as { safePointCheck: (...args: unknown[]) => unknown };
  const check = spied.safePointCheck.bind(kernel);
  spied.safePointCheck = (...args: unknown[]) => {
    looks++;
    return check(...args);
  };
}
beforeEach(() => {
  looks = 0;
});

it("charges a PAGE_MAP the mappings of its Page it walks", async () => {
  const t = testMachine({ memory: 64 << 20 });
  countLooks(t.kernel);
  const maps = 3000;
  const process = t.kernel.spawn(await t.loader.load(mapper, "mapper"), { entry: "go", entryArgs: [maps], caps: [t.kernel.capability(t.kernel.memoryObject(400), ALL_RIGHTS)] });
  await t.kernel.run();
  expect(process.returnValue).toBe(maps);
  // About maps²/2 mappings walked in all: a look every FUEL_PER_CHECK of them (without: 1 at most).
  expect(looks).toBeGreaterThanOrEqual(Math.floor((maps * maps) / 2 / FUEL_PER_CHECK / 2));
});

it("charges a call the page-table updates it made, so that a Region moved back and forth cannot keep the clock unread", async () => {
  const t = testMachine({ memory: 64 << 20 });
  // Each round sends the Region (its range unmapped) and receives it (mapped again): 2 updates a page.
  const pages = FUEL_PER_CHECK / 2;
  const rounds = 12;
  countLooks(t.kernel);
  const process = t.kernel.spawn(await t.loader.load(pingPong, "ping-pong"), { entry: "go", entryArgs: [pages, rounds], caps: [t.kernel.capability(t.kernel.memoryObject(pages + 200), ALL_RIGHTS)] });
  await t.kernel.run();
  expect(process.returnValue).toBe(rounds);
  // A look at the clock at least every round (without the charge: none at all, 1 at most).
  expect(looks).toBeGreaterThanOrEqual(rounds);
});
