/**
 * Regions: one owner with the range read-write at its global address, read-only views, moving the
 * owner (the sender loses the mapping in the same step), freeing (views keep the last contents, or
 * read zeros with ZERO_ON_FREE), and the owner's death.
 */
import { describe, expect, it } from "vitest";
import { Capability } from "../../src/kernel/caps/capability.ts";
import { ObjectKind, Op, RegionFlag, Rights } from "../../src/kernel/caps/object-abi.ts";
import type { RegionObject } from "../../src/kernel/caps/region.ts";
import { Status } from "../../src/kernel/errors.ts";
import { checkInvariants } from "../../src/kernel/invariants.ts";
import { ALL, type Reg, Script, State, makeReceiver, runAll, scriptMachine } from "./script.ts";

/** Creates a Region of `pages` in the Memory at slot 2; registers: the owner cap and its address. */
function createRegion(s: Script, pages: number, flags = 0): { region: Reg; address: Reg; info: number } {
  const [region, address] = [s.reg(), s.reg()];
  s.invoke(2, Op.MEMORY_CREATE_REGION, { words: [pages, flags] });
  s.loadCap(region);
  const info = s.invoke(region, Op.REGION_INFO);
  s.loadWord(address, 0);
  return { region, address, info };
}

describe("the owner", () => {
  it("has the range read-write at its global address, with an unmapped guard page after it", async () => {
    const m = await scriptMachine();
    const mem = m.kernel.memoryObject(10);
    const s = new Script();
    const { region, address, info } = createRegion(s, 2, 0xff);
    const capInfo = s.invoke(region, Op.CAP_INFO);
    const used = s.invoke(2, Op.MEMORY_INFO);
    s.fill(address, 0x100, 2048);
    const check = s.check(address, 0x100, 2048);
    s.read(address.plus(0x2000));
    s.end();
    const p = m.spawn(s, { caps: [m.kernel.capability(mem, ALL)] });
    await runAll(m);
    const log = m.log();
    const [addr, pages, flags, owner] = log.answer(p, info).words;
    expect(addr).toBeGreaterThanOrEqual(0x8000_0000);
    expect(addr! % 4096).toBe(0);
    expect([pages, flags, owner]).toEqual([2, RegionFlag.ZERO_ON_FREE, 1]);
    expect(log.answer(p, capInfo).words).toEqual([ObjectKind.REGION, Rights.REGION_OWNER | Rights.REGION_READ]);
    expect(log.answer(p, used).words).toEqual([10, 2, 8]);
    expect(log.one(p, check)).toEqual([0, 0xffff_ffff]);
    expect(p.fault).toMatchObject({ kind: "unmapped", address: addr! + 0x2000 });
  });

  it("loses the mapping in the same step as it moves the owner capability to another process", async () => {
    const m = await scriptMachine();
    const mem = m.kernel.memoryObject(10);
    const keep = m.kernel.capability(mem, ALL);
    const receiver = makeReceiver(m);
    const b = new Script();
    b.invoke(1, Op.PROCESS_LISTEN, { words: [1] });
    const got = b.invoke(2, Op.RECEIVER_RECEIVE);
    const [region, address] = [b.reg(), b.reg()];
    b.loadCap(region);
    const info = b.invoke(region, Op.REGION_INFO);
    b.loadWord(address, 0);
    const check = b.check(address, 0xa000, 1024);
    b.write(address, 0xb0b);
    const wrote = b.read(address);
    b.end();
    const bp = m.spawn(b, { caps: [m.kernel.capability(receiver, Rights.RECEIVER_RECEIVE)] });
    const a = new Script();
    const r = createRegion(a, 1);
    a.fill(r.address, 0xa000, 1024);
    a.waitForState(4, State.blocked);
    // No CAP_MOVE bit: a Region owner always moves.
    const sent = a.invoke(3, 1, { caps: [r.region] });
    const gone = a.invoke(r.region, Op.REGION_INFO);
    a.write(r.address, 0xbad);
    a.end();
    const ap = m.spawn(a, { caps: [m.kernel.capability(mem, ALL), m.kernel.capability(receiver, Rights.RECEIVER_SEND), m.kernel.capability(bp, Rights.PROCESS_INFO)] });
    await runAll(m);
    const log = m.log();
    const address0 = log.answer(ap, r.info).words[0]!;
    expect(log.status(ap, sent)).toBe(0);
    expect(log.status(ap, gone)).toBe(Status.E_INVALID_CAP);
    expect(ap.fault).toMatchObject({ kind: "unmapped", address: address0 });
    expect(log.answer(bp, got).c).toBe(1);
    expect(log.answer(bp, info).words).toEqual([address0, 1, 0, 1]);
    expect(log.one(bp, check)).toEqual([0, 0xffff_ffff]);
    expect(log.value(bp, wrote)).toBe(0xb0b);
    keep.dispose();
  });

  it("frees the Region when the owner moves it to a process that does not listen; views keep the contents", async () => {
    const m = await scriptMachine();
    const mem = m.kernel.memoryObject(10);
    const keep = m.kernel.capability(mem, ALL);
    const receiver = makeReceiver(m);
    const b = new Script();
    const got = b.invoke(2, Op.RECEIVER_RECEIVE);
    b.end();
    const bp = m.spawn(b, { caps: [m.kernel.capability(receiver, Rights.RECEIVER_RECEIVE)] });
    const a = new Script();
    const r = createRegion(a, 1);
    const view = a.reg();
    a.invoke(r.region, Op.REGION_VIEW);
    a.loadCap(view);
    a.write(r.address, 0x5a5a);
    a.waitForState(4, State.blocked);
    a.invoke(3, 1, { caps: [r.region] });
    a.waitForState(4, State.exited);
    const info = a.invoke(view, Op.REGION_INFO);
    const last = a.read(r.address);
    a.write(r.address, 1);
    a.end();
    const ap = m.spawn(a, { caps: [m.kernel.capability(mem, ALL), m.kernel.capability(receiver, Rights.RECEIVER_SEND), m.kernel.capability(bp, Rights.PROCESS_INFO)] });
    await runAll(m);
    const log = m.log();
    expect(log.answer(bp, got)).toMatchObject({ status: 0, c: 0 });
    expect(log.answer(ap, info).words.slice(1)).toEqual([1, RegionFlag.FREED, 0]);
    expect(log.value(ap, last)).toBe(0x5a5a);
    expect(ap.fault).toMatchObject({ kind: "read-only" });
    keep.dispose();
  });
});

