/**
 * futex_wait and futex_wake: keyed by the physical word, so processes that map one frame at
 * different addresses (a shared Page, a Region and its view) meet on it; timeouts; a value that
 * differs; bad addresses.
 */
import { describe, expect, it } from "vitest";
import { Op, PageFlag, Rights } from "../../src/kernel/caps/object-abi.ts";
import { PageObject } from "../../src/kernel/caps/page.ts";
import { Status } from "../../src/kernel/errors.ts";
import { ALL, Script, type ScriptMachine, State, runAll, scriptMachine } from "./script.ts";

function sharedPage(m: ScriptMachine): PageObject {
  const frame = m.kernel.services.sharedFrames.allocate()!;
  m.kernel.services.memory.zeroFrame(frame);
  const page = new PageObject(m.kernel.services, frame);
  m.kernel.rootMemory.adopt(page, 1);
  page.setFlags(PageFlag.SHARED);
  m.kernel.capability(page, ALL);
  return page;
}

describe("futexes", () => {
  it("wakes a waiter in another process through a shared Page mapped at another address", async () => {
    const m = await scriptMachine();
    const page = sharedPage(m);
    const a = new Script();
    a.invoke(2, Op.PAGE_MAP, { words: [0x3000, 1] });
    const waited = a.futexWait(0x3010, 0);
    const seen = a.read(0x3010);
    a.end();
    const ap = m.spawn(a, { caps: [m.kernel.capability(page, ALL)] });
    const b = new Script();
    b.invoke(2, Op.PAGE_MAP, { words: [0x6000, 1] });
    b.waitForState(3, State.blocked);
    b.write(0x6010, 1);
    const woken = b.futexWake(0x6010, 5);
    const none = b.futexWake(0x6010, 5);
    b.end();
    const bp = m.spawn(b, { caps: [m.kernel.capability(page, ALL), m.kernel.capability(ap, Rights.PROCESS_INFO)] });
    const stuck = await runAll(m);
    const log = m.log();
    expect(stuck.map((p) => p.pid)).toEqual([]);
    expect(log.value(ap, waited)).toBe(0);
    expect(log.value(ap, seen)).toBe(1);
    expect(log.value(bp, woken)).toBe(1);
    expect(log.value(bp, none)).toBe(0);
  });

  it("meets on a Region: the owner wakes a view holder waiting on its read-only mapping", async () => {
    const m = await scriptMachine();
    const mem = m.kernel.memoryObject(10);
    const keep = m.kernel.capability(mem, ALL);
    const viewer = new Script();
    viewer.waitForSlot(2);
    const address = viewer.reg();
    viewer.invoke(2, Op.REGION_INFO);
    viewer.loadWord(address, 0);
    const waited = viewer.futexWait(address.plus(64), 0);
    const seen = viewer.read(address.plus(64));
    viewer.end();
    const vp = m.spawn(viewer);
    const owner = new Script();
    const [region, view, addr] = [owner.reg(), owner.reg(), owner.reg()];
    owner.invoke(2, Op.MEMORY_CREATE_REGION, { words: [1, 0] });
    owner.loadCap(region);
    owner.invoke(region, Op.REGION_INFO);
    owner.loadWord(addr, 0);
    owner.invoke(region, Op.REGION_VIEW);
    owner.loadCap(view);
    owner.invoke(3, Op.PROCESS_GIVE, { caps: [view.move] });
    owner.waitForState(3, State.blocked);
    owner.write(addr.plus(64), 42);
    const woken = owner.futexWake(addr.plus(64), 1);
    owner.end();
    const op = m.spawn(owner, { caps: [m.kernel.capability(mem, ALL), m.kernel.capability(vp, Rights.PROCESS_GIVE | Rights.PROCESS_INFO)] });
    const stuck = await runAll(m);
    const log = m.log();
    expect(stuck.map((p) => p.pid)).toEqual([]);
    expect(log.value(op, woken)).toBe(1);
    expect(log.value(vp, waited)).toBe(0);
    expect(log.value(vp, seen)).toBe(42);
    keep.dispose();
  });

  // Redteam3: a process with a read-only mapping of a published word (dmesg -f's log-sequence)
  // could wake every waiter on it at will, each then asking its server again for nothing.
  it("lets only a process that may write the word wake its waiters", async () => {
    const m = await scriptMachine();
    const page = sharedPage(m);
    const waiter = new Script();
    waiter.invoke(2, Op.PAGE_MAP, { words: [0x3000, 0] });
    const waited = waiter.futexWait(0x3010, 0);
    waiter.end();
    const wp = m.spawn(waiter, { caps: [m.kernel.capability(page, Rights.PAGE_READ)] });
    const reader = new Script();
    reader.invoke(2, Op.PAGE_MAP, { words: [0x6000, 0] });
    reader.waitForState(3, State.blocked);
    const refused = reader.futexWake(0x6010, 5);
    reader.end();
    const rp = m.spawn(reader, { caps: [m.kernel.capability(page, Rights.PAGE_READ), m.kernel.capability(wp, Rights.PROCESS_INFO)] });
    const writer = new Script();
    writer.invoke(2, Op.PAGE_MAP, { words: [0x7000, 1] });
    writer.waitForState(4, State.exited);
    writer.waitForState(3, State.blocked);
    writer.write(0x7010, 1);
    const woken = writer.futexWake(0x7010, 5);
    writer.end();
    const writerPid = m.spawn(writer, { caps: [m.kernel.capability(page, ALL), m.kernel.capability(wp, Rights.PROCESS_INFO), m.kernel.capability(rp, Rights.PROCESS_INFO)] });
    const stuck = await runAll(m);
    const log = m.log();
    expect(stuck.map((p) => p.pid)).toEqual([]);
    expect(log.value(rp, refused)).toBe(Status.E_MISSING_RIGHT);
    expect(log.value(writerPid, woken)).toBe(1);
    expect(log.value(wp, waited)).toBe(0);
  });

  it("times out, answers E_NOT_READY for another value, and checks the address", async () => {
    const m = await scriptMachine();
    const s = new Script();
    s.write(0x3000, 5);
    const ids = {
      now: s.futexWait(0x3000, 5, 0n),
      later: s.futexWait(0x3000, 5, 1_000_000n),
      differs: s.futexWait(0x3000, 6),
      unaligned: s.futexWait(0x3002, 5),
      nullPage: s.futexWait(0x10, 0),
      global: s.futexWait(0x9000_0000, 0),
      beyond: s.futexWait(0x7fff_0000, 0),
      wakeUnaligned: s.futexWake(0x3001, 1),
      wakeNull: s.futexWake(0x0, 1),
      wakeNobody: s.futexWake(0x3000, 1),
      wakeNegative: s.futexWake(0x3000, -1),
    };
    s.end();
    const p = m.spawn(s);
    await runAll(m);
    const log = m.log();
    expect(log.value(p, ids.now)).toBe(Status.E_TIMEOUT);
    expect(log.value(p, ids.later)).toBe(Status.E_TIMEOUT);
    expect(log.value(p, ids.differs)).toBe(Status.E_NOT_READY);
    expect(log.value(p, ids.unaligned)).toBe(Status.E_INVALID_ARGUMENT);
    expect(log.value(p, ids.nullPage)).toBe(Status.E_BAD_ADDRESS);
    expect(log.value(p, ids.global)).toBe(Status.E_BAD_ADDRESS);
    expect(log.value(p, ids.beyond)).toBe(Status.E_BAD_ADDRESS);
    expect(log.value(p, ids.wakeUnaligned)).toBe(Status.E_INVALID_ARGUMENT);
    expect(log.value(p, ids.wakeNull)).toBe(Status.E_BAD_ADDRESS);
    expect(log.value(p, ids.wakeNobody)).toBe(0);
    expect(log.value(p, ids.wakeNegative)).toBe(0);
    expect(p.fault).toBe(null);
  });

  it("wakes at most `count` waiters, oldest first", async () => {
    const m = await scriptMachine();
    const page = sharedPage(m);
    const waiters = [0, 1, 2].map(() => {
      const w = new Script();
      w.invoke(2, Op.PAGE_MAP, { words: [0x3000, 0] });
      const id = w.futexWait(0x3000, 0);
      w.end();
      return { p: m.spawn(w, { caps: [m.kernel.capability(page, ALL)] }), id };
    });
    const s = new Script();
    waiters.forEach((_, i) => s.waitForState(3 + i, State.blocked));
    s.invoke(2, Op.PAGE_MAP, { words: [0x3000, 1] });
    const two = s.futexWake(0x3000, 2);
    const states = [3, 4, 5].map((slot) => s.invoke(slot, Op.PROCESS_STATE));
    const oneLeft = s.futexWake(0x3000, 10);
    s.end();
    const p = m.spawn(s, { caps: [m.kernel.capability(page, ALL), ...waiters.map((w) => m.kernel.capability(w.p, Rights.PROCESS_INFO))] });
    const stuck = await runAll(m);
    const log = m.log();
    expect(stuck.map((q) => q.pid)).toEqual([]);
    expect(log.value(p, two)).toBe(2);
    expect(states.map((id) => log.answer(p, id).words[1])).toEqual([State.ready, State.ready, State.blocked]);
    expect(log.value(p, oneLeft)).toBe(1);
    for (const w of waiters) expect(log.value(w.p, w.id)).toBe(0);
  });

  it("does not mix up two processes' private words at the same address", async () => {
    // No timeout to race: with one of 20 ms, a host stalled past it woke A before B looked, and B
    // then waited for ever for A to block (the test hung at load 15-20).
    const m = await scriptMachine();
    const a = new Script();
    a.futexWait(0x3000, 0);
    a.end();
    const ap = m.spawn(a);
    const b = new Script();
    b.waitForState(2, State.blocked);
    const woken = b.futexWake(0x3000, 1);
    // A wrongly woken would run in these and end; rightly, it still waits when nothing else can run.
    for (let i = 0; i < 3; i++) b.yield();
    b.end();
    const bp = m.spawn(b, { caps: [m.kernel.capability(ap, Rights.PROCESS_INFO)] });
    expect((await runAll(m)).map((p) => p.pid)).toEqual([ap.pid]);
    expect(m.log().value(bp, woken)).toBe(0);
  });

  // Redteam3: after a copy-on-write copy (PROCESS_CLONE's), two processes' private words share a
  // frame until one writes; a wake by one reached the other's waiters.
  it("does not wake another process's private word that shares its frame copy-on-write", async () => {
    const m = await scriptMachine();
    const a = new Script();
    a.write(0x3000, 0);
    a.futexWait(0x3000, 0);
    a.end();
    const ap = m.spawn(a);
    await m.kernel.run();
    expect(m.kernel.stuck()).toEqual([ap]);
    const b = new Script();
    const woken = b.futexWake(0x3000, 1);
    b.end();
    const bp = m.spawn(b);
    // B's page at 0x3000 becomes A's frame, shared copy-on-write, as a clone's pages are.
    expect(bp.space.copyOnWriteFrom(ap.space, 0x3000, 0x3000, 1)).toBe(Status.OK);
    expect(bp.space.mapping(0x3000)!.frame).toBe(ap.space.mapping(0x3000)!.frame);
    // A is still waiting when nothing else can run: nobody woke it.
    expect((await runAll(m)).map((p) => p.pid)).toEqual([ap.pid]);
    expect(m.log().value(bp, woken)).toBe(0);
  });

  it("forgets a waiter that is killed", async () => {
    const m = await scriptMachine();
    const page = sharedPage(m);
    const a = new Script();
    a.invoke(2, Op.PAGE_MAP, { words: [0x3000, 0] });
    a.futexWait(0x3000, 0);
    a.end();
    const ap = m.spawn(a, { caps: [m.kernel.capability(page, ALL)] });
    const b = new Script();
    b.invoke(2, Op.PAGE_MAP, { words: [0x3000, 1] });
    b.waitForState(3, State.blocked);
    b.invoke(3, Op.PROCESS_KILL);
    const woken = b.futexWake(0x3000, 1);
    b.end();
    const bp = m.spawn(b, { caps: [m.kernel.capability(page, ALL), m.kernel.capability(ap, ALL)] });
    await runAll(m);
    expect(m.log().value(bp, woken)).toBe(0);
    expect(ap.outcome).toEqual({ kind: "exited", code: 137 });
  });
});

