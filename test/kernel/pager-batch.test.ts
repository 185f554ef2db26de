/**
 * A pager that takes several pages a message (KERNEL_SET_PAGER's batch): page-outs go several to a
 * PAGE_OUT in one Region, and a page-in asks for the touched page's paged-out neighbours with it,
 * one PAGE_IN answered by one Region. A pager written in WebAssembly keeps each slot's ciphertext
 * in its own memory. An honest one carries a workload of several times physical memory with far
 * fewer messages than pages; a lying one (a Region larger than asked, neighbours altered, an
 * answer given twice) is refused page by page, and the workload still ends right; one that
 * alters the touched page itself ends that process with `page-integrity`, as before; one that dies
 * holding a request for several pages and is restarted (empty: it kept its pages in memory) ends
 * the workload right or with `page-integrity`, never with a wrong byte, and the next one runs right.
 */
import { describe, expect, it } from "vitest";
import { CAP_MOVE, KernelMessage, Op, Rights } from "../../src/kernel/caps/object-abi.ts";
import { PAGER_BATCH_MAX } from "../../src/kernel/caps/pager-request.ts";
import { Receiver } from "../../src/kernel/caps/receiver.ts";
import { Status } from "../../src/kernel/errors.ts";
import { PagerChannel } from "../../src/kernel/pager-channel.ts";
import { PinLevel } from "../../src/kernel/paging.ts";
import { patience } from "../helpers/patience.ts";
import { testMachine } from "../helpers/test-host.ts";
import { wat } from "../helpers/wat.ts";
import { PAGE_SWEEP, sweepSum } from "../helpers/page-sweep.ts";

/** Store slots: the pager keeps slot s at 0x100000 + s * 4096, so the store must stay below this. */
const STORE_PAGES = 1024;

type Lies = "none" | "neighbours" | "touched" | "dies" | "short";

/**
 * The pager: slot 2 its requests, slot 3 a Memory for the Regions of page-ins. "neighbours": each
 * page-in is first answered with a Region one page larger than asked (it traps unless the kernel
 * refuses that), then with page 1 (the first neighbour) altered, then once more (it traps unless
 * the kernel refuses the second answer). "touched": page 0, the page a process waits for, altered.
 * "short": answers every page-in with the touched page alone (a Region of one page).
 * "dies": traps on its 20th page-in of several pages, that request unanswered (and everything it
 * stored lost with its memory).
 */