describe("views", () => {
  it("map the range read-only in every process that holds one, and may be copied", async () => {
    const m = await scriptMachine();
    const mem = m.kernel.memoryObject(10);
    const keep = m.kernel.capability(mem, ALL);
    const b = new Script();
    b.waitForSlot(2);
    const info = b.invoke(2, Op.REGION_INFO);
    const capInfo = b.invoke(2, Op.CAP_INFO);
    const address = b.reg();
    b.invoke(2, Op.REGION_INFO);
    b.loadWord(address, 0);
    const check = b.check(address, 0x77, 256);
    const copy = b.invoke(2, Op.CAP_COPY);
    const viewOfView = b.invoke(2, Op.REGION_VIEW);
    const free = b.invoke(2, Op.REGION_FREE);
    b.write(address, 1);
    b.end();
    const bp = m.spawn(b);
    const a = new Script();
    const r = createRegion(a, 1);
    a.fill(r.address, 0x77, 256);
    const view = a.reg();
    const made = a.invoke(r.region, Op.REGION_VIEW);
    a.loadCap(view);
    a.invoke(3, Op.PROCESS_GIVE, { caps: [view] });
    a.invoke(3, Op.PROCESS_WAIT);
    // Holding the owner and a view: still read-write.
    a.write(r.address, 0x99);
    const mine = a.read(r.address);
    a.end();
    const ap = m.spawn(a, { caps: [m.kernel.capability(mem, ALL), m.kernel.capability(bp, Rights.PROCESS_GIVE | Rights.PROCESS_INFO)] });
    await runAll(m);
    const log = m.log();
    const addr = log.answer(ap, r.info).words[0]!;
    expect(log.answer(ap, made).c).toBe(1);
    expect(log.answer(bp, info).words).toEqual([addr, 1, 0, 0]);
    expect(log.answer(bp, capInfo).words).toEqual([ObjectKind.REGION, Rights.REGION_READ]);
    expect(log.one(bp, check)).toEqual([0, 0xffff_ffff]);
    expect(log.answer(bp, copy)).toMatchObject({ status: 0, c: 1 });
    expect(log.status(bp, viewOfView)).toBe(Status.E_MISSING_RIGHT);
    expect(log.status(bp, free)).toBe(Status.E_MISSING_RIGHT);
    expect(bp.fault).toMatchObject({ kind: "read-only", address: addr });
    expect(log.value(ap, mine)).toBe(0x99);
    keep.dispose();
  });

  it("keep the last contents after REGION_FREE; the owner's access ends and the pages stay charged", async () => {
    const m = await scriptMachine();
    const mem = m.kernel.memoryObject(10);
    const s = new Script();
    const r = createRegion(s, 2);
    const view = s.reg();
    s.invoke(r.region, Op.REGION_VIEW);
    s.loadCap(view);
    s.fill(r.address, 0x3000, 2048);
    const freed = s.invoke(r.region, Op.REGION_FREE);
    const ownerGone = s.invoke(r.region, Op.REGION_INFO);
    const info = s.invoke(view, Op.REGION_INFO);
    const check = s.check(r.address, 0x3000, 2048);
    const used = s.invoke(2, Op.MEMORY_INFO);
    s.invoke(view, Op.CAP_DROP);
    const usedAfter = s.invoke(2, Op.MEMORY_INFO);
    s.read(r.address);
    s.end();
    const p = m.spawn(s, { caps: [m.kernel.capability(mem, ALL)] });
    await runAll(m);
    const log = m.log();
    const addr = log.answer(p, r.info).words[0]!;
    expect(log.status(p, freed)).toBe(0);
    expect(log.status(p, ownerGone)).toBe(Status.E_INVALID_CAP);
    expect(log.answer(p, info).words).toEqual([addr, 2, RegionFlag.FREED, 0]);
    expect(log.one(p, check)).toEqual([0, 0xffff_ffff]);
    expect(log.answer(p, used).words).toEqual([10, 2, 8]);
    expect(log.answer(p, usedAfter).words).toEqual([10, 0, 10]);
    expect(p.fault).toMatchObject({ kind: "unmapped", address: addr });
  });

  it("read zeros after REGION_FREE with ZERO_ON_FREE, whose frames go back at once", async () => {
    const m = await scriptMachine();
    m.kernel.imageObject(m.vm);
    const mem = m.kernel.memoryObject(10);
    const s = new Script();
    const r = createRegion(s, 2, RegionFlag.ZERO_ON_FREE);
    const view = s.reg();
    s.invoke(r.region, Op.REGION_VIEW);
    s.loadCap(view);
    s.fill(r.address, 0x3000, 2048);
    const before = s.invoke(2, Op.MEMORY_INFO);
    const live = s.invoke(view, Op.REGION_INFO);
    s.invoke(r.region, Op.REGION_FREE);
    const gone = s.invoke(view, Op.REGION_INFO);
    const zeros = s.check(r.address, 0, 1);
    const zerosLater = s.check(r.address.plus(0x1ffc), 0, 1);
    const after = s.invoke(2, Op.MEMORY_INFO);
    s.futexWait(0x2000 + 200, 0);
    const p = m.spawn(s, { caps: [m.kernel.capability(mem, ALL)] });
    await m.kernel.run();
    const log = m.log();
    expect(log.answer(p, before).words).toEqual([10, 2, 8]);
    // REGION_INFO says whether the owner freed it: a holder of a view may let go of it then.
    expect(log.answer(p, live).words.slice(1)).toEqual([2, RegionFlag.ZERO_ON_FREE, 1]);
    expect(log.answer(p, gone).words.slice(1)).toEqual([2, RegionFlag.ZERO_ON_FREE | RegionFlag.FREED, 0]);
    expect(log.one(p, zeros)).toEqual([0, 0xffff_ffff]);
    expect(log.one(p, zerosLater)).toEqual([0, 0xffff_ffff]);
    expect(log.answer(p, after).words).toEqual([10, 0, 10]);
    // The process is blocked, holding the view: the Region is alive but holds no frames.
    const region = [...p.caps.entries()].map(([, cap]) => cap.object).find((o) => o.kind === ObjectKind.REGION)!;
    expect(region.destroyed).toBe(false);
    expect((region as unknown as { frames: number[] }).frames).toEqual([]);
    const free = m.kernel.frames.freeCount;
    m.kernel.kill(p.pid);
    expect(region.destroyed).toBe(true);
    expect(m.kernel.frames.freeCount).toBeGreaterThan(free);
  });

  it("see the last contents when the owner dies, or zeros with ZERO_ON_FREE", async () => {
    const m = await scriptMachine();
    const mem = m.kernel.memoryObject(10);
    const keep = m.kernel.capability(mem, ALL);
    const results = [];
    for (const flags of [0, RegionFlag.ZERO_ON_FREE]) {
      const b = new Script();
      b.waitForSlot(2);
      const address = b.reg();
      b.invoke(2, Op.REGION_INFO);
      b.loadWord(address, 0);
      const during = b.read(address);
      b.waitForState(3, State.exited);
      const after = b.read(address);
      b.end();
      const bp = m.spawn(b);
      const a = new Script();
      const r = createRegion(a, 1, flags);
      a.write(r.address, 0x4321);
      const view = a.reg();
      a.invoke(r.region, Op.REGION_VIEW);
      a.loadCap(view);
      a.invoke(3, Op.PROCESS_GIVE, { caps: [view.move] });
      a.invoke(3, Op.PROCESS_STATE);
      a.yield().yield();
      a.exit(0);
      const ap = m.spawn(a, { caps: [m.kernel.capability(mem, ALL), m.kernel.capability(bp, ALL)] });
      bp.caps.placeAt(3, m.kernel.capability(ap, Rights.PROCESS_INFO));
      await runAll(m);
      const log = m.log();
      results.push([log.value(bp, during), log.value(bp, after)]);
    }
    expect(results).toEqual([
      [0x4321, 0x4321],
      [0x4321, 0],
    ]);
    expect(mem.used).toBe(0);
    keep.dispose();
  });
});

