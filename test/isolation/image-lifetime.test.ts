/**
 * Issue 16, finding 1: IMAGE_MAP left an Image's frames mapped in the caller without keeping the
 * Image alive; once its last capability went, the frames went back to the allocator while still
 * mapped, and the next owners' pages (another process's data, its TLB, its descriptor) became
 * readable. A mapping now holds what owns its frames (src/kernel/frame-owner.ts).
 */
import { describe, expect, it } from "vitest";
import { ALL_RIGHTS, Op } from "../../src/kernel/caps/object-abi.ts";
import { PAGE_SIZE } from "../../src/kernel/constants.ts";
import { Status } from "../../src/kernel/errors.ts";
import { checkInvariants } from "../../src/kernel/invariants.ts";
import { Script, scriptMachine } from "../caps/script.ts";

const SECRET = 0x5ec2e700;

/** A victim that fills many pages with the secret, then exits. */
function victim(pages: number): Script {
  const s = new Script();
  for (let i = 0; i < pages; i++) s.fill(0x20000 + i * PAGE_SIZE, SECRET, PAGE_SIZE / 4);
  return s.end(0);
}

/** A process that waits for ever. */
function sleeper(): Script {
  const s = new Script();
  s.futexWait(0x3000, 0);
  return s.end(0);
}

describe("a mapping keeps what it maps", () => {
  it("an Image mapped and then dropped stays the Image's bytes: a victim's secret written after is never seen", async () => {
    const m = await scriptMachine();
    const image = m.kernel.imageObject(await m.childImage(new Script().end(0), "attacker-image"));
    const bytes = image.bytes;
    const attacker = new Script();
    const mapped = attacker.invoke(2, Op.IMAGE_MAP);
    const dropped = attacker.invoke(2, Op.CAP_DROP);
    attacker.futexWait(0x3000, 0); // waits for ever: the test reads what its mapping shows
    const a = m.spawn(attacker, { caps: [m.kernel.capability(image, 0)] });
    await m.kernel.run();
    expect(m.log().status(a, mapped)).toBe(Status.OK);
    expect(m.log().status(a, dropped)).toBe(Status.OK);
    expect(image.destroyed).toBe(false);

    // Victims take every frame there is to take (their quota is the machine's), each writing
    // the secret over as many pages as they can.
    for (let i = 0; i < 4; i++) m.spawn(victim(60), { name: `victim-${i}` });
    await m.kernel.run();
    expect(checkInvariants(m.kernel)).toEqual([]);

    const seen = a.space.read(image.globalAddress, image.frames.length * PAGE_SIZE);
    expect(seen.subarray(0, bytes.length)).toEqual(bytes);
    const words = new Uint32Array(seen.buffer, 0, seen.length >>> 2);
    expect(words.includes(SECRET)).toBe(false);
    m.kernel.kill(a.pid);
    // Its last mapping gone with the attacker, the Image goes too, and its frames are free.
    expect(image.destroyed).toBe(true);
    expect(checkInvariants(m.kernel)).toEqual([]);
  });

  it("a process made from an Image holds it, charged to its Memory, after its last capability goes", async () => {
    const m = await scriptMachine();
    const memory = m.kernel.memoryObject(2000);
    const childImage = await m.childImage(sleeper(), "sleeper");
    const creator = new Script();
    const created = creator.invoke(3, Op.MEMORY_CREATE_PROCESS, { caps: [2] });
    const child = creator.reg();
    creator.loadCap(child, 0);
    creator.invoke(2, Op.CAP_DROP);
    creator.invoke(child, Op.PROCESS_START);
    creator.end(0);
    const image = m.kernel.imageObject(childImage);
    memory.adopt(image, 7);
    const before = memory.used;
    const c = m.spawn(creator, { caps: [m.kernel.capability(image, ALL_RIGHTS), m.kernel.capability(memory, ALL_RIGHTS)] });
    await m.kernel.run();
    expect(m.log().status(c, created)).toBe(Status.OK);
    expect(image.refs).toBe(0);
    expect(image.destroyed).toBe(false);
    expect(image.processes.size).toBe(1);
    expect(memory.used).toBeGreaterThan(before);
    expect(checkInvariants(m.kernel)).toEqual([]);
    const [made] = image.processes;
    m.kernel.kill(made!.pid);
    expect(image.destroyed).toBe(true);
    expect(memory.used).toBe(before - 7);
  });

  it("destroying the Memory that paid for an Image takes its mappings away and ends the processes made from it", async () => {
    const m = await scriptMachine();
    const paying = m.kernel.memoryObject(500);
    const image = m.kernel.imageObject(await m.childImage(sleeper(), "revoked"));
    paying.adopt(image, 3);
    const holder = new Script();
    const mapped = holder.invoke(2, Op.IMAGE_MAP);
    holder.futexWait(0x3000, 0);
    const h = m.spawn(holder, { caps: [m.kernel.capability(image, 0)] });
    const elsewhere = m.kernel.memoryObject(2000);
    const made = m.kernel.createProcess(image, elsewhere, h, 4);
    expect(typeof made).toBe("object");
    await m.kernel.run();
    expect(m.log().status(h, mapped)).toBe(Status.OK);
    expect(h.space.ownerAt(image.globalAddress)).toBe(image);

    paying.destroy();
    expect(image.destroyed).toBe(true);
    expect(h.space.ownerAt(image.globalAddress)).toBe(null);
    expect(() => h.space.read(image.globalAddress, 4)).toThrow(/nothing is mapped/);
    expect(typeof made === "object" && made.alive).toBe(false);
    expect(h.alive).toBe(true);
    expect(checkInvariants(m.kernel)).toEqual([]);
  });
});