const pager = (lies: Lies) => wat(`(module
  (import "dogma" "invoke" (func $invoke (param i32 i32 i32) (result i32)))
  (memory 80)
  (func $call (param $cap i32) (param $label i32) (param $n i32) (param $c i32) (result i32)
    (i32.store (i32.const 0x3000) (local.get $label))
    (i32.store (i32.const 0x3004) (local.get $n))
    (i32.store (i32.const 0x3008) (local.get $c))
    (i32.store (i32.const 0x300c) (i32.const 0))
    (i32.store (i32.const 0x3010) (i32.const 0))
    (call $invoke (local.get $cap) (i32.const 0x3000) (i32.const 292)))
  (func $slot (param $s i32) (result i32)
    (i32.add (i32.const 0x100000) (i32.shl (i32.and (local.get $s) (i32.const ${STORE_PAGES - 1})) (i32.const 12))))
  (func $address (param $region i32) (result i32)
    (if (i32.lt_s (call $call (local.get $region) (i32.const ${Op.REGION_INFO}) (i32.const 0) (i32.const 0)) (i32.const 0)) (then unreachable))
    (i32.load (i32.const 0x3014)))
  (func $region (param $pages i32) (result i32)
    (i32.store (i32.const 0x3014) (local.get $pages))
    (i32.store (i32.const 0x3018) (i32.const 0))
    (if (i32.lt_s (call $call (i32.const 3) (i32.const ${Op.MEMORY_CREATE_REGION}) (i32.const 2) (i32.const 0)) (i32.const 0)) (then unreachable))
    (i32.load (i32.add (i32.const 0x3014) (i32.shl (i32.load (i32.const 0x3004)) (i32.const 2)))))
  (func $done (param $request i32) (param $region i32) (result i32)
    (i32.store (i32.const 0x3014) (i32.const 0))
    (i32.store (i32.const 0x3018) (i32.or (local.get $region) (i32.const ${CAP_MOVE})))
    (call $call (local.get $request) (i32.const ${Op.PAGER_DONE}) (i32.const 1) (if (result i32) (local.get $region) (then (i32.const 1)) (else (i32.const 0)))))
  (func $drop (param $cap i32)
    (drop (call $call (local.get $cap) (i32.const ${Op.CAP_DROP}) (i32.const 0) (i32.const 0))))
  (global $pageIns (mut i32) (i32.const 0))
  (func (export "run") (local $n i32) (local $caps i32) (local $i i32) (local $at i32) (local $r i32) (local $request i32)
    ;; Its store's frames taken now, before the machine is short: they are never evicted (pinned).
    (memory.fill (i32.const 0x100000) (i32.const 0) (i32.const ${STORE_PAGES * 4096}))
    (i32.store (i32.const 0x3014) (i32.const 1))
    (if (call $call (i32.const 1) (i32.const ${Op.PROCESS_LISTEN}) (i32.const 1) (i32.const 0)) (then unreachable))
    (loop $next
      (i32.store (i32.const 0x2000) (i32.const ${Op.RECEIVER_RECEIVE}))
      (i32.store (i32.const 0x2004) (i32.const 0))
      (i32.store (i32.const 0x2008) (i32.const 0))
      (i32.store (i32.const 0x200c) (i32.const 0))
      (if (i32.lt_s (call $invoke (i32.const 2) (i32.const 0x2000) (i32.const 292)) (i32.const 0)) (then unreachable))
      ;; words: (space, page, slot) a page; then the capabilities.
      (local.set $n (i32.div_u (i32.load (i32.const 0x2004)) (i32.const 3)))
      (local.set $caps (i32.add (i32.const 0x2014) (i32.shl (i32.load (i32.const 0x2004)) (i32.const 2))))
      (if (i32.eq (i32.load (i32.const 0x2000)) (i32.const ${KernelMessage.PAGE_OUT}))
        (then
          ;; caps: the Region (page i: the i-th slot's ciphertext), the request.
          (local.set $at (call $address (i32.load (local.get $caps))))
          (local.set $i (i32.const 0))
          (block $copied (loop $copy
            (br_if $copied (i32.ge_u (local.get $i) (local.get $n)))
            (memory.copy (call $slot (i32.load offset=0x201c (i32.mul (local.get $i) (i32.const 12)))) (i32.add (local.get $at) (i32.shl (local.get $i) (i32.const 12))) (i32.const 4096))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $copy)))
          (call $drop (i32.load (local.get $caps)))
          (if (call $done (i32.load offset=4 (local.get $caps)) (i32.const 0)) (then unreachable))))
      (if (i32.eq (i32.load (i32.const 0x2000)) (i32.const ${KernelMessage.PAGE_IN}))
        (then
          (local.set $request (i32.load (local.get $caps)))
          ${lies === "dies" ? `(if (i32.ge_u (local.get $n) (i32.const 2)) (then
            (global.set $pageIns (i32.add (global.get $pageIns) (i32.const 1)))
            (if (i32.eq (global.get $pageIns) (i32.const 20)) (then unreachable))))` : ""}
          ${lies === "neighbours" ? `;; One page more than asked: refused, the Region stays here.
          (local.set $r (call $region (i32.add (local.get $n) (i32.const 1))))
          (if (i32.ne (call $done (local.get $request) (local.get $r)) (i32.const ${Status.E_INVALID_ARGUMENT})) (then unreachable))
          (call $drop (local.get $r))` : ""}
          ${lies === "short" ? "(local.set $n (i32.const 1))" : ""}
          (local.set $r (call $region (local.get $n)))
          (local.set $at (call $address (local.get $r)))
          (local.set $i (i32.const 0))
          (block $copied (loop $copy
            (br_if $copied (i32.ge_u (local.get $i) (local.get $n)))
            (memory.copy (i32.add (local.get $at) (i32.shl (local.get $i) (i32.const 12))) (call $slot (i32.load offset=0x201c (i32.mul (local.get $i) (i32.const 12)))) (i32.const 4096))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $copy)))
          ${lies === "neighbours" ? `(if (i32.ge_u (local.get $n) (i32.const 2)) (then
            (i32.store8 offset=4196 (local.get $at) (i32.xor (i32.load8_u offset=4196 (local.get $at)) (i32.const 1)))))` : ""}
          ${lies === "touched" ? `(i32.store8 offset=100 (local.get $at) (i32.xor (i32.load8_u offset=100 (local.get $at)) (i32.const 1)))` : ""}
          (if (call $done (local.get $request) (local.get $r)) (then unreachable))
          ${lies === "neighbours" ? `;; Answered twice: the request is used up.
          (if (i32.ge_s (call $done (local.get $request) (i32.const 0)) (i32.const 0)) (then unreachable))` : ""}))
      (br $next)))
  (func (export "_start")))`);

