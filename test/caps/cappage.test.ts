/**
 * Cappages: 256 capability slots shared by every process that holds one. Put copies (or moves),
 * get hands out copies (a Region owner leaves instead), clear disposes.
 */
import { describe, expect, it } from "vitest";
import { Capability } from "../../src/kernel/caps/capability.ts";
import { Cappage } from "../../src/kernel/caps/cappage.ts";
import { CAPPAGE_SLOTS, ObjectKind, Op, Rights } from "../../src/kernel/caps/object-abi.ts";
import { Receiver } from "../../src/kernel/caps/receiver.ts";
import { Status } from "../../src/kernel/errors.ts";
import { ALL, Script, invokeReadOnly, makeReceiver, runAll, scriptMachine } from "./script.ts";

describe("Cappage (direct)", () => {
  it("puts, gets and takes; a put disposes what was in the slot; destruction disposes everything", () => {
    const cappage = new Cappage();
    const a = new Receiver(1);
    const b = new Receiver(1);
    cappage.put(3, new Capability(a, ALL, 1));
    expect(cappage.get(3)?.badge).toBe(1);
    cappage.put(3, new Capability(b, ALL, 2));
    expect([a.destroyed, cappage.get(3)?.badge]).toEqual([true, 2]);
    cappage.put(CAPPAGE_SLOTS - 1, new Capability(b, ALL, 3));
    expect(cappage.take(3)?.badge).toBe(2);
    expect(cappage.get(3)).toBe(null);
    expect(b.refs).toBe(2);
    cappage.destroy();
    expect(b.refs).toBe(1);
    expect([0, 255, 256, -1, 1.5].map((slot) => Cappage.validSlot(slot))).toEqual([true, true, false, false, false]);
  });
});

