/**
 * Paging through a pager process (KERNEL_SET_PAGER, PAGE_OUT, PAGE_IN, PAGER_DONE): a pager written
 * in WebAssembly keeps each slot's Region and hands it back on a page-in of that slot. A
 * workload of four times physical memory runs correctly through it; a pager that answers a page-in
 * with the wrong page's Region gets the faulting process torn down with `page-integrity`; a pager
 * that misbehaves at random (drops, fails, answers twice, fails page-outs, lies) never makes a
 * process see a wrong byte and never takes the kernel down.
 */
import { describe, expect, it } from "vitest";
import { CAP_MOVE, KernelMessage, Op, Rights } from "../../src/kernel/caps/object-abi.ts";
import { Receiver } from "../../src/kernel/caps/receiver.ts";
import { Status } from "../../src/kernel/errors.ts";
import { PagerChannel } from "../../src/kernel/pager-channel.ts";
import { PinLevel } from "../../src/kernel/paging.ts";
import { testMachine } from "../helpers/test-host.ts";
import { wat } from "../helpers/wat.ts";
import { PAGE_SWEEP, sweepSum } from "../helpers/page-sweep.ts";
import { patience } from "../helpers/patience.ts";

/**
 * The pager: slot 2 receives its requests. Table at 0x10000, 64 bytes per store slot (slot & 8191),
 * the Region's capability at offset 4. It keeps pages in memory (a real pager writes them to its
 * disk and drops the Region). With `swap`, a page-in answers with the Region of the next slot,
 * when it has one. With a `seed`, it misbehaves at random (xorshift): of 64 page-ins it drops one
 * unanswered, fails one, answers one twice and, if it `lies`, answers one with the next slot's
 * Region; of 64 page-outs it fails one, dropping the Region. A `sloppy` one first answers each
 * page-out without its status word, and traps unless the kernel refuses that (E_INVALID_ARGUMENT).
 */
