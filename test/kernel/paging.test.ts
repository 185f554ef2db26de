/**
 * Demand paging with sealed pages. Checked: a workload four times physical memory computes the
 * right answer under both eviction policies and gives every frame back; the pager sees only
 * ciphertext; a pager that flips bits, swaps pages, replays an older version or loses a page gets
 * the process torn down with a `page-integrity` fault at that page, never wrong bytes; the sealer
 * refuses every altered blob (a property over random bit flips).
 */
import { describe, expect, it } from "vitest";
import { type PageCipherFactory, PageSealer, partsOf, portablePageCipher } from "../../src/kernel/page-sealer.ts";
import { nodePageCipher } from "../../src/hosts/node/node-page-cipher.ts";
import { checkInvariants } from "../../src/kernel/invariants.ts";
import { webPageCipher } from "../../src/hosts/web/worker/web-page-cipher.ts";
import { EvictionPolicy, type EvictionPolicyCode, PinLevel } from "../../src/kernel/paging.ts";
import { TestStore } from "../helpers/test-store.ts";
import type { StoreSlot } from "../../src/kernel/paging.ts";
import { testMachine } from "../helpers/test-host.ts";
import { wat } from "../helpers/wat.ts";
import { sweepSum } from "../helpers/page-sweep.ts";
import { prng } from "../caps/prng.ts";
import { Op, Rights } from "../../src/kernel/caps/object-abi.ts";
import { Status } from "../../src/kernel/errors.ts";
import { Script, runAll, scriptMachine } from "../caps/script.ts";
import { patience } from "../helpers/patience.ts";

/** `pages` pages of 4 KiB from 0x10000: passes writing then checking a pattern; the sum of what it read. */
const WORKLOAD = wat(`(module
  (memory 300)
  (func $pass (param $pages i32) (param $round i32) (result i32) (local $i i32) (local $a i32) (local $sum i32)
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $pages)))
      (local.set $a (i32.add (i32.const 0x10000) (i32.shl (local.get $i) (i32.const 12))))
      (if (local.get $round)
        (then
          ;; Check what the last round wrote, then write this round's.
          (local.set $sum (i32.add (local.get $sum) (i32.load (local.get $a))))
          (if (i32.ne (i32.load offset=4092 (local.get $a)) (i32.add (i32.mul (local.get $i) (i32.const 7)) (local.get $round)))
            (then unreachable))))
      (i32.store (local.get $a) (i32.add (local.get $i) (local.get $round)))
      (i32.store offset=4092 (local.get $a) (i32.add (i32.mul (local.get $i) (i32.const 7)) (i32.add (local.get $round) (i32.const 1))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next)))
    (local.get $sum))
  (func (export "run") (param $pages i32) (param $rounds i32) (result i32) (local $r i32) (local $sum i32)
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $r) (local.get $rounds)))
      (local.set $sum (i32.add (local.get $sum) (call $pass (local.get $pages) (local.get $r))))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $next)))
    (local.get $sum))
  (func (export "_start")))`);

// A small machine: what the tests check depends on the workload's size against physical memory
// (four times it, as large as it, twice it), not on the size itself; a 1 MiB machine pages the
// same ways as a 4 MiB one for a quarter of the seals and page-ins (the suite's time).
const MEMORY = 1 << 20;
/** Physical memory in pages. */
const FRAMES = MEMORY / 4096;

async function run(pages: number, rounds: number, store: TestStore, policy: EvictionPolicyCode = EvictionPolicy.CLOCK, pageCipher?: PageCipherFactory) {
  const t = testMachine({ memory: MEMORY, kernel: { pageCipher } });
  const paging = t.kernel.enablePaging(store, { storePages: 8192, lowWater: 64, policy });
  const image = await t.loader.load(WORKLOAD, "workload");
  // Map the image for good before counting free frames.
  t.kernel.imageObject(image);
  const free = t.kernel.frames.freeCount;
  const process = t.kernel.spawn(image, { entry: "run", entryArgs: [pages, rounds] });
  await t.kernel.run();
  return { t, paging, process, free, value: process.returnValue };
}

