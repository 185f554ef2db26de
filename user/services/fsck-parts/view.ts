// The disk as fsck sees it: as the server would after mounting, that is with the images of a
// committed transaction still in the journal in place of the blocks they replace. Only reads.
import { exit, lineBegin, lineAdd, lineAddU32, lineAddU64, linePrint, STDERR } from "../../lib";
import { blockErrorName } from "../../lib/block-client";
import { Disk } from "../fs-parts/disk";
import {
  BLOCK_BYTES, JOURNAL_MAGIC, JH_CHECKSUM_AT, JH_COUNT_AT, JH_MAGIC_AT, JH_SEQUENCE_AT, JH_TARGETS_AT, Layout,
  checksum, journalCapacity,
} from "../fs-parts/format";

const MEMORY: i32 = 3;
export const disk = new Disk(MEMORY);
export const layout = new Layout();
const journalHeader: usize = memory.data(<i32>BLOCK_BYTES, <i32>BLOCK_BYTES);
const scratch: usize = memory.data(<i32>BLOCK_BYTES, <i32>BLOCK_BYTES);
let overlayCount: u32 = 0;

/** Says what could not be read and ends (exit 2). */
export function fatal(what: string, status: i32): void {
  lineBegin("fsck: cannot ");
  lineAdd(what);
  lineAdd(": ");
  lineAdd(blockErrorName(status));
  linePrint(STDERR);
  exit(2);
}

/** Reads `b` as the file system sees it: from the journal when its transaction replaces it. */
export function readBlock(b: u32, to: usize): void {
  for (let i: u32 = 0; i < overlayCount; i++) {
    if (load<u32>(journalHeader + JH_TARGETS_AT + (<usize>i << 2)) == b) {
      const status = disk.read(<u64>(layout.journal + 1 + i), 1, to);
      if (status < 0) fatal("read the journal", status);
      return;
    }
  }
  const status = disk.read(<u64>b, 1, to);
  if (status < 0) fatal("read block " + b.toString(), status);
}

/** The journal's transaction no longer stands in for blocks (it was replayed in place). */
export function forgetJournal(): void {
  overlayCount = 0;
}

/** Reads the journal's header and says what it holds; a committed transaction is read in place of the blocks it replaces from now on. */
export function checkJournal(): void {
  overlayCount = 0;
  readBlock(layout.journal, journalHeader);
  lineBegin("fsck: journal: ");
  if (load<u64>(journalHeader + JH_MAGIC_AT) != JOURNAL_MAGIC) {
    lineAdd("empty");
    linePrint();
    return;
  }
  const count = load<u32>(journalHeader + JH_COUNT_AT);
  let whole = count > 0 && count <= journalCapacity(layout);
  for (let i: u32 = 0; whole && i < count; i++) {
    const t = load<u32>(journalHeader + JH_TARGETS_AT + (<usize>i << 2));
    if (t < layout.bitmap || t >= layout.total) whole = false;
  }
  if (whole) {
    const wanted = load<u64>(journalHeader + JH_CHECKSUM_AT);
    store<u64>(journalHeader + JH_CHECKSUM_AT, 0);
    let sum = checksum(journalHeader, BLOCK_BYTES, 0);
    store<u64>(journalHeader + JH_CHECKSUM_AT, wanted);
    for (let i: u32 = 0; i < count; i++) {
      const status = disk.read(<u64>(layout.journal + 1 + i), 1, scratch);
      if (status < 0) fatal("read the journal", status);
      sum = checksum(scratch, BLOCK_BYTES, sum);
    }
    whole = sum == wanted;
  }
  lineAdd("transaction ");
  lineAddU64(load<u64>(journalHeader + JH_SEQUENCE_AT));
  lineAdd(" of ");
  lineAddU32(count);
  lineAdd(whole ? " blocks, committed: checked as replayed" : " blocks, torn (never committed): ignored");
  linePrint();
  if (whole) overlayCount = count;
}
