/**
 * The kernel's own accesses under demand paging: a call whose buffer is on a paged-out page
 * waits for the page and then does its work (never E_BAD_ADDRESS), for the `dogma` calls, WASI's
 * and the file of a futex word; a page that comes back altered ends the process with
 * `page-integrity` however it was reached.
 */
import { describe, expect, it } from "vitest";
import { Op, Rights } from "../../src/kernel/caps/object-abi.ts";
import { Receiver } from "../../src/kernel/caps/receiver.ts";
import { EvictionPolicy } from "../../src/kernel/paging.ts";
import { testMachine } from "../helpers/test-host.ts";
import { TestStore } from "../helpers/test-store.ts";
import { wat } from "../helpers/wat.ts";
import { patience } from "../helpers/patience.ts";

const MEMORY = 4 << 20;
/** Pages the thrash touches: twice physical memory, so every page touched before it is evicted. */
const THRASH_PAGES = (2 * MEMORY) / 4096;

/** Touches `pages` pages from 0x100000, twice: everything touched before is paged out after. */
const THRASH = `
  (func $thrash (param $pages i32) (local $r i32) (local $i i32)
    (block $rounds (loop $round
      (br_if $rounds (i32.ge_u (local.get $r) (i32.const 2)))
      (local.set $i (i32.const 0))
      (block $done (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $pages)))
        (i32.store (i32.add (i32.const 0x100000) (i32.shl (local.get $i) (i32.const 12))) (local.get $i))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $round)))
  )`;

/**
 * Puts data on pages 0x10..0x13, thrashes, then calls the kernel on each: one bit of the result
 * per call that did its work.
 */
const DOGMA_CALLS = wat(`(module
  (import "dogma" "random" (func $random (param i32 i32) (result i32)))
  (import "dogma" "arg_get" (func $arg_get (param i32 i32 i32) (result i32)))
  (import "dogma" "console_write" (func $write (param i32 i32 i32) (result i32)))
  (import "dogma" "futex_wait" (func $wait (param i32 i32 i64) (result i32)))
  (memory 600)
  (data (i32.const 0x12000) "written from a paged-out page\\n")
  ${THRASH}
  (func (export "run") (param $pages i32) (result i32) (local $bits i32)
    (i32.store (i32.const 0x10000) (i32.const 0))
    (i32.store (i32.const 0x11000) (i32.const 0))
    (i32.store (i32.const 0x13000) (i32.const 5))
    (call $thrash (local.get $pages))
    (if (i32.eqz (call $random (i32.const 0x10000) (i32.const 64)))
      (then (local.set $bits (i32.const 1))))
    ;; 64 random bytes are not all zero (one chance in 2^512).
    (if (i32.or (i64.ne (i64.load (i32.const 0x10000)) (i64.const 0)) (i64.ne (i64.load (i32.const 0x10038)) (i64.const 0)))
      (then (local.set $bits (i32.or (local.get $bits) (i32.const 2)))))
    (call $thrash (local.get $pages))
    ;; Argument 1 is "hello".
    (if (i32.and (i32.eq (call $arg_get (i32.const 1) (i32.const 0x11000) (i32.const 64)) (i32.const 5))
                 (i32.eq (i32.load8_u (i32.const 0x11004)) (i32.const 0x6f)))
      (then (local.set $bits (i32.or (local.get $bits) (i32.const 4)))))
    (call $thrash (local.get $pages))
    (if (i32.eq (call $write (i32.const 1) (i32.const 0x12000) (i32.const 30)) (i32.const 30))
      (then (local.set $bits (i32.or (local.get $bits) (i32.const 8)))))
    (call $thrash (local.get $pages))
    ;; The word is 5, not 6: E_NOT_READY (-12) at once, which needs the word.
    (if (i32.eq (call $wait (i32.const 0x13000) (i32.const 6) (i64.const 0)) (i32.const -12))
      (then (local.set $bits (i32.or (local.get $bits) (i32.const 16)))))
    (local.get $bits))
  (func (export "_start")))`);