describe("demand paging", () => {
  for (const [name, policy] of [["clock", EvictionPolicy.CLOCK], ["aging", EvictionPolicy.AGING]] as const) {
    it(`runs a workload of four times physical memory correctly (${name})`, async () => {
      const pages = (4 * MEMORY) / 4096;
      const store = new TestStore();
      const { t, paging, process, free, value } = await run(pages, 3, store, policy);
      expect(process.fault).toBe(null);
      expect(value).toBe(sweepSum(pages, 3));
      expect(paging.evictions).toBeGreaterThan(2 * pages - FRAMES);
      expect(paging.pageIns).toBeGreaterThan(pages);
      expect(store.writes).toBe(paging.evictions - paging.cleanEvictions);
      // Every frame came back when it ended.
      expect(t.kernel.frames.freeCount).toBe(free);
    }, patience(60_000));
  }

  for (const [name, policy] of [["clock", EvictionPolicy.CLOCK], ["aging", EvictionPolicy.AGING]] as const) {
    it(`runs eight processes, each as large as physical memory, to their right results (${name})`, async () => {
      const t = testMachine({ memory: MEMORY });
      const store = new TestStore();
      const paging = t.kernel.enablePaging(store, { storePages: 8192, lowWater: 64, policy });
      const image = await t.loader.load(WORKLOAD, "workload");
      t.kernel.imageObject(image);
      const free = t.kernel.frames.freeCount;
      const pages = MEMORY / 4096;
      const processes = Array.from({ length: 8 }, () => t.kernel.spawn(image, { entry: "run", entryArgs: [pages, 3] }));
      await t.kernel.run();
      expect(processes.map((p) => p.fault)).toEqual(processes.map(() => null));
      expect(processes.map((p) => p.returnValue)).toEqual(processes.map(() => sweepSum(pages, 3)));
      // Every one of them was paged, and paged back.
      for (const p of processes) expect(store.readKeys.some((key) => key.startsWith(`${p.pid}:`))).toBe(true);
      expect(paging.evictions).toBeGreaterThan(8 * pages);
      expect(paging.stored.usedSlots).toBe(0);
      expect(t.kernel.frames.freeCount).toBe(free);
    }, patience(120_000));
  }

  it("asks again when a page-in goes unanswered, as a pager that ends and is restarted does", async () => {
    const store = new TestStore("once");
    const pages = 2 * FRAMES;
    const { process, value, paging } = await run(pages, 3, store);
    expect(process.fault).toBe(null);
    expect(value).toBe(sweepSum(pages, 3));
    // Most page-ins reached the store, and each of those was asked twice; every slot is free again.
    expect(store.dropped).toBeGreaterThan(pages / 2);
    expect(paging.stored.usedSlots).toBe(0);
  }, patience(60_000));

  it("hands the pager only ciphertext", async () => {
    const store = new TestStore();
    await run((FRAMES * 75) / 64, 2, store);
    // Pages did go out (a workload that fits in memory would check nothing below).
    expect(store.writes).toBeGreaterThan(FRAMES / 8);
    const pattern = new Uint8Array(new Uint32Array([5 * 7 + 1]).buffer);
    for (const versions of store.pages.values()) {
      for (const data of versions) {
        // The pattern the workload writes at the end of each page never appears in clear.
        const tail = data.subarray(4092, 4096);
        expect(tail.every((b, i) => b === pattern[i])).toBe(false);
      }
    }
  }, patience(60_000));

  for (const malice of ["flip", "swap", "replay", "lose"] as const) {
    it(`tears the process down when the pager ${malice === "lose" ? "loses" : malice === "flip" ? "flips a bit of" : malice === "swap" ? "swaps" : "replays"} a page`, async () => {
      const store = new TestStore(malice);
      const { process, value, t } = await run((FRAMES * 25) / 16, 4, store);
      expect(value).toBe(undefined);
      expect(process.fault).toMatchObject({ kind: "page-integrity" });
      // The record names the function whose access needed the page.
      expect(process.fault!.functionName).toMatch(/^(pass|run|wasm-function\[\d+\])$/);
      expect(process.fault!.address! % 4096).toBe(0);
      expect(process.fault!.address!).toBeGreaterThanOrEqual(0x10000);
      expect(t.faults.join("\n")).toContain("page-integrity");
      // Process 1 can see that its pager lies (KERNEL_PAGING_INFO's last word).
      expect(t.kernel.paging!.refusals).toBe(1);
    }, patience(60_000));
  }
});

