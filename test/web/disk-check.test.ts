/**
 * The browser host's check of a disk before boot (src/hosts/web/disk-check.ts) against a disk the
 * real file system formatted: it must accept that and a blank disk, and refuse, with a reason a
 * person can act on, what the file system would otherwise format away.
 */
import { describe, expect, it } from "vitest";
import { MemoryBlockBackend } from "../../src/machine/devices/block-backend.ts";
import { BLOCK_BYTES, checkSuperblock } from "../../src/hosts/web/disk-check.ts";
import { bootBlockMachine } from "../drivers/block-machine.ts";
import { FS_LINES } from "../fs/fs-machine.ts";

const DISK = 16 << 20;

describe("checkSuperblock", () => {
  it("accepts a blank disk and one the file system formatted; refuses a damaged or foreign one with what is wrong", async () => {
    const disk = new MemoryBlockBackend(DISK);
    expect(checkSuperblock(disk.bytes.subarray(0, BLOCK_BYTES), DISK)).toEqual({ ok: true, fresh: true });
    const m = await bootBlockMachine(FS_LINES, ["registry", "block", "fs"], disk);
    await m.line(/^fs: formatted the disk/);
    await m.halt();
    const block0 = disk.bytes.slice(0, BLOCK_BYTES);
    expect(checkSuperblock(block0, DISK)).toEqual({ ok: true, fresh: false });

    const flipped = block0.slice();
    flipped[20]! ^= 1;
    expect(checkSuperblock(flipped, DISK)).toMatchObject({ ok: false, reason: expect.stringMatching(/^the superblock's checksum is wrong .*: it was damaged$/) });
    const foreign = new TextEncoder().encode("\x7fELF not a dogma disk".padEnd(BLOCK_BYTES, "\0"));
    expect(checkSuperblock(foreign, DISK)).toMatchObject({ ok: false, reason: expect.stringMatching(/^block 0 is not a Dogma superblock \(magic 0x[0-9a-f]{16}, not 0x0031534[0-9a-f]+ "DOGMFS1"\)$/) });
    expect(checkSuperblock(block0, DISK / 2)).toMatchObject({ ok: false, reason: expect.stringMatching(/^the superblock says 4096 blocks, but the disk holds 2048$/) });
    expect(checkSuperblock(new Uint8Array(100), 100)).toMatchObject({ ok: false });
  }, 60_000);
});
