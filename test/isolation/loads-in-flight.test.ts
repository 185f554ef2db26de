/**
 * A binary the loader holds is charged while it holds it. MEMORY_CREATE_IMAGE checked the Memory's
 * room before a load and charged the Image after it, and IMAGE_BUILDER_LOAD gave the builder's
 * pages back before its load: so any number of processes of one Memory could each have a binary
 * (16 MiB, 256 MiB through a builder) in the host's heap at once, the loads in flight paid by no
 * quota, as many as the attacker has processes, until the host ran out of memory (issue 16's
 * finding 2, for loads). Now the Memory pays for every load in flight: one it cannot pay for is
 * refused at once, and the quotas add up while the loader works.
 */
import { describe, expect, it } from "vitest";
import type { ImageBuilder } from "../../src/kernel/caps/image-builder.ts";
import { imageHostPages, loadChargePages } from "../../src/kernel/caps/image-charge.ts";
import { ObjectKind, Op, Rights } from "../../src/kernel/caps/object-abi.ts";
import { Status } from "../../src/kernel/errors.ts";
import { checkInvariants } from "../../src/kernel/invariants.ts";
import type { LoadedImage } from "../../src/kernel/image.ts";
import type { Process } from "../../src/kernel/process.ts";
import { Receiver } from "../../src/kernel/caps/receiver.ts";
import { program } from "../helpers/programs.ts";
import { ALL, Script, runAll, scriptMachine, type ScriptMachine } from "../caps/script.ts";

/**
 * A machine whose loader holds every binary until each of the `processes` callers has either had
 * its load begun or ended (refused at once): the most loads a Memory lets be in flight together.
 */
async function gatedMachine(processes: number): Promise<{ m: ScriptMachine; begun: () => number; invariantsInFlight: string[]; watch(p: Process[]): void }> {
  let begun = 0;
  let ended = 0;
  let open: () => void = () => {};
  const gate = new Promise<void>((resolve) => (open = resolve));
  const invariantsInFlight: string[] = [];
  const maybeOpen = (): void => {
    if (begun + ended === processes) open();
  };
  const m: ScriptMachine = await scriptMachine({
    kernel: {
      imageLoader: {
        load: async (bytes: Uint8Array, name: string): Promise<LoadedImage> => {
          begun++;
          invariantsInFlight.push(...checkInvariants(m.kernel));
          maybeOpen();
          await gate;
          return m.loader.load(bytes, name);
        },
      },
    },
  });
  return {
    m,
    begun: () => begun,
    invariantsInFlight,
    watch(ps: Process[]) {
      for (const p of ps) void p.wait().then(() => (ended++, maybeOpen()));
    },
  };
}

