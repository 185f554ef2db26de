import type { InterruptSink } from "../devices.ts";
import type { DmaWindow } from "../mmio.ts";
import { type Completion, type Descriptor, QueueDevice } from "./queue-device.ts";
import { DeviceKind } from "./registers.ts";
import { RequestStatus } from "./request-status.ts";
import { type ShareBackend, type ShareEntry, ShareError, type ShareEntryKind, type ShareStat } from "./share-backend.ts";
import { MAX_SHARE_PATH, parseSharePath } from "./share-path.ts";

export const ShareOp = { STAT: 1, LIST: 2, READ: 3 } as const;
export const ShareKind = { FILE: 1, DIRECTORY: 2, OTHER: 3 } as const;
export const STAT_BYTES = 24;

/**
 * A read-only host folder behind a request queue. A descriptor is: op, id, path offset, path
 * length, buffer offset, buffer length, position (low, high: a file offset for READ, the first
 * entry for LIST). Results go to the buffer; the used entry's length is the bytes written, and
 * for LIST its extra word is the number of entries in the directory.
 */
export class HostShareDevice extends QueueDevice {
  readonly name = "share";
  private readonly backend: ShareBackend;

  constructor(line: number, interrupts: InterruptSink, backend: ShareBackend) {
    super(DeviceKind.SHARE, line, interrupts);
    this.backend = backend;
  }

  protected start(descriptor: Descriptor, dma: DmaWindow): Completion | Promise<Completion> {
    const [op, , pathOffset, pathLength, buffer, bufferLength, positionLow, positionHigh] = descriptor;
    if (op !== ShareOp.STAT && op !== ShareOp.LIST && op !== ShareOp.READ) return { status: RequestStatus.E_OP };
    if (pathLength > MAX_SHARE_PATH) return { status: RequestStatus.E_PATH };
    if (pathOffset + pathLength > dma.size || buffer + bufferLength > dma.size) return { status: RequestStatus.E_BUFFER };
    const path = parseSharePath(dma.read(pathOffset, pathLength));
    if (typeof path === "number") return { status: path };
    const position = positionHigh * 2 ** 32 + positionLow;
    const result =
      op === ShareOp.STAT ? this.stat(path, buffer, bufferLength)
      : op === ShareOp.LIST ? this.list(path, buffer, bufferLength, position)
      : this.read(path, buffer, bufferLength, position);
    return result.catch((error: unknown) => ({ status: statusOf(error) }));
  }

  private async stat(path: string[], buffer: number, room: number): Promise<Completion> {
    if (room < STAT_BYTES) return { status: RequestStatus.E_BUFFER };
    return { status: RequestStatus.OK, length: STAT_BYTES, output: { offset: buffer, data: encodeStat(await this.backend.stat(path)) } };
  }

  private async list(path: string[], buffer: number, room: number, first: number): Promise<Completion> {
    const entries = (await this.backend.list(path)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const data = encodeEntries(entries.slice(first), room);
    if (data === null) return { status: RequestStatus.E_BUFFER };
    return { status: RequestStatus.OK, length: data.length, extra: entries.length, output: { offset: buffer, data } };
  }

  private async read(path: string[], buffer: number, room: number, position: number): Promise<Completion> {
    const data = await this.backend.read(path, position, room);
    const bytes = data.subarray(0, room);
    return { status: RequestStatus.OK, length: bytes.length, output: { offset: buffer, data: bytes } };
  }
}

function kindCode(kind: ShareEntryKind): number {
  return kind === "file" ? ShareKind.FILE : kind === "directory" ? ShareKind.DIRECTORY : ShareKind.OTHER;
}

/** kind u32, reserved u32, size u64, modified ns u64 — little-endian, as drivers read words. */
function encodeStat(stat: ShareStat): Uint8Array {
  const out = new Uint8Array(STAT_BYTES);
  const view = new DataView(out.buffer);
  view.setUint32(0, kindCode(stat.kind), true);
  view.setBigUint64(8, BigInt(stat.size), true);
  view.setBigUint64(16, BigInt.asUintN(64, stat.modifiedNs), true);
  return out;
}

/**
 * As many whole records as fit in `room`: kind u32, name length u32, the UTF-8 name padded to
 * a multiple of 4. Null when there are entries and not even the first fits.
 */
function encodeEntries(entries: readonly ShareEntry[], room: number): Uint8Array | null {
  const records: Uint8Array[] = [];
  let used = 0;
  for (const entry of entries) {
    const name = new TextEncoder().encode(entry.name);
    const size = 8 + ((name.length + 3) & ~3);
    if (used + size > room) break;
    const record = new Uint8Array(size);
    const view = new DataView(record.buffer);
    view.setUint32(0, kindCode(entry.kind), true);
    view.setUint32(4, name.length, true);
    record.set(name, 8);
    records.push(record);
    used += size;
  }
  if (records.length === 0 && entries.length > 0) return null;
  const out = new Uint8Array(used);
  let at = 0;
  for (const record of records) {
    out.set(record, at);
    at += record.length;
  }
  return out;
}

function statusOf(error: unknown): number {
  if (!(error instanceof ShareError)) return RequestStatus.E_IO;
  switch (error.reason) {
    case "not-found":
      return RequestStatus.E_NOT_FOUND;
    case "not-directory":
      return RequestStatus.E_NOT_DIRECTORY;
    case "is-directory":
      return RequestStatus.E_IS_DIRECTORY;
    case "denied":
      return RequestStatus.E_DENIED;
    default:
      return RequestStatus.E_IO;
  }
}
