// A TRUNCATE into a block whose write-back fails meanwhile (redteam15). Cutting a file mid-block
// copies the block's head into a new block; taking a cache page for the copy may evict, and an
// eviction writes every dirty page back. When the block being cut was new since the last commit
// and its write-back failed, the page cache made it a hole (its bytes never reached the disk) and
// freed it; the cut then went on with the block it had looked up before, read what the disk held
// there — another file's old bytes — and made them the file's head. And a WRITE over a dirty page
// it held while an eviction's write-back of that page failed lost what it wrote there.
import { describe, it } from "vitest";
import { patience } from "../helpers/patience.ts";
import { FSCK_LINES, bootToVerdict } from "./fs-machine.ts";
import { VolatileCacheBackend } from "./volatile-backend.ts";

const DISK = 16 << 20;
/** The first data block of a 16 MiB disk: the writes the test fails lie there or after. */
const DATA_AT = 546 * 4096;
/** The fs with a page cache of one chunk (16 pages), so that the cut's page evicts. */
const FS_ONE_CHUNK = `service registry registry
driver  block    block     device=block interrupt=block memory=512
service fs       fs        memory=4096 publish=fs -- cache-pages=16
`;
const writer = (mode: string) => `${FS_ONE_CHUNK}service w fs-order-writer use=fs memory=512 -- ${mode}\n`;
const WRITER = ["registry", "block", "fs", "fs-order-writer"];


/** A disk where /old's 64 KiB of 0x4f were removed (its blocks free, given again first), on which every write holding a whole page of /lost's 0x4c fails. */
async function preparedDisk(): Promise<VolatileCacheBackend> {
  const disk = new VolatileCacheBackend(DISK);
  await bootToVerdict(writer("prepare"), WRITER, disk, /^fs-order: ready$/, /FAIL/);
  // The run, then the page alone: the backend fails one write a call, so each failure asks again.
  const lostPage = (offset: number, data: Uint8Array): boolean => {
    if (offset < DATA_AT) return false;
    for (let at = 0; at + 4096 <= data.length; at += 4096) {
      if (data.subarray(at, at + 4096).every((byte) => byte === 0x4c)) {
        queueMicrotask(() => disk.failWriteIf(lostPage));
        return true;
      }
    }
    return false;
  };
  disk.failWriteIf(lostPage);
  return disk;
}

describe("a block's write-back that fails under an operation using it", () => {
  it("a TRUNCATE never gives the file the disk's old bytes of the block it lost", async () => {
    const disk = await preparedDisk();
    await bootToVerdict(writer("lost-cut"), WRITER, disk, /^fs-order: lost-cut intact/, /FAIL/);
    await bootToVerdict(FSCK_LINES, ["registry", "block", "fsck"], disk, /^fsck: clean: /, /^fsck: (\d+ problems?|cannot .*)$/);
  }, patience(60_000));

  it("a WRITE over the page keeps what it wrote: the page it holds is not dropped under it", async () => {
    // Before, the eviction's write-back dropped the page the WRITE held (its old bytes failed to
    // go) and made its block a hole; the WRITE then copied into the dropped page, and the file read
    // zeros where the WRITE had answered 4 KiB written.
    const disk = await preparedDisk();
    await bootToVerdict(writer("lost-run"), WRITER, disk, /^fs-order: lost-run intact$/, /FAIL/);
    await bootToVerdict(FSCK_LINES, ["registry", "block", "fsck"], disk, /^fsck: clean: /, /^fsck: (\d+ problems?|cannot .*)$/);
  }, patience(60_000));
});
