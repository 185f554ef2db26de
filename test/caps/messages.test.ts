/**
 * The message buffer as `invoke` reads and writes it: capacity and counts, unreadable and
 * unwritable buffers (a status, never a fault), buffers across pages, and the header of a kernel
 * answer.
 */
import { describe, expect, it } from "vitest";
import { ObjectKind, Op, Rights } from "../../src/kernel/caps/object-abi.ts";
import { Status } from "../../src/kernel/errors.ts";
import { ALL, Script, runAll, scriptMachine } from "./script.ts";

describe("message buffers", () => {
  it("refuses capacities and counts out of range with E_BAD_MESSAGE, leaving the buffer", async () => {
    const m = await scriptMachine();
    const mem = m.kernel.memoryObject(10);
    const s = new Script();
    const ids = [
      s.invoke(2, Op.MEMORY_INFO, { len: 16 }),
      s.invoke(2, Op.MEMORY_INFO, { len: 0 }),
      s.invoke(2, Op.MEMORY_INFO, { len: 22 }),
      s.invoke(2, Op.MEMORY_INFO, { len: 296 }),
      s.invoke(2, Op.MEMORY_INFO, { len: -4 }),
      s.invoke(2, Op.MEMORY_INFO, { len: 0x7fff_fffc }),
      s.invoke(2, Op.MEMORY_INFO, { n: 65 }),
      s.invoke(2, Op.MEMORY_INFO, { n: 0xffff_ffff }),
      s.invoke(2, Op.MEMORY_INFO, { c: 5 }),
      s.invoke(2, Op.MEMORY_INFO, { c: 0x8000_0000 }),
      s.invoke(2, Op.MEMORY_INFO, { words: [1, 2, 3], len: 28 }),
      s.invoke(2, Op.MEMORY_INFO, { caps: [1, 1, 1, 1], len: 32 }),
      s.invoke(2, Op.MEMORY_INFO, { n: 64, c: 4, len: 288 }),
    ];
    const fits = s.invoke(2, Op.MEMORY_INFO, { n: 64, c: 4, len: 292, words: [], caps: [] });
    s.end();
    const p = m.spawn(s, { caps: [m.kernel.capability(mem, ALL)] });
    await runAll(m);
    const log = m.log();
    for (const id of ids) expect(log.answer(p, id)).toMatchObject({ status: Status.E_BAD_MESSAGE, label: Op.MEMORY_INFO });
    // 64 words and 4 indices of whatever the buffer holds: a valid layout (the caps are not used).
    expect(log.answer(p, fits)).toMatchObject({ status: 0, n: 3, words: [10, 0, 10] });
    expect(p.fault).toBe(null);
  });

  it("answers E_BAD_ADDRESS for buffers that cannot be read, never a fault", async () => {
    const m = await scriptMachine();
    const mem = m.kernel.memoryObject(10);
    const s = new Script();
    // (0x80000000 is not here: the global space starts with this image, mapped read-only.)
    const pointers = [0, 4, 0x800, 0xffc, 0x20000, 0x1fff0, 0x7fff_0000, 0x9000_0000, 0xffff_fff0, 0xffff_fffc];
    const ids = pointers.map((ptr) => s.invoke(2, Op.CAP_INFO, { ptr, noWrite: true, dump: false }));
    const still = s.invoke(2, Op.CAP_INFO);
    s.end();
    const p = m.spawn(s, { caps: [m.kernel.capability(mem, ALL)] });
    await runAll(m);
    const log = m.log();
    ids.forEach((id, i) => expect(log.status(p, id), `pointer ${pointers[i]!.toString(16)}`).toBe(Status.E_BAD_ADDRESS));
    expect(log.answer(p, still).words).toEqual([ObjectKind.MEMORY, ALL]);
    expect(p.fault).toBe(null);
  });

  it("reads and writes messages across a page boundary and at unaligned addresses", async () => {
    const m = await scriptMachine();
    const mem = m.kernel.memoryObject(10);
    const s = new Script();
    const ids = [0x2ffc, 0x2ff0, 0x3001, 0x3ffe, 0x1ffc].map((ptr) => s.invoke(2, Op.MEMORY_INFO, { ptr }));
    s.end();
    const p = m.spawn(s, { caps: [m.kernel.capability(mem, ALL)] });
    await runAll(m);
    const log = m.log();
    for (const id of ids) expect(log.answer(p, id)).toMatchObject({ status: 0, label: 0, n: 3, words: [10, 0, 10] });
  });

  it("answers E_BAD_ADDRESS when the answer would run past the end of memory, and leaves the buffer", async () => {
    const m = await scriptMachine();
    const mem = m.kernel.memoryObject(10);
    const s = new Script();
    // 20 bytes of request end exactly at the end of memory (0x20000): readable, no room to answer.
    const ptr = 0x20000 - 20;
    const info = s.invoke(2, Op.MEMORY_INFO, { ptr });
    const copy = s.invoke(2, Op.CAP_COPY, { ptr });
    const copied = s.invoke(2, Op.MEMORY_LIST);
    const drop = s.invoke(2, Op.CAP_DROP, { ptr, dump: false });
    s.end();
    const p = m.spawn(s, { caps: [m.kernel.capability(mem, ALL)] });
    await runAll(m);
    const log = m.log();
    expect(log.answer(p, info)).toMatchObject({ status: Status.E_BAD_ADDRESS, label: Op.MEMORY_INFO, n: 0 });
    expect(log.answer(p, copy)).toMatchObject({ status: Status.E_BAD_ADDRESS, label: Op.CAP_COPY, n: 0 });
    expect(log.status(p, copied)).toBe(0);
    expect(log.status(p, drop)).toBe(0);
    expect(p.fault).toBe(null);
    // No copy was left behind: the one capability, dropped, took the Memory with it.
    expect(mem.destroyed).toBe(true);
  });

  it("answers with label 0, badge 0 and no reply whatever the request's header held", async () => {
    const m = await scriptMachine();
    const mem = m.kernel.memoryObject(10);
    const s = new Script();
    s.store(0x2000 + 16, [0x1234]);
    const info = s.invoke(2, Op.CAP_INFO, { recv: 77, noWrite: false });
    s.end();
    const p = m.spawn(s, { caps: [m.kernel.capability(mem, Rights.MEMORY_INFO, 0xbad9e)] });
    await runAll(m);
    expect(m.log().answer(p, info)).toMatchObject({ status: 0, label: 0, n: 2, c: 0, badge: 0, reply: 0, words: [ObjectKind.MEMORY, Rights.MEMORY_INFO] });
  });
});