/**
 * The receiver dirties 300 pages, then waits on slot 2 with its buffer at 0x2000 and returns the
 * word the message put at 0x2014; the sender thrashes THRASH_PAGES, then sends 42 to slot 2.
 */
const RECEIVER = wat(`(module
  (import "dogma" "invoke" (func $invoke (param i32 i32 i32) (result i32)))
  (memory 100)
  (func (export "run") (result i32) (local $i i32)
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (i32.const 300)))
      (i32.store (i32.add (i32.const 0x10000) (i32.shl (local.get $i) (i32.const 12))) (local.get $i))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next)))
    (i32.store (i32.const 0x2000) (i32.const ${Op.RECEIVER_RECEIVE}))
    (i32.store (i32.const 0x2004) (i32.const 0))
    (i32.store (i32.const 0x2008) (i32.const 0))
    (drop (call $invoke (i32.const 2) (i32.const 0x2000) (i32.const 64)))
    (i32.load (i32.const 0x2014)))
  (func (export "_start")))`);
const SENDER = wat(`(module
  (import "dogma" "invoke" (func $invoke (param i32 i32 i32) (result i32)))
  (memory 600)
  ${THRASH}
  (func (export "run") (param $pages i32) (result i32)
    (call $thrash (local.get $pages))
    (i32.store (i32.const 0x2000) (i32.const 7))
    (i32.store (i32.const 0x2004) (i32.const 1))
    (i32.store (i32.const 0x2008) (i32.const 0))
    (i32.store (i32.const 0x2014) (i32.const 42))
    (call $invoke (i32.const 2) (i32.const 0x2000) (i32.const 64)))
  (func (export "_start")))`);

/** Dirties 300 pages, then calls slot 2 with its buffer at 0x2000: the answer's first word. */
const CALLER = wat(`(module
  (import "dogma" "invoke" (func $invoke (param i32 i32 i32) (result i32)))
  (memory 100)
  (func (export "run") (result i32) (local $i i32)
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (i32.const 300)))
      (i32.store (i32.add (i32.const 0x10000) (i32.shl (local.get $i) (i32.const 12))) (local.get $i))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next)))
    (i32.store (i32.const 0x2000) (i32.const 7))
    (i32.store (i32.const 0x2004) (i32.const 0))
    (i32.store (i32.const 0x2008) (i32.const 0))
    (i32.store (i32.const 0x200c) (i32.const 0))
    (drop (call $invoke (i32.const 2) (i32.const 0x2000) (i32.const 64)))
    (i32.load (i32.const 0x2014)))
  (func (export "_start")))`);

/** Takes a call on slot 2, waits for a message on slot 3, thrashes, then answers 42. */
const ANSWERER = wat(`(module
  (import "dogma" "invoke" (func $invoke (param i32 i32 i32) (result i32)))
  (memory 600)
  ${THRASH}
  (func (export "run") (param $pages i32) (result i32) (local $reply i32)
    (i32.store (i32.const 0x2000) (i32.const ${Op.RECEIVER_RECEIVE}))
    (i32.store (i32.const 0x2004) (i32.const 0))
    (i32.store (i32.const 0x2008) (i32.const 0))
    (drop (call $invoke (i32.const 2) (i32.const 0x2000) (i32.const 64)))
    (local.set $reply (i32.load (i32.const 0x2010)))
    (i32.store (i32.const 0x3000) (i32.const ${Op.RECEIVER_RECEIVE}))
    (i32.store (i32.const 0x3004) (i32.const 0))
    (i32.store (i32.const 0x3008) (i32.const 0))
    (drop (call $invoke (i32.const 3) (i32.const 0x3000) (i32.const 64)))
    (call $thrash (local.get $pages))
    (i32.store (i32.const 0x2000) (i32.const 0))
    (i32.store (i32.const 0x2004) (i32.const 1))
    (i32.store (i32.const 0x2008) (i32.const 0))
    (i32.store (i32.const 0x200c) (i32.const 0))
    (i32.store (i32.const 0x2014) (i32.const 42))
    (call $invoke (local.get $reply) (i32.const 0x2000) (i32.const 64)))
  (func (export "_start")))`);

