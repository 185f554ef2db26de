/**
 * Whether a disk holds something the file system may mount: a Dogma superblock, or nothing at all
 * (block 0 all zeros: a new disk, or a format cut short, which the file system formats). Anything
 * else is refused before boot with what is wrong, and the page offers to format, or to download
 * the disk first: a browser disk is the user's only copy, and the file system itself would only
 * refuse to mount it (a primary superblock that is damaged while its backup is whole mounts from
 * the backup on Node: download the disk and boot it there). The checks are the superblock's own
 * (user/services/fs-parts/format.ts: magic, checksum, version, block size, size), for the format
 * versions the file system mounts (1 to 3, upgraded at mount, and 4).
 */
export type DiskVerdict = { readonly ok: true; readonly fresh: boolean } | { readonly ok: false; readonly reason: string };

export const BLOCK_BYTES = 4096;
const MAGIC = 0x3153464d474f44n; // "DOGMFS1\0"
/** The checksum's place (it covers the bytes before it) in each format version the file system mounts. */
const CHECKSUM_AT: Record<number, number> = { 1: 64, 2: 120, 3: 120, 4: 120 };
const MASK = (1n << 64n) - 1n;

export function checkSuperblock(block0: Uint8Array, diskBytes: number): DiskVerdict {
  if (block0.length < BLOCK_BYTES) return { ok: false, reason: `the disk is ${diskBytes} bytes: too small to hold a superblock` };
  if (block0.every((byte) => byte === 0)) return { ok: true, fresh: true };
  const view = new DataView(block0.buffer, block0.byteOffset, BLOCK_BYTES);
  const magic = view.getBigUint64(0, true);
  if (magic !== MAGIC) return { ok: false, reason: `block 0 is not a Dogma superblock (magic ${hex64(magic)}, not ${hex64(MAGIC)} "DOGMFS1")` };
  const version = view.getUint32(8, true);
  const checksumAt = CHECKSUM_AT[version];
  if (checksumAt === undefined) return { ok: false, reason: `the file system's format version is ${version}; this Dogma reads versions ${Object.keys(CHECKSUM_AT).join(", ")}` };
  const stored = view.getBigUint64(checksumAt, true);
  const computed = checksum(view, checksumAt);
  if (stored !== computed) return { ok: false, reason: `the superblock's checksum is wrong (stored ${hex64(stored)}, its bytes give ${hex64(computed)}): it was damaged` };
  const blockBytes = view.getUint32(12, true);
  if (blockBytes !== BLOCK_BYTES) return { ok: false, reason: `the superblock says blocks of ${blockBytes} bytes, not ${BLOCK_BYTES}` };
  const total = view.getUint32(16, true);
  if (total * BLOCK_BYTES > diskBytes) return { ok: false, reason: `the superblock says ${total} blocks, but the disk holds ${Math.floor(diskBytes / BLOCK_BYTES)}` };
  return { ok: true, fresh: false };
}

/** format.ts's checksum: a word-wise multiply-rotate hash of `bytes` (a multiple of 8). */
function checksum(view: DataView, bytes: number): bigint {
  let h = 0x9e3779b97f4a7c15n;
  for (let at = 0; at < bytes; at += 8) {
    const x = ((h ^ view.getBigUint64(at, true)) * 0xff51afd7ed558ccdn) & MASK;
    h = ((x << 29n) | (x >> 35n)) & MASK;
  }
  return h ^ (h >> 32n);
}

function hex64(value: bigint): string {
  return `0x${value.toString(16).padStart(16, "0")}`;
}
