import { describe, expect, it } from "vitest";
import type { DirectoryStream } from "../../src/machine/devices/directory-cursors.ts";
import { HostShareDevice, STAT_BYTES, ShareKind, ShareOp } from "../../src/machine/devices/host-share.ts";
import { Queue } from "../../src/machine/devices/queue-device.ts";
import { DeviceKind, Header } from "../../src/machine/devices/registers.ts";
import { RequestStatus } from "../../src/machine/devices/request-status.ts";
import { type ShareBackend, type ShareEntry, ShareError, type ShareStat } from "../../src/machine/devices/share-backend.ts";
import { MemoryDmaWindow, RecordingInterrupts, RingDriver, settle } from "./helpers.ts";

type Tree = { [name: string]: string | Tree };

/** A share over an object tree; records every path it was asked about. */
class TreeShare implements ShareBackend {
  readonly asked: string[][] = [];
  private readonly tree: Tree;
  constructor(tree: Tree) {
    this.tree = tree;
  }
  async stat(path: readonly string[]): Promise<ShareStat> {
    const node = this.find(path);
    return typeof node === "string" ? { kind: "file", size: node.length, modifiedNs: 42n } : { kind: "directory", size: 0, modifiedNs: 7n };
  }
  async openDirectory(path: readonly string[]): Promise<DirectoryStream<ShareEntry>> {
    const node = this.find(path);
    if (typeof node === "string") throw new ShareError("not-directory", "a file");
    const left: ShareEntry[] = Object.entries(node).map(([name, child]) => ({ name, kind: typeof child === "string" ? "file" : "directory" }));
    return { read: async (most) => left.splice(0, most), close() {} };
  }
  async read(path: readonly string[], offset: number, length: number): Promise<Uint8Array> {
    const node = this.find(path);
    if (typeof node !== "string") throw new ShareError("is-directory", "a directory");
    return new TextEncoder().encode(node).slice(offset, offset + length);
  }
  private find(path: readonly string[]): string | Tree {
    this.asked.push([...path]);
    let node: string | Tree = this.tree;
    for (const name of path) {
      if (typeof node === "string" || !(name in node)) throw new ShareError("not-found", name);
      node = node[name]!;
    }
    return node;
  }
}

const tree: Tree = { "readme.txt": "hello from the host", docs: { "b.md": "B", "a.md": "A", "é.md": "accent" } };

function shareMachine() {
  const backend = new TreeShare(tree);
  const device = new HostShareDevice(5, new RecordingInterrupts(), backend);
  const driver = new RingDriver(device, new MemoryDmaWindow(16384));
  const pathAt = driver.dataOffset;
  const buffer = pathAt + 1024;
  /** Submits one request on `path` and waits for its completion. */
  const ask = async (op: number, path: string | Uint8Array, room = 1024, position = 0) => {
    const bytes = typeof path === "string" ? new TextEncoder().encode(path) : path;
    driver.window.write(pathAt, bytes);
    const before = driver.registers[Queue.USED_INDEX];
    driver.submit([op, 99, pathAt, bytes.length, buffer, room, position, 0]);
    await settle(() => driver.registers[Queue.USED_INDEX] !== before);
    const [done] = driver.completions();
    return { ...done!, data: driver.window.bytes.slice(buffer, buffer + done!.length) };
  };
  return { backend, device, driver, ask };
}

function records(data: Uint8Array): Array<[number, string]> {
  const view = new DataView(data.buffer, data.byteOffset);
  const out: Array<[number, string]> = [];
  for (let at = 0; at < data.length; ) {
    const length = view.getUint32(at + 4, true);
    out.push([view.getUint32(at, true), new TextDecoder().decode(data.subarray(at + 8, at + 8 + length))]);
    at += 8 + ((length + 3) & ~3);
  }
  return out;
}

