/**
 * Pages: mapping into the private window and at the global address, unmapping, flags, sharing
 * between processes, and copy (the frame is shared until someone maps either side writable) and
 * move (the frame changes hands) checked against the frame allocator.
 */
import { describe, expect, it } from "vitest";
import { ObjectKind, Op, PageFlag, Rights } from "../../src/kernel/caps/object-abi.ts";
import { Status } from "../../src/kernel/errors.ts";
import { ALL, Script, type ScriptMachine, hostPage, runAll, scriptMachine } from "./script.ts";

const word = (m: ScriptMachine, frame: number, index: number) => m.kernel.services.memory.unsignedWords[frame * 1024 + index]!;

describe("mapping a Page", () => {
  it("maps at private addresses, twice in one process, and unmaps back to a zero private page", async () => {
    const m = await scriptMachine();
    const page = hostPage(m);
    const s = new Script();
    s.write(0x3000, 0x5555);
    const stateBefore = s.invoke(1, Op.PROCESS_STATE);
    const mapped = s.invoke(2, Op.PAGE_MAP, { words: [0x3000, 1] });
    const stateAfter = s.invoke(1, Op.PROCESS_STATE);
    // What was at 0x3000 (a private page holding 0x5555) is gone.
    const fresh = s.read(0x3000);
    s.write(0x3000, 0xabcd);
    s.invoke(2, Op.PAGE_MAP, { words: [0x4000, 0] });
    const other = s.read(0x4000);
    const info = s.invoke(2, Op.PAGE_INFO);
    const unmapped = s.invoke(2, Op.PAGE_UNMAP, { words: [0x3000] });
    const zero = s.read(0x3000);
    const again = s.invoke(2, Op.PAGE_UNMAP, { words: [0x3000] });
    const never = s.invoke(2, Op.PAGE_UNMAP, { words: [0x5000] });
    const still = s.read(0x4000);
    const infoAfter = s.invoke(2, Op.PAGE_INFO);
    s.end();
    const p = m.spawn(s, { caps: [m.kernel.capability(page, ALL)] });
    await runAll(m);
    const log = m.log();
    expect(log.status(p, mapped)).toBe(0);
    expect(log.answer(p, stateAfter).words[7]).toBe(log.answer(p, stateBefore).words[7]! - 1);
    expect(log.value(p, fresh)).toBe(0);
    expect(log.value(p, other)).toBe(0xabcd);
    expect(log.answer(p, info).words).toEqual([0, 0, 2]);
    expect(log.status(p, unmapped)).toBe(0);
    expect(log.value(p, zero)).toBe(0);
    expect(log.status(p, again)).toBe(Status.E_BAD_ADDRESS);
    expect(log.status(p, never)).toBe(Status.E_BAD_ADDRESS);
    expect(log.value(p, still)).toBe(0xabcd);
    expect(log.answer(p, infoAfter).words).toEqual([0, 0, 1]);
    expect(word(m, page.frame, 0)).toBe(0xabcd);
    // The process ended: its mappings are gone, the Page and its bytes stay.
    expect(page.mappingCount).toBe(0);
  });

  it("refuses bad addresses and missing rights", async () => {
    const m = await scriptMachine();
    const page = hostPage(m);
    const s = new Script();
    const bad = [0x3004, 0, 0x800, 0x20000, 0x7fff_f000, 0x8000_0000, 0xffff_f000].map((address) => s.invoke(2, Op.PAGE_MAP, { words: [address, 0] }));
    const writeNoRight = s.invoke(3, Op.PAGE_MAP, { words: [0x3000, 1] });
    const readNoRight = s.invoke(4, Op.PAGE_MAP, { words: [0x3000, 0] });
    const globalNoRight = s.invoke(3, Op.PAGE_MAP_GLOBAL, { words: [1] });
    const flagsNoRight = s.invoke(3, Op.PAGE_SET_FLAGS, { words: [PageFlag.SHARED] });
    const badFlags = s.invoke(2, Op.PAGE_SET_FLAGS, { words: [4] });
    const readOnly = s.invoke(3, Op.PAGE_MAP, { words: [0x3000, 0] });
    const unknown = s.invoke(2, 0xffff_04ff);
    const info = s.invoke(4, Op.PAGE_INFO);
    const capInfo = s.invoke(3, Op.CAP_INFO);
    s.end();
    const p = m.spawn(s, { caps: [m.kernel.capability(page, ALL), m.kernel.capability(page, Rights.PAGE_READ), m.kernel.capability(page, 0)] });
    await runAll(m);
    const log = m.log();
    for (const id of bad) expect(log.status(p, id)).toBe(Status.E_BAD_ADDRESS);
    expect(log.status(p, writeNoRight)).toBe(Status.E_MISSING_RIGHT);
    expect(log.status(p, readNoRight)).toBe(Status.E_MISSING_RIGHT);
    expect(log.status(p, globalNoRight)).toBe(Status.E_MISSING_RIGHT);
    expect(log.status(p, flagsNoRight)).toBe(Status.E_MISSING_RIGHT);
    expect(log.status(p, badFlags)).toBe(Status.E_INVALID_ARGUMENT);
    expect(log.status(p, readOnly)).toBe(0);
    expect(log.status(p, unknown)).toBe(Status.E_INVALID_ARGUMENT);
    expect(log.answer(p, info).words).toEqual([0, 0, 1]);
    expect(log.answer(p, capInfo).words).toEqual([ObjectKind.PAGE, Rights.PAGE_READ]);
  });

  it("maps at its global address, the same each time", async () => {
    const m = await scriptMachine();
    const page = hostPage(m);
    const s = new Script();
    const g = s.reg();
    const first = s.invoke(2, Op.PAGE_MAP_GLOBAL, { words: [1] });
    s.loadWord(g, 0);
    s.write(g.plus(8), 0x600d);
    const second = s.invoke(2, Op.PAGE_MAP_GLOBAL, { words: [0] });
    s.invoke(2, Op.PAGE_MAP, { words: [0x3000, 0] });
    const privately = s.read(0x3008);
    const info = s.invoke(2, Op.PAGE_INFO);
    const unmapped = s.invoke(2, Op.PAGE_UNMAP, { words: [g] });
    s.end();
    const p = m.spawn(s, { caps: [m.kernel.capability(page, ALL)] });
    await runAll(m);
    const log = m.log();
    const address = log.answer(p, first).words[0]!;
    expect(address).toBeGreaterThanOrEqual(0x8000_0000);
    expect(address % 4096).toBe(0);
    expect(log.answer(p, second).words).toEqual([address]);
    expect(log.value(p, privately)).toBe(0x600d);
    expect(log.answer(p, info).words).toEqual([0, address, 2]);
    expect(log.status(p, unmapped)).toBe(0);
    expect(page.globalAddress).toBe(address);
  });

  it("faults a write through a read-only mapping", async () => {
    const m = await scriptMachine();
    const page = hostPage(m);
    const s = new Script();
    s.invoke(2, Op.PAGE_MAP, { words: [0x3000, 0] });
    s.read(0x3000);
    s.write(0x3010, 1);
    s.end();
    const p = m.spawn(s, { caps: [m.kernel.capability(page, ALL)] });
    await runAll(m);
    expect(p.fault).toMatchObject({ kind: "read-only", address: 0x3010 });
    expect(word(m, page.frame, 4)).toBe(0);
  });

  it("makes every mapping read-only with READ_ONLY, and refuses writable mappings then", async () => {
    const m = await scriptMachine();
    const page = hostPage(m);
    const s = new Script();
    s.invoke(2, Op.PAGE_MAP, { words: [0x3000, 1] });
    s.write(0x3000, 7);
    const set = s.invoke(2, Op.PAGE_SET_FLAGS, { words: [PageFlag.READ_ONLY] });
    const info = s.invoke(2, Op.PAGE_INFO);
    const refused = s.invoke(2, Op.PAGE_MAP, { words: [0x4000, 1] });
    const globalRefused = s.invoke(2, Op.PAGE_MAP_GLOBAL, { words: [1] });
    const readable = s.read(0x3000);
    s.write(0x3004, 8);
    s.end();
    const p = m.spawn(s, { caps: [m.kernel.capability(page, ALL)] });
    await runAll(m);
    const log = m.log();
    expect(log.status(p, set)).toBe(0);
    expect(log.answer(p, info).words).toEqual([PageFlag.READ_ONLY, 0, 1]);
    expect(log.status(p, refused)).toBe(Status.E_MISSING_RIGHT);
    expect(log.status(p, globalRefused)).toBe(Status.E_MISSING_RIGHT);
    expect(log.value(p, readable)).toBe(7);
    expect(p.fault).toMatchObject({ kind: "read-only", address: 0x3004 });
  });

  it("lets a second process map it only when SHARED, and both see each other's writes", async () => {
    const m = await scriptMachine();
    const page = hostPage(m);
    const a = new Script();
    a.invoke(2, Op.PAGE_MAP, { words: [0x3000, 1] });
    a.write(0x3000, 0xaaaa);
    a.futexWait(0x3100, 0);
    const seen = a.read(0x3004);
    a.end();
    const ap = m.spawn(a, { caps: [m.kernel.capability(page, ALL)] });
    const b = new Script();
    b.waitForState(3, 2);
    const refused = b.invoke(2, Op.PAGE_MAP, { words: [0x5000, 1] });
    const shared = b.invoke(2, Op.PAGE_SET_FLAGS, { words: [PageFlag.SHARED] });
    const mapped = b.invoke(2, Op.PAGE_MAP, { words: [0x5000, 1] });
    const read = b.read(0x5000);
    b.write(0x5004, 0xbbbb);
    b.write(0x5100, 1);
    b.futexWake(0x5100, 1);
    b.end();
    const bp = m.spawn(b, { caps: [m.kernel.capability(page, ALL), m.kernel.capability(ap, Rights.PROCESS_INFO)] });
    const stuck = await runAll(m);
    const log = m.log();
    expect(stuck.map((q) => q.pid)).toEqual([]);
    expect(log.status(bp, refused)).toBe(Status.E_NOT_READY);
    expect(log.status(bp, shared)).toBe(0);
    expect(log.status(bp, mapped)).toBe(0);
    expect(log.value(bp, read)).toBe(0xaaaa);
    expect(log.value(ap, seen)).toBe(0xbbbb);
  });

  it("is unmapped everywhere when destroyed, and its frame and global range come back", async () => {
    const m = await scriptMachine();
    m.kernel.imageObject(m.vm);
    const free = m.kernel.frames.freeCount;
    const s = new Script();
    const [page, g] = [s.reg(), s.reg()];
    s.invoke(2, Op.MEMORY_CREATE_PAGE);
    s.loadCap(page);
    s.invoke(page, Op.PAGE_MAP, { words: [0x3000, 1] });
    s.write(0x3000, 9);
    s.invoke(page, Op.PAGE_MAP_GLOBAL, { words: [0] });
    s.loadWord(g, 0);
    s.invoke(page, Op.CAP_DROP);
    const zero = s.read(0x3000);
    // A second Page gets the same global address again: the first one's range was released.
    s.invoke(2, Op.MEMORY_CREATE_PAGE);
    s.loadCap(page);
    const again = s.invoke(page, Op.PAGE_MAP_GLOBAL, { words: [0] });
    const first = s.logValue(g);
    s.read(g);
    s.end();
    const p = m.spawn(s, { caps: [m.kernel.capability(m.kernel.rootMemory, ALL)] });
    await runAll(m);
    const log = m.log();
    expect(log.value(p, zero)).toBe(0);
    expect(log.answer(p, again).words[0]! | 0).toBe(log.value(p, first));
    expect(m.kernel.frames.freeCount).toBe(free);
  });
});

