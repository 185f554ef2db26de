import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DiskImage, blockFailureOf } from "../../src/hosts/node/disk-image.ts";
import { BlockError } from "../../src/machine/devices/block-backend.ts";
import { FolderShare } from "../../src/hosts/node/folder-share.ts";
import { BlockDevice, BlockOp, SECTOR_SIZE } from "../../src/machine/devices/block.ts";
import { HostShareDevice, ShareOp } from "../../src/machine/devices/host-share.ts";
import { Queue } from "../../src/machine/devices/queue-device.ts";
import { RequestStatus } from "../../src/machine/devices/request-status.ts";
import { type ShareEntry, ShareError } from "../../src/machine/devices/share-backend.ts";
import { MemoryDmaWindow, RecordingInterrupts, RingDriver, settle } from "./helpers.ts";

const temp = mkdtempSync(join(tmpdir(), "dogma-devices-"));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

describe("disk image backend", () => {
  it("creates a missing image with the size asked, and keeps an existing one's size", async () => {
    const path = join(temp, "new.img");
    const disk = await DiskImage.open(path, 1 << 20);
    expect(disk.size).toBe(1 << 20);
    expect(statSync(path).size).toBe(1 << 20);
    await disk.close();
    const again = await DiskImage.open(path, 4096);
    expect(again.size).toBe(1 << 20);
    await again.close();
  });

  it("puts what a driver wrote and flushed into the file", async () => {
    const path = join(temp, "disk.img");
    const disk = await DiskImage.open(path, 64 * SECTOR_SIZE);
    const driver = new RingDriver(new BlockDevice(3, new RecordingInterrupts(), disk), new MemoryDmaWindow(16384));
    const data = driver.dataOffset;
    driver.window.write(data, new TextEncoder().encode("written through the block device"));
    driver.submit([BlockOp.WRITE, 1, 10, 0, 1, data], [BlockOp.FLUSH, 2]);
    await settle(() => driver.registers[Queue.USED_INDEX] === 2);
    const done = driver.completions();
    expect(done.map((c) => c.status)).toEqual([RequestStatus.OK, RequestStatus.OK]);
    expect(done.at(-1)!.id).toBe(2);
    const file = readFileSync(path);
    expect(file.subarray(10 * SECTOR_SIZE, 10 * SECTOR_SIZE + 32).toString()).toBe("written through the block device");

    driver.submit([BlockOp.READ, 3, 10, 0, 1, data + 4096]);
    await settle(() => driver.registers[Queue.USED_INDEX] === 3);
    expect(driver.completions()[0]!.status).toBe(RequestStatus.OK);
    expect(new TextDecoder().decode(driver.window.bytes.subarray(data + 4096, data + 4096 + 7))).toBe("written");
    await disk.close();
  });

  it("writes gathered pieces one after another in place, empty pieces and all", async () => {
    const path = join(temp, "gathered.img");
    const disk = await DiskImage.open(path, 1 << 16);
    const piece = (byte: number, length: number) => new Uint8Array(length).fill(byte);
    await disk.writeGathered(1000, [piece(1, 3000), piece(2, 0), piece(3, 5000), piece(4, 1)]);
    const file = readFileSync(path);
    expect(file[999]).toBe(0);
    expect(file.subarray(1000, 4000).every((b) => b === 1)).toBe(true);
    expect(file.subarray(4000, 9000).every((b) => b === 3)).toBe(true);
    expect(file[9000]).toBe(4);
    expect(file[9001]).toBe(0);
    await disk.close();
  });

  it("reads scattered into pieces one after another, zeros past the end of a short image", async () => {
    const path = join(temp, "scattered.img");
    const bytes = new Uint8Array(10000).map((_, i) => (i * 7) & 0xff);
    writeFileSync(path, bytes);
    const disk = await DiskImage.open(path, 10000);
    const pieces = [new Uint8Array(3000).fill(9), new Uint8Array(0), new Uint8Array(5000).fill(9), new Uint8Array(4000).fill(9)];
    await disk.readScattered(1000, pieces);
    expect([...pieces[0]!]).toEqual([...bytes.subarray(1000, 4000)]);
    expect([...pieces[2]!]).toEqual([...bytes.subarray(4000, 9000)]);
    expect([...pieces[3]!.subarray(0, 1000)]).toEqual([...bytes.subarray(9000, 10000)]);
    expect(pieces[3]!.subarray(1000).every((b) => b === 0)).toBe(true);
    await disk.close();
  });

  it("reads zeros past the end of a short image", async () => {
    const path = join(temp, "short.img");
    writeFileSync(path, new Uint8Array(100).fill(1));
    const disk = await DiskImage.open(path, 0);
    const bytes = await disk.read(96, 8);
    expect([...bytes]).toEqual([1, 1, 1, 1, 0, 0, 0, 0]);
    await disk.close();
  });
});