describe("a Region that is destroyed", () => {
  it("answers E_PEER_DEAD and is unmapped when its Memory is destroyed and no other process holds it", async () => {
    const m = await scriptMachine();
    const mem = m.kernel.memoryObject(100);
    const inner = m.kernel.memoryObject(60, mem);
    const s = new Script();
    const [region, address] = [s.reg(), s.reg()];
    s.invoke(3, Op.MEMORY_CREATE_REGION, { words: [1, 0] });
    s.loadCap(region);
    s.invoke(region, Op.REGION_INFO);
    s.loadWord(address, 0);
    s.write(address, 1);
    s.invoke(3, Op.MEMORY_DESTROY); // the process itself lives in it: it ends here
    s.end();
    const p = m.spawn(s, { caps: [m.kernel.capability(mem, ALL), m.kernel.capability(inner, ALL)], memory: inner });
    await runAll(m);
    expect(p.outcome).toEqual({ kind: "exited", code: 137 });
    expect(mem.used).toBe(0);
    expect(checkInvariants(m.kernel)).toEqual([]);
  });

  // Redteam5: a client destroyed the Memory of a buffer the file system kept a view of; the Region
  // was unmapped from the server and its range given to the next Region, one of the server's own,
  // which its next WRITE from the buffer read (test/fs/buffer-vanish.test.ts).
  it("outlives its Memory while a process that lives on holds it: mapped as it was, charged to the Memory above, gone with its last capability", async () => {
    const m = await scriptMachine();
    const mem = m.kernel.memoryObject(10);
    const s = new Script();
    const child = s.reg();
    s.invoke(2, Op.MEMORY_CREATE_MEMORY, { words: [4] });
    s.loadCap(child);
    const [region, address] = [s.reg(), s.reg()];
    s.invoke(child, Op.MEMORY_CREATE_REGION, { words: [1, 0] });
    s.loadCap(region);
    const before = s.invoke(region, Op.REGION_INFO);
    s.loadWord(address, 0);
    s.write(address, 0x5151);
    const charged = s.invoke(2, Op.MEMORY_INFO);
    s.invoke(child, Op.MEMORY_DESTROY);
    const after = s.invoke(region, Op.REGION_INFO);
    const read = s.read(address);
    const handed = s.invoke(2, Op.MEMORY_INFO);
    // Another Region does not take its range while it lives.
    const other = createRegion(s, 1);
    s.invoke(region, Op.CAP_DROP);
    const dropped = s.invoke(2, Op.MEMORY_INFO);
    s.end();
    const p = m.spawn(s, { caps: [m.kernel.capability(mem, ALL)] });
    await runAll(m);
    const log = m.log();
    expect(p.fault).toBe(null);
    expect(log.answer(p, after).words).toEqual(log.answer(p, before).words);
    expect(log.value(p, read)).toBe(0x5151);
    // The Region's page moved to `mem` (the child Memory's own page went with it).
    expect(log.answer(p, handed).words[1]).toBe(log.answer(p, charged).words[1]! - 1);
    expect(log.answer(p, other.info).words[0]).not.toBe(log.answer(p, before).words[0]);
    // The other Region's page in, the dropped one's out.
    expect(log.answer(p, dropped).words[1]).toBe(log.answer(p, handed).words[1]);
    expect(checkInvariants(m.kernel)).toEqual([]);
  });

  it("outlives its Memory in a view alone with its frames given back: the view reads zeros, the Memory above pays for the range at most", async () => {
    const m = await scriptMachine();
    const mem = m.kernel.memoryObject(200);
    const s = new Script();
    const child = s.reg();
    s.invoke(2, Op.MEMORY_CREATE_MEMORY, { words: [40] });
    s.loadCap(child);
    const [region, address, view] = [s.reg(), s.reg(), s.reg()];
    s.invoke(child, Op.MEMORY_CREATE_REGION, { words: [16, 0] });
    s.loadCap(region);
    s.invoke(region, Op.REGION_INFO);
    s.loadWord(address, 0);
    s.invoke(region, Op.REGION_VIEW);
    s.loadCap(view);
    s.write(address.plus(4096 * 3), 0x77);
    s.invoke(region, Op.REGION_FREE); // views keep the last contents while its Memory lives
    const kept = s.read(address.plus(4096 * 3));
    const before = s.invoke(2, Op.MEMORY_INFO);
    s.invoke(child, Op.MEMORY_DESTROY);
    const zeros = s.read(address.plus(4096 * 3));
    const after = s.invoke(2, Op.MEMORY_INFO);
    s.invoke(view, Op.CAP_DROP);
    const dropped = s.invoke(2, Op.MEMORY_INFO);
    s.end();
    const p = m.spawn(s, { caps: [m.kernel.capability(mem, ALL)], memory: mem });
    await runAll(m);
    const log = m.log();
    expect(p.fault).toBe(null);
    expect(log.value(p, kept)).toBe(0x77);
    expect(log.value(p, zeros)).toBe(0);
    const [usedBefore, usedAfter, usedDropped] = [before, after, dropped].map((id) => log.answer(p, id).words[1]!);
    // The child Memory's page and the Region's 16 went; what the view keeps costs its holder at most a page or two.
    expect(usedAfter).toBeLessThanOrEqual(usedBefore - 17 + 2);
    expect(usedDropped).toBeLessThan(usedAfter);
    expect(checkInvariants(m.kernel)).toEqual([]);
  });

  // Regression: found by this test. A destroyed Region "remapped" by unmapping its old range in
  // any process a stale capability to it was installed in (a Cappage, a message or PROCESS_GIVE
  // carry one: takeCaps does not check for destroyed objects); a new Region living at the reused
  // address was then unmapped from its owner, whose next access faulted. Fixed in 39144e9.
  it("a stale capability to a destroyed Region cannot unmap the Region that took its place", async () => {
    const m = await scriptMachine();
    const mem = m.kernel.memoryObject(20);
    const s = new Script();
    const [child, old, oldView, cp, fresh, address] = [s.reg(), s.reg(), s.reg(), s.reg(), s.reg(), s.reg()];
    s.invoke(2, Op.MEMORY_CREATE_CAPPAGE);
    s.loadCap(cp);
    s.invoke(2, Op.MEMORY_CREATE_MEMORY, { words: [4] });
    s.loadCap(child);
    s.invoke(child, Op.MEMORY_CREATE_REGION, { words: [1, 0] });
    s.loadCap(old);
    const oldInfo = s.invoke(old, Op.REGION_INFO);
    s.invoke(old, Op.REGION_VIEW);
    s.loadCap(oldView);
    // Held by no table when its Memory goes (a table's holder keeps it alive: the test above).
    const put = s.invoke(cp, Op.CAPPAGE_PUT, { words: [0], caps: [oldView.move] });
    s.invoke(old, Op.CAP_DROP);
    s.invoke(child, Op.MEMORY_DESTROY);
    s.invoke(2, Op.MEMORY_CREATE_REGION, { words: [1, 0] });
    s.loadCap(fresh);
    const freshInfo = s.invoke(fresh, Op.REGION_INFO);
    s.loadWord(address, 0);
    s.write(address, 0x1234);
    const get = s.invoke(cp, Op.CAPPAGE_GET, { words: [0] });
    const owner = s.invoke(fresh, Op.REGION_INFO);
    const read = s.read(address);
    s.end();
    const p = m.spawn(s, { caps: [m.kernel.capability(mem, ALL)] });
    await runAll(m);
    const log = m.log();
    // The new Region got the dead one's address: that is what makes the stale capability dangerous.
    expect(log.answer(p, freshInfo).words[0]).toBe(log.answer(p, oldInfo).words[0]);
    expect(log.status(p, put)).toBe(0);
    expect(log.status(p, get)).toBe(0);
    expect(log.answer(p, owner).words[3]).toBe(1);
    expect(p.fault).toBe(null);
    expect(log.value(p, read)).toBe(0x1234);
  });
});