describe("copying and moving", () => {
  it("shares the frame on copy until a writable mapping, then copies it", async () => {
    const m = await scriptMachine();
    m.kernel.imageObject(m.vm);
    const source = hostPage(m);
    const target = hostPage(m);
    const writer = new Script();
    writer.invoke(2, Op.PAGE_MAP, { words: [0x3000, 1] });
    writer.fill(0x3000, 0x1000, 1024);
    writer.invoke(2, Op.PAGE_UNMAP, { words: [0x3000] });
    const copied = writer.invoke(2, Op.PAGE_COPY, { caps: [3] });
    writer.end();
    const wp = m.spawn(writer, { caps: [m.kernel.capability(source, Rights.PAGE_READ | Rights.PAGE_WRITE), m.kernel.capability(target, ALL)] });
    await runAll(m);
    expect(m.log().status(wp, copied)).toBe(0);
    const shared = source.frame;
    expect(target.frame).toBe(shared);
    expect(m.kernel.services.sharedFrames.holders(shared)).toBe(2);
    const freeShared = m.kernel.frames.freeCount;

    const reader = new Script();
    reader.invoke(3, Op.PAGE_MAP, { words: [0x4000, 0] });
    const readOnlyCheck = reader.check(0x4000, 0x1000, 1024);
    reader.invoke(3, Op.PAGE_MAP, { words: [0x5000, 1] });
    const writableCheck = reader.check(0x5000, 0x1000, 1024);
    reader.write(0x5000, 0xdead);
    const throughOther = reader.read(0x4000);
    reader.invoke(2, Op.PAGE_MAP, { words: [0x6000, 0] });
    const sourceCheck = reader.check(0x6000, 0x1000, 1024);
    reader.end();
    const rp = m.spawn(reader, { caps: [m.kernel.capability(source, ALL), m.kernel.capability(target, ALL)] });
    await runAll(m);
    const log = m.log();
    expect(log.one(rp, readOnlyCheck)).toEqual([0, 0xffff_ffff]);
    expect(log.one(rp, writableCheck)).toEqual([0, 0xffff_ffff]);
    // The target's read-only mapping follows it to its own frame.
    expect(log.value(rp, throughOther)).toBe(0xdead);
    expect(log.one(rp, sourceCheck)).toEqual([0, 0xffff_ffff]);
    expect(source.frame).toBe(shared);
    expect(target.frame).not.toBe(shared);
    expect(m.kernel.services.sharedFrames.holders(shared)).toBe(1);
    expect(m.kernel.services.sharedFrames.holders(target.frame)).toBe(1);
    expect(m.kernel.frames.freeCount).toBe(freeShared - 1);
    expect(word(m, source.frame, 0)).toBe(0x1000);
    expect(word(m, target.frame, 0)).toBe(0xdead);
  });

  it("copies the bytes at once when either side is mapped writable", async () => {
    const m = await scriptMachine();
    const source = hostPage(m);
    const target = hostPage(m);
    const s = new Script();
    s.invoke(2, Op.PAGE_MAP, { words: [0x3000, 1] });
    s.fill(0x3000, 0x77, 1024);
    const copied = s.invoke(2, Op.PAGE_COPY, { caps: [3] });
    s.write(0x3000, 0);
    s.invoke(3, Op.PAGE_MAP, { words: [0x4000, 0] });
    const check = s.check(0x4000, 0x77, 1024);
    s.end();
    const p = m.spawn(s, { caps: [m.kernel.capability(source, ALL), m.kernel.capability(target, ALL)] });
    await runAll(m);
    const log = m.log();
    expect(log.status(p, copied)).toBe(0);
    expect(log.one(p, check)).toEqual([0, 0xffff_ffff]);
    expect(source.frame).not.toBe(target.frame);
  });

  it("moves the frame without copying: the target has it, the source reads zeros and is unmapped", async () => {
    const m = await scriptMachine();
    m.kernel.imageObject(m.vm);
    const source = hostPage(m);
    const target = hostPage(m);
    const sourceFrame = source.frame;
    const s = new Script();
    s.invoke(2, Op.PAGE_MAP, { words: [0x3000, 1] });
    s.fill(0x3000, 0x4242, 16);
    s.invoke(3, Op.PAGE_MAP, { words: [0x4000, 0] });
    const before = s.read(0x4000);
    const moved = s.invoke(2, Op.PAGE_MOVE, { caps: [3] });
    const targetSees = s.check(0x4000, 0x4242, 16);
    // 0x3000 was the source's mapping: gone, so a private zero page is there now.
    const sourceAddress = s.read(0x3000);
    const info = s.invoke(2, Op.PAGE_INFO);
    s.invoke(2, Op.PAGE_MAP, { words: [0x5000, 0] });
    const sourceBytes = s.read(0x5000);
    s.end();
    const free = m.kernel.frames.freeCount;
    const p = m.spawn(s, { caps: [m.kernel.capability(source, ALL), m.kernel.capability(target, ALL)] });
    await runAll(m);
    const log = m.log();
    expect(log.value(p, before)).toBe(0);
    expect(log.status(p, moved)).toBe(0);
    expect(log.one(p, targetSees)).toEqual([0, 0xffff_ffff]);
    expect(log.value(p, sourceAddress)).toBe(0);
    expect(log.answer(p, info).words).toEqual([0, 0, 0]);
    expect(log.value(p, sourceBytes)).toBe(0);
    expect(target.frame).toBe(sourceFrame);
    expect(source.frame).not.toBe(sourceFrame);
    // The process's own pages are back; the two Pages still hold one frame each.
    expect(m.kernel.frames.freeCount).toBe(free);
  });

  it("checks copy and move rights and targets", async () => {
    const m = await scriptMachine();
    const source = hostPage(m);
    const target = hostPage(m);
    const locked = hostPage(m);
    locked.setFlags(PageFlag.READ_ONLY);
    const s = new Script();
    const ids = {
      copyNoRead: s.invoke(3, Op.PAGE_COPY, { caps: [4] }),
      moveNoWrite: s.invoke(5, Op.PAGE_MOVE, { caps: [4] }),
      targetNoWrite: s.invoke(2, Op.PAGE_COPY, { caps: [5] }),
      targetReadOnly: s.invoke(2, Op.PAGE_COPY, { caps: [6] }),
      moveToReadOnly: s.invoke(2, Op.PAGE_MOVE, { caps: [6] }),
      wrongType: s.invoke(2, Op.PAGE_COPY, { caps: [1] }),
      noTarget: s.invoke(2, Op.PAGE_COPY),
      toItself: s.invoke(2, Op.PAGE_COPY, { caps: [2] }),
      moveToItself: s.invoke(2, Op.PAGE_MOVE, { caps: [2] }),
    };
    s.end();
    const p = m.spawn(s, {
      caps: [
        m.kernel.capability(source, ALL),
        m.kernel.capability(source, Rights.PAGE_WRITE),
        m.kernel.capability(target, ALL),
        m.kernel.capability(target, Rights.PAGE_READ),
        m.kernel.capability(locked, ALL),
      ],
    });
    await runAll(m);
    const log = m.log();
    expect(log.status(p, ids.copyNoRead)).toBe(Status.E_MISSING_RIGHT);
    expect(log.status(p, ids.moveNoWrite)).toBe(Status.E_MISSING_RIGHT);
    expect(log.status(p, ids.targetNoWrite)).toBe(Status.E_MISSING_RIGHT);
    expect(log.status(p, ids.targetReadOnly)).toBe(Status.E_MISSING_RIGHT);
    expect(log.status(p, ids.moveToReadOnly)).toBe(Status.E_MISSING_RIGHT);
    expect(log.status(p, ids.wrongType)).toBe(Status.E_WRONG_TYPE);
    expect(log.status(p, ids.noTarget)).toBe(Status.E_INVALID_CAP);
    expect(log.status(p, ids.toItself)).toBe(0);
    expect(log.status(p, ids.moveToItself)).toBe(0);
    expect(m.kernel.services.sharedFrames.holders(source.frame)).toBe(1);
  });

  it("frees a shared frame only with its last holder", async () => {
    const m = await scriptMachine();
    m.kernel.imageObject(m.vm);
    const free = m.kernel.frames.freeCount;
    const s = new Script();
    const [a, b, c] = [s.reg(), s.reg(), s.reg()];
    for (const r of [a, b, c]) {
      s.invoke(2, Op.MEMORY_CREATE_PAGE);
      s.loadCap(r);
    }
    s.invoke(a, Op.PAGE_MAP, { words: [0x3000, 1] });
    s.write(0x3000, 0x31);
    s.invoke(a, Op.PAGE_UNMAP, { words: [0x3000] });
    s.invoke(a, Op.PAGE_COPY, { caps: [b] });
    s.invoke(b, Op.PAGE_COPY, { caps: [c] });
    s.invoke(a, Op.CAP_DROP);
    s.invoke(b, Op.CAP_DROP);
    s.invoke(c, Op.PAGE_MAP, { words: [0x3000, 0] });
    const last = s.read(0x3000);
    s.end();
    const p = m.spawn(s, { caps: [m.kernel.capability(m.kernel.rootMemory, ALL)] });
    await runAll(m);
    expect(m.log().value(p, last)).toBe(0x31);
    expect(m.kernel.frames.freeCount).toBe(free);
  });
});