const pager = (swap: boolean, seed = 0, lies = false, sloppy = false) => wat(`(module
  (import "dogma" "invoke" (func $invoke (param i32 i32 i32) (result i32)))
  (memory 10)
  (global $seed (mut i32) (i32.const ${seed}))
  (func $random (result i32)
    (global.set $seed (i32.xor (global.get $seed) (i32.shl (global.get $seed) (i32.const 13))))
    (global.set $seed (i32.xor (global.get $seed) (i32.shr_u (global.get $seed) (i32.const 17))))
    (global.set $seed (i32.xor (global.get $seed) (i32.shl (global.get $seed) (i32.const 5))))
    (i32.and (global.get $seed) (i32.const 63)))
  (func $drop (param $cap i32)
    (i32.store (i32.const 0x3000) (i32.const ${Op.CAP_DROP}))
    (i32.store (i32.const 0x3004) (i32.const 0))
    (i32.store (i32.const 0x3008) (i32.const 0))
    (drop (call $invoke (local.get $cap) (i32.const 0x3000) (i32.const 64))))
  (func $entry (param $page i32) (result i32)
    (i32.add (i32.const 0x10000) (i32.shl (i32.and (local.get $page) (i32.const 8191)) (i32.const 6))))
  (func $done (param $request i32) (param $n i32) (param $c i32) (result i32)
    (i32.store (i32.const 0x3000) (i32.const ${Op.PAGER_DONE}))
    (i32.store (i32.const 0x3004) (local.get $n))
    (i32.store (i32.const 0x3008) (local.get $c))
    (call $invoke (local.get $request) (i32.const 0x3000) (i32.const 64)))
  (func (export "run") (local $label i32) (local $e i32) (local $old i32) (local $r i32)
    ;; Listen: capabilities in messages are installed.
    (i32.store (i32.const 0x2000) (i32.const ${Op.PROCESS_LISTEN}))
    (i32.store (i32.const 0x2004) (i32.const 1))
    (i32.store (i32.const 0x2008) (i32.const 0))
    (i32.store (i32.const 0x2014) (i32.const 1))
    (if (call $invoke (i32.const 1) (i32.const 0x2000) (i32.const 64)) (then unreachable))
    (loop $next
      (i32.store (i32.const 0x2000) (i32.const ${Op.RECEIVER_RECEIVE}))
      (i32.store (i32.const 0x2004) (i32.const 0))
      (i32.store (i32.const 0x2008) (i32.const 0))
      (if (i32.lt_s (call $invoke (i32.const 2) (i32.const 0x2000) (i32.const 292)) (i32.const 0)) (then unreachable))
      (local.set $label (i32.load (i32.const 0x2000)))
      ;; words: space, page, slot.
      (local.set $e (call $entry (i32.load (i32.const 0x201c))))
      (local.set $r (if (result i32) (global.get $seed) (then (call $random)) (else (i32.const 0))))
      ${seed ? `(if (i32.and (i32.eq (local.get $label) (i32.const ${KernelMessage.PAGE_OUT})) (i32.eq (local.get $r) (i32.const 63)))
        (then
          ;;  A failed page-out: the Region goes, the kernel keeps its copy.
          (call $drop (i32.load (i32.const 0x2020)))
          (i32.store (i32.const 0x3014) (i32.const 5))
          (drop (call $done (i32.load (i32.const 0x2024)) (i32.const 1) (i32.const 0)))
          (local.set $label (i32.const 0))))
      (if (i32.eq (local.get $label) (i32.const ${KernelMessage.PAGE_IN}))
        (then
          (if (i32.eq (local.get $r) (i32.const 60)) (then
            ;; Dropped unanswered: the kernel asks again.
            (call $drop (i32.load (i32.const 0x2020)))
            (local.set $label (i32.const 0))))
          (if (i32.eq (local.get $r) (i32.const 61)) (then
            ;; Failed.
            (i32.store (i32.const 0x3014) (i32.const 1))
            (drop (call $done (i32.load (i32.const 0x2020)) (i32.const 1) (i32.const 0)))
            (local.set $label (i32.const 0))))
          (if (i32.and (i32.const ${lies ? 1 : 0}) (i32.eq (local.get $r) (i32.const 59))) (then
            ;; Another slot's Region, when there is one.
            (if (i32.load offset=4 (call $entry (i32.add (i32.load (i32.const 0x201c)) (i32.const 1))))
              (then (local.set $e (call $entry (i32.add (i32.load (i32.const 0x201c)) (i32.const 1))))))))))` : ""}
      (if (i32.eq (local.get $label) (i32.const ${KernelMessage.PAGE_OUT}))
        (then
          ;; caps: the Region, the request. The slot's last Region goes.
          (local.set $old (i32.load offset=4 (local.get $e)))
          (if (local.get $old) (then
            (i32.store (i32.const 0x3000) (i32.const ${Op.CAP_DROP}))
            (i32.store (i32.const 0x3004) (i32.const 0))
            (i32.store (i32.const 0x3008) (i32.const 0))
            (drop (call $invoke (local.get $old) (i32.const 0x3000) (i32.const 64)))))
          (i32.store offset=4 (local.get $e) (i32.load (i32.const 0x2020)))
          ${sloppy ? `(if (i32.ne (call $done (i32.load (i32.const 0x2024)) (i32.const 0) (i32.const 0)) (i32.const ${Status.E_INVALID_ARGUMENT})) (then unreachable))` : ""}
          (i32.store (i32.const 0x3014) (i32.const 0))
          (drop (call $done (i32.load (i32.const 0x2024)) (i32.const 1) (i32.const 0)))))
      (if (i32.eq (local.get $label) (i32.const ${KernelMessage.PAGE_IN}))
        (then
          ${swap ? `(if (i32.load offset=4 (call $entry (i32.add (i32.load (i32.const 0x201c)) (i32.const 1))))
            (then (local.set $e (call $entry (i32.add (i32.load (i32.const 0x201c)) (i32.const 1))))))` : ""}
          ;; cap: the request. Answer: status 0 and the Region (moved).
          (i32.store (i32.const 0x3014) (i32.const 0))
          (i32.store (i32.const 0x3018) (i32.or (i32.load offset=4 (local.get $e)) (i32.const ${CAP_MOVE})))
          (if (i32.load offset=4 (local.get $e))
            (then
              (drop (call $done (i32.load (i32.const 0x2020)) (i32.const 1) (i32.const 1)))
              ${seed ? `;; Answered twice: the request is used up; the second answer must change nothing.
              (if (i32.eq (local.get $r) (i32.const 62)) (then
                (i32.store (i32.const 0x3014) (i32.const 0))
                (drop (call $done (i32.load (i32.const 0x2020)) (i32.const 1) (i32.const 0)))))` : ""}
              (i32.store offset=4 (local.get $e) (i32.const 0)))
            (else
              (i32.store (i32.const 0x3014) (i32.const 1))
              (drop (call $done (i32.load (i32.const 0x2020)) (i32.const 1) (i32.const 0)))))))
      (br $next)))
  (func (export "_start")))`);

