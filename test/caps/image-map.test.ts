/**
 * IMAGE_MAP: a process holding an Image (any rights) sees no bytes of it until it maps it; then
 * they are there, read-only, at the address IMAGE_INFO names.
 */
import { describe, expect, it } from "vitest";
import { Op } from "../../src/kernel/caps/object-abi.ts";
import { Status } from "../../src/kernel/errors.ts";
import { Script, runAll, scriptMachine } from "./script.ts";

describe("IMAGE_MAP", () => {
  it("maps an Image's bytes read-only at its global address in the caller; before that they are not there", async () => {
    const m = await scriptMachine();
    const image = m.kernel.imageObject(await m.childImage(new Script().end(0), "mapped"));
    const bytes = image.bytes;
    const word = (at: number) => new DataView(bytes.buffer, bytes.byteOffset).getUint32(at, true);
    const last = (bytes.length - 4) & ~3;

    const reader = new Script();
    const mapped = reader.invoke(2, Op.IMAGE_MAP);
    const first = reader.read(image.globalAddress);
    const end = reader.read(image.globalAddress + last);
    const wrong = reader.invoke(2, Op.MEMORY_INFO);
    reader.write(image.globalAddress, 0); // read-only: faults
    reader.end(0);
    const p = m.spawn(reader, { caps: [m.kernel.capability(image, 0)] });

    const unmapped = new Script();
    unmapped.read(image.globalAddress); // faults: never mapped
    unmapped.end(0);
    const q = m.spawn(unmapped, { caps: [m.kernel.capability(image, 0)] });

    await runAll(m);
    const log = m.log();
    expect(log.answer(p, mapped).words).toEqual([bytes.length, image.globalAddress]);
    expect(log.one(p, first)).toEqual([word(0)]);
    expect(word(0)).toBe(0x6d736100); // "\0asm"
    expect(log.one(p, end)).toEqual([word(last)]);
    expect(log.status(p, wrong)).toBe(Status.E_WRONG_TYPE);
    expect(p.fault).toMatchObject({ kind: "read-only", address: image.globalAddress });
    expect(q.fault).toMatchObject({ kind: "unmapped", address: image.globalAddress });
  });

  it("IMAGE_UNMAP surrenders the view for good: the bytes go, and so does the capability", async () => {
    const m = await scriptMachine();
    const image = m.kernel.imageObject(await m.childImage(new Script().end(0), "surrendered"));
    const s = new Script();
    const mapped = s.invoke(2, Op.IMAGE_MAP);
    const before = s.read(image.globalAddress);
    const unmapped = s.invoke(2, Op.IMAGE_UNMAP);
    const again = s.invoke(2, Op.IMAGE_MAP); // the capability is gone with the view
    s.read(image.globalAddress); // faults: nothing is mapped there any more
    s.end(0);
    const p = m.spawn(s, { caps: [m.kernel.capability(image, 0)] });
    await runAll(m);
    const log = m.log();
    expect(log.status(p, mapped)).toBe(Status.OK);
    expect(log.one(p, before)).toEqual([0x6d736100]);
    expect(log.status(p, unmapped)).toBe(Status.OK);
    expect(log.status(p, again)).toBe(Status.E_INVALID_CAP);
    expect(p.fault).toMatchObject({ kind: "unmapped", address: image.globalAddress });
  });
});