/** A 32 MiB machine paging early (300 frames short once the pager has its store) through the pager, `batch` pages a message; what went in each message. */
async function pagingThrough(lies: Lies, batch: number) {
  const t = testMachine({ memory: 32 << 20 });
  const k = t.kernel;
  const receiver = new Receiver(1024);
  k.rootMemory.adopt(receiver, 64);
  const pagerMemory = k.memoryObject(6000);
  const caps = [k.capability(receiver, Rights.RECEIVER_RECEIVE), k.capability(pagerMemory, Rights.MEMORY_CREATE)];
  const pagerProcess = k.spawn(await t.loader.load(pager(lies), "pager"), { entry: "run", caps, priority: 1 });
  pagerProcess.pinLevel = PinLevel.PINNED;
  // Until it waits for its first request, its store touched.
  await k.run();
  const sent = { pageOuts: 0, pagesOut: 0, pageIns: 0, pagesIn: 0 };
  const kernelSend = k.ipc.kernelSend.bind(k.ipc);
  k.ipc.kernelSend = (through, label, words, moved) => {
    if (label === KernelMessage.PAGE_OUT) [sent.pageOuts, sent.pagesOut] = [sent.pageOuts + 1, sent.pagesOut + words.length / 3];
    if (label === KernelMessage.PAGE_IN) [sent.pageIns, sent.pagesIn] = [sent.pageIns + 1, sent.pagesIn + words.length / 3];
    return kernelSend(through, label, words, moved);
  };
  const lowWater = k.frames.freeCount - 300;
  k.enablePaging(new PagerChannel(k.ipc, k.services, k.capability(receiver, Rights.RECEIVER_SEND), pagerMemory, batch), { storePages: STORE_PAGES, lowWater, highWater: lowWater + 64 });
  const pages = 400;
  const worker = k.spawn(await t.loader.load(PAGE_SWEEP, "workload"), { entry: "run", entryArgs: [pages, 3] });
  await k.run();
  const result = { worker, pagerProcess, faults: t.faults, sum: worker.returnValue, right: sweepSum(pages, 3), sent, paging: k.paging! };
  k.kill(pagerProcess.pid);
  return result;
}