/**
 * The same for WASI: fd_write's iovec and data, random_get's buffer, clock_time_get's result, and
 * fd_read, whose input is taken from the console before it is written.
 */
const WASI_CALLS = wat(`(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get" (func $random (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (memory 600)
  (data (i32.const 0x12000) "wasi wrote from paged-out pages\\n")
  ${THRASH}
  (func (export "run") (param $pages i32) (result i32) (local $bits i32)
    ;; iovec at 0x11000 -> 0x12000, 32 bytes; count at 0x13000.
    (i32.store (i32.const 0x11000) (i32.const 0x12000))
    (i32.store (i32.const 0x11004) (i32.const 32))
    (i32.store (i32.const 0x13000) (i32.const 0))
    (i64.store (i32.const 0x14000) (i64.const 0))
    (i32.store (i32.const 0x10000) (i32.const 1))
    ;; fd_read's iovec at 0x15000 -> 0x16000, 16 bytes; count at 0x17000.
    (i32.store (i32.const 0x15000) (i32.const 0x16000))
    (i32.store (i32.const 0x15004) (i32.const 16))
    (i32.store (i32.const 0x16000) (i32.const 0))
    (i32.store (i32.const 0x17000) (i32.const 0))
    (call $thrash (local.get $pages))
    (if (i32.and (i32.eqz (call $fd_write (i32.const 1) (i32.const 0x11000) (i32.const 1) (i32.const 0x13000)))
                 (i32.eq (i32.load (i32.const 0x13000)) (i32.const 32)))
      (then (local.set $bits (i32.const 1))))
    (call $thrash (local.get $pages))
    (if (i32.eqz (call $random (i32.const 0x10000) (i32.const 16)))
      (then (local.set $bits (i32.or (local.get $bits) (i32.const 2)))))
    (call $thrash (local.get $pages))
    (if (i32.and (i32.eqz (call $clock (i32.const 1) (i64.const 1) (i32.const 0x14000)))
                 (i64.ne (i64.load (i32.const 0x14000)) (i64.const 0)))
      (then (local.set $bits (i32.or (local.get $bits) (i32.const 4)))))
    (call $thrash (local.get $pages))
    ;; Console input is the 6 bytes of typed and a newline, which must land on the paged-out page, not be lost.
    (if (i32.and (i32.eqz (call $fd_read (i32.const 0) (i32.const 0x15000) (i32.const 1) (i32.const 0x17000)))
                 (i32.and (i32.eq (i32.load (i32.const 0x17000)) (i32.const 6))
                          (i32.eq (i32.load (i32.const 0x16000)) (i32.const 0x65707974))))
      (then (local.set $bits (i32.or (local.get $bits) (i32.const 8)))))
    (local.get $bits))
  (func (export "_start")))`);

async function runUnderPaging(binary: Uint8Array, args: string[], store = new TestStore(), input = "") {
  const t = testMachine({ memory: MEMORY, input });
  const paging = t.kernel.enablePaging(store, { storePages: 8192, lowWater: 64 });
  const image = await t.loader.load(binary, "calls");
  const process = t.kernel.spawn(image, { entry: "run", entryArgs: [THRASH_PAGES], args });
  await t.kernel.run();
  return { t, paging, process, store, value: process.returnValue };
}

/** Whether the store was asked for `page` of `pid`: the call's page really was paged out. */
function fetched(store: TestStore, pid: number, page: number): boolean {
  return store.readKeys.includes(`${pid}:${page}`);
}

