import { type FileHandle, mkdir, open, readdir, rename, rm, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import type { ModuleCache } from "../../loader/cache.ts";
import { FdFile, setTimes } from "./fd-file.ts";
import { ownFile } from "./own-file.ts";
import { crc32Small } from "./small-hashes.js";

/** `$XDG_CACHE_HOME/dogma/modules`, else `~/.cache/dogma/modules`; DOGMA_CACHE_DIR overrides both. */
export function defaultCacheDir(): string {
  if (process.env.DOGMA_CACHE_DIR) return process.env.DOGMA_CACHE_DIR;
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "dogma", "modules");
}

/** The cache's bound in bytes: DOGMA_CACHE_MAX (bytes, or with K, M, G), else 1 GiB. */
export function defaultCacheLimit(): number {
  const text = process.env.DOGMA_CACHE_MAX;
  const match = text ? /^(\d+)([KMG]?)i?B?$/i.exec(text.trim()) : null;
  if (!match) return 1 << 30;
  const unit = { "": 1, K: 1 << 10, M: 1 << 20, G: 1 << 30 }[match[2]!.toUpperCase() as "" | "K" | "M" | "G"];
  return Number(match[1]) * unit;
}

export interface CacheEntry {
  readonly key: string;
  readonly bytes: number;
  /** When it was last used (written or read), in ms since the epoch. */
  readonly usedMs: number;
}

const SUFFIX = ".dgm";

/**
 * A record of at most this many bytes is checked by small-hashes.ts's CRC-32 (about 3 ms a MiB on
 * the bench machine), a bigger one by node:zlib's (0.2 ms a MiB), loaded then: loading node:zlib
 * costs a warm start more than checking a small program's record (hello's is 20 KB).
 */
const SMALL_RECORD_BYTES = 1 << 20;

/** The CRC-32 function for a record of `bytes` (SMALL_RECORD_BYTES). */
function crc32For(bytes: number): (data: Uint8Array | string, value?: number) => number {
  return bytes <= SMALL_RECORD_BYTES ? crc32Small : process.getBuiltinModule("node:zlib").crc32;
}
/** Each file ends with the CRC-32 of its key then what comes before it (little-endian). */
const CHECK_BYTES = 4;

/**
 * Rewritten modules as files named by key, at most `limit` bytes in all: when a new record takes
 * the folder past it, the records used longest ago go first (a read marks a record used by
 * setting its modification time). Writes go to a temporary name first, so a reader never sees
 * half a record.
 *
 * A record is the code Dogma runs in place of the program, and V8 validates its bodies only when
 * first called: one bit flipped on disk in a rewritten access (a group member's `offset=`) keeps the
 * module valid and moves the access out of the page its check covered, into another frame. So each
 * file ends with a CRC-32 of its key and the record (every burst of up to 32 bits is caught;
 * yosys's 61 MB record costs about 26 ms to check), and a file whose check fails is a miss: one
 * copied or renamed to another key's name too (it would run one program's code for another). This is against
 * damage, not against someone who may write the folder: that is the user, who can run anything.
 */
export class DiskModuleCache implements ModuleCache {
  readonly dir: string;
  readonly limit: number;

  constructor(dir: string = defaultCacheDir(), limit: number = defaultCacheLimit()) {
    this.dir = dir;
    this.limit = limit;
  }

  async get(key: string): Promise<Uint8Array | null> {
    const file = join(this.dir, `${key}${SUFFIX}`);
    try {
      // A hit at every warm start: node:fs's calls, not node:fs/promises (fd-file.ts).
      const handle = await FdFile.open(file, "r");
      let read: Uint8Array | null;
      try {
        const info = await handle.stat();
        if (!ownFile(info) || info.size < CHECK_BYTES) return null;
        read = await readChecked(handle, info.size, key);
      } finally {
        await handle.close();
      }
      if (read === null) return null;
      const now = new Date();
      await setTimes(file, now, now).catch(() => {});
      // A view of what was read, not a copy of it (a copy of yosys's record took 35 ms and 64 MB more).
      return read.subarray(0, read.length - CHECK_BYTES);
    } catch {
      return null;
    }
  }

  put(key: string, record: Uint8Array): Promise<void> {
    return this.putParts(key, [record]);
  }

