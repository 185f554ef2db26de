// The host folder device over the Node host's backend (src/hosts/node/host-folder.ts), driven as
// its server drives it: a request the backend answers at once completes before the driver's
// NOTIFY returns; one answered later completes from the event loop; failures, at once or later,
// are precise statuses, and the walk still keeps every path inside the folder.
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { NodeFolder } from "../../src/hosts/node/host-folder.ts";
import type { FolderBackend } from "../../src/machine/devices/folder-backend.ts";
import { FOLDER_STAT_BYTES, FolderOp, FolderOpen, HostFolderDevice } from "../../src/machine/devices/host-folder.ts";
import { Queue } from "../../src/machine/devices/queue-device.ts";
import { RequestStatus } from "../../src/machine/devices/request-status.ts";
import { MemoryDmaWindow, RecordingInterrupts, RingDriver, settle } from "./helpers.ts";

const LINE = 8;
const folders: string[] = [];

afterEach(() => {
  for (const dir of folders.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), "dogma-folder-device-"));
  folders.push(dir);
  return dir;
}

/** A device over `backend` and a driver of its ring; `submit` sends one request and says whether it was done when NOTIFY returned. */
function folderMachine(backend: FolderBackend) {
  const interrupts = new RecordingInterrupts();
  const device = new HostFolderDevice(LINE, interrupts, backend);
  const driver = new RingDriver(device, new MemoryDmaWindow(65536));
  const pathAt = driver.dataOffset;
  const buffer = pathAt + 1024;
  let nextId = 1;
  const submit = (op: number, target: string | number, bytes: Uint8Array = new Uint8Array(0), position = 0, room = 4096) => {
    const path = typeof target === "string" ? new TextEncoder().encode(target) : new Uint8Array(0);
    driver.window.write(pathAt, path);
    driver.window.write(buffer, bytes);
    const before = driver.registers[Queue.USED_INDEX];
    const id = nextId++;
    driver.submit([op, id, typeof target === "number" ? target : pathAt, path.length, buffer, bytes.length > 0 ? bytes.length : room, position, 0]);
    return { id, before, atOnce: driver.registers[Queue.USED_INDEX] !== before };
  };
  const finish = async (sent: { id: number; before: number | undefined }) => {
    await settle(() => driver.registers[Queue.USED_INDEX] !== sent.before);
    const [done] = driver.completions();
    expect(done!.id).toBe(sent.id);
    return { ...done!, data: driver.window.bytes.slice(buffer, buffer + done!.length) };
  };
  return { interrupts, submit, finish };
}

describe("host folder device on the Node backend", () => {
  it("completes what the backend answers at once before NOTIFY returns", async () => {
    const dir = folder();
    const { interrupts, submit, finish } = folderMachine(await NodeFolder.open(dir, false));
    const open = submit(FolderOp.OPEN, "made.txt", new Uint8Array(0), FolderOpen.CREATE | FolderOpen.WRITE, FOLDER_STAT_BYTES);
    expect(open.atOnce).toBe(true);
    const opened = await finish(open);
    expect(opened.status).toBe(RequestStatus.OK);
    const file = opened.extra;
    expect(file).toBeGreaterThan(0);
    const write = submit(FolderOp.WRITE, file, new TextEncoder().encode("written at once"), 0);
    expect(write.atOnce).toBe(true);
    expect((await finish(write)).length).toBe(15);
    expect(readFileSync(join(dir, "made.txt"), "utf8")).toBe("written at once");
    const read = submit(FolderOp.READ, file, new Uint8Array(0), 8, 64);
    expect(read.atOnce).toBe(true);
    expect(new TextDecoder().decode((await finish(read)).data)).toBe("at once");
    // Each completion raised the line (the driver cleared IRQ_STATUS in between).
    expect(interrupts.count(LINE)).toBe(3);
  });

  it("answers a failure at once with its precise status, and keeps serving", async () => {
    const dir = folder();
    const outside = folder();
    writeFileSync(join(outside, "secret"), "outside\n");
    symlinkSync(join(outside, "secret"), join(dir, "out"));
    const { submit, finish } = folderMachine(await NodeFolder.open(dir, false));
    const cases: Array<[() => ReturnType<typeof submit>, number]> = [
      [() => submit(FolderOp.STAT, "missing", new Uint8Array(0), 1, FOLDER_STAT_BYTES), RequestStatus.E_NOT_FOUND],
      [() => submit(FolderOp.STAT, "missing/deeper", new Uint8Array(0), 1, FOLDER_STAT_BYTES), RequestStatus.E_NOT_FOUND],
      [() => submit(FolderOp.OPEN, "out", new Uint8Array(0), 0, FOLDER_STAT_BYTES), RequestStatus.E_DENIED],
      [() => submit(FolderOp.READ, 77, new Uint8Array(0), 0, 16), RequestStatus.E_STALE],
    ];
    for (const [send, status] of cases) {
      const sent = send();
      expect(sent.atOnce).toBe(true);
      expect((await finish(sent)).status).toBe(status);
    }
    const made = submit(FolderOp.MKDIR, "d");
    expect((await finish(made)).status).toBe(RequestStatus.OK);
  });

  it("syncs a file off the machine's thread: SYNC completes later, from the event loop", async () => {
    const dir = folder();
    const { submit, finish } = folderMachine(await NodeFolder.open(dir, false));
    const opened = await finish(submit(FolderOp.OPEN, "synced.txt", new Uint8Array(0), FolderOpen.CREATE | FolderOpen.WRITE, FOLDER_STAT_BYTES));
    expect((await finish(submit(FolderOp.WRITE, opened.extra, new TextEncoder().encode("kept"), 0))).status).toBe(RequestStatus.OK);
    const sync = submit(FolderOp.SYNC, opened.extra);
    // The host's fsync runs in libuv's threads: NOTIFY returns before it is done.
    expect(sync.atOnce).toBe(false);
    expect((await finish(sync)).status).toBe(RequestStatus.OK);
    expect(readFileSync(join(dir, "synced.txt"), "utf8")).toBe("kept");
    const stale = submit(FolderOp.SYNC, 77);
    expect(stale.atOnce).toBe(true);
    expect((await finish(stale)).status).toBe(RequestStatus.E_STALE);
  });

  it("completes an answer that comes later from the event loop, and a host error as E_IO", async () => {
    const dir = folder();
    writeFileSync(join(dir, "later.txt"), "comes later");
    const node = await NodeFolder.open(dir, false);
    // The same backend, its reads answered with promises (so without the synchronous readScattered)
    // and its stats failing with a host error.
    const later = Object.assign(Object.create(node) as NodeFolder, {
      readScattered: undefined,
      read: (file: number, offset: number, length: number) => Promise.resolve().then(() => node.read(file, offset, length)),
      stat: () => {
        throw new Error("EIO: the host's disk failed");
      },
    });
    const { submit, finish } = folderMachine(later);
    const opened = await finish(submit(FolderOp.OPEN, "later.txt", new Uint8Array(0), 0, FOLDER_STAT_BYTES));
    const read = submit(FolderOp.READ, opened.extra, new Uint8Array(0), 6, 64);
    expect(read.atOnce).toBe(false);
    expect(new TextDecoder().decode((await finish(read)).data)).toBe("later");
    const failed = submit(FolderOp.STAT, "later.txt", new Uint8Array(0), 1, FOLDER_STAT_BYTES);
    expect(failed.atOnce).toBe(true);
    expect((await finish(failed)).status).toBe(RequestStatus.E_IO);
  });
});