const MEMORY = 32 << 20;

async function machineWithPager(swap: boolean, seed = 0, lies = false, sloppy = false) {
  const t = testMachine({ memory: MEMORY });
  const receiver = new Receiver(1024);
  t.kernel.rootMemory.adopt(receiver, 64);
  const pagerMemory = t.kernel.memoryObject(6000);
  const pagerProcess = t.kernel.spawn(await t.loader.load(pager(swap, seed, lies, sloppy), "pager"), { entry: "run", caps: [t.kernel.capability(receiver, Rights.RECEIVER_RECEIVE)], priority: 1 });
  // Process 1 would do this: pin the pager, hand the kernel its queue and a Memory for the Regions.
  pagerProcess.pinLevel = PinLevel.PINNED;
  const policy = t.kernel.policyObject();
  return { t, receiver, pagerMemory, pagerProcess, policy };
}

describe("a pager process", () => {
  it("carries every evicted page out and back through PAGE_OUT, PAGE_IN and PAGER_DONE", async () => {
    const { t, receiver, pagerMemory, pagerProcess } = await machineWithPager(false);
    const k = t.kernel;
    // Evict early (this pager keeps pages in memory, so it cannot relieve a machine that is full),
    // and few enough pages that one capability slot each fits its table (1024 slots).
    const lowWater = k.frames.freeCount - 300;
    const channel = new PagerChannel(k.ipc, k.services, k.capability(receiver, Rights.RECEIVER_SEND), pagerMemory);
    let pagedInThroughPager = 0;
    const read = channel.read.bind(channel);
    channel.read = (at) => (pagedInThroughPager++, read(at));
    k.enablePaging(channel, { storePages: 8192, lowWater, highWater: lowWater + 64 });
    const pages = 700;
    const worker = k.spawn(await t.loader.load(PAGE_SWEEP, "workload"), { entry: "run", entryArgs: [pages, 3] });
    await k.run();
    expect([worker.fault, pagerProcess.fault, t.faults]).toEqual([null, null, []]);
    expect(worker.returnValue).toBe(sweepSum(pages, 3));
    expect(k.paging!.evictions).toBeGreaterThan(pages / 2);
    expect(k.paging!.pageIns).toBeGreaterThan(pages / 2);
    expect(pagedInThroughPager).toBeGreaterThan(pages / 4);
    k.kill(pagerProcess.pid);
  }, patience(120_000));

  it("that answers without its status word is refused, and the request waits for a real answer", async () => {
    const { t, receiver, pagerMemory, pagerProcess } = await machineWithPager(false, 0, false, true);
    const k = t.kernel;
    const lowWater = k.frames.freeCount - 300;
    k.enablePaging(new PagerChannel(k.ipc, k.services, k.capability(receiver, Rights.RECEIVER_SEND), pagerMemory), { storePages: 8192, lowWater, highWater: lowWater + 64 });
    const pages = 400;
    const worker = k.spawn(await t.loader.load(PAGE_SWEEP, "workload"), { entry: "run", entryArgs: [pages, 3] });
    await k.run();
    // Before: the word-less answer read as "stored", the pager trapped, and the workload waited for ever.
    expect([worker.fault, pagerProcess.fault, t.faults]).toEqual([null, null, []]);
    expect(worker.returnValue).toBe(sweepSum(pages, 3));
    expect(k.paging!.evictions).toBeGreaterThan(pages / 4);
    k.kill(pagerProcess.pid);
  }, patience(120_000));

  it("is set by process 1 with KERNEL_SET_PAGER", async () => {
    const { t, receiver, pagerMemory, pagerProcess, policy } = await machineWithPager(false);
    expect(policy.setPager(t.kernel.capability(receiver, Rights.RECEIVER_SEND), pagerMemory, 100, 1)).toBe(Status.OK);
    expect(t.kernel.paging).not.toBe(null);
    t.kernel.kill(pagerProcess.pid);
  });

  it("that answers a page-in with another page's Region gets the process torn down", async () => {
    const { t, receiver, pagerMemory, pagerProcess } = await machineWithPager(true);
    const k = t.kernel;
    const lowWater = k.frames.freeCount - 300;
    k.enablePaging(new PagerChannel(k.ipc, k.services, k.capability(receiver, Rights.RECEIVER_SEND), pagerMemory), { storePages: 8192, lowWater, highWater: lowWater + 64 });
    const worker = k.spawn(await t.loader.load(PAGE_SWEEP, "workload"), { entry: "run", entryArgs: [700, 3] });
    await k.run();
    expect(worker.returnValue).toBe(undefined);
    expect(worker.fault).toMatchObject({ kind: "page-integrity" });
    expect(worker.fault!.message).toContain("fails authentication");
    k.kill(pagerProcess.pid);
  }, patience(120_000));

  for (const [seed, lies] of [[0x1234567, false], [0x2468ace, false], [0x13579bd, true], [0x7654321, true]] as const) {
    it(`that misbehaves at random${lies ? " and lies" : ""} (seed ${seed.toString(16)}) never makes a process see a wrong byte, nor takes the kernel down`, async () => {
      const { t, receiver, pagerMemory, pagerProcess } = await machineWithPager(false, seed, lies);
      const k = t.kernel;
      const lowWater = k.frames.freeCount - 300;
      const channel = new PagerChannel(k.ipc, k.services, k.capability(receiver, Rights.RECEIVER_SEND), pagerMemory);
      let unanswered = 0;
      const read = channel.read.bind(channel);
      channel.read = async (at) => {
        const ciphertexts = await read(at);
        if (!ciphertexts[0]) unanswered++;
        return ciphertexts;
      };
      k.enablePaging(channel, { storePages: 8192, lowWater, highWater: lowWater + 64 });
      // Two workloads whose pages together fit the pager's table (one capability slot a page).
      const pages = 350;
      const workers = [0, 1].map(async () => k.spawn(await t.loader.load(PAGE_SWEEP, "workload"), { entry: "run", entryArgs: [pages, 3] }));
      const spawned = await Promise.all(workers);
      await k.run();
      expect(pagerProcess.fault).toBe(null);
      for (const worker of spawned) {
        // The right sum, or torn down for the page the pager lied about: nothing in between.
        if (worker.fault) expect(worker.fault.kind).toBe("page-integrity");
        else expect(worker.returnValue).toBe(sweepSum(pages, 3));
      }
      const faulted = spawned.filter((worker) => worker.fault).length;
      // Every lie was refused (each ended at most one process); without lies, what was dropped or
      // failed was asked for again, and both workloads ended right.
      expect(k.paging!.refusals).toBeGreaterThanOrEqual(faulted);
      if (!lies) expect([faulted, k.paging!.pageIns > pages / 2, unanswered > 0]).toEqual([0, true, true]);
      k.kill(pagerProcess.pid);
      // The kernel is still all there: a new process runs to its result.
      const after = k.spawn(await t.loader.load(PAGE_SWEEP, "workload"), { entry: "run", entryArgs: [10, 2] });
      await k.run();
      expect(after.returnValue).toBe(sweepSum(10, 2));
    }, patience(120_000));
  }
});