  /** Writes the parts one after another: a big record is never joined in memory. */
  async putParts(key: string, parts: readonly Uint8Array[]): Promise<void> {
    const size = parts.reduce((n, p) => n + p.length, 0) + CHECK_BYTES;
    if (size > this.limit) return;
    const crc32 = crc32For(size);
    try {
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
      const temporary = join(this.dir, `${key}.${process.pid}.tmp`);
      const file = await open(temporary, "w", 0o600);
      try {
        // In pieces: each piece's check runs on this thread while the one before is written on
        // libuv's, and the machine runs between them (one CRC-32 of the generated 25 MB module's
        // 136 MB record held this thread 50-110 ms).
        let check = crc32(key);
        let writing: Promise<void> = Promise.resolve();
        for (const part of parts) {
          for (let at = 0; at < part.length; at += WRITE_PIECE) {
            const piece = part.subarray(at, Math.min(part.length, at + WRITE_PIECE));
            check = crc32(piece, check);
            await writing;
            writing = writeAll(file, piece);
          }
        }
        await writing;
        await writeAll(file, checkBytes(check));
      } finally {
        await file.close();
      }
      await rename(temporary, join(this.dir, `${key}${SUFFIX}`));
      await this.evict(key);
    } catch {
      // A cache that cannot be written only costs the next start a rewrite.
    }
  }

  /** Every record, most recently used first. */
  async entries(): Promise<CacheEntry[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return [];
    }
    const entries: CacheEntry[] = [];
    for (const name of names.filter((n) => n.endsWith(SUFFIX))) {
      try {
        const info = await stat(join(this.dir, name));
        entries.push({ key: name.slice(0, -SUFFIX.length), bytes: info.size, usedMs: info.mtimeMs });
      } catch {
        // Removed meanwhile by another process.
      }
    }
    return entries.sort((a, b) => b.usedMs - a.usedMs);
  }

  /**
   * Removes every record (and leftovers of interrupted writes, and the digests of program files
   * kept beside them: file-digests.ts); returns how many records went.
   */
  async clear(): Promise<number> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return 0;
    }
    let removed = 0;
    for (const name of names) {
      if (!name.endsWith(SUFFIX) && !name.endsWith(".tmp") && name !== "digests.json") continue;
      await rm(join(this.dir, name), { force: true });
      if (name.endsWith(SUFFIX)) removed++;
    }
    return removed;
  }

  /** Drops the records used longest ago until the rest fit in the limit; `keep` stays. */
  private async evict(keep: string): Promise<void> {
    const entries = await this.entries();
    let total = entries.reduce((n, e) => n + e.bytes, 0);
    for (const entry of [...entries].reverse()) {
      if (total <= this.limit) return;
      if (entry.key === keep) continue;
      await rm(join(this.dir, `${entry.key}${SUFFIX}`), { force: true });
      total -= entry.bytes;
    }
  }
}

/** How much one read of a record asks for (Node's own readFile asks for 512 KiB at a time). */
const READ_PIECE = 16 << 20;

/**
 * The `size` bytes of a record file, or null when the CRC-32 at its end (of `key`, then what comes
 * before) does not match. The check of each piece runs on this thread while the next
 * piece is read on libuv's (clang's 159 MB record: about 70 ms of checking, 40-60 of reading,
 * overlapped instead of one after the other).
 */
async function readChecked(handle: FdFile, size: number, key: string): Promise<Uint8Array | null> {
  const crc32 = crc32For(size);
  let check = crc32(key);
  const bytes = new Uint8Array(Buffer.allocUnsafeSlow(size).buffer, 0, size);
  const checked = size - CHECK_BYTES;
  const piece = (at: number) => handle.read(bytes, at, Math.min(READ_PIECE, size - at), at);
  let at = 0;
  let reading = piece(0);
  while (at < size) {
    const { bytesRead } = await reading;
    if (bytesRead === 0) return null; // it shrank meanwhile: no record
    const end = at + bytesRead;
    if (end < size) reading = piece(end);
    if (at < checked) check = crc32(bytes.subarray(at, Math.min(end, checked)), check);
    at = end;
  }
  return check === new DataView(bytes.buffer, checked, CHECK_BYTES).getUint32(0, true) ? bytes : null;
}

/** How much of a record is checked and written at a time. */
const WRITE_PIECE = 8 << 20;

async function writeAll(file: FileHandle, bytes: Uint8Array): Promise<void> {
  for (let written = 0; written < bytes.length; ) written += (await file.write(bytes, written)).bytesWritten;
}

function checkBytes(check: number): Uint8Array {
  const bytes = new Uint8Array(CHECK_BYTES);
  new DataView(bytes.buffer).setUint32(0, check, true);
  return bytes;
}