describe("disk image lock and failures", () => {
  it("is locked while open: a second open is refused and names this process; after close it opens again", async () => {
    const path = join(temp, "locked.img");
    const first = await DiskImage.open(path, 1 << 20);
    await expect(DiskImage.open(path, 1 << 20)).rejects.toThrow(`the disk image ${realpathSync(path)} is in use by process ${process.pid} (a dogma boot since `);
    // Through a symlink it is the same image, and the same lock.
    symlinkSync(path, join(temp, "link.img"));
    await expect(DiskImage.open(join(temp, "link.img"), 1 << 20)).rejects.toThrow(/is in use by process/);
    await expect(DiskImage.open(path, 1 << 20, { readOnly: true })).rejects.toThrow(/is in use by process/);
    await first.close();
    const again = await DiskImage.open(path, 1 << 20);
    await again.close();
  });

  it("opens read-only without writing: writes fail as read-only and the file is unchanged", async () => {
    const path = join(temp, "ro.img");
    writeFileSync(path, new Uint8Array(8192).fill(5));
    const told: string[] = [];
    const disk = await DiskImage.open(path, 0, { readOnly: true, onFailure: (line) => told.push(line) });
    expect(disk.readOnly).toBe(true);
    expect([...(await disk.read(0, 4))]).toEqual([5, 5, 5, 5]);
    await expect(disk.write(0, new Uint8Array(4))).rejects.toSatisfy((error: unknown) => error instanceof BlockError && error.failure === "read-only");
    await disk.flush();
    await disk.close();
    expect(readFileSync(path).every((b) => b === 5)).toBe(true);
    await expect(DiskImage.open(join(temp, "missing.img"), 4096, { readOnly: true })).rejects.toThrow(/does not exist, and a --read-only boot does not create one/);
  });

  it("turns the host's errors into what the block device reports", () => {
    const errno = (code: string) => Object.assign(new Error(code), { code });
    expect(["ENOSPC", "EDQUOT", "EROFS", "EACCES", "EIO", "EBUSY"].map((code) => blockFailureOf(errno(code)))).toEqual(["no-space", "no-space", "read-only", "read-only", "io", "io"]);
  });
});

