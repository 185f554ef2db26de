/**
 * REGION_CLONE: a copy-on-write copy of a Region at its own global address. Checked against the
 * frame allocator and reference counts: the clone takes no frames, each owner's first write to a
 * page takes one (none for the last holder), neither owner sees the other's writes, quota is charged
 * in full, views follow their own Region, and every frame comes back when the Regions go.
 */
import { describe, expect, it } from "vitest";
import { Op, Rights } from "../../src/kernel/caps/object-abi.ts";
import type { RegionObject } from "../../src/kernel/caps/region.ts";
import { Status } from "../../src/kernel/errors.ts";
import { ALL, Script, runAll, scriptMachine } from "./script.ts";

describe("REGION_CLONE", () => {
  it("shares frames until an owner writes; each side then sees only its own writes", async () => {
    const m = await scriptMachine();
    m.spawn(new Script().end());
    await runAll(m);
    const baseline = m.kernel.frames.freeCount;
    const source = m.kernel.regionObject(new Uint8Array(2 * 4096).fill(5));
    const shared = m.kernel.services.sharedFrames;
    const free = m.kernel.frames.freeCount;
    const used = m.kernel.rootMemory.used;
    const clone = source.cloneInto(m.kernel.rootMemory) as RegionObject;
    expect(typeof clone).toBe("object");
    expect(m.kernel.frames.freeCount).toBe(free);
    expect(m.kernel.rootMemory.used - used).toBe(2);
    expect(clone.frameList).toEqual(source.frameList);
    expect(clone.address).not.toBe(source.address);
    for (const frame of source.frameList) expect(shared.holders(frame)).toBe(2);

    const s = new Script();
    const readA = s.read(source.address);
    const readB = s.read(clone.address);
    s.write(clone.address, 0x77);
    const afterA = s.read(source.address);
    const afterB = s.read(clone.address);
    s.write(source.address + 4096, 0x99);
    const secondB = s.read(clone.address + 4096);
    const secondA = s.read(source.address + 4096);
    s.write(source.address, 0x11);
    const lastA = s.read(source.address);
    const lastB = s.read(clone.address);
    s.end();
    const p = m.spawn(s, { caps: [m.kernel.capability(source, Rights.REGION_OWNER | Rights.REGION_READ), m.kernel.capability(clone, Rights.REGION_OWNER | Rights.REGION_READ)] });
    // Watch the frames while it runs: two splits take two frames; the last holders take none.
    let duringRun = 0;
    for (const region of [source, clone]) {
      const original = region.splitPage.bind(region);
      region.splitPage = (index: number, mayWire: (frames: number) => boolean) => {
        const before = m.kernel.frames.freeCount;
        const done = original(index, mayWire);
        duringRun += before - m.kernel.frames.freeCount;
        return done;
      };
    }
    await runAll(m);
    const log = m.log();
    expect(p.fault).toBe(null);
    const word5 = 0x05050505;
    expect([log.value(p, readA), log.value(p, readB)]).toEqual([word5, word5]);
    expect([log.value(p, afterA), log.value(p, afterB)]).toEqual([word5, 0x77]);
    expect([log.value(p, secondA), log.value(p, secondB)]).toEqual([0x99, word5]);
    expect([log.value(p, lastA), log.value(p, lastB)]).toEqual([0x11, 0x77]);
    // Split of B's page 0 (a copy), A's page 1 (a copy), A's page 0 (last holder: no copy).
    expect(duringRun).toBe(2);
    // The process held the only owner capabilities: both Regions are gone, every frame is back.
    expect(source.destroyed && clone.destroyed).toBe(true);
    expect(m.kernel.frames.freeCount).toBe(baseline);
  });

  it("answers an owner capability through invoke, refuses without a Memory, and charges the Memory", async () => {
    const m = await scriptMachine();
    const memory = m.kernel.memoryObject(40);
    const s = new Script();
    const [region, copy, address] = [s.reg(), s.reg(), s.reg()];
    s.invoke(2, Op.MEMORY_CREATE_REGION, { words: [3, 0] });
    s.loadCap(region);
    s.invoke(region, Op.REGION_INFO);
    s.loadWord(address, 0);
    s.write(address, 0x1234);
    const before = s.invoke(2, Op.MEMORY_INFO);
    const noMemory = s.invoke(region, Op.REGION_CLONE);
    const cloned = s.invoke(region, Op.REGION_CLONE, { caps: [2] });
    s.loadCap(copy);
    const after = s.invoke(2, Op.MEMORY_INFO);
    const info = s.invoke(copy, Op.REGION_INFO);
    const tooBig = s.invoke(copy, Op.REGION_CLONE, { caps: [3] });
    s.end();
    const p = m.spawn(s, { caps: [m.kernel.capability(memory, ALL), m.kernel.capability(m.kernel.memoryObject(2), ALL)] });
    await runAll(m);
    const log = m.log();
    expect(p.fault).toBe(null);
    expect(log.status(p, noMemory)).toBe(Status.E_INVALID_CAP);
    expect(log.status(p, cloned)).toBe(Status.OK);
    expect(log.answer(p, after).words[1]! - log.answer(p, before).words[1]!).toBe(3);
    expect(log.answer(p, info).words.slice(1)).toEqual([3, 0, 1]);
    expect(log.status(p, tooBig)).toBe(Status.E_QUOTA);
  });

  it("is refused while a device DMAs into the Region, and a clone splits every page before a device gets it", async () => {
    const m = await scriptMachine();
    const source = m.kernel.regionObject(new Uint8Array(3 * 4096).fill(1));
    const stop = () => {};
    source.beforeRelease.add(stop);
    expect(source.cloneInto(m.kernel.rootMemory)).toBe(Status.E_NOT_READY);
    source.beforeRelease.delete(stop);
    const clone = source.cloneInto(m.kernel.rootMemory) as RegionObject;
    const free = m.kernel.frames.freeCount;
    expect(clone.unshareAll(() => true)).toBe(true);
    expect(m.kernel.frames.freeCount).toBe(free - 3);
    for (let i = 0; i < 3; i++) expect(clone.frameList[i]).not.toBe(source.frameList[i]);
    for (const frame of [...source.frameList, ...clone.frameList]) expect(m.kernel.services.sharedFrames.holders(frame)).toBe(1);
  });
});
