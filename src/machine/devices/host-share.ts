import type { InterruptSink } from "../devices.ts";
import type { DmaWindow } from "../mmio.ts";
import { DirectoryCursors, ListedRecords, listCompletion } from "./directory-cursors.ts";
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
 * for LIST its extra word says whether the directory ends after these entries (LIST reads the
 * host directory a piece at a time: directory-cursors.ts).
 */
export class HostShareDevice extends QueueDevice {
  readonly name = "share";
  private readonly backend: ShareBackend;
  private readonly cursors = new DirectoryCursors<ShareEntry>();

  constructor(line: number, interrupts: InterruptSink, backend: ShareBackend) {
    super(DeviceKind.SHARE, line, interrupts);
    this.backend = backend;
  }

  protected override powerOn(): void {
    super.powerOn();
    this.cursors.closeAll();
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

  /** LIST: the directory's entries from `first`, a share of the host's work at a time (directory-cursors.ts). */
  private async list(path: string[], buffer: number, room: number, first: number): Promise<Completion> {
    const records = new ListedRecords<ShareEntry>(room, encodeEntry);
    const listed = await this.cursors.list(path.join("/"), first, () => this.backend.openDirectory(path), (entry) => records.add(entry));
    return listCompletion(listed, records, buffer);
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

/** A LIST record: kind u32, name length u32, the UTF-8 name padded to a multiple of 4. */
function encodeEntry(entry: ShareEntry): Uint8Array {
  const name = new TextEncoder().encode(entry.name);
  const record = new Uint8Array(8 + ((name.length + 3) & ~3));
  const view = new DataView(record.buffer);
  view.setUint32(0, kindCode(entry.kind), true);
  view.setUint32(4, name.length, true);
  record.set(name, 8);
  return record;
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
