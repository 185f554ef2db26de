/**
 * Fillers (REGION_FILLER, REGION_FILL): the owner lets another process write into its Region
 * through the kernel, as a device's DMA does, without a second writable mapping. Checked: the bytes
 * land (across pages, at any offset), a filler maps read-only where it is held, the right ends when
 * the owner moves on or revokes it, and comes back only for the process that made it; bad ranges,
 * bad sources and plain views are refused with nothing written; a copy-on-write page is split
 * first, so the clone keeps its bytes.
 */
import { describe, expect, it } from "vitest";
import { ObjectKind, Op, Rights } from "../../src/kernel/caps/object-abi.ts";
import type { RegionObject } from "../../src/kernel/caps/region.ts";
import { Status } from "../../src/kernel/errors.ts";
import { checkInvariants } from "../../src/kernel/invariants.ts";
import { ALL, type Reg, SCRATCH, Script, State, makeReceiver, runAll, scriptMachine } from "./script.ts";

/** Creates a Region of `pages` in the Memory at slot 2; registers: the owner cap and its address. */
function createRegion(s: Script, pages: number): { region: Reg; address: Reg } {
  const [region, address] = [s.reg(), s.reg()];
  s.invoke(2, Op.MEMORY_CREATE_REGION, { words: [pages, 0] });
  s.loadCap(region);
  s.invoke(region, Op.REGION_INFO);
  s.loadWord(address, 0);
  return { region, address };
}

