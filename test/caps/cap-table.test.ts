/**
 * Capability tables and the operations every capability answers: CAP_INFO, CAP_COPY (rights only
 * shrink), CAP_DROP; invalid indices; a full table.
 */
import { describe, expect, it } from "vitest";
import { CapTable, type CapabilityHolder } from "../../src/kernel/caps/cap-table.ts";
import { Capability } from "../../src/kernel/caps/capability.ts";
import { CAP_MOVE, CAP_TABLE_SLOTS, ObjectKind, Op, Rights, SELF_RIGHTS } from "../../src/kernel/caps/object-abi.ts";
import { Receiver } from "../../src/kernel/caps/receiver.ts";
import { Status } from "../../src/kernel/errors.ts";
import { ALL, R0, Script, runAll, scriptMachine } from "./script.ts";

function table(): { caps: CapTable; events: string[] } {
  const events: string[] = [];
  const holder: CapabilityHolder = {
    installed: (cap) => events.push(`+${cap.badge}`),
    removed: (cap) => events.push(`-${cap.badge}`),
  };
  return { caps: new CapTable(holder), events };
}

describe("CapTable (direct)", () => {
  it("never hands out slot 0 and answers null for indices outside the table", () => {
    const { caps } = table();
    const receiver = new Receiver(1);
    for (let i = 0; i < 5; i++) caps.install(new Capability(receiver, ALL, i));
    for (const index of [0, -1, CAP_TABLE_SLOTS, CAP_TABLE_SLOTS + 1, 1.5, NaN, 2 ** 31, -(2 ** 31)]) expect(caps.get(index)).toBe(null);
    expect(caps.get(2)?.badge).toBe(0);
  });

  it("installs from slot 2 upwards, then reuses the lowest freed slot", () => {
    const { caps, events } = table();
    const receiver = new Receiver(1);
    const slots = [10, 11, 12].map((badge) => caps.install(new Capability(receiver, ALL, badge)));
    expect(slots).toEqual([2, 3, 4]);
    expect(caps.take(3)?.badge).toBe(11);
    expect(caps.get(3)).toBe(null);
    expect(caps.install(new Capability(receiver, ALL, 13))).toBe(3);
    expect(caps.install(new Capability(receiver, ALL, 14))).toBe(5);
    expect(caps.size).toBe(4);
    expect(events).toEqual(["+10", "+11", "+12", "-11", "+13", "+14"]);
    expect([...caps.entries()].map(([i, c]) => [i, c.badge])).toEqual([
      [2, 10],
      [3, 13],
      [4, 12],
      [5, 14],
    ]);
  });

  it("fills all 1023 slots, slot 1 included, then answers 0", () => {
    const { caps } = table();
    const receiver = new Receiver(1);
    const seen = new Set<number>();
    for (let i = 1; i < CAP_TABLE_SLOTS; i++) seen.add(caps.install(new Capability(receiver, ALL)));
    expect(seen.size).toBe(CAP_TABLE_SLOTS - 1);
    expect(seen.has(0)).toBe(false);
    expect(seen.has(1)).toBe(true);
    expect(caps.install(new Capability(receiver, ALL))).toBe(0);
    caps.take(700);
    expect(caps.install(new Capability(receiver, ALL))).toBe(700);
  });

  it("refuses to place a capability in a taken slot", () => {
    const { caps } = table();
    const receiver = new Receiver(1);
    caps.placeAt(1, new Capability(receiver, ALL));
    expect(() => caps.placeAt(1, new Capability(receiver, ALL))).toThrow(/slot 1 is taken/);
  });

  it("disposes every capability on clear, destroying objects whose last capability went", () => {
    const { caps, events } = table();
    const a = new Receiver(1);
    const b = new Receiver(1);
    caps.install(new Capability(a, ALL, 1));
    caps.install(new Capability(a, ALL, 2));
    caps.install(new Capability(b, ALL, 3));
    const kept = new Capability(b, ALL, 4);
    expect([a.refs, b.refs]).toEqual([2, 2]);
    caps.clear();
    expect(caps.size).toBe(0);
    expect([a.refs, b.refs]).toEqual([0, 1]);
    expect([a.destroyed, b.destroyed]).toEqual([true, false]);
    expect(events.filter((e) => e.startsWith("-"))).toEqual(["-1", "-2", "-3"]);
    kept.dispose();
    expect(b.destroyed).toBe(true);
  });

  it("a capability is disposed once: a second dispose is a kernel bug", () => {
    const cap = new Capability(new Receiver(1), ALL);
    cap.dispose();
    expect(() => cap.dispose()).toThrow(/disposed twice/);
  });

  it("derive only ever removes rights and keeps the badge", () => {
    const receiver = new Receiver(1);
    const cap = new Capability(receiver, Rights.RECEIVER_SEND | Rights.RECEIVER_MINT, 99);
    const narrowed = cap.derive(Rights.RECEIVER_SEND | Rights.RECEIVER_CALL);
    expect([narrowed.rights, narrowed.badge]).toEqual([Rights.RECEIVER_SEND, 99]);
    expect(narrowed.derive(ALL).rights).toBe(Rights.RECEIVER_SEND);
    expect(receiver.refs).toBe(3);
  });
});

