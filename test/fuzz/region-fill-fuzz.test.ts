/**
 * Redteam6: random sequences of the Region operations around fillers (create, clone, filler, fill,
 * gather, free, view, narrowed copies, revoke, a child Memory destroyed and made again, views
 * passed to a process that keeps them), in a process that stays alive at the end: the kernel's
 * invariants hold then, nothing throws into the host, and once every process and Memory is gone
 * every frame is back.
 */
import { describe, expect, it } from "vitest";
import { Op, Rights } from "../../src/kernel/caps/object-abi.ts";
import { checkInvariants } from "../../src/kernel/invariants.ts";
import { prng } from "../caps/prng.ts";
import { ALL, type Reg, SCRATCH, Script, makeReceiver, scriptMachine } from "../caps/script.ts";

const STEPS = 100;
const LIST = SCRATCH + 0x800;

function fuzzScript(seed: number): Script {
  const random = prng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const s = new Script();
  const child = s.reg();
  s.invoke(2, Op.MEMORY_CREATE_MEMORY, { words: [64] });
  s.loadCap(child);
  const regions: Reg[] = [s.reg(), s.reg(), s.reg()];
  const fillers: Reg[] = [s.reg(), s.reg(), s.reg()];
  const others: Reg[] = [s.reg(), s.reg(), s.reg()];
  regions.forEach((region, i) => {
    s.invoke(i === 0 ? child : 2, Op.MEMORY_CREATE_REGION, { words: [2 + i, i & 1] });
    s.loadCap(region);
    s.invoke(region, Op.REGION_FILLER);
    s.loadCap(fillers[i]!);
  });
  s.fill(SCRATCH, 0x5a5a5a5a, 512);
  // A gather list: pieces of the scratch area, some overlapping, one of zero length.
  s.store(LIST, [SCRATCH, 100, SCRATCH + 50, 4000, SCRATCH + 8, 0, SCRATCH + 1, 3]);
  for (let step = 0; step < STEPS; step++) {
    const op = Math.floor(random() * 14);
    const region = pick(regions);
    const filler = pick(fillers);
    const other = pick(others);
    switch (op) {
      case 0:
        s.invoke(pick([2, child]), Op.MEMORY_CREATE_REGION, { words: [1 + Math.floor(random() * 4), random() < 0.5 ? 1 : 0] });
        s.loadCap(region);
        break;
      case 1:
        s.invoke(region, Op.REGION_CLONE, { caps: [pick([2, child])] });
        s.loadCap(other);
        break;
      case 2:
        s.invoke(pick([region, other]), Op.REGION_FILLER);
        s.loadCap(filler);
        break;
      case 3:
      case 4:
        s.invoke(filler, Op.REGION_FILL, { words: [Math.floor(random() * 5 * 4096), SCRATCH, Math.floor(random() * 6000)] });
        break;
      case 5:
        s.invoke(filler, Op.REGION_FILL_GATHER, { words: [Math.floor(random() * 4 * 4096), LIST, Math.floor(random() * 5)] });
        break;
      case 6:
        s.invoke(pick([region, other]), Op.REGION_FREE);
        break;
      case 7:
        s.invoke(pick([region, other]), Op.REGION_VIEW);
        s.loadCap(other);
        break;
      case 8:
        s.invoke(filler, Op.CAP_COPY, { words: [pick([Rights.REGION_FILL, Rights.REGION_READ, 0])] });
        s.loadCap(pick([filler, other]));
        break;
      case 9:
        s.invoke(region, Op.REGION_REVOKE_FILLERS);
        break;
      case 10:
        s.invoke(child, Op.MEMORY_DESTROY);
        s.invoke(2, Op.MEMORY_CREATE_MEMORY, { words: [64] });
        s.loadCap(child);
        break;
      case 11:
        // To the keeper, which holds what it gets until the end: moved or copied.
        s.invoke(3, 1, { caps: [random() < 0.5 ? pick([other, filler]) : pick([other, filler, region]).move] });
        break;
      case 12:
        s.invoke(pick([region, filler, other]), Op.CAP_DROP);
        break;
      case 13:
        s.invoke(pick([region, filler, other]), Op.REGION_INFO);
        break;
    }
  }
  s.futexWait(0x2000 + 200, 0); // stays, holding what it kept
  return s.end();
}

/** Receives for ever, keeping every capability it gets. */
function keeperScript(): Script {
  const s = new Script();
  const top = s.label();
  s.bind(top);
  s.invoke(2, Op.RECEIVER_RECEIVE, { dump: false });
  s.jump(top);
  return s.end();
}

describe("fillers, clones and Memories destroyed, at random", () => {
  for (let seed = 1; seed <= 20; seed++) {
    it(`seed ${seed}: invariants hold while everyone holds what they kept, and every frame comes back`, async () => {
      const m = await scriptMachine();
      const framesAtStart = m.kernel.frames.freeCount;
      const mem = m.kernel.memoryObject(400);
      const receiver = makeReceiver(m, 64, mem);
      const keeper = m.spawn(keeperScript(), { caps: [m.kernel.capability(receiver, Rights.RECEIVER_RECEIVE)], memory: mem });
      const fuzz = m.spawn(fuzzScript(seed), { caps: [m.kernel.capability(mem, ALL), m.kernel.capability(receiver, Rights.RECEIVER_SEND)], memory: mem });
      await m.kernel.run();
      expect(fuzz.fault).toBe(null);
      expect(checkInvariants(m.kernel)).toEqual([]);
      m.kernel.kill(keeper.pid);
      m.kernel.kill(fuzz.pid);
      expect(checkInvariants(m.kernel)).toEqual([]);
      mem.destroy();
      expect(m.kernel.frames.freeCount).toBe(framesAtStart);
    });
  }
});