describe("CAPPAGE_* operations", () => {
  it("puts a copy or moves, gets copies, clears, and checks slots and rights", async () => {
    const m = await scriptMachine();
    const mem = m.kernel.memoryObject(10);
    const receiver = makeReceiver(m);
    const s = new Script();
    const [cp, got] = [s.reg(), s.reg()];
    s.invoke(2, Op.MEMORY_CREATE_CAPPAGE);
    s.loadCap(cp);
    const info = s.invoke(cp, Op.CAP_INFO);
    const put = s.invoke(cp, Op.CAPPAGE_PUT, { words: [7], caps: [3] });
    const kept = s.invoke(3, Op.CAP_INFO);
    const get = s.invoke(cp, Op.CAPPAGE_GET, { words: [7] });
    s.loadCap(got);
    const gotInfo = s.invoke(got, Op.CAP_INFO);
    const getAgain = s.invoke(cp, Op.CAPPAGE_GET, { words: [7] });
    const moved = s.invoke(cp, Op.CAPPAGE_PUT, { words: [255], caps: [got.move] });
    const movedGone = s.invoke(got, Op.CAP_INFO);
    const cleared = s.invoke(cp, Op.CAPPAGE_CLEAR, { words: [7] });
    const empty = s.invoke(cp, Op.CAPPAGE_GET, { words: [7] });
    const clearEmpty = s.invoke(cp, Op.CAPPAGE_CLEAR, { words: [7] });
    const last = s.invoke(cp, Op.CAPPAGE_GET, { words: [255] });
    const badSlots = [256, 0xffff_ffff, 0x8000_0000].map((slot) => s.invoke(cp, Op.CAPPAGE_GET, { words: [slot] }));
    const putNone = s.invoke(cp, Op.CAPPAGE_PUT, { words: [1] });
    const putTwo = s.invoke(cp, Op.CAPPAGE_PUT, { words: [1], caps: [3, 3] });
    const putBad = s.invoke(cp, Op.CAPPAGE_PUT, { words: [1], caps: [99] });
    const unknown = s.invoke(cp, 0xffff_05ff, { words: [1] });
    const readOnly = s.reg();
    s.invoke(cp, Op.CAP_COPY, { words: [Rights.CAPPAGE_READ] });
    s.loadCap(readOnly);
    const putNoRight = s.invoke(readOnly, Op.CAPPAGE_PUT, { words: [1], caps: [3] });
    const clearNoRight = s.invoke(readOnly, Op.CAPPAGE_CLEAR, { words: [255] });
    const getWithRead = s.invoke(readOnly, Op.CAPPAGE_GET, { words: [255] });
    const writeOnly = s.reg();
    s.invoke(cp, Op.CAP_COPY, { words: [Rights.CAPPAGE_WRITE] });
    s.loadCap(writeOnly);
    const getNoRight = s.invoke(writeOnly, Op.CAPPAGE_GET, { words: [255] });
    s.end();
    const p = m.spawn(s, { caps: [m.kernel.capability(mem, ALL), m.kernel.capability(receiver, Rights.RECEIVER_SEND, 44)] });
    await runAll(m);
    const log = m.log();
    expect(log.answer(p, info).words).toEqual([ObjectKind.CAPPAGE, ALL]);
    expect(log.status(p, put)).toBe(0);
    expect(log.answer(p, kept).words).toEqual([ObjectKind.RECEIVER, Rights.RECEIVER_SEND]);
    expect(log.answer(p, get)).toMatchObject({ status: 0, c: 1 });
    expect(log.answer(p, gotInfo).words).toEqual([ObjectKind.RECEIVER, Rights.RECEIVER_SEND]);
    expect(log.answer(p, getAgain)).toMatchObject({ status: 0, c: 1 });
    expect(log.status(p, moved)).toBe(0);
    expect(log.status(p, movedGone)).toBe(Status.E_INVALID_CAP);
    expect(log.status(p, cleared)).toBe(0);
    expect(log.status(p, empty)).toBe(Status.E_INVALID_CAP);
    expect(log.status(p, clearEmpty)).toBe(0);
    expect(log.answer(p, last)).toMatchObject({ status: 0, c: 1 });
    for (const id of badSlots) expect(log.status(p, id)).toBe(Status.E_INVALID_ARGUMENT);
    expect(log.status(p, putNone)).toBe(Status.E_INVALID_ARGUMENT);
    expect(log.status(p, putTwo)).toBe(Status.E_INVALID_ARGUMENT);
    expect(log.status(p, putBad)).toBe(Status.E_INVALID_CAP);
    expect(log.status(p, unknown)).toBe(Status.E_INVALID_ARGUMENT);
    expect(log.status(p, putNoRight)).toBe(Status.E_MISSING_RIGHT);
    expect(log.status(p, clearNoRight)).toBe(Status.E_MISSING_RIGHT);
    expect(log.answer(p, getWithRead)).toMatchObject({ status: 0, c: 1 });
    expect(log.status(p, getNoRight)).toBe(Status.E_MISSING_RIGHT);
  });

  it("narrows a capability to a window of slots, numbered from 0, which it cannot widen (redteam9)", async () => {
    const m = await scriptMachine();
    const mem = m.kernel.memoryObject(10);
    const receiver = makeReceiver(m);
    const s = new Script();
    const [cp, one, inner, got] = [s.reg(), s.reg(), s.reg(), s.reg()];
    s.invoke(2, Op.MEMORY_CREATE_CAPPAGE);
    s.loadCap(cp);
    s.invoke(cp, Op.CAPPAGE_PUT, { words: [0], caps: [3] }); // "the root with every right"
    s.invoke(cp, Op.CAPPAGE_PUT, { words: [1], caps: [3] }); // "the read-only root"
    // Slot 1 alone, read only: what init gives a service that only reads.
    s.invoke(cp, Op.CAP_COPY, { words: [Rights.CAPPAGE_READ] });
    const readOnly = s.reg();
    s.loadCap(readOnly);
    const narrowed = s.invoke(readOnly, Op.CAPPAGE_NARROW, { words: [1, 1] });
    s.loadCap(one);
    const oneInfo = s.invoke(one, Op.CAP_INFO);
    const getOwn = s.invoke(one, Op.CAPPAGE_GET, { words: [0] });
    s.loadCap(got);
    const gotInfo = s.invoke(got, Op.CAP_INFO);
    const getPast = s.invoke(one, Op.CAPPAGE_GET, { words: [1] });
    const getFar = s.invoke(one, Op.CAPPAGE_GET, { words: [255] });
    const putNoRight = s.invoke(one, Op.CAPPAGE_PUT, { words: [0], caps: [3] });
    const widen = s.invoke(one, Op.CAPPAGE_NARROW, { words: [0, 2] });
    const before = s.invoke(one, Op.CAPPAGE_NARROW, { words: [0xffff_ffff, 1] });
    const empty = s.invoke(one, Op.CAPPAGE_NARROW, { words: [0, 0] });
    const copyOfOne = s.reg();
    s.invoke(one, Op.CAP_COPY, { words: [ALL] });
    s.loadCap(copyOfOne);
    const copyPast = s.invoke(copyOfOne, Op.CAPPAGE_GET, { words: [1] });
    // A window of a window: slots 200-209, then 5-6 of those (205-206); a put lands in 205.
    const wide = s.invoke(cp, Op.CAPPAGE_NARROW, { words: [200, 10] });
    const window = s.reg();
    s.loadCap(window);
    s.invoke(window, Op.CAPPAGE_NARROW, { words: [5, 2] });
    s.loadCap(inner);
    const putInner = s.invoke(inner, Op.CAPPAGE_PUT, { words: [0], caps: [3] });
    const putInnerPast = s.invoke(inner, Op.CAPPAGE_PUT, { words: [2], caps: [3] });
    const seenWhole = s.invoke(cp, Op.CAPPAGE_GET, { words: [205] });
    const notAt200 = s.invoke(cp, Op.CAPPAGE_GET, { words: [200] });
    const lastWindow = s.invoke(cp, Op.CAPPAGE_NARROW, { words: [255, 1] });
    const pastEnd = s.invoke(cp, Op.CAPPAGE_NARROW, { words: [255, 2] });
    s.end();
    const p = m.spawn(s, { caps: [m.kernel.capability(mem, ALL), m.kernel.capability(receiver, Rights.RECEIVER_SEND, 44)] });
    await runAll(m);
    const log = m.log();
    expect(log.answer(p, narrowed)).toMatchObject({ status: 0, c: 1 });
    expect(log.answer(p, oneInfo).words).toEqual([ObjectKind.CAPPAGE, Rights.CAPPAGE_READ]);
    expect(log.answer(p, getOwn)).toMatchObject({ status: 0, c: 1 });
    expect(log.answer(p, gotInfo).words).toEqual([ObjectKind.RECEIVER, Rights.RECEIVER_SEND]);
    for (const id of [getPast, getFar, widen, before, empty, copyPast, putInnerPast, pastEnd]) expect(log.status(p, id)).toBe(Status.E_INVALID_ARGUMENT);
    expect(log.status(p, putNoRight)).toBe(Status.E_MISSING_RIGHT);
    expect(log.status(p, wide)).toBe(0);
    expect(log.status(p, putInner)).toBe(0);
    expect(log.answer(p, seenWhole)).toMatchObject({ status: 0, c: 1 });
    expect(log.status(p, notAt200)).toBe(Status.E_INVALID_CAP);
    expect(log.status(p, lastWindow)).toBe(0);
  });

  it("shares capabilities between processes: one puts, the other gets and uses", async () => {
    const m = await scriptMachine();
    const mem = m.kernel.memoryObject(10);
    const keep = m.kernel.capability(mem, ALL);
    const receiver = makeReceiver(m);
    const a = new Script();
    const cp = a.reg();
    a.invoke(2, Op.MEMORY_CREATE_CAPPAGE);
    a.loadCap(cp);
    a.invoke(3, Op.PROCESS_GIVE, { caps: [cp] });
    a.invoke(cp, Op.CAPPAGE_PUT, { words: [10], caps: [4] });
    const got = a.invoke(5, Op.RECEIVER_RECEIVE);
    a.end();
    const b = new Script();
    b.waitForSlot(2);
    const cap = b.reg();
    const taken = b.invoke(2, Op.CAPPAGE_GET, { words: [10] });
    b.loadCap(cap);
    const sent = b.invoke(cap, 3, { words: [33] });
    b.end();
    const bp = m.spawn(b);
    const ap = m.spawn(a, {
      caps: [
        m.kernel.capability(mem, ALL),
        m.kernel.capability(bp, Rights.PROCESS_GIVE),
        m.kernel.capability(receiver, Rights.RECEIVER_SEND, 0x99),
        m.kernel.capability(receiver, Rights.RECEIVER_RECEIVE),
      ],
    });
    await runAll(m);
    const log = m.log();
    expect(log.status(bp, taken)).toBe(0);
    expect(log.status(bp, sent)).toBe(0);
    expect(log.answer(ap, got)).toMatchObject({ status: 0, label: 3, badge: 0x99, words: [33] });
    // Both ended: the Cappage, its last capability gone, took its slot's capability with it.
    expect(mem.used).toBe(0);
    expect(receiver.refs).toBe(0);
    keep.dispose();
  });

  it("moves a Region owner in and out: it is never copied, and the sender loses its mapping", async () => {
    const m = await scriptMachine();
    const mem = m.kernel.memoryObject(10);
    const s = new Script();
    const [cp, region, back, address] = [s.reg(), s.reg(), s.reg(), s.reg()];
    s.invoke(2, Op.MEMORY_CREATE_CAPPAGE);
    s.loadCap(cp);
    s.invoke(2, Op.MEMORY_CREATE_REGION, { words: [1, 0] });
    s.loadCap(region);
    s.invoke(region, Op.REGION_INFO);
    s.loadWord(address, 0);
    s.write(address, 0x1111);
    const put = s.invoke(cp, Op.CAPPAGE_PUT, { words: [0], caps: [region] });
    const gone = s.invoke(region, Op.CAP_INFO);
    const get = s.invoke(cp, Op.CAPPAGE_GET, { words: [0] });
    s.loadCap(back);
    const empty = s.invoke(cp, Op.CAPPAGE_GET, { words: [0] });
    const info = s.invoke(back, Op.REGION_INFO);
    const read = s.read(address);
    s.end();
    const p = m.spawn(s, { caps: [m.kernel.capability(mem, ALL)] });
    await runAll(m);
    const log = m.log();
    expect(log.status(p, put)).toBe(0);
    expect(log.status(p, gone)).toBe(Status.E_INVALID_CAP);
    expect(log.answer(p, get)).toMatchObject({ status: 0, c: 1 });
    expect(log.status(p, empty)).toBe(Status.E_INVALID_CAP);
    const [addr, pages, flags, owner] = log.answer(p, info).words;
    expect([pages, flags, owner]).toEqual([1, 0, 1]);
    expect(addr).toBeGreaterThanOrEqual(0x8000_0000);
    expect(log.value(p, read)).toBe(0x1111);
  });

  it("shows a Region owner's range unmapped while the owner capability sits in a Cappage", async () => {
    const m = await scriptMachine();
    const mem = m.kernel.memoryObject(10);
    const s = new Script();
    const [cp, region, address] = [s.reg(), s.reg(), s.reg()];
    s.invoke(2, Op.MEMORY_CREATE_CAPPAGE);
    s.loadCap(cp);
    s.invoke(2, Op.MEMORY_CREATE_REGION, { words: [1, 0] });
    s.loadCap(region);
    s.invoke(region, Op.REGION_INFO);
    s.loadWord(address, 0);
    s.invoke(cp, Op.CAPPAGE_PUT, { words: [0], caps: [region] });
    s.read(address);
    s.end();
    const p = m.spawn(s, { caps: [m.kernel.capability(mem, ALL)] });
    await runAll(m);
    expect(p.fault).toMatchObject({ kind: "unmapped" });
  });

  // Regression: found by this test (CAPPAGE_GET took a Region owner out of its slot before
  // answer() found the buffer unwritable and disposed it, freeing the Region); fixed in 82100aa.
  it("keeps a Region owner in its slot when CAPPAGE_GET cannot write its answer", async () => {
    const m = await scriptMachine();
    const mem = m.kernel.memoryObject(20);
    const s = new Script();
    const [cp, region, back] = [s.reg(), s.reg(), s.reg()];
    s.invoke(2, Op.MEMORY_CREATE_CAPPAGE);
    s.loadCap(cp);
    s.invoke(2, Op.MEMORY_CREATE_REGION, { words: [1, 0] });
    s.loadCap(region);
    s.invoke(cp, Op.CAPPAGE_PUT, { words: [4], caps: [region] });
    const refused = invokeReadOnly(s, 2, cp, Op.CAPPAGE_GET, { words: [4] });
    const get = s.invoke(cp, Op.CAPPAGE_GET, { words: [4] });
    s.loadCap(back);
    const info = s.invoke(back, Op.REGION_INFO);
    s.end();
    const p = m.spawn(s, { caps: [m.kernel.capability(mem, ALL)] });
    await runAll(m);
    const log = m.log();
    expect(log.status(p, refused)).toBe(Status.E_BAD_ADDRESS);
    expect(log.answer(p, get)).toMatchObject({ status: 0, c: 1 });
    expect(log.answer(p, info).words[3]).toBe(1);
  });

  it("keeps any other capability in its slot when CAPPAGE_GET cannot write its answer", async () => {
    const m = await scriptMachine();
    const mem = m.kernel.memoryObject(20);
    const s = new Script();
    const cp = s.reg();
    s.invoke(2, Op.MEMORY_CREATE_CAPPAGE);
    s.loadCap(cp);
    s.invoke(cp, Op.CAPPAGE_PUT, { words: [4], caps: [2] });
    const refused = invokeReadOnly(s, 2, cp, Op.CAPPAGE_GET, { words: [4] });
    const get = s.invoke(cp, Op.CAPPAGE_GET, { words: [4] });
    s.end();
    const p = m.spawn(s, { caps: [m.kernel.capability(mem, ALL)] });
    await runAll(m);
    expect(m.log().status(p, refused)).toBe(Status.E_BAD_ADDRESS);
    expect(m.log().answer(p, get)).toMatchObject({ status: 0, c: 1 });
  });

  it("lives on while it holds a capability to itself, until its Memory is destroyed", async () => {
    const m = await scriptMachine();
    const mem = m.kernel.memoryObject(10);
    const keep = m.kernel.capability(mem, ALL);
    const s = new Script();
    const cp = s.reg();
    s.invoke(2, Op.MEMORY_CREATE_CAPPAGE);
    s.loadCap(cp);
    s.invoke(cp, Op.CAPPAGE_PUT, { words: [0], caps: [cp] });
    s.end();
    m.spawn(s, { caps: [m.kernel.capability(mem, ALL)] });
    await runAll(m);
    // A reference cycle: nothing can reach the Cappage, yet it is charged to the Memory.
    expect(mem.list()).toEqual([0, 0, 0, 0, 1, 0, 0, 1]);
    const destroyer = new Script();
    destroyer.invoke(2, Op.MEMORY_DESTROY);
    destroyer.end();
    m.spawn(destroyer, { caps: [keep] });
    await runAll(m);
    expect(mem.destroyed).toBe(true);
    expect(m.kernel.rootMemory.used).toBe(0);
  });

  it("disposes its capabilities when its Memory is destroyed", async () => {
    const m = await scriptMachine();
    const mem = m.kernel.memoryObject(10);
    const receiver = makeReceiver(m);
    const s = new Script();
    const [child, cp] = [s.reg(), s.reg()];
    s.invoke(2, Op.MEMORY_CREATE_MEMORY, { words: [5] });
    s.loadCap(child);
    s.invoke(child, Op.MEMORY_CREATE_CAPPAGE);
    s.loadCap(cp);
    s.invoke(cp, Op.CAPPAGE_PUT, { words: [0], caps: [3 | 0x8000_0000] });
    s.invoke(child, Op.MEMORY_DESTROY);
    const after = s.invoke(cp, Op.CAPPAGE_GET, { words: [0] });
    s.end();
    const p = m.spawn(s, { caps: [m.kernel.capability(mem, ALL), m.kernel.capability(receiver, Rights.RECEIVER_SEND)] });
    await runAll(m);
    const log = m.log();
    expect(log.status(p, after)).toBe(Status.E_PEER_DEAD);
    expect(receiver.refs).toBe(0);
    expect(receiver.destroyed).toBe(true);
  });
});
