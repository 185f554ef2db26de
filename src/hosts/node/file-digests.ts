import { type BigIntStats } from "node:fs";
import { mkdir, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { FdFile, statBigInt } from "./fd-file.ts";
import { nodeSha256 } from "./node-loader.ts";
import { ownFile } from "./own-file.ts";

/** How many files' digests are remembered; the ones used longest ago go first. */
const MAX_ENTRIES = 256;
const FILE = "digests.json";

/**
 * SHA-256 digests of program files, remembered by the file's identity (device, inode, size,
 * modification and change times in nanoseconds), so that a warm `dogma run` of a big binary does
 * not hash it again (yosys's 31 MB: about 28 ms of CPU, clang's 75 MB about 68). The change time
 * moves with every write to the file and its owner cannot set it back, which is what git's index
 * relies on too. A file that changed while it was read is hashed and not remembered. One JSON file
 * in the module cache's folder; losing it, or an entry, only costs a hash.
 */
export class FileDigests {
  private readonly file: string;
  /** The wall clock in nanoseconds (a test's may run ahead). */
  private readonly nowNs: () => bigint;

  constructor(dir: string, nowNs: () => bigint = () => BigInt(Date.now()) * 1_000_000n) {
    this.file = join(dir, FILE);
    this.nowNs = nowNs;
  }

  /** The digest of `bytes`, read from `path` between the stats `before` and `after`. */
  async digest(bytes: Uint8Array, before: BigIntStats, after: BigIntStats): Promise<string> {
    const identity = identityOf(before);
    if (identity !== identityOf(after) || this.nowNs() - after.ctimeNs < RACY_NS) return nodeSha256(bytes);
    const entries = await this.read();
    const known = entries.find(([id]) => id === identity);
    if (known) return known[1];
    const digest = await nodeSha256(bytes);
    const kept: Array<[string, string]> = [[identity, digest], ...entries];
    await this.write(kept.slice(0, MAX_ENTRIES));
    return digest;
  }

  private async read(): Promise<Array<[string, string]>> {
    try {
      const handle = await FdFile.open(this.file, "r");
      let text: string;
      try {
        if (!ownFile(await handle.stat())) return [];
        text = await handle.readText();
      } finally {
        await handle.close();
      }
      const parsed: unknown = JSON.parse(text);
      if (!Array.isArray(parsed)) return [];
      return parsed.filter((e): e is [string, string] => Array.isArray(e) && typeof e[0] === "string" && typeof e[1] === "string" && /^[0-9a-f]{64}$/.test(e[1]));
    } catch {
      return [];
    }
  }

  /** Written to a temporary name first: a reader never sees half a file. */
  private async write(entries: Array<[string, string]>): Promise<void> {
    try {
      await mkdir(join(this.file, ".."), { recursive: true, mode: 0o700 });
      const temporary = `${this.file}.${process.pid}.tmp`;
      await writeFile(temporary, JSON.stringify(entries), { mode: 0o600 });
      await rename(temporary, this.file);
    } catch {
      // Only the next start's hash is lost.
    }
  }
}

/**
 * A file changed within the last RACY_NS may change again with the same times: a file system's
 * clock advances in ticks (a jiffy, 4 ms, for Linux before 6.13's fine-grained times; 2 s on FAT),
 * so a write of the same size in the tick after our read leaves the identity as it was, and the
 * old digest would name the new bytes (git calls such an index entry "racily clean"). Such a file
 * is hashed each time until it is older.
 */
const RACY_NS = 3_000_000_000n;

function identityOf(s: BigIntStats): string {
  return `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
}

/** The file's stat in nanoseconds, or null when it cannot be had. */
export async function statExactly(path: string): Promise<BigIntStats | null> {
  try {
    return await statBigInt(path);
  } catch {
    return null;
  }
}
