/**
 * Issue 16's first finding, generalised: for every object whose frames a process can map, map it,
 * make it go every way it can go (its last capability dropped, its Memory destroyed), let victims
 * take every frame there is and write a secret into each, then look through the attacker's
 * mapping. The attacker must see the object's own bytes or a fault, never a victim's secret, and
 * the kernel's invariants must hold (src/kernel/invariants.ts).
 */
import { describe, expect, it } from "vitest";
import { ALL_RIGHTS, Op } from "../../src/kernel/caps/object-abi.ts";
import { PAGE_SIZE } from "../../src/kernel/constants.ts";
import { Status } from "../../src/kernel/errors.ts";
import { checkInvariants } from "../../src/kernel/invariants.ts";
import type { Process } from "../../src/kernel/process.ts";
import { type Reg, Script, type ScriptMachine, scriptMachine } from "../caps/script.ts";

const SECRET = 0x5ec2e7ff;
const MAPPED_AT = 0x5000;

/** A victim that writes the secret over `pages` of its memory and exits. */
function victim(pages: number): Script {
  const s = new Script();
  for (let i = 0; i < pages; i++) s.fill(0x20000 + i * PAGE_SIZE, SECRET, PAGE_SIZE / 4);
  return s.end(0);
}

/** What the attacker does with its Memory (slot 2) to get a mapping; returns where it is mapped. */
type Mapper = (s: Script) => { address: Reg | number; object: Reg };

const mappers: Record<string, Mapper> = {
  "a Page mapped in the private window": (s) => {
    s.invoke(2, Op.MEMORY_CREATE_PAGE);
    const page = s.reg();
    s.loadCap(page, 0);
    s.invoke(page, Op.PAGE_MAP, { words: [MAPPED_AT, 1] });
    s.fill(MAPPED_AT, 0x1111_0000, 16);
    return { address: MAPPED_AT, object: page };
  },
  "a Page mapped at its global address": (s) => {
    s.invoke(2, Op.MEMORY_CREATE_PAGE);
    const page = s.reg();
    s.loadCap(page, 0);
    s.invoke(page, Op.PAGE_MAP_GLOBAL, { words: [1] });
    const address = s.reg();
    s.loadWord(address, 0);
    return { address, object: page };
  },
  "a Region it owns": (s) => {
    s.invoke(2, Op.MEMORY_CREATE_REGION, { words: [4, 0] });
    const region = s.reg();
    s.loadCap(region, 0);
    s.invoke(region, Op.REGION_INFO);
    const address = s.reg();
    s.loadWord(address, 0);
    return { address, object: region };
  },
  "a view of a Region": (s) => {
    s.invoke(2, Op.MEMORY_CREATE_REGION, { words: [4, 0] });
    const owner = s.reg();
    s.loadCap(owner, 0);
    s.invoke(owner, Op.REGION_VIEW);
    const view = s.reg();
    s.loadCap(view, 0);
    s.invoke(owner, Op.CAP_DROP);
    s.invoke(view, Op.REGION_INFO);
    const address = s.reg();
    s.loadWord(address, 0);
    return { address, object: view };
  },
};

interface Attack {
  m: ScriptMachine;
  attacker: Process;
  address: number;
}

/** The attacker maps through `mapper`, records the address at 0x3100, then ends the object by `how`, and waits. */
async function attack(mapper: Mapper, how: "drop" | "destroy-memory"): Promise<Attack> {
  const m = await scriptMachine({ memory: 8 << 20 });
  const paying = m.kernel.memoryObject(200);
  const s = new Script();
  const { address, object } = mapper(s);
  s.store(0x3100, [address]);
  s.read(typeof address === "number" ? address : address); // mapped now
  if (how === "drop") s.invoke(object, Op.CAP_DROP);
  s.futexWait(0x3000, 0);
  const attacker = m.spawn(s, { caps: [m.kernel.capability(paying, ALL_RIGHTS)] });
  await m.kernel.run();
  expect(attacker.fault).toBe(null);
  if (how === "destroy-memory") paying.destroy();
  const at = new DataView(attacker.space.read(0x3100, 4).buffer).getUint32(0, true);
  // Victims take what frames are left and write the secret into each.
  for (let i = 0; i < 6; i++) m.spawn(victim(200), { name: `victim-${i}` });
  await m.kernel.run();
  return { m, attacker, address: at };
}

describe("no mapping outlives what it maps", () => {
  for (const [what, mapper] of Object.entries(mappers)) {
    for (const how of ["drop", "destroy-memory"] as const) {
      it(`${what}, ${how === "drop" ? "its last capability dropped" : "its Memory destroyed"}: no secret is seen through it`, async () => {
        const { m, attacker, address } = await attack(mapper, how);
        expect(checkInvariants(m.kernel)).toEqual([]);
        expect(address % PAGE_SIZE).toBe(0);
        for (let page = 0; page < 4; page++) {
          let bytes: Uint8Array;
          try {
            bytes = attacker.space.read(address + page * PAGE_SIZE, PAGE_SIZE);
          } catch {
            continue; // unmapped: what a gone object leaves
          }
          const words = new Uint32Array(bytes.buffer);
          expect(words.includes(SECRET), `${what}: page ${page} shows a victim's secret`).toBe(false);
        }
        m.kernel.kill(attacker.pid);
        expect(checkInvariants(m.kernel)).toEqual([]);
      });
    }
  }

  it("IMAGE_UNMAP of the caller's own binary is refused, and mapping an Image of it changes nothing", async () => {
    const m = await scriptMachine();
    const own = m.kernel.imageObject(m.vm);
    const s = new Script();
    const mapped = s.invoke(2, Op.IMAGE_MAP);
    const unmapped = s.invoke(2, Op.IMAGE_UNMAP);
    s.end(0);
    const p = m.spawn(s, { caps: [m.kernel.capability(own, ALL_RIGHTS)] });
    const base = p.imageBase;
    const owner = p.space.ownerAt(base);
    await m.kernel.run();
    expect(m.log().status(p, mapped)).toBe(Status.OK);
    expect(m.log().status(p, unmapped)).toBe(Status.E_INVALID_ARGUMENT);
    expect(owner).not.toBe(null);
    expect(checkInvariants(m.kernel)).toEqual([]);
  });
});