describe("futexes and frames that change", () => {
  // Regression: found by this test. Futex waiters were keyed by the physical word, but a Page's
  // frame can change under a waiter (its first writable mapping after a copy gives it a frame of
  // its own; PAGE_MOVE gives the target a new one): the wake went to the new frame and the waiter,
  // keyed at the old one, slept for ever. Fixed in 8ef254f.
  it("wakes a waiter whose Page got a frame of its own after a copy (no lost wake-up)", async () => {
    const m = await scriptMachine();
    const page = sharedPage(m);
    const copy = sharedPage(m);
    expect(page.copyTo(copy, () => true)).toBe(true);
    expect(page.frame).toBe(copy.frame);
    const a = new Script();
    a.invoke(2, Op.PAGE_MAP, { words: [0x3000, 0] });
    const waited = a.futexWait(0x3000, 0);
    a.end();
    const ap = m.spawn(a, { caps: [m.kernel.capability(page, ALL)] });
    const b = new Script();
    b.waitForState(3, State.blocked);
    // The first writable mapping splits the Page from its copy: it moves to a fresh frame.
    b.invoke(2, Op.PAGE_MAP, { words: [0x4000, 1] });
    b.write(0x4000, 1);
    const woken = b.futexWake(0x4000, 1);
    b.end();
    const bp = m.spawn(b, { caps: [m.kernel.capability(page, ALL), m.kernel.capability(ap, Rights.PROCESS_INFO)] });
    const stuck = await runAll(m);
    const log = m.log();
    expect(page.frame).not.toBe(copy.frame);
    expect(log.value(bp, woken)).toBe(1);
    expect(stuck.map((p) => p.pid)).toEqual([]);
    expect(log.value(ap, waited)).toBe(0);
  });

  it("wakes a waiter on a Page that took another Page's frame by PAGE_MOVE", async () => {
    const m = await scriptMachine();
    const source = sharedPage(m);
    const target = sharedPage(m);
    const a = new Script();
    a.invoke(2, Op.PAGE_MAP, { words: [0x3000, 0] });
    const waited = a.futexWait(0x3000, 0);
    const seen = a.read(0x3000);
    a.end();
    const ap = m.spawn(a, { caps: [m.kernel.capability(target, ALL)] });
    const b = new Script();
    b.waitForState(4, State.blocked);
    const moved = b.invoke(2, Op.PAGE_MOVE, { caps: [3] });
    b.invoke(3, Op.PAGE_MAP, { words: [0x4000, 1] });
    b.write(0x4000, 7);
    const woken = b.futexWake(0x4000, 1);
    b.end();
    const sourceFrame = source.frame;
    const bp = m.spawn(b, { caps: [m.kernel.capability(source, ALL), m.kernel.capability(target, ALL), m.kernel.capability(ap, Rights.PROCESS_INFO)] });
    const stuck = await runAll(m);
    const log = m.log();
    expect(log.status(bp, moved)).toBe(0);
    expect(target.frame).toBe(sourceFrame);
    expect(log.value(bp, woken)).toBe(1);
    expect(stuck.map((p) => p.pid)).toEqual([]);
    expect(log.value(ap, waited)).toBe(0);
    expect(log.value(ap, seen)).toBe(7);
  });
});