describe("CAP_INFO, CAP_COPY and CAP_DROP", () => {
  it("describes slot 1 as the process itself with PROCESS_INFO and PROCESS_LISTEN", async () => {
    const m = await scriptMachine();
    const s = new Script();
    const info = s.invoke(1, Op.CAP_INFO);
    const state = s.invoke(1, Op.PROCESS_STATE);
    const kill = s.invoke(1, Op.PROCESS_KILL);
    s.end();
    const p = m.spawn(s);
    await runAll(m);
    const log = m.log();
    expect(log.answer(p, info).words).toEqual([ObjectKind.PROCESS, SELF_RIGHTS]);
    expect(log.answer(p, state).words[0]).toBe(p.pid);
    expect(log.status(p, kill)).toBe(Status.E_MISSING_RIGHT);
  });

  it("copies with a mask: rights shrink and never grow back", async () => {
    const m = await scriptMachine();
    const mem = m.kernel.memoryObject(10);
    const s = new Script();
    const [narrow, wide, same] = [s.reg(), s.reg(), s.reg()];
    s.invoke(2, Op.CAP_COPY, { words: [Rights.MEMORY_INFO | 0x100] });
    s.loadCap(narrow);
    const narrowInfo = s.invoke(narrow, Op.CAP_INFO);
    s.invoke(narrow, Op.CAP_COPY, { words: [ALL] });
    s.loadCap(wide);
    const wideInfo = s.invoke(wide, Op.CAP_INFO);
    const refused = s.invoke(wide, Op.MEMORY_CREATE_PAGE);
    const allowed = s.invoke(wide, Op.MEMORY_INFO);
    s.invoke(2, Op.CAP_COPY);
    s.loadCap(same);
    const sameInfo = s.invoke(same, Op.CAP_INFO);
    const zero = s.invoke(2, Op.CAP_COPY, { words: [0] });
    s.end();
    const p = m.spawn(s, { caps: [m.kernel.capability(mem, Rights.MEMORY_CREATE | Rights.MEMORY_INFO)] });
    await runAll(m);
    const log = m.log();
    expect(log.answer(p, narrowInfo).words).toEqual([ObjectKind.MEMORY, Rights.MEMORY_INFO]);
    expect(log.answer(p, wideInfo).words).toEqual([ObjectKind.MEMORY, Rights.MEMORY_INFO]);
    expect(log.status(p, refused)).toBe(Status.E_MISSING_RIGHT);
    expect(log.answer(p, allowed).words).toEqual([10, 0, 10]);
    expect(log.answer(p, sameInfo).words).toEqual([ObjectKind.MEMORY, Rights.MEMORY_CREATE | Rights.MEMORY_INFO]);
    // A copy with no rights is still a capability: it answers CAP_INFO and nothing else.
    const zeroAnswer = log.answer(p, zero);
    expect(zeroAnswer).toMatchObject({ status: 0, c: 1 });
    expect(zeroAnswer.caps[0]).toBeGreaterThan(1);
  });

  it("copies keep the badge; a minted capability's copy still reaches the server with it", async () => {
    const m = await scriptMachine();
    const receiver = new Receiver(4);
    m.kernel.rootMemory.adopt(receiver, 1);
    const s = new Script();
    const copy = s.reg();
    s.invoke(2, Op.CAP_COPY, { words: [ALL] });
    s.loadCap(copy);
    const sent = s.invoke(copy, 5, { words: [1] });
    const take = s.invoke(3, Op.RECEIVER_RECEIVE);
    s.end();
    const p = m.spawn(s, { caps: [m.kernel.capability(receiver, Rights.RECEIVER_SEND, 0xbadc0de), m.kernel.capability(receiver, Rights.RECEIVER_RECEIVE)] });
    await runAll(m);
    const log = m.log();
    expect(log.status(p, sent)).toBe(0);
    expect(log.answer(p, take)).toMatchObject({ status: 0, label: 5, badge: 0xbadc0de, words: [1] });
  });

  it("drops: the slot is empty afterwards, and dropping again is E_INVALID_CAP", async () => {
    const m = await scriptMachine();
    const mem = m.kernel.memoryObject(10);
    const s = new Script();
    const drop = s.invoke(2, Op.CAP_DROP);
    const again = s.invoke(2, Op.CAP_DROP);
    const use = s.invoke(2, Op.MEMORY_INFO);
    const dropSelf = s.invoke(1, Op.CAP_DROP);
    const self = s.invoke(1, Op.CAP_INFO);
    s.end();
    const p = m.spawn(s, { caps: [m.kernel.capability(mem, ALL)] });
    await runAll(m);
    const log = m.log();
    expect(log.status(p, drop)).toBe(0);
    expect(log.status(p, again)).toBe(Status.E_INVALID_CAP);
    expect(log.status(p, use)).toBe(Status.E_INVALID_CAP);
    expect(log.status(p, dropSelf)).toBe(0);
    expect(log.status(p, self)).toBe(Status.E_INVALID_CAP);
    // Its last capability went: the Memory is gone.
    expect(mem.destroyed).toBe(true);
  });

  it("answers E_INVALID_CAP for slot 0, empty slots and indices outside the table", async () => {
    const m = await scriptMachine();
    const s = new Script();
    const indices = [0, 5, 1023, 1024, -1, 0x7fff_ffff, CAP_MOVE | 1, CAP_MOVE | 0, 0xffff_ffff];
    const ids = indices.flatMap((index) => [s.invoke(index, Op.CAP_INFO), s.invoke(index, Op.CAP_DROP), s.invoke(index, 7)]);
    s.end();
    const p = m.spawn(s);
    await runAll(m);
    const log = m.log();
    for (const id of ids) expect(log.status(p, id)).toBe(Status.E_INVALID_CAP);
  });

  it("answers E_WRONG_TYPE for a user label on anything but a Receiver or a Reply", async () => {
    const m = await scriptMachine();
    const mem = m.kernel.memoryObject(10);
    const s = new Script();
    const page = s.reg();
    s.invoke(2, Op.MEMORY_CREATE_PAGE);
    s.loadCap(page);
    const ids = [s.invoke(1, 1), s.invoke(2, 0xfffe_ffff), s.invoke(page, 0)];
    s.end();
    const p = m.spawn(s, { caps: [m.kernel.capability(mem, ALL)] });
    await runAll(m);
    const log = m.log();
    for (const id of ids) expect(log.status(p, id)).toBe(Status.E_WRONG_TYPE);
  });

  it("refuses to copy a Region owner capability", async () => {
    const m = await scriptMachine();
    const mem = m.kernel.memoryObject(10);
    const s = new Script();
    const region = s.reg();
    s.invoke(2, Op.MEMORY_CREATE_REGION, { words: [1, 0] });
    s.loadCap(region);
    const copy = s.invoke(region, Op.CAP_COPY);
    const masked = s.invoke(region, Op.CAP_COPY, { words: [Rights.REGION_READ] });
    const info = s.invoke(region, Op.CAP_INFO);
    s.end();
    const p = m.spawn(s, { caps: [m.kernel.capability(mem, ALL)] });
    await runAll(m);
    const log = m.log();
    expect(log.status(p, copy)).toBe(Status.E_INVALID_ARGUMENT);
    expect(log.status(p, masked)).toBe(Status.E_INVALID_ARGUMENT);
    expect(log.answer(p, info).words).toEqual([ObjectKind.REGION, Rights.REGION_OWNER | Rights.REGION_READ]);
  });

  it("answers E_QUOTA when the table is full, and takes capabilities again after a drop", async () => {
    const m = await scriptMachine();
    const mem = m.kernel.memoryObject(10);
    const s = new Script();
    const count = s.reg(0);
    const last = s.reg(0);
    const loop = s.label();
    const full = s.label();
    s.bind(loop);
    s.invoke(2, Op.CAP_COPY, { dump: false });
    s.ifNegative(full);
    s.add(count, 1);
    s.loadCap(last);
    s.jump(loop);
    s.bind(full);
    const why = s.logValue(R0);
    const made = s.logValue(count);
    const info = s.invoke(2, Op.MEMORY_INFO);
    s.invoke(last, Op.CAP_DROP);
    const again = s.invoke(2, Op.CAP_COPY);
    const refused = s.invoke(2, Op.CAP_COPY);
    s.end();
    const p = m.spawn(s, { caps: [m.kernel.capability(mem, ALL)] });
    await runAll(m);
    const log = m.log();
    expect(log.value(p, why)).toBe(Status.E_QUOTA);
    // Slots 1 and 2 were taken: 1021 copies fill the table.
    expect(log.value(p, made)).toBe(CAP_TABLE_SLOTS - 3);
    expect(log.answer(p, info).words).toEqual([10, 0, 10]);
    expect(log.answer(p, again)).toMatchObject({ status: 0, c: 1 });
    expect(log.status(p, refused)).toBe(Status.E_QUOTA);
    expect(mem.refs).toBe(0);
    expect(mem.destroyed).toBe(true);
  });
});