describe("loads in flight are charged to the Memory that asked", () => {
  it("MEMORY_CREATE_IMAGE: six callers of a Memory with room for two Images; two loads, four refused at once", async () => {
    const callers = 6;
    const g = await gatedMachine(callers);
    const echo = program("echo");
    // Room for two Images of it (each charged what the host keeps of it), which is room for two loads and not three.
    const kept = imageHostPages(await g.m.loader.load(echo, "echo"));
    expect(3 * loadChargePages(echo.length)).toBeGreaterThan(2 * kept);
    const mem = g.m.kernel.memoryObject(2 * kept);
    const s = new Script();
    const asked = s.invoke(2, Op.MEMORY_CREATE_IMAGE, { words: [echo.length], caps: [3] });
    s.end();
    const ps = Array.from({ length: callers }, () =>
      g.m.spawn(s, { caps: [g.m.kernel.capability(mem, ALL), g.m.kernel.capability(g.m.kernel.regionObject(echo), Rights.REGION_READ)] }),
    );
    g.watch(ps);
    await runAll(g.m);
    // Before: six binaries in the loader at once, for a Memory that pays for two.
    expect(g.begun()).toBe(2);
    const statuses = ps.map((p) => g.m.log().status(p, asked)).sort((a, b) => a - b);
    expect(statuses).toEqual([Status.E_QUOTA, Status.E_QUOTA, Status.E_QUOTA, Status.E_QUOTA, 0, 0]);
    expect(g.invariantsInFlight).toEqual([]);
    expect(checkInvariants(g.m.kernel)).toEqual([]);
    expect(g.m.faults).toEqual([]);
    expect(mem.used).toBe(0);
  });

  it("IMAGE_BUILDER_LOAD keeps the builder's charge until the Image has it: a second load cannot be had meanwhile", async () => {
    const callers = 3;
    const g = await gatedMachine(callers);
    const echo = program("echo");
    // Room for one Image of it, which is room for one load (a builder's bytes are charged besides).
    const kept = imageHostPages(await g.m.loader.load(echo, "echo"));
    expect(2 * loadChargePages(echo.length)).toBeGreaterThan(kept);
    const mem = g.m.kernel.memoryObject(kept);
    const s = new Script();
    const builder = s.reg();
    const created = s.invoke(2, Op.MEMORY_CREATE_IMAGE_BUILDER, { words: [echo.length] });
    s.loadCap(builder);
    s.invoke(builder, Op.IMAGE_BUILDER_APPEND, { words: [echo.length], caps: [3] });
    const loaded = s.invoke(builder, Op.IMAGE_BUILDER_LOAD);
    s.end();
    const ps = Array.from({ length: callers }, () =>
      g.m.spawn(s, { caps: [g.m.kernel.capability(mem, ALL), g.m.kernel.capability(g.m.kernel.regionObject(echo), Rights.REGION_READ)] }),
    );
    g.watch(ps);
    await runAll(g.m);
    expect(g.begun()).toBe(1);
    const log = g.m.log();
    // Three builders of a few pages each; the first load raises its charge to a load's, and the others cannot.
    expect(ps.map((p) => log.status(p, created))).toEqual([0, 0, 0]);
    expect(ps.map((p) => log.status(p, loaded)).sort((a, b) => a - b)).toEqual([Status.E_QUOTA, Status.E_QUOTA, 0]);
    expect(g.invariantsInFlight).toEqual([]);
    expect(checkInvariants(g.m.kernel)).toEqual([]);
    expect(mem.used).toBe(0);
  });

  it("a Memory destroyed while its binary loads gets no Image, and its parent gets every page back", async () => {
    const g = await gatedMachine(1);
    const echo = program("echo");
    const parent = g.m.kernel.memoryObject(4 * loadChargePages(echo.length));
    const child = g.m.kernel.memoryObject(2 * loadChargePages(echo.length), parent);
    const s = new Script();
    const asked = s.invoke(2, Op.MEMORY_CREATE_IMAGE, { words: [echo.length], caps: [3] });
    s.end();
    const load = g.m.kernel.loadImage.bind(g.m.kernel);
    let inFlight = -1;
    g.m.kernel.loadImage = (bytes, name, settled) => {
      load(bytes, name, settled);
      child.destroy();
      inFlight = parent.used;
      expect(checkInvariants(g.m.kernel)).toEqual([]);
    };
    const p = g.m.spawn(s, { caps: [g.m.kernel.capability(child, ALL), g.m.kernel.capability(g.m.kernel.regionObject(echo), Rights.REGION_READ)] });
    g.watch([p]);
    await runAll(g.m);
    expect(g.m.log().status(p, asked)).toBeLessThan(0);
    // Before: the charge went with the child while the loader still held the binary (paid by nobody).
    expect(inFlight).toBe(loadChargePages(echo.length));
    expect(checkInvariants(g.m.kernel)).toEqual([]);
    expect(parent.used).toBe(0);
  });

  it("an Image builder stays charged while it loads, though its Memory or its last capability goes", async () => {
    for (const how of ["memory", "caller"] as const) {
      const g = await gatedMachine(1);
      const echo = program("echo");
      const parent = g.m.kernel.memoryObject(4 * loadChargePages(echo.length) + 4);
      const child = g.m.kernel.memoryObject(2 * loadChargePages(echo.length), parent);
      // The test holds the child Memory, so that the caller's end leaves it.
      const held = g.m.kernel.capability(child, ALL);
      const s = new Script();
      const builder = s.reg();
      s.invoke(2, Op.MEMORY_CREATE_IMAGE_BUILDER, { words: [echo.length] });
      s.loadCap(builder);
      s.invoke(builder, Op.IMAGE_BUILDER_APPEND, { words: [echo.length], caps: [3] });
      s.invoke(builder, Op.IMAGE_BUILDER_LOAD);
      s.end();
      const p = g.m.spawn(s, { caps: [g.m.kernel.capability(child, ALL), g.m.kernel.capability(g.m.kernel.regionObject(echo), Rights.REGION_READ)] });
      const load = g.m.kernel.loadImage.bind(g.m.kernel);
      let inFlight = -1;
      let ended: () => void = () => {};
      const loadEnded = new Promise<void>((resolve) => (ended = resolve));
      g.m.kernel.loadImage = (bytes, name, settled) => {
        load(bytes, name, (outcome) => (settled(outcome), ended()));
        // Once the caller waits for the load: killed, it drops the builder's last capability; or its Memory goes.
        queueMicrotask(() => {
          if (how === "caller") expect(g.m.kernel.kill(p.pid)).toBe(Status.OK);
          else child.destroy();
          inFlight = how === "caller" ? child.used : parent.used;
          expect(checkInvariants(g.m.kernel)).toEqual([]);
        });
      };
      g.watch([p]);
      await runAll(g.m);
      // Before: 0, the builder's pages back while the loader held its bytes.
      expect(inFlight, how).toBeGreaterThanOrEqual(loadChargePages(echo.length));
      // The caller's end does not wait for its load's: the pages come back at the load's.
      await loadEnded;
      expect(checkInvariants(g.m.kernel)).toEqual([]);
      expect(child.used).toBe(0);
      expect(held.object.destroyed).toBe(how === "memory");
    }
  });
});