describe("REGION_FILL", () => {
  it("copies the holder's bytes into the owner's range; the filler maps it read-only", async () => {
    const m = await scriptMachine();
    const mem = m.kernel.memoryObject(10);
    const keep = m.kernel.capability(mem, ALL);
    const receiver = makeReceiver(m);
    // b holds a filler: it fills 4 KiB from its own memory at offset 2048 (across the page line)
    // and 8 bytes at the very end, reads the range through its filler, then tries to store into it.
    const b = new Script();
    b.invoke(1, Op.PROCESS_LISTEN, { words: [1] });
    b.invoke(2, Op.RECEIVER_RECEIVE);
    const filler = b.reg();
    b.loadCap(filler);
    const capInfo = b.invoke(filler, Op.CAP_INFO);
    const address = b.reg();
    b.invoke(filler, Op.REGION_INFO);
    b.loadWord(address, 0);
    b.fill(SCRATCH, 0x1000, 1024);
    const filled = b.invoke(filler, Op.REGION_FILL, { words: [2048, SCRATCH, 4096] });
    const end = b.invoke(filler, Op.REGION_FILL, { words: [8192 - 8, SCRATCH, 8] });
    const seen = b.check(address.plus(2048), 0x1000, 1024);
    const tooFar = b.invoke(filler, Op.REGION_FILL, { words: [8192 - 4, SCRATCH, 8] });
    const badSource = b.invoke(filler, Op.REGION_FILL, { words: [0, 0x7ff0_0000, 16] });
    const short = b.invoke(filler, Op.REGION_FILL, { words: [0, SCRATCH] });
    const view = b.reg();
    b.invoke(filler, Op.CAP_COPY, { words: [Rights.REGION_READ] });
    b.loadCap(view);
    const plainView = b.invoke(view, Op.REGION_FILL, { words: [0, SCRATCH, 4] });
    const noOwner = b.invoke(filler, Op.REGION_FILLER);
    b.invoke(3, 1); // tell a: done
    b.write(address, 1);
    b.end();
    const bp = m.spawn(b, { caps: [m.kernel.capability(receiver, Rights.RECEIVER_RECEIVE), m.kernel.capability(makeReceiver(m), Rights.RECEIVER_SEND)] });
    const a = new Script();
    const r = createRegion(a, 2);
    a.fill(r.address, 0xa000, 2048);
    const filler2 = a.reg();
    a.invoke(r.region, Op.REGION_FILLER);
    a.loadCap(filler2);
    a.waitForState(4, State.blocked);
    a.invoke(3, 1, { caps: [filler2] });
    a.waitForState(4, State.faulted);
    const before = a.check(r.address, 0xa000, 512);
    const after = a.check(r.address.plus(2048 + 4096), 0xa000 + (2048 + 4096) / 4, 512 - 2);
    const tail = a.check(r.address.plus(8192 - 8), 0x1000, 2);
    a.end();
    const ap = m.spawn(a, { caps: [m.kernel.capability(mem, ALL), m.kernel.capability(receiver, Rights.RECEIVER_SEND), m.kernel.capability(bp, Rights.PROCESS_INFO)] });
    await runAll(m);
    const log = m.log();
    expect(ap.fault).toBe(null);
    expect(log.answer(bp, capInfo).words).toEqual([ObjectKind.REGION, Rights.REGION_READ | Rights.REGION_FILL]);
    expect(log.status(bp, filled)).toBe(Status.OK);
    expect(log.status(bp, end)).toBe(Status.OK);
    expect(log.one(bp, seen)).toEqual([0, 0xffff_ffff]);
    expect(log.status(bp, tooFar)).toBe(Status.E_INVALID_ARGUMENT);
    expect(log.status(bp, badSource)).toBe(Status.E_BAD_ADDRESS);
    expect(log.status(bp, short)).toBe(Status.E_INVALID_ARGUMENT);
    expect(log.status(bp, plainView)).toBe(Status.E_MISSING_RIGHT);
    expect(log.status(bp, noOwner)).toBe(Status.E_MISSING_RIGHT);
    expect(bp.fault).toMatchObject({ kind: "read-only" });
    // The owner's bytes outside what was filled are its own; the refused fills wrote nothing.
    expect(log.one(ap, before)).toEqual([0, 0xffff_ffff]);
    expect(log.one(ap, after)).toEqual([0, 0xffff_ffff]);
    expect(log.one(ap, tail)).toEqual([0, 0xffff_ffff]);
    expect(checkInvariants(m.kernel)).toEqual([]);
    keep.dispose();
  });

  it("works only while the owner that made the filler holds the Region, again when it comes back, and not after a revoke", async () => {
    const m = await scriptMachine();
    const mem = m.kernel.memoryObject(10);
    const keep = m.kernel.capability(mem, ALL);
    const receiver = makeReceiver(m);
    const back = makeReceiver(m);
    // b sends the owner straight back; the second time it first fills through a filler of its own.
    const b = new Script();
    b.invoke(1, Op.PROCESS_LISTEN, { words: [1] });
    const region = b.reg();
    b.invoke(2, Op.RECEIVER_RECEIVE);
    b.loadCap(region);
    b.invoke(3, 1, { caps: [region] });
    b.invoke(2, Op.RECEIVER_RECEIVE);
    b.loadCap(region);
    const own = b.reg();
    b.invoke(region, Op.REGION_FILLER);
    b.loadCap(own);
    b.fill(SCRATCH, 0xb000, 4);
    const bFilled = b.invoke(own, Op.REGION_FILL, { words: [16, SCRATCH, 16] });
    b.invoke(3, 1, { caps: [region] });
    const bLater = b.invoke(own, Op.REGION_FILL, { words: [0, SCRATCH, 16] });
    b.end();
    const bp = m.spawn(b, { caps: [m.kernel.capability(receiver, Rights.RECEIVER_RECEIVE), m.kernel.capability(back, Rights.RECEIVER_SEND)] });
    const a = new Script();
    a.invoke(1, Op.PROCESS_LISTEN, { words: [1] });
    const r = createRegion(a, 1);
    const filler = a.reg();
    a.invoke(r.region, Op.REGION_FILLER);
    a.loadCap(filler);
    a.fill(SCRATCH, 0x5000, 4);
    const own1 = a.invoke(filler, Op.REGION_FILL, { words: [0, SCRATCH, 16] });
    a.waitForState(4, State.blocked);
    a.invoke(3, 1, { caps: [r.region] });
    const away = a.invoke(filler, Op.REGION_FILL, { words: [0, SCRATCH, 16] });
    a.invoke(5, Op.RECEIVER_RECEIVE);
    a.loadCap(r.region);
    const home = a.invoke(filler, Op.REGION_FILL, { words: [0, SCRATCH, 16] });
    a.invoke(3, 1, { caps: [r.region] });
    a.invoke(5, Op.RECEIVER_RECEIVE);
    a.loadCap(r.region);
    // b made a filler while it owned the Region: a's earlier ones stay dead; a new one works.
    const stale = a.invoke(filler, Op.REGION_FILL, { words: [0, SCRATCH, 16] });
    const fresh = a.reg();
    a.invoke(r.region, Op.REGION_FILLER);
    a.loadCap(fresh);
    const again = a.invoke(fresh, Op.REGION_FILL, { words: [0, SCRATCH, 16] });
    a.invoke(r.region, Op.REGION_REVOKE_FILLERS);
    const revoked = a.invoke(fresh, Op.REGION_FILL, { words: [0, SCRATCH, 16] });
    const words = a.check(r.address, 0x5000, 4);
    const fromB = a.check(r.address.plus(16), 0xb000, 4);
    a.invoke(r.region, Op.REGION_FREE);
    const freed = a.invoke(fresh, Op.REGION_FILL, { words: [0, SCRATCH, 16] });
    a.end();
    const ap = m.spawn(a, {
      caps: [m.kernel.capability(mem, ALL), m.kernel.capability(receiver, Rights.RECEIVER_SEND), m.kernel.capability(bp, Rights.PROCESS_INFO), m.kernel.capability(back, Rights.RECEIVER_RECEIVE)],
    });
    await runAll(m);
    const log = m.log();
    expect(ap.fault).toBe(null);
    expect(bp.fault).toBe(null);
    expect(log.status(ap, own1)).toBe(Status.OK);
    expect(log.status(ap, away)).toBe(Status.E_PEER_DEAD);
    expect(log.status(ap, home)).toBe(Status.OK);
    expect(log.status(bp, bFilled)).toBe(Status.OK);
    expect(log.status(bp, bLater)).toBe(Status.E_PEER_DEAD);
    expect(log.status(ap, stale)).toBe(Status.E_PEER_DEAD);
    expect(log.status(ap, again)).toBe(Status.OK);
    expect(log.status(ap, revoked)).toBe(Status.E_PEER_DEAD);
    expect(log.one(ap, words)).toEqual([0, 0xffff_ffff]);
    expect(log.one(ap, fromB)).toEqual([0, 0xffff_ffff]);
    expect(log.status(ap, freed)).toBe(Status.E_PEER_DEAD);
    expect(checkInvariants(m.kernel)).toEqual([]);
    keep.dispose();
  });

  it("gathers a list of pieces into one stretch of the range (REGION_FILL_GATHER), all or nothing", async () => {
    const m = await scriptMachine();
    const mem = m.kernel.memoryObject(10);
    const keep = m.kernel.capability(mem, ALL);
    const s = new Script();
    const r = createRegion(s, 2);
    s.fill(r.address, 0xa000, 2048);
    const filler = s.reg();
    s.invoke(r.region, Op.REGION_FILLER);
    s.loadCap(filler);
    // Pieces: 8 bytes of words 0x100.., 4096 bytes of words 0x200.., 4 bytes of word 0x300.
    s.fill(SCRATCH, 0x100, 2);
    s.fill(SCRATCH + 0x100, 0x300, 1);
    s.fill(SCRATCH + 0x1000, 0x200, 1024);
    const list = SCRATCH + 0x2000;
    s.store(list, [SCRATCH, 8, SCRATCH + 0x1000, 4096, SCRATCH + 0x100, 4]);
    const gathered = s.invoke(filler, Op.REGION_FILL_GATHER, { words: [4084, list, 3] });
    const first = s.check(r.address.plus(4084), 0x100, 2);
    const second = s.check(r.address.plus(4092), 0x200, 1024);
    const third = s.check(r.address.plus(8188), 0x300, 1);
    const before = s.check(r.address, 0xa000, 1021);
    // Refused, nothing written: a piece past the range, a source that cannot be read (the first
    // piece would fit), a list that cannot be read, too many pieces, too few words.
    s.fill(r.address, 0xa000, 2048);
    const past = s.invoke(filler, Op.REGION_FILL_GATHER, { words: [4096, list, 3] });
    s.store(list + 24, [SCRATCH, 8, 0x7ff0_0000, 8]);
    const badPiece = s.invoke(filler, Op.REGION_FILL_GATHER, { words: [0, list + 24, 2] });
    const badList = s.invoke(filler, Op.REGION_FILL_GATHER, { words: [0, 0x7ff0_0000, 1] });
    const tooMany = s.invoke(filler, Op.REGION_FILL_GATHER, { words: [0, list, 513] });
    const short = s.invoke(filler, Op.REGION_FILL_GATHER, { words: [0, list] });
    const untouched = s.check(r.address, 0xa000, 2048);
    s.end();
    const p = m.spawn(s, { caps: [m.kernel.capability(mem, ALL)] });
    await runAll(m);
    const log = m.log();
    expect(p.fault).toBe(null);
    expect(log.status(p, gathered)).toBe(Status.OK);
    expect(log.one(p, first)).toEqual([0, 0xffff_ffff]);
    expect(log.one(p, second)).toEqual([0, 0xffff_ffff]);
    expect(log.one(p, third)).toEqual([0, 0xffff_ffff]);
    expect(log.one(p, before)).toEqual([0, 0xffff_ffff]);
    expect(log.status(p, past)).toBe(Status.E_INVALID_ARGUMENT);
    expect(log.status(p, badPiece)).toBe(Status.E_BAD_ADDRESS);
    expect(log.status(p, badList)).toBe(Status.E_BAD_ADDRESS);
    expect(log.status(p, tooMany)).toBe(Status.E_INVALID_ARGUMENT);
    expect(log.status(p, short)).toBe(Status.E_INVALID_ARGUMENT);
    expect(log.one(p, untouched)).toEqual([0, 0xffff_ffff]);
    keep.dispose();
  });

  it("narrowed to REGION_FILL alone maps nothing, fills, and goes stale with the Region", async () => {
    const m = await scriptMachine();
    const mem = m.kernel.memoryObject(10);
    const keep = m.kernel.capability(mem, ALL);
    const receiver = makeReceiver(m);
    const b = new Script();
    b.invoke(1, Op.PROCESS_LISTEN, { words: [1] });
    b.invoke(2, Op.RECEIVER_RECEIVE);
    const filler = b.reg();
    b.loadCap(filler);
    const address = b.reg();
    b.loadWord(address, 0); // a sent the range's address
    // REGION_INFO answers only a range mapped here (it answered the address, and servers faulted on it).
    const info = b.invoke(filler, Op.REGION_INFO);
    const clone = b.invoke(filler, Op.REGION_CLONE, { caps: [4] });
    const capInfo = b.invoke(filler, Op.CAP_INFO);
    b.fill(SCRATCH, 0x4000, 4);
    const filled = b.invoke(filler, Op.REGION_FILL, { words: [0, SCRATCH, 16] });
    b.invoke(3, 1);
    b.invoke(2, Op.RECEIVER_RECEIVE); // a says it freed the Region
    const afterFree = b.invoke(filler, Op.REGION_FILL, { words: [0, SCRATCH, 16] });
    b.read(address);
    b.end();
    const bp = m.spawn(b, { caps: [m.kernel.capability(receiver, Rights.RECEIVER_RECEIVE), m.kernel.capability(makeReceiver(m), Rights.RECEIVER_SEND), m.kernel.capability(mem, ALL)] });
    const a = new Script();
    const r = createRegion(a, 1);
    const filler2 = a.reg();
    a.invoke(r.region, Op.REGION_FILLER);
    a.loadCap(filler2);
    const narrow = a.reg();
    a.invoke(filler2, Op.CAP_COPY, { words: [Rights.REGION_FILL] });
    a.loadCap(narrow);
    a.waitForState(4, State.blocked);
    a.invoke(3, 1, { words: [r.address], caps: [narrow] });
    a.waitForState(4, State.blocked);
    a.yield();
    const words = a.check(r.address, 0x4000, 4);
    a.invoke(r.region, Op.REGION_FREE);
    a.invoke(3, 2);
    a.end();
    const ap = m.spawn(a, { caps: [m.kernel.capability(mem, ALL), m.kernel.capability(receiver, Rights.RECEIVER_SEND), m.kernel.capability(bp, Rights.PROCESS_INFO)] });
    await runAll(m);
    const log = m.log();
    expect(ap.fault).toBe(null);
    expect(log.answer(bp, capInfo).words).toEqual([ObjectKind.REGION, Rights.REGION_FILL]);
    expect(log.status(bp, info)).toBe(Status.E_MISSING_RIGHT);
    expect(log.status(bp, clone)).toBe(Status.E_MISSING_RIGHT);
    expect(log.status(bp, filled)).toBe(Status.OK);
    expect(log.one(ap, words)).toEqual([0, 0xffff_ffff]);
    expect(log.status(bp, afterFree)).toBe(Status.E_PEER_DEAD);
    // It never mapped the range: reading it faults.
    expect(bp.fault).toMatchObject({ kind: "unmapped" });
    expect(checkInvariants(m.kernel)).toEqual([]);
    keep.dispose();
  });

  it("splits a copy-on-write page before it fills it: the clone keeps its bytes", async () => {
    const m = await scriptMachine();
    m.spawn(new Script().end());
    await runAll(m);
    const source = m.kernel.regionObject(new Uint8Array(2 * 4096).fill(5));
    const clone = source.cloneInto(m.kernel.rootMemory) as RegionObject;
    const s = new Script();
    const filler = s.reg();
    s.invoke(2, Op.REGION_FILLER);
    s.loadCap(filler);
    s.fill(SCRATCH, 0x100, 2);
    const filled = s.invoke(filler, Op.REGION_FILL, { words: [4096, SCRATCH, 8] });
    const mine = s.check(source.address + 4096, 0x100, 2);
    const theirs = s.read(clone.address + 4096);
    const first = s.read(source.address);
    s.end();
    const p = m.spawn(s, { caps: [m.kernel.capability(source, Rights.REGION_OWNER | Rights.REGION_READ), m.kernel.capability(clone, Rights.REGION_READ)] });
    await runAll(m);
    const log = m.log();
    expect(p.fault).toBe(null);
    expect(log.status(p, filled)).toBe(Status.OK);
    expect(log.one(p, mine)).toEqual([0, 0xffff_ffff]);
    // The clone read its page after the fill: the page was split, its bytes are its own.
    expect(log.value(p, theirs)).toBe(0x05050505);
    expect(log.value(p, first)).toBe(0x05050505);
  });
  it("splits a page of a clone remapping that page alone: a fill over many copy-on-write pages costs page-table updates in proportion to them (redteam6)", async () => {
    // Each split remapped the whole Region in every holder, so one REGION_FILL over n shared pages
    // was n² page-table updates in one kernel call: 8 MiB of a cloned Region held the one CPU for
    // 1.4 s, 32 MiB (a job's 64 MiB quota) for about 20 s, with no process or host turn between.
    const pages = 256;
    const m = await scriptMachine();
    m.spawn(new Script().end());
    await runAll(m);
    const source = m.kernel.regionObject(new Uint8Array(pages * 4096).fill(5));
    const clone = source.cloneInto(m.kernel.memoryObject(4 * pages)) as RegionObject;
    const s = new Script();
    const filler = s.reg();
    s.invoke(2, Op.REGION_FILLER);
    s.loadCap(filler);
    const filled = s.invoke(filler, Op.REGION_FILL, { words: [0, source.address, pages * 4096] });
    const theirs = s.read(clone.address + (pages - 1) * 4096);
    s.write(source.address, 0x11);
    const mine = s.read(source.address);
    s.end();
    const p = m.spawn(s, { caps: [m.kernel.capability(source, Rights.REGION_OWNER | Rights.REGION_READ), m.kernel.capability(clone, Rights.REGION_READ)] });
    const mapFrame = p.space.mapFrame.bind(p.space);
    let updates = 0;
    p.space.mapFrame = (...args) => {
      updates++;
      return mapFrame(...args);
    };
    await runAll(m);
    const log = m.log();
    expect(p.fault).toBe(null);
    expect(log.status(p, filled)).toBe(Status.OK);
    expect(log.value(p, theirs)).toBe(0x05050505);
    expect(log.value(p, mine)).toBe(0x11);
    expect(updates).toBeLessThanOrEqual(2 * pages);
  });
  it("fills a clone's Region after their Memory is gone: every frame and page comes back once both go (redteam6)", async () => {
    const m = await scriptMachine();
    m.spawn(new Script().end());
    await runAll(m);
    const framesAtStart = m.kernel.frames.freeCount;
    const mem = m.kernel.memoryObject(64);
    const s = new Script();
    const child = s.reg();
    s.invoke(2, Op.MEMORY_CREATE_MEMORY, { words: [32] });
    s.loadCap(child);
    const [region, address, clone, filler] = [s.reg(), s.reg(), s.reg(), s.reg()];
    s.invoke(child, Op.MEMORY_CREATE_REGION, { words: [4, 0] });
    s.loadCap(region);
    s.invoke(region, Op.REGION_INFO);
    s.loadWord(address, 0);
    s.fill(address, 0x77, 4 * 1024);
    s.invoke(region, Op.REGION_CLONE, { caps: [child] });
    s.loadCap(clone);
    s.invoke(region, Op.REGION_FILLER);
    s.loadCap(filler);
    s.invoke(child, Op.MEMORY_DESTROY);
    s.fill(SCRATCH, 0x1234, 2048);
    const filled = s.invoke(filler, Op.REGION_FILL, { words: [100, SCRATCH, 3 * 4096] });
    const mine = s.check(address.plus(100), 0x1234, 2);
    const freed = s.invoke(region, Op.REGION_FREE);
    const stale = s.invoke(filler, Op.REGION_FILL, { words: [0, SCRATCH, 4] });
    s.invoke(clone, Op.CAP_DROP);
    s.invoke(filler, Op.CAP_DROP);
    const used = s.invoke(2, Op.MEMORY_INFO);
    s.end();
    const p = m.spawn(s, { caps: [m.kernel.capability(mem, ALL)] });
    await runAll(m);
    const log = m.log();
    expect(p.fault).toBe(null);
    expect(log.status(p, filled)).toBe(Status.OK);
    expect(log.one(p, mine)).toEqual([0, 0xffff_ffff]);
    expect(log.status(p, freed)).toBe(Status.OK);
    expect(log.status(p, stale)).toBe(Status.E_PEER_DEAD);
    expect(log.answer(p, used).words[1]).toBe(0);
    expect(checkInvariants(m.kernel)).toEqual([]);
    expect(mem.used).toBe(0);
    expect(m.kernel.frames.freeCount).toBe(framesAtStart);
  });
  it("leaves no frame behind when its holder ends holding an orphaned Region, its clone and a filler, with a view in a Cappage (redteam6)", async () => {
    const m = await scriptMachine();
    m.spawn(new Script().end());
    await runAll(m);
    const framesAtStart = m.kernel.frames.freeCount;
    const mem = m.kernel.memoryObject(64);
    const s = new Script();
    const child = s.reg();
    s.invoke(2, Op.MEMORY_CREATE_MEMORY, { words: [32] });
    s.loadCap(child);
    const [region, clone, filler, cappage, view] = [s.reg(), s.reg(), s.reg(), s.reg(), s.reg()];
    s.invoke(child, Op.MEMORY_CREATE_REGION, { words: [4, 1] });
    s.loadCap(region);
    s.invoke(region, Op.REGION_CLONE, { caps: [child] });
    s.loadCap(clone);
    s.invoke(region, Op.REGION_FILLER);
    s.loadCap(filler);
    s.invoke(2, Op.MEMORY_CREATE_CAPPAGE);
    s.loadCap(cappage);
    s.invoke(clone, Op.REGION_VIEW);
    s.loadCap(view);
    s.invoke(cappage, Op.CAPPAGE_PUT, { words: [0], caps: [view.move] });
    s.invoke(cappage, Op.CAPPAGE_PUT, { words: [1], caps: [cappage] });
    s.invoke(child, Op.MEMORY_DESTROY);
    s.fill(SCRATCH, 0x1234, 1024);
    const filled = s.invoke(filler, Op.REGION_FILL, { words: [0, SCRATCH, 4096] });
    s.end();
    const p = m.spawn(s, { caps: [m.kernel.capability(mem, ALL)] });
    await runAll(m);
    const log = m.log();
    expect(p.fault).toBe(null);
    expect(log.status(p, filled)).toBe(Status.OK);
    expect(checkInvariants(m.kernel)).toEqual([]);
    mem.destroy();
    expect(m.kernel.frames.freeCount).toBe(framesAtStart);
  });
});