describe("demand paging with an asynchronous cipher (WebCrypto's, as the browser host seals)", () => {
  it("runs a workload of four times physical memory correctly: an evicted page waits in the kernel for its seal, and a page-in meanwhile takes it from there", async () => {
    const pages = (4 * MEMORY) / 4096;
    const store = new TestStore();
    const { t, paging, process, free, value } = await run(pages, 3, store, EvictionPolicy.CLOCK, webPageCipher);
    expect(process.fault).toBe(null);
    expect(value).toBe(sweepSum(pages, 3));
    expect(paging.evictions).toBeGreaterThan(2 * pages - FRAMES);
    expect(paging.pageIns).toBeGreaterThan(pages);
    // Most pages were sealed and written out before they came back.
    expect(store.writes).toBeGreaterThan(pages);
    expect(t.kernel.frames.freeCount).toBe(free);
    expect(checkInvariants(t.kernel)).toEqual([]);
  }, patience(60_000));

  it("tears the process down when the pager flips a bit of a page", async () => {
    const store = new TestStore("flip");
    const { process, value, t } = await run((FRAMES * 25) / 16, 4, store, EvictionPolicy.CLOCK, webPageCipher);
    expect(value).toBe(undefined);
    expect(process.fault).toMatchObject({ kind: "page-integrity" });
    expect(t.kernel.paging!.refusals).toBe(1);
  }, patience(60_000));
});