describe("an Image builder's bytes", () => {
  it("go with its Memory: a capability to the destroyed builder keeps nothing of them in the host", async () => {
    const m = await scriptMachine();
    const echo = program("echo");
    const child = m.kernel.memoryObject(loadChargePages(echo.length) + 4);
    const s = new Script();
    const builder = s.reg();
    s.invoke(2, Op.MEMORY_CREATE_IMAGE_BUILDER, { words: [echo.length] });
    s.loadCap(builder);
    const appended = s.invoke(builder, Op.IMAGE_BUILDER_APPEND, { words: [echo.length], caps: [3] });
    const destroyed = s.invoke(2, Op.MEMORY_DESTROY);
    const after = s.invoke(builder, Op.IMAGE_BUILDER_INFO);
    // Holds the builder's capability while the test looks: a receive nothing answers.
    s.invoke(4, Op.RECEIVER_RECEIVE);
    s.end();
    const parked = m.kernel.capability(new Receiver(1), Rights.RECEIVER_RECEIVE);
    const p = m.spawn(s, { caps: [m.kernel.capability(child, ALL), m.kernel.capability(m.kernel.regionObject(echo), Rights.REGION_READ), parked] });
    await m.kernel.run();
    const log = m.log();
    expect(log.status(p, appended)).toBe(0);
    expect(log.status(p, destroyed)).toBe(0);
    expect(log.status(p, after)).toBe(Status.E_PEER_DEAD);
    const held = [...p.caps.entries()].map(([, cap]) => cap.object).filter((object) => object.kind === ObjectKind.IMAGE_BUILDER);
    expect(held.length).toBe(1);
    expect((held[0] as ImageBuilder).bytes.byteLength).toBe(0);
    m.kernel.kill(p.pid);
  });
});