describe("host share", () => {
  it("stats files and folders", async () => {
    const { driver, ask } = shareMachine();
    expect(driver.registers[Header.KIND]).toBe(DeviceKind.SHARE);
    const file = await ask(ShareOp.STAT, "readme.txt");
    expect([file.status, file.length]).toEqual([RequestStatus.OK, STAT_BYTES]);
    const view = new DataView(file.data.buffer);
    expect([view.getUint32(0, true), view.getBigUint64(8, true), view.getBigUint64(16, true)]).toEqual([ShareKind.FILE, 19n, 42n]);
    const root = await ask(ShareOp.STAT, "");
    expect(new DataView(root.data.buffer).getUint32(0, true)).toBe(ShareKind.DIRECTORY);
    expect((await ask(ShareOp.STAT, "readme.txt", STAT_BYTES - 1)).status).toBe(RequestStatus.E_BUFFER);
  });

  it("lists a small folder sorted by name, in batches that fit the buffer", async () => {
    const { ask } = shareMachine();
    const all = await ask(ShareOp.LIST, "./docs/");
    expect(all.extra).toBe(1); // the end
    expect(records(all.data)).toEqual([
      [ShareKind.FILE, "a.md"],
      [ShareKind.FILE, "b.md"],
      [ShareKind.FILE, "é.md"],
    ]);
    const first = await ask(ShareOp.LIST, "docs", 28);
    expect(records(first.data)).toEqual([
      [ShareKind.FILE, "a.md"],
      [ShareKind.FILE, "b.md"],
    ]);
    expect(first.extra).toBe(0);
    const rest = await ask(ShareOp.LIST, "docs", 28, 2);
    expect(records(rest.data)).toEqual([[ShareKind.FILE, "é.md"]]);
    expect((await ask(ShareOp.LIST, "docs", 28, 3)).length).toBe(0);
    expect((await ask(ShareOp.LIST, "docs", 8)).status).toBe(RequestStatus.E_BUFFER);
  });

  it("reads a file range", async () => {
    const { ask } = shareMachine();
    const part = await ask(ShareOp.READ, "readme.txt", 4, 6);
    expect(new TextDecoder().decode(part.data)).toBe("from");
    const tail = await ask(ShareOp.READ, "readme.txt", 100, 15);
    expect(new TextDecoder().decode(tail.data)).toBe("host");
    expect((await ask(ShareOp.READ, "readme.txt", 100, 1000)).length).toBe(0);
  });

  it("answers errors with a status the driver can act on", async () => {
    const { ask } = shareMachine();
    expect((await ask(ShareOp.READ, "missing")).status).toBe(RequestStatus.E_NOT_FOUND);
    expect((await ask(ShareOp.READ, "docs")).status).toBe(RequestStatus.E_IS_DIRECTORY);
    expect((await ask(ShareOp.LIST, "readme.txt")).status).toBe(RequestStatus.E_NOT_DIRECTORY);
    expect((await ask(9, "readme.txt")).status).toBe(RequestStatus.E_OP);
  });

  it("refuses .. and malformed paths without asking the backend", async () => {
    const { ask, backend } = shareMachine();
    for (const path of ["..", "docs/../..", "../etc/passwd", "docs/.."]) expect((await ask(ShareOp.STAT, path)).status, path).toBe(RequestStatus.E_DENIED);
    expect((await ask(ShareOp.STAT, "a\\b")).status).toBe(RequestStatus.E_PATH);
    expect((await ask(ShareOp.STAT, "a\0b")).status).toBe(RequestStatus.E_PATH);
    expect((await ask(ShareOp.STAT, new Uint8Array([0xff, 0xfe]))).status).toBe(RequestStatus.E_PATH);
    expect(backend.asked).toEqual([]);
  });

  it("refuses a path or buffer outside the window", async () => {
    const { driver } = shareMachine();
    driver.submit([ShareOp.STAT, 1, 16380, 10, driver.dataOffset, 100, 0, 0], [ShareOp.READ, 2, driver.dataOffset, 0, 16000, 1000, 0, 0]);
    await settle(() => driver.registers[Queue.USED_INDEX] === 2);
    expect(driver.completions().map((c) => c.status)).toEqual([RequestStatus.E_BUFFER, RequestStatus.E_BUFFER]);
  });
});