describe("views of a freed Region (its range kept reserved in the global space)", () => {
  /** 2048 pages, ZERO_ON_FREE: 2049 pages of the global space with its guard, 33 quota pages once freed on a 32 MiB machine. */
  const PAGES = 2048;
  const RESERVED = Math.ceil(((PAGES + 1) * ((32 << 20) / 4096)) / 2 ** 19);

  it("are charged to their holder until it drops them, which gives the range back", async () => {
    const m = await scriptMachine();
    const mem = m.kernel.memoryObject(PAGES + 400);
    const s = new Script();
    const r = createRegion(s, PAGES, RegionFlag.ZERO_ON_FREE);
    const view = s.reg();
    s.invoke(r.region, Op.REGION_VIEW);
    s.loadCap(view);
    const live = s.invoke(2, Op.MEMORY_INFO);
    s.invoke(r.region, Op.REGION_FREE);
    const held = s.invoke(2, Op.MEMORY_INFO);
    const zeros = s.check(r.address.plus(PAGES * 4096 - 4), 0, 1);
    s.invoke(view, Op.CAP_DROP);
    const dropped = s.invoke(2, Op.MEMORY_INFO);
    // The same range is free again: a new Region of the same size gets the same address.
    const again = createRegion(s, PAGES, RegionFlag.ZERO_ON_FREE);
    s.end();
    // The process's own pages are paid by the same Memory: what it keeps reserved is charged there.
    const p = m.spawn(s, { caps: [m.kernel.capability(mem, ALL)], memory: mem });
    await runAll(m);
    const log = m.log();
    const usedLive = log.answer(p, live).words[1]!;
    expect(log.answer(p, held).words[1]).toBe(usedLive - PAGES + RESERVED);
    expect(log.one(p, zeros)).toEqual([0, 0xffff_ffff]);
    expect(log.answer(p, dropped).words[1]).toBe(usedLive - PAGES);
    expect(log.answer(p, again.info).words[0]).toBe(log.answer(p, r.info).words[0]);
  });

  it("cannot fill the global space: a hoarder is held to its quota, and others still get Regions", async () => {
    const m = await scriptMachine();
    // Room for one live Region and the views of a few freed ones.
    const hoarderMemory = m.kernel.memoryObject(PAGES + RESERVED * 8 + 300);
    const s = new Script();
    // 300 rounds of a 2048-page Region made, a view of it kept, and the Region freed: 300 × 2049
    // pages is more than the 2^19 of the global space, which ran out after 255 rounds when
    // nobody paid for what the views kept.
    const round = s.reg(0);
    const top = s.label();
    s.bind(top);
    const region = s.reg();
    const created = s.invoke(2, Op.MEMORY_CREATE_REGION, { words: [PAGES, RegionFlag.ZERO_ON_FREE] });
    const skip = s.label();
    s.ifNegative(skip);
    s.loadCap(region);
    s.invoke(region, Op.REGION_VIEW, { dump: false });
    s.invoke(region, Op.REGION_FREE, { dump: false });
    s.bind(skip);
    s.add(round, 1);
    s.ifLess(round, 300, top);
    const used = s.invoke(2, Op.MEMORY_INFO);
    s.futexWait(0x2000 + 200, 0); // stays, holding what it kept
    const hoarder = m.spawn(s, { caps: [m.kernel.capability(hoarderMemory, ALL)], memory: hoarderMemory });
    await m.kernel.run();
    const other = new Script();
    const made = createRegion(other, PAGES);
    other.end();
    const q = m.spawn(other, { caps: [m.kernel.capability(m.kernel.memoryObject(PAGES + 10), ALL)] });
    await m.kernel.run();
    const log = m.log();
    const statuses = log.all(hoarder, created).map(([status]) => status! | 0);
    expect(statuses).toHaveLength(300);
    // Its own quota stops it: the views it keeps cost it what a new Region needs.
    expect(statuses.filter((status) => status < 0 && status !== Status.E_QUOTA)).toEqual([]);
    const views = [...hoarder.caps.entries()].filter(([, cap]) => cap.object.kind === ObjectKind.REGION).length;
    expect(views).toBeGreaterThan(0);
    expect(views).toBeLessThan(20);
    expect(log.answer(hoarder, used).words[1]).toBeGreaterThanOrEqual(views * RESERVED);
    expect(log.answer(q, made.info).status).toBe(0);
    expect(checkInvariants(m.kernel)).toEqual([]);
  });

  // redteam4: only views in process tables paid for the range; a view moved into a Cappage (or
  // left queued in a message) held it at no cost. 256 rounds of a 2048-page Region made, its view
  // put in a Cappage's slot and the Region freed filled the global space from one quota of one
  // live Region: no Region, Image or file map for anyone after. A freed Region whose frames went
  // back and that no process table holds is gone: the capabilities left elsewhere are stale.
  it("cannot fill the global space through views kept in a Cappage", async () => {
    const m = await scriptMachine();
    const hoarderMemory = m.kernel.memoryObject(PAGES + 300);
    const s = new Script();
    const cappage = s.reg();
    s.invoke(2, Op.MEMORY_CREATE_CAPPAGE);
    s.loadCap(cappage);
    const round = s.reg(0);
    const top = s.label();
    s.bind(top);
    const [region, view] = [s.reg(), s.reg()];
    const created = s.invoke(2, Op.MEMORY_CREATE_REGION, { words: [PAGES, RegionFlag.ZERO_ON_FREE] });
    const skip = s.label();
    s.ifNegative(skip);
    s.loadCap(region);
    s.invoke(region, Op.REGION_VIEW, { dump: false });
    s.loadCap(view);
    s.invoke(cappage, Op.CAPPAGE_PUT, { words: [round], caps: [view.move], dump: false });
    s.invoke(region, Op.REGION_FREE, { dump: false });
    s.bind(skip);
    s.add(round, 1);
    s.ifLess(round, 256, top);
    s.futexWait(0x2000 + 200, 0); // stays, holding the Cappage
    const hoarder = m.spawn(s, { caps: [m.kernel.capability(hoarderMemory, ALL)], memory: hoarderMemory });
    await m.kernel.run();
    const other = new Script();
    const made = createRegion(other, PAGES);
    other.end();
    const q = m.spawn(other, { caps: [m.kernel.capability(m.kernel.memoryObject(PAGES + 10), ALL)] });
    await m.kernel.run();
    const log = m.log();
    expect(log.answer(q, made.info).status).toBe(0);
    expect(log.all(hoarder, created).map(([status]) => status! | 0).filter((status) => status < 0)).toEqual([]);
    expect(checkInvariants(m.kernel)).toEqual([]);
  });

  // Redteam5: the holder lost its view (taken from its table, unmapped) and the range went to the
  // next Region: a server that kept a client's buffer (the file system, its quota full of its page
  // cache) faulted on the address, or read a Region of its own there.
  it("stay with a holder whose quota cannot pay for the range, reading zeros: the Region's Memory pays for the range until the view goes", async () => {
    const m = await scriptMachine();
    const a = new Script();
    createRegion(a, PAGES, RegionFlag.ZERO_ON_FREE);
    a.futexWait(0x2000 + 200, 0);
    const ownerMemory = m.kernel.memoryObject(PAGES + 10);
    const owner = m.spawn(a, { caps: [m.kernel.capability(ownerMemory, ALL)] });
    await m.kernel.run();
    const [ownerSlot, ownerCap] = [...owner.caps.entries()].find(([, cap]) => cap.object.kind === ObjectKind.REGION)!;
    const region = ownerCap.object as RegionObject;
    m.machine.memory.bytes.fill(0x77, region.frameList[5]! * 4096, region.frameList[5]! * 4096 + 4096);
    const b = new Script();
    b.futexWait(0x2000 + 200, 0);
    const small = m.kernel.memoryObject(200);
    const holder = m.spawn(b, { caps: [m.kernel.capability(region, Rights.REGION_READ)], memory: small });
    await m.kernel.run();
    const filler = small.available - (RESERVED - 1); // less room left than the range costs
    expect(small.charge(filler)).toBe(true);
    const usedBefore = small.used;
    const freeBefore = m.kernel.frames.freeCount;
    owner.caps.take(ownerSlot)!.dispose(); // the owner's capability goes: the Region is freed
    const [viewSlot] = [...holder.caps.entries()].find(([, cap]) => cap.object === region)!;
    expect(region.destroyed).toBe(false);
    expect(small.used).toBe(usedBefore);
    expect(ownerMemory.used).toBe(RESERVED);
    expect(m.kernel.frames.freeCount).toBe(freeBefore + PAGES);
    expect(holder.space.read(region.address + 5 * 4096, 4096).every((byte) => byte === 0)).toBe(true);
    holder.caps.take(viewSlot)!.dispose(); // the last view goes: the Region and its range
    expect(region.destroyed).toBe(true);
    expect(ownerMemory.used).toBe(0);
    small.uncharge(filler);
    expect(checkInvariants(m.kernel)).toEqual([]);
  });

  it("is refused to a newcomer that cannot pay: its table's install answers 0 and nothing is charged or mapped", async () => {
    const m = await scriptMachine();
    const a = new Script();
    const r = createRegion(a, PAGES, RegionFlag.ZERO_ON_FREE);
    a.invoke(r.region, Op.REGION_VIEW);
    a.futexWait(0x2000 + 200, 0);
    const ownerMemory = m.kernel.memoryObject(PAGES + 400);
    const owner = m.spawn(a, { caps: [m.kernel.capability(ownerMemory, ALL)], memory: ownerMemory });
    await m.kernel.run();
    const regionCaps = () => [...owner.caps.entries()].filter(([, cap]) => cap.object.kind === ObjectKind.REGION);
    const [ownerSlot, ownerCap] = regionCaps().find(([, cap]) => cap.has(Rights.REGION_OWNER))!;
    const region = ownerCap.object as RegionObject;
    owner.caps.take(ownerSlot)!.dispose(); // freed: the owner's view is now charged to it
    expect(region.freed).toBe(true);
    expect(region.destroyed).toBe(false);
    const b = new Script();
    b.futexWait(0x2000 + 200, 0);
    const small = m.kernel.memoryObject(200);
    const holder = m.spawn(b, { memory: small });
    await m.kernel.run();
    const filler = small.available - (RESERVED - 1);
    small.charge(filler);
    const used = small.used;
    const arriving = new Capability(region, Rights.REGION_READ);
    expect(holder.caps.install(arriving)).toBe(0);
    arriving.dispose(); // as every installer does with a capability that found no place
    expect(small.used).toBe(used);
    expect(holder.space.mapping(region.address)).toBeNull();
    expect(region.destroyed).toBe(false); // the owner's view still holds it
    const [viewSlot] = regionCaps()[0]!;
    owner.caps.take(viewSlot)!.dispose();
    expect(region.destroyed).toBe(true);
    small.uncharge(filler);
    expect(checkInvariants(m.kernel)).toEqual([]);
  });
});