describe("a pager that takes several pages a message", () => {
  it("stores batches of page-outs and answers a page-in and its neighbours with one Region", async () => {
    const { worker, pagerProcess, faults, sum, right, sent, paging } = await pagingThrough("none", 16);
    expect([worker.fault, pagerProcess.fault, faults]).toEqual([null, null, []]);
    expect(sum).toBe(right);
    // Several pages a message both ways, and most page-ins mapped as a neighbour of another.
    expect(sent.pagesOut / sent.pageOuts).toBeGreaterThan(4);
    expect(sent.pagesIn / sent.pageIns).toBeGreaterThan(4);
    expect(paging.readAheadPages).toBeGreaterThan(paging.pageIns / 2);
    expect(paging.refusals).toBe(0);
  }, patience(120_000));

  it("that answers a Region larger than asked, alters neighbours and answers twice is refused page by page, and the workload ends right", async () => {
    const { worker, pagerProcess, faults, sum, right, paging } = await pagingThrough("neighbours", 16);
    // The pager traps if the kernel takes the larger Region or the second answer.
    expect([worker.fault, pagerProcess.fault, faults]).toEqual([null, null, []]);
    expect(sum).toBe(right);
    // Each altered neighbour failed authentication, stayed out, and came back right when touched.
    expect(paging.refusals).toBeGreaterThan(10);
    expect(paging.readAheadPages).toBeGreaterThan(0);
  }, patience(120_000));

  it("that alters the page a process waits for ends that process with page-integrity", async () => {
    const { worker, pagerProcess, sum } = await pagingThrough("touched", 16);
    expect(sum).toBe(undefined);
    expect(worker.fault).toMatchObject({ kind: "page-integrity" });
    expect(worker.fault!.message).toContain("fails authentication");
    expect(pagerProcess.fault).toBe(null);
  }, patience(120_000));

  it("that answers a page-in with fewer pages than asked has the rest asked for when touched", async () => {
    const { worker, pagerProcess, faults, sum, right, sent, paging } = await pagingThrough("short", 16);
    expect([worker.fault, pagerProcess.fault, faults]).toEqual([null, null, []]);
    expect(sum).toBe(right);
    // Neighbours were asked for, none came: each page came back on its own request.
    expect(sent.pagesIn / sent.pageIns).toBeGreaterThan(4);
    expect([paging.readAheadPages, paging.refusals]).toEqual([0, 0]);
  }, patience(120_000));

  it("that dies holding a request for several pages, restarted empty, never makes a process see a wrong byte nor takes the kernel down", async () => {
    const t = testMachine({ memory: 32 << 20 });
    const k = t.kernel;
    const receiver = new Receiver(1024);
    k.rootMemory.adopt(receiver, 64);
    const pagerMemory = k.memoryObject(6000);
    const startPager = async (lies: Lies) => {
      const caps = [k.capability(receiver, Rights.RECEIVER_RECEIVE), k.capability(pagerMemory, Rights.MEMORY_CREATE)];
      const started = k.spawn(await t.loader.load(pager(lies), "pager"), { entry: "run", caps, priority: 1 });
      started.pinLevel = PinLevel.PINNED;
      return started;
    };
    // Held here as init holds the channel it restarts the pager on, and the Memory the pager's
    // Regions come from: both outlive the pager.
    const held = [k.capability(receiver, Rights.RECEIVER_RECEIVE), k.capability(pagerMemory, Rights.MEMORY_CREATE)];
    const first = await startPager("dies");
    await k.run();
    const lowWater = k.frames.freeCount - 300;
    k.enablePaging(new PagerChannel(k.ipc, k.services, k.capability(receiver, Rights.RECEIVER_SEND), pagerMemory, 16), { storePages: STORE_PAGES, lowWater, highWater: lowWater + 64 });
    const worker = k.spawn(await t.loader.load(PAGE_SWEEP, "workload"), { entry: "run", entryArgs: [400, 3] });
    const running = k.run();
    // Restarted once it is gone: the request it held was disposed, and the kernel asks again.
    let ended = false;
    void running.then(() => (ended = true));
    while (first.alive && !ended) await new Promise((resolve) => setImmediate(resolve));
    expect(first.alive).toBe(false);
    const second = await startPager("none");
    // The scheduler may be idle, waiting for the pager: a process spawned from the host must be seen.
    t.machine.interrupts.poke();
    await running;
    expect(first.fault).toMatchObject({ kind: "unreachable" });
    // What the first pager held is lost: the workload ends right or with page-integrity, no other way.
    if (worker.fault) expect(worker.fault.kind).toBe("page-integrity");
    else expect(worker.returnValue).toBe(sweepSum(400, 3));
    expect(t.faults.filter((fault) => !fault.startsWith(`pager (pid ${first.pid})`))).toEqual(worker.fault ? [expect.stringContaining("page-integrity")] : []);
    // The kernel is all there: a new workload pages through the second pager to its result.
    const after = k.spawn(await t.loader.load(PAGE_SWEEP, "workload"), { entry: "run", entryArgs: [400, 3] });
    const again = k.run();
    await again;
    expect([second.fault, after.fault]).toEqual([null, null]);
    expect(after.returnValue).toBe(sweepSum(400, 3));
    k.kill(second.pid);
    for (const cap of held) cap.dispose();
  }, patience(120_000));

  it("is refused a batch larger than the kernel sends", async () => {
    const t = testMachine({ memory: 32 << 20 });
    const receiver = new Receiver(16);
    t.kernel.rootMemory.adopt(receiver, 64);
    const send = () => t.kernel.capability(receiver, Rights.RECEIVER_SEND);
    expect(() => new PagerChannel(t.kernel.ipc, t.kernel.services, send(), t.kernel.memoryObject(100), PAGER_BATCH_MAX + 1)).toThrow(/1 to 21/);
    expect(() => new PagerChannel(t.kernel.ipc, t.kernel.services, send(), t.kernel.memoryObject(100), 0)).toThrow(/1 to 21/);
  });
});