describe("pin levels", () => {
  /** Touches `pages` pages, then waits for ever. */
  const HOLDER = wat(`(module
    (import "dogma" "futex_wait" (func $wait (param i32 i32 i64) (result i32)))
    (memory 100)
    (func (export "run") (param $pages i32) (local $i i32)
      (block $done (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $pages)))
        (i32.store (i32.add (i32.const 0x10000) (i32.shl (local.get $i) (i32.const 12))) (i32.const 1))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
      (drop (call $wait (i32.const 0x3000) (i32.const 0) (i64.const -1))))
    (func (export "_start")))`);
  /** The pages the holder touches: under a third of physical memory. */
  const HELD = (FRAMES * 75) / 256;

  for (const [level, evicted] of [[PinLevel.PAGEABLE, true], [PinLevel.RELUCTANT, false], [PinLevel.PINNED, false]] as const) {
    it(`${evicted ? "evicts" : "spares"} the pages of a process at pin level ${level} while another thrashes`, async () => {
      const t = testMachine({ memory: MEMORY });
      const store = new TestStore();
      t.kernel.enablePaging(store, { storePages: 8192, lowWater: 64 });
      const holder = t.kernel.spawn(await t.loader.load(HOLDER, "holder"), { entry: "run", entryArgs: [HELD] });
      holder.pinLevel = level;
      const worker = t.kernel.spawn(await t.loader.load(WORKLOAD, "workload"), { entry: "run", entryArgs: [2 * FRAMES, 2] });
      await t.kernel.run();
      expect(worker.fault).toBe(null);
      expect(worker.returnValue).toBe(sweepSum(2 * FRAMES, 2));
      const heldOut = [...store.pages.keys()].filter((key) => key.startsWith(`${holder.pid}:`)).length;
      // Level 1 is spared here because the thrashing process's own pages always suffice.
      expect(heldOut > 0).toBe(evicted);
      expect(holder.space.pagedOutPages > 0).toBe(evicted);
      t.kernel.kill(holder.pid);
    }, patience(60_000));
  }

  it("keeps at most write-behind pages for a slow store: the process waits for the store, then goes on to the right result", async () => {
    // A store that takes each write 2 ms later: slower than the workload evicts.
    class SlowStore extends TestStore {
      mostHeld = 0;
      paging: { stored: { inKernelPages: number } } | null = null;
      override async write(at: StoreSlot, ciphertext: Uint8Array): Promise<void> {
        this.mostHeld = Math.max(this.mostHeld, this.paging?.stored.inKernelPages ?? 0);
        await new Promise((resolve) => setTimeout(resolve, 2));
        return super.write(at, ciphertext);
      }
    }
    const WRITE_BEHIND = FRAMES / 8;
    const t = testMachine({ memory: MEMORY });
    const store = new SlowStore();
    const paging = t.kernel.enablePaging(store, { storePages: 8192, lowWater: 64, writeBehind: WRITE_BEHIND });
    store.paging = paging;
    const process = t.kernel.spawn(await t.loader.load(WORKLOAD, "workload"), { entry: "run", entryArgs: [2 * FRAMES, 2] });
    await t.kernel.run();
    expect(process.fault).toBe(null);
    expect(process.returnValue).toBe(sweepSum(2 * FRAMES, 2));
    expect(paging.evictions).toBeGreaterThan(FRAMES);
    expect(store.mostHeld).toBeLessThanOrEqual(WRITE_BEHIND);
    expect(store.mostHeld).toBeGreaterThan(WRITE_BEHIND / 2); // it did fill up, and waited
  }, patience(60_000));

  it("writes again what the store failed to take, so the kernel does not keep pages for the pager", async () => {
    const t = testMachine({ memory: MEMORY });
    const store = new TestStore("busy");
    const paging = t.kernel.enablePaging(store, { storePages: 8192, lowWater: 64 });
    const holder = t.kernel.spawn(await t.loader.load(HOLDER, "holder"), { entry: "run", entryArgs: [HELD] });
    const worker = t.kernel.spawn(await t.loader.load(WORKLOAD, "workload"), { entry: "run", entryArgs: [2 * FRAMES, 3] });
    await t.kernel.run();
    expect([worker.fault?.message, worker.state]).toEqual([undefined, "exited"]);
    expect(worker.returnValue).toBe(sweepSum(2 * FRAMES, 3));
    // The holder's pages went out, each first refused; every one of them was written again.
    const held = [...store.pages.keys()].filter((key) => key.startsWith(`${holder.pid}:`));
    expect(held.length).toBeGreaterThan(HELD / 3);
    expect(held.every((key) => store.refusedWrites.has(key))).toBe(true);
    expect(paging.stored.inKernelPages).toBe(0);
    t.kernel.kill(holder.pid);
  }, patience(60_000));

  it("is set by process 1's Kernel capability with KERNEL_SET_PIN", async () => {
    const m = await scriptMachine();
    const policy = m.kernel.policyObject();
    const target = m.kernel.spawn(m.vm, { entry: "run", args: ["idle"] });
    const s = new Script();
    const set = s.invoke(2, Op.KERNEL_SET_PIN, { words: [PinLevel.PINNED], caps: [4] });
    const bad = s.invoke(2, Op.KERNEL_SET_PIN, { words: [3], caps: [4] });
    const noRight = s.invoke(3, Op.KERNEL_SET_PIN, { words: [1], caps: [4] });
    const noControl = s.invoke(2, Op.KERNEL_SET_PIN, { words: [1], caps: [5] });
    // Its own slot 1 has no control right, but its own level is its to set.
    const itself = s.invoke(2, Op.KERNEL_SET_PIN, { words: [PinLevel.RELUCTANT], caps: [1] });
    s.end();
    const p = m.spawn(s, {
      caps: [m.kernel.capability(policy, Rights.KERNEL_POLICY), m.kernel.capability(policy, 0), m.kernel.capability(target, Rights.PROCESS_CONTROL), m.kernel.capability(target, Rights.PROCESS_INFO)],
    });
    await runAll(m);
    const log = m.log();
    expect([log.status(p, set), log.status(p, bad), log.status(p, noRight), log.status(p, noControl), log.status(p, itself)]).toEqual([
      Status.OK,
      Status.E_INVALID_ARGUMENT,
      Status.E_MISSING_RIGHT,
      Status.E_MISSING_RIGHT,
      Status.OK,
    ]);
    expect(target.pinLevel).toBe(PinLevel.PINNED);
    expect(p.pinLevel).toBe(PinLevel.RELUCTANT);
  });
});