describe("kernel calls on paged-out pages", () => {
  it("random, arg_get, console_write and futex_wait wait for their pages and do their work", async () => {
    const { t, process, store, value } = await runUnderPaging(DOGMA_CALLS, ["calls", "hello"]);
    expect(process.fault).toBe(null);
    expect(value).toBe(31);
    expect(t.stdout()).toContain("written from a paged-out page\n");
    for (const page of [0x10, 0x11, 0x12, 0x13]) expect(fetched(store, process.pid, page)).toBe(true);
  }, patience(60_000));

  it("WASI's fd_write, random_get, clock_time_get and fd_read do too, and input read is not lost", async () => {
    const { t, process, store, value } = await runUnderPaging(WASI_CALLS, ["wasi-calls"], new TestStore(), "typed\n");
    expect(process.fault).toBe(null);
    expect(value).toBe(15);
    expect(t.stdout()).toContain("wasi wrote from paged-out pages\n");
    for (const page of [0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17]) expect(fetched(store, process.pid, page)).toBe(true);
  }, patience(60_000));

  it("ends the process with page-integrity when a kernel call's page comes back altered", async () => {
    // Only random's page is altered: its page-in is the kernel call's.
    const { t, process, value } = await runUnderPaging(DOGMA_CALLS, ["calls", "hello"], new TestStore("flip", (key) => key.page === 0x10));
    expect(value).toBe(undefined);
    expect(process.fault).toMatchObject({ kind: "page-integrity", address: 0x10000 });
    expect(t.stdout()).not.toContain("written from a paged-out page");
  }, patience(60_000));

  for (const [name, policy] of [["clock", EvictionPolicy.CLOCK], ["aging", EvictionPolicy.AGING]] as const)
  it(`keeps a blocked receive's buffer resident while others thrash, so the message lands in it (${name})`, async () => {
    // The receiver dirties 300 pages, then waits on slot 2 with its buffer at 0x2000; the sender
    // thrashes twice physical memory, then sends 42. Everything of the receiver's but its
    // buffer may go to the store meanwhile.
    const t = testMachine({ memory: MEMORY });
    const store = new TestStore();
    // (Aging evicted held pages and a blocked call's: it took sample()'s -1, "not a candidate", for "not referenced".)
    t.kernel.enablePaging(store, { storePages: 8192, lowWater: 64, policy });
    const channel = new Receiver(4);
    t.kernel.rootMemory.adopt(channel, 1);
    const receiver = t.kernel.spawn(await t.loader.load(RECEIVER, "receiver"), { entry: "run", caps: [t.kernel.capability(channel, Rights.RECEIVER_RECEIVE)] });
    const sender = t.kernel.spawn(await t.loader.load(SENDER, "sender"), { entry: "run", entryArgs: [THRASH_PAGES], caps: [t.kernel.capability(channel, Rights.RECEIVER_SEND)] });
    await t.kernel.run();
    expect([receiver.fault, sender.fault]).toEqual([null, null]);
    expect(receiver.returnValue).toBe(42);
    expect(sender.returnValue).toBe(0);
    // The receiver's other pages went out; the buffer's page never did.
    expect([...store.pages.keys()].filter((key) => key.startsWith(`${receiver.pid}:`)).length).toBeGreaterThan(200);
    expect(store.pages.has(`${receiver.pid}:2`)).toBe(false);
  }, patience(60_000));

  it("keeps the buffer of a receive that blocked before paging was on resident too", async () => {
    // A service blocks in its receive at boot, before init turns paging on: its call made no
    // record of the pages it waits with, and pressure took its buffer's page, so the message
    // meeting it failed (E_BAD_ADDRESS: "pipe: receive: bad address", redteam2's finding 8).
    const t = testMachine({ memory: MEMORY });
    const channel = new Receiver(4);
    t.kernel.rootMemory.adopt(channel, 1);
    const receiver = t.kernel.spawn(await t.loader.load(RECEIVER, "receiver"), { entry: "run", caps: [t.kernel.capability(channel, Rights.RECEIVER_RECEIVE)] });
    await t.kernel.run();
    expect(t.kernel.stuck()).toEqual([receiver]);
    const store = new TestStore();
    t.kernel.enablePaging(store, { storePages: 8192, lowWater: 64 });
    const sender = t.kernel.spawn(await t.loader.load(SENDER, "sender"), { entry: "run", entryArgs: [THRASH_PAGES], caps: [t.kernel.capability(channel, Rights.RECEIVER_SEND)] });
    await t.kernel.run();
    expect([receiver.fault, sender.fault]).toEqual([null, null]);
    expect(receiver.returnValue).toBe(42);
    expect([...store.pages.keys()].filter((key) => key.startsWith(`${receiver.pid}:`)).length).toBeGreaterThan(200);
    expect(store.pages.has(`${receiver.pid}:2`)).toBe(false);
  }, patience(60_000));
  // Redteam3: the buffers a blocked process waits with are kept resident, but when one was out all
  // the same (any way a page of it went), the delivery took the paged-out page for a fault: the
  // receiver's receive failed E_BAD_ADDRESS, the message left queued behind it.
  it("pages in a waiting receiver's buffer that went out, and delivers the message into it", async () => {
    const t = testMachine({ memory: MEMORY });
    const store = new TestStore();
    t.kernel.enablePaging(store, { storePages: 8192, lowWater: 64 });
    const channel = new Receiver(4);
    t.kernel.rootMemory.adopt(channel, 1);
    const receiver = t.kernel.spawn(await t.loader.load(RECEIVER, "receiver"), { entry: "run", caps: [t.kernel.capability(channel, Rights.RECEIVER_RECEIVE)] });
    await t.kernel.run();
    expect(t.kernel.stuck()).toEqual([receiver]);
    // Whatever let the buffer's page go: here, the record of what its receive holds resident.
    receiver.space.callRanges.length = 0;
    const sender = t.kernel.spawn(await t.loader.load(SENDER, "sender"), { entry: "run", entryArgs: [THRASH_PAGES], caps: [t.kernel.capability(channel, Rights.RECEIVER_SEND)] });
    await t.kernel.run();
    expect([receiver.fault, sender.fault]).toEqual([null, null]);
    expect(sender.returnValue).toBe(0);
    expect(receiver.returnValue).toBe(42);
    expect(fetched(store, receiver.pid, 2)).toBe(true);
  }, patience(60_000));
  it("pages in a waiting caller's buffer that went out, and delivers the answer into it", async () => {
    const t = testMachine({ memory: MEMORY });
    const store = new TestStore();
    t.kernel.enablePaging(store, { storePages: 8192, lowWater: 64 });
    const [calls, go] = [new Receiver(4), new Receiver(4)];
    for (const r of [calls, go]) t.kernel.rootMemory.adopt(r, 1);
    const caller = t.kernel.spawn(await t.loader.load(CALLER, "caller"), { entry: "run", caps: [t.kernel.capability(calls, Rights.RECEIVER_CALL)] });
    const server = t.kernel.spawn(await t.loader.load(ANSWERER, "answerer"), {
      entry: "run",
      entryArgs: [THRASH_PAGES],
      caps: [t.kernel.capability(calls, Rights.RECEIVER_RECEIVE), t.kernel.capability(go, Rights.RECEIVER_RECEIVE)],
    });
    await t.kernel.run();
    // The caller waits for its answer, the server for the word to go on.
    expect(t.kernel.stuck()).toEqual([caller, server]);
    caller.space.callRanges.length = 0;
    expect(t.kernel.ipc.kernelSend(t.kernel.capability(go, Rights.RECEIVER_SEND), 1, [])).toBe(true);
    await t.kernel.run();
    expect([caller.fault, server.fault]).toEqual([null, null]);
    expect(server.returnValue).toBe(0);
    expect(caller.returnValue).toBe(42);
    expect(fetched(store, caller.pid, 2)).toBe(true);
  }, patience(60_000));
});
