/**
 * An image's read-only pages get frames on first access: a process of a large binary that never
 * reads its own bytes costs no frames for them, and one that does pays for the pages it reads.
 */
import { describe, expect, it } from "vitest";
import { PAGE_SIZE } from "../../src/kernel/constants.ts";
import { checkInvariants } from "../../src/kernel/invariants.ts";
import { testMachine } from "../helpers/test-host.ts";
import { wat } from "../helpers/wat.ts";

/** A binary of about 40 pages (a passive segment of 160 KiB) whose `read(i)` reads word i of its own image. */
const big = wat(`(module
  (import "dogma" "image_base" (func $base (result i32)))
  (memory 1)
  (data "${"\\55".repeat(160 * 1024)}")
  (func (export "read") (param $i i32) (result i32) (i32.load (i32.add (call $base) (i32.shl (local.get $i) (i32.const 2)))))
  (func (export "_start")))`);

describe("image pages on demand", () => {
  it("gives an image's page a frame when it is first read, and no frame before", async () => {
    const t = testMachine();
    const image = await t.loader.load(big, "big");
    expect(image.bytes.length).toBeGreaterThan(40 * PAGE_SIZE);
    // An Image object keeps the image in the store between the processes below.
    const held = t.kernel.imageObject(image);
    expect(held.frames.every((frame) => frame === 0)).toBe(true);
    const idle = t.kernel.spawn(image);
    await t.kernel.run();
    const free = t.kernel.frames.freeCount;
    // Word 0 is "\\0asm"; a word in the middle of the binary is the segment's bytes.
    const first = t.kernel.spawn(image, { entry: "read", entryArgs: [0] });
    const middle = t.kernel.spawn(image, { entry: "read", entryArgs: [20 * 1024] });
    await t.kernel.run();
    expect(first.returnValue).toBe(0x6d736100);
    expect(middle.returnValue).toBe(0x55555555);
    expect(idle.outcome).toEqual({ kind: "exited", code: 0 });
    // Two pages of the image were read, then both processes went, and with them every mapping of
    // it: the frames went back too (the Image holds the bytes, not frames nobody maps).
    expect(free - t.kernel.frames.freeCount).toBe(0);
    expect(held.frames.every((frame) => frame === 0)).toBe(true);
    expect(checkInvariants(t.kernel)).toEqual([]);
  });

  it("keeps an image's frames while a page of it is mapped anywhere, gives them back after, and gives them again on the next read", async () => {
    const t = testMachine();
    const image = await t.loader.load(big, "big");
    const held = t.kernel.imageObject(image);
    const free = t.kernel.frames.freeCount;
    // A process of the image maps all of it; one that reads page 10 is spawned beside it.
    const keeper = t.kernel.spawn(image, { entry: "read", entryArgs: [10 * 1024] });
    const reader = t.kernel.spawn(image, { entry: "read", entryArgs: [0] });
    const atEnds: number[] = [];
    // The keeper's page stays after its mapping went (the reader maps the image), beside the reader's.
    t.kernel.scheduler.observer = {
      running: () => {},
      ended: () => {
        atEnds.push(held.frames.filter((frame) => frame !== 0).length);
      },
    };
    await t.kernel.run();
    expect(keeper.returnValue).toBe(0x55555555);
    expect(reader.returnValue).toBe(0x6d736100);
    expect(atEnds).toEqual([1, 2]);
    expect(held.frames.every((frame) => frame === 0)).toBe(true);
    expect(t.kernel.frames.freeCount).toBe(free);
    // Given again, with the same bytes, and paid for again.
    const again = t.kernel.spawn(image, { entry: "read", entryArgs: [20 * 1024] });
    await t.kernel.run();
    expect(again.returnValue).toBe(0x55555555);
    expect(checkInvariants(t.kernel)).toEqual([]);
  });

  it("keeps an image's frames when its only mapping is made again over itself (IMAGE_MAP twice)", async () => {
    const t = testMachine();
    // A binary of one page: its one mapping is all of its mappings.
    const image = await t.loader.load(wat(`(module (memory 1) (func (export "_start")))`), "small");
    const other = await t.loader.load(wat(`(module (memory 1) (func (export "_start") nop))`), "other");
    const held = t.kernel.imageObject(image);
    expect(held.frames).toHaveLength(1);
    const holder = t.kernel.spawn(other); // created, never run: the image's only mapping is the one below
    holder.space.mapShared(held.globalAddress, held.frames, held);
    const frame = held.frameFor(held.globalAddress, true)!;
    expect(frame).toBeGreaterThan(0);
    // Page by page, each new mapping replaces the old: the last old one going must not look like
    // the image's last mapping (the frames went back while page 0 named one, a use after free the
    // invoke fuzzer found).
    holder.space.mapShared(held.globalAddress, held.frames, held);
    expect(held.frames[0]).toBe(frame);
    expect(holder.space.mapping(held.globalAddress)?.frame).toBe(frame);
    expect(checkInvariants(t.kernel)).toEqual([]);
  });
});
