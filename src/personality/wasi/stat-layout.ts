import type { ServerStat } from "./file-server.ts";
import { FileType } from "./descriptors.ts";
import { FsKind } from "./protocol.ts";

/** A server kind as a WASI filetype. */
export function fileTypeOf(kind: number): number {
  if (kind === FsKind.FILE) return FileType.REGULAR_FILE;
  if (kind === FsKind.DIRECTORY) return FileType.DIRECTORY;
  if (kind === FsKind.SYMLINK) return FileType.SYMBOLIC_LINK;
  return FileType.UNKNOWN;
}

export interface FileStat {
  readonly device: bigint;
  readonly inode: bigint;
  readonly type: number;
  readonly links: bigint;
  readonly size: bigint;
  readonly accessed: bigint;
  readonly modified: bigint;
  readonly changed: bigint;
}

/** WASI's filestat for what a server's STAT answered, on device `device`. */
export function fileStatOf(stat: ServerStat, device: number): FileStat {
  return {
    device: BigInt(device),
    inode: BigInt(stat.inode),
    type: fileTypeOf(stat.kind),
    links: stat.links,
    size: stat.size,
    accessed: stat.accessed,
    modified: stat.modified,
    changed: stat.changed,
  };
}

/** filestat: dev u64, ino u64, filetype u8 (at 16), nlink u64 (24), size (32), atim (40), mtim (48), ctim (56). */
export function encodeFileStat(stat: FileStat): Uint8Array {
  const bytes = new Uint8Array(64);
  const view = new DataView(bytes.buffer);
  view.setBigUint64(0, stat.device, true);
  view.setBigUint64(8, stat.inode, true);
  view.setUint8(16, stat.type);
  view.setBigUint64(24, stat.links, true);
  view.setBigUint64(32, stat.size, true);
  view.setBigUint64(40, stat.accessed, true);
  view.setBigUint64(48, stat.modified, true);
  view.setBigUint64(56, stat.changed, true);
  return bytes;
}

/** fdstat: filetype u8, flags u16 (at 2), rights base u64 (8), inheriting u64 (16). */
export function encodeFdStat(type: number, flags: number, base: bigint, inheriting: bigint): Uint8Array {
  const bytes = new Uint8Array(24);
  const view = new DataView(bytes.buffer);
  view.setUint8(0, type);
  view.setUint16(2, flags, true);
  view.setBigUint64(8, base, true);
  view.setBigUint64(16, inheriting, true);
  return bytes;
}

/** A WASI dirent's bytes before its name. */
export const DIRENT_HEADER_BYTES = 24;

/** dirent: d_next u64, d_ino u64, d_namlen u32 (16), d_type u8 (20), then the name. */
export function encodeDirent(next: bigint, inode: bigint, type: number, name: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(DIRENT_HEADER_BYTES + name.length);
  const view = new DataView(bytes.buffer);
  view.setBigUint64(0, next, true);
  view.setBigUint64(8, inode, true);
  view.setUint32(16, name.length, true);
  view.setUint8(20, type);
  bytes.set(name, DIRENT_HEADER_BYTES);
  return bytes;
}