describe("folder share backend", () => {
  const outside = join(temp, "outside");
  const shared = join(temp, "shared");
  mkdirSync(join(shared, "sub"), { recursive: true });
  mkdirSync(outside, { recursive: true });
  writeFileSync(join(shared, "hello.txt"), "hello, dogma");
  writeFileSync(join(shared, "sub", "inner.txt"), "inner");
  writeFileSync(join(outside, "secret.txt"), "secret");
  symlinkSync(join(outside, "secret.txt"), join(shared, "escape.txt"));
  symlinkSync(outside, join(shared, "escape-dir"));
  symlinkSync(join(shared, "sub", "inner.txt"), join(shared, "inside.txt"));

  it("says in one line why a folder cannot be shared", async () => {
    await expect(FolderShare.open(join(temp, "nonexistent"))).rejects.toThrow(`cannot share ${join(temp, "nonexistent")}: it does not exist (ENOENT)`);
    await expect(FolderShare.open(join(shared, "hello.txt"))).rejects.toThrow(/cannot share .*hello\.txt: it is not a folder/);
  });

  it("answers not-found, never throws anything else, once the folder disappears while shared", async () => {
    const going = join(temp, "going");
    mkdirSync(join(going, "d"), { recursive: true });
    writeFileSync(join(going, "d", "f"), "x");
    const share = await FolderShare.open(going);
    expect((await share.stat(["d", "f"])).size).toBe(1);
    rmSync(going, { recursive: true });
    const calls = [() => share.stat([]), () => listed(share, []), () => listed(share, ["d"]), () => share.read(["d", "f"], 0, 10)];
    for (const call of calls) await expect(call()).rejects.toSatisfy((error: unknown) => error instanceof ShareError && error.reason === "not-found");
  });

  it("reads, stats and lists inside the folder, following symlinks that stay in it", async () => {
    const share = await FolderShare.open(shared);
    expect(new TextDecoder().decode(await share.read(["hello.txt"], 7, 100))).toBe("dogma");
    expect(new TextDecoder().decode(await share.read(["inside.txt"], 0, 100))).toBe("inner");
    expect(await share.stat(["sub"])).toMatchObject({ kind: "directory" });
    expect((await share.stat(["hello.txt"])).size).toBe(12);
    const entries = (await listed(share, [])).sort((a, b) => a.name.localeCompare(b.name));
    expect(entries).toEqual([
      { name: "escape-dir", kind: "other" },
      { name: "escape.txt", kind: "other" },
      { name: "hello.txt", kind: "file" },
      { name: "inside.txt", kind: "file" },
      { name: "sub", kind: "directory" },
    ]);
  });

  it("refuses .. and symlinks that lead out", async () => {
    const share = await FolderShare.open(shared);
    const reason = (call: Promise<unknown>) => call.then(() => "allowed", (error: unknown) => (error instanceof ShareError ? error.reason : String(error)));
    expect(await reason(share.read([".."], 0, 10))).toBe("denied");
    expect(await reason(share.read(["sub", "..", "..", "outside", "secret.txt"], 0, 10))).toBe("denied");
    expect(await reason(share.read(["escape.txt"], 0, 10))).toBe("denied");
    expect(await reason(listed(share, ["escape-dir"]))).toBe("denied");
    expect(await reason(share.stat(["escape-dir", "secret.txt"]))).toBe("denied");
    expect(await reason(share.read(["missing"], 0, 10))).toBe("not-found");
    expect(await reason(share.read(["sub"], 0, 10))).toBe("is-directory");
  });

  it("answers a driver through the share device", async () => {
    const driver = new RingDriver(new HostShareDevice(5, new RecordingInterrupts(), await FolderShare.open(shared)), new MemoryDmaWindow(16384));
    const ask = async (path: string) => {
      const bytes = new TextEncoder().encode(path);
      driver.window.write(driver.dataOffset, bytes);
      driver.submit([ShareOp.READ, 1, driver.dataOffset, bytes.length, driver.dataOffset + 1024, 100, 0, 0]);
      await settle(() => driver.registers[Queue.USED_INDEX] !== driver.registers[Queue.USED_CONSUMER]);
      return driver.completions()[0]!;
    };
    expect(await ask("hello.txt")).toMatchObject({ status: RequestStatus.OK, length: 12 });
    expect((await ask("escape.txt")).status).toBe(RequestStatus.E_DENIED);
    expect((await ask("../outside/secret.txt")).status).toBe(RequestStatus.E_DENIED);
  });

  it("will not share something that is not a folder", async () => {
    await expect(FolderShare.open(join(shared, "hello.txt"))).rejects.toThrow(/not a folder/);
  });
});

/** Every entry of a share's directory, read from its stream. */
async function listed(share: FolderShare, path: readonly string[]): Promise<ShareEntry[]> {
  const stream = await share.openDirectory(path);
  const all: ShareEntry[] = [];
  for (let got = await stream.read(2); got.length > 0; got = await stream.read(2)) all.push(...got);
  stream.close();
  return all;
}