describe("kernel calls on paged-out memory", () => {
  /** Writes a PROCESS_STATE request at 0x2000, sweeps `pages` pages (evicting it), then invokes with it. */
  const INVOKER = wat(`(module
    (import "dogma" "invoke" (func $invoke (param i32 i32 i32) (result i32)))
    (memory 300)
    (func (export "run") (param $pages i32) (result i32 i32) (local $i i32)
      (i32.store (i32.const 0x2000) (i32.const ${Op.PROCESS_STATE}))
      (i32.store (i32.const 0x2004) (i32.const 0))
      (i32.store (i32.const 0x2008) (i32.const 0))
      (block $done (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $pages)))
        (i32.store (i32.add (i32.const 0x10000) (i32.shl (local.get $i) (i32.const 12))) (local.get $i))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
      (call $invoke (i32.const 1) (i32.const 0x2000) (i32.const 64))
      (i32.load (i32.const 0x2014)))
    (func (export "_start")))`);

  it("pages the message buffer in before invoke reads it, and keeps it while the call runs", async () => {
    const t = testMachine({ memory: MEMORY });
    const store = new TestStore();
    t.kernel.enablePaging(store, { storePages: 8192, lowWater: 64 });
    const image = await t.loader.load(INVOKER, "invoker");
    const process = t.kernel.spawn(image, { entry: "run", entryArgs: [2 * FRAMES] });
    await t.kernel.run();
    expect(process.fault).toBe(null);
    expect(process.returnValue).toEqual([Status.OK, process.pid]);
    expect(store.readKeys).toContain(`${process.pid}:2`);
  }, patience(60_000));
});

for (const [name, cipher] of [["portable", portablePageCipher], ["node", nodePageCipher], ["WebCrypto, asynchronous", webPageCipher]] as const) describe(`the page sealer (${name} AES-GCM)`, () => {
  const entropy = { fill: (bytes: Uint8Array) => void crypto.getRandomValues(bytes) };
  const page = () => {
    const bytes = new Uint8Array(4096);
    crypto.getRandomValues(bytes);
    return bytes;
  };

  it("opens what it sealed, for that identity and version only", async () => {
    const sealer = new PageSealer(entropy, cipher);
    const bytes = page();
    const id = { space: 3, page: 0x42, version: 7 };
    const sealed = await sealer.seal(bytes, id);
    expect(await sealer.open(sealed, id)).toEqual(bytes);
    expect(sealed.data.subarray(0, 4096)).not.toEqual(bytes);
    expect(await sealer.open(sealed, { ...id, version: 6 })).toBe(null);
    expect(await sealer.open(sealed, { ...id, page: 0x43 })).toBe(null);
    expect(await sealer.open(sealed, { ...id, space: 4 })).toBe(null);
    expect(await new PageSealer(entropy, cipher).open(sealed, id)).toBe(null);
    expect(await sealer.open({ nonce: sealed.nonce, data: sealed.data.subarray(1) }, id)).toBe(null);
    const otherNonce = sealed.nonce.slice();
    otherNonce[11] ^= 1;
    expect(await sealer.open({ nonce: otherNonce, data: sealed.data }, id)).toBe(null);
  });

  it("seals and opens its inputs as they were at the call, whatever becomes of them after", async () => {
    // An evicted page's bytes are a view of its frame, which goes to another page as soon as the
    // eviction returns: WebCrypto's cipher read them after awaiting its key, and so sealed the
    // frame's next contents (in Chromium, memtest read back another page's bytes).
    const sealer = new PageSealer(entropy, cipher);
    const bytes = page();
    const before = bytes.slice();
    const id = { space: 5, page: 0x77, version: 2 };
    const sealing = sealer.seal(bytes, id);
    bytes.fill(0xee);
    const sealed = await sealing;
    const { nonce, ciphertext, tag } = partsOf(sealed);
    const parts = { nonce: nonce.slice(), ciphertext: ciphertext.slice(), tag: tag.slice() };
    const opening = sealer.open(parts, id);
    parts.ciphertext.fill(0);
    parts.tag.fill(0);
    parts.nonce.fill(0);
    expect(await opening).toEqual(before);
  });

  it("never uses a nonce twice", async () => {
    const sealer = new PageSealer(entropy, cipher);
    const seen = new Set<string>();
    for (let i = 0; i < 300; i++) seen.add(Buffer.from((await sealer.seal(new Uint8Array(4096), { space: 1, page: 1, version: 1 })).nonce).toString("hex"));
    expect(seen.size).toBe(300);
  });

  it("refuses any single flipped bit, in the data, the tag or the nonce", async () => {
    const sealer = new PageSealer(entropy, cipher);
    const id = { space: 9, page: 9, version: 1 };
    const sealed = await sealer.seal(page(), id);
    const next = prng(0x5eed);
    const random = () => Math.floor(next() * 2 ** 32);
    for (let i = 0; i < 200; i++) {
      const inNonce = random() % 10 === 0;
      const target = inNonce ? sealed.nonce.slice() : sealed.data.slice();
      const at = random() % target.length;
      target[at] ^= 1 << (random() % 8);
      const altered = inNonce ? { nonce: target, data: sealed.data } : { nonce: sealed.nonce, data: target };
      expect(await sealer.open(altered, id)).toBe(null);
    }
  });
});