describe("a Region lent for a call", () => {
  it("cannot be shared by the process it was lent to: no view, a filler that only fills, nothing mapped once it went back", async () => {
    // a lends its Region to b (as a client lends a server its buffer for a READ); b sends it back.
    // Before (redteam8), b made a view (or a filler, which maps the range read-only too) while it
    // held the owner, and kept reading what a put there after, for good.
    const m = await scriptMachine();
    const mem = m.kernel.memoryObject(10);
    const keep = m.kernel.capability(mem, ALL);
    const receiver = makeReceiver(m);
    const back = makeReceiver(m);
    const b = new Script();
    b.invoke(1, Op.PROCESS_LISTEN, { words: [1] });
    const [region, filler, address] = [b.reg(), b.reg(), b.reg()];
    b.invoke(2, Op.RECEIVER_RECEIVE);
    b.loadCap(region);
    b.invoke(region, Op.REGION_INFO);
    b.loadWord(address, 0);
    const view = b.invoke(region, Op.REGION_VIEW);
    b.invoke(region, Op.REGION_FILLER);
    b.loadCap(filler);
    const rights = b.invoke(filler, Op.CAP_INFO);
    b.invoke(3, 1, { caps: [region] });
    const mapped = b.invoke(filler, Op.REGION_INFO);
    b.read(address); // faults: nothing of a's range is mapped here now
    b.end();
    const bp = m.spawn(b, { caps: [m.kernel.capability(receiver, Rights.RECEIVER_RECEIVE), m.kernel.capability(back, Rights.RECEIVER_SEND)] });
    const a = new Script();
    a.invoke(1, Op.PROCESS_LISTEN, { words: [1] });
    const r = createRegion(a, 1);
    a.waitForState(4, State.blocked);
    a.invoke(3, 1, { caps: [r.region] });
    a.invoke(5, Op.RECEIVER_RECEIVE);
    a.loadCap(r.region);
    a.write(r.address, 0x5ec2e7); // what a puts in its buffer next
    const own = a.invoke(r.region, Op.REGION_VIEW); // its maker still may
    a.end();
    const ap = m.spawn(a, {
      caps: [m.kernel.capability(mem, ALL), m.kernel.capability(receiver, Rights.RECEIVER_SEND), m.kernel.capability(bp, Rights.PROCESS_INFO), m.kernel.capability(back, Rights.RECEIVER_RECEIVE)],
    });
    await runAll(m);
    const log = m.log();
    expect(ap.fault).toBe(null);
    expect(log.status(bp, view)).toBe(Status.E_MISSING_RIGHT);
    expect(log.answer(bp, rights).words).toEqual([ObjectKind.REGION, Rights.REGION_FILL]);
    expect(log.status(bp, mapped)).toBe(Status.E_MISSING_RIGHT);
    expect(bp.fault).toMatchObject({ kind: "unmapped" });
    expect(log.status(ap, own)).toBe(Status.OK);
    expect(checkInvariants(m.kernel)).toEqual([]);
    keep.dispose();
  });
});