describe("the three page ciphers", () => {
  it("make the same blobs, and each opens the others'", async () => {
    const fixed = { fill: (bytes: Uint8Array) => void bytes.fill(0x5a) };
    const sealers = [portablePageCipher, nodePageCipher, webPageCipher].map((cipher) => new PageSealer(fixed, cipher));
    const bytes = Uint8Array.from({ length: 4096 }, (_, i) => (i * 13) & 0xff);
    const id = { space: 2, page: 0x30, version: 4 };
    const blobs = await Promise.all(sealers.map((sealer) => sealer.seal(bytes, id)));
    for (const blob of blobs) expect(blob).toEqual(blobs[0]);
    for (const sealer of sealers) for (const blob of blobs) expect(await sealer.open(blob, id)).toEqual(bytes);
  });
});

describe("KERNEL_SET_PAGING and KERNEL_PAGING_INFO", () => {
  it("let process 1's Kernel capability choose the policy once paging is on", async () => {
    const script = () => {
      const s = new Script();
      const ids = {
        set: s.invoke(2, Op.KERNEL_SET_PAGING, { words: [EvictionPolicy.AGING] }),
        bad: s.invoke(2, Op.KERNEL_SET_PAGING, { words: [2] }),
        noRight: s.invoke(3, Op.KERNEL_SET_PAGING, { words: [EvictionPolicy.CLOCK] }),
        info: s.invoke(3, Op.KERNEL_PAGING_INFO),
      };
      s.end();
      return { s, ids };
    };
    const outcome = async (paging: boolean) => {
      const m = await scriptMachine();
      const store = paging ? m.kernel.enablePaging(new TestStore()) : null;
      const policy = m.kernel.policyObject();
      const { s, ids } = script();
      const p = m.spawn(s, { caps: [m.kernel.capability(policy, Rights.KERNEL_POLICY), m.kernel.capability(policy, 0)] });
      await runAll(m);
      const log = m.log();
      return { set: log.status(p, ids.set), bad: log.status(p, ids.bad), noRight: log.status(p, ids.noRight), info: log.answer(p, ids.info).words, policy: store?.policy };
    };
    expect(await outcome(false)).toEqual({ set: Status.E_NOT_READY, bad: Status.E_INVALID_ARGUMENT, noRight: Status.E_MISSING_RIGHT, info: [0, 0, 0, 0, 0, 0, 0], policy: undefined });
    expect(await outcome(true)).toEqual({ set: Status.OK, bad: Status.E_INVALID_ARGUMENT, noRight: Status.E_MISSING_RIGHT, info: [1, EvictionPolicy.AGING, 0, 0, 0, 8192, 0], policy: EvictionPolicy.AGING });
  });
});
