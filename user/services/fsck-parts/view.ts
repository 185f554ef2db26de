// The disk as fsck sees it: as the server would after mounting, that is with the images of a
// committed transactions still in the journal in place of the blocks they replace. Only reads.
import { exit, lineBegin, lineAdd, lineAddU32, lineAddU64, linePrint, STDERR } from "../../lib";
import { blockErrorName } from "../../lib/block-client";
import { Disk } from "../fs-parts/disk";
import {
  BLOCK_BYTES, JH_CHECKSUM_AT, JH_COUNT_AT, JH_SEQUENCE_AT, JH_TARGETS_AT, Layout, RECORD_DAMAGED, RECORD_EMPTY, RECORD_FLUSHED,
  checksum, journalCapacity, journalRecord, journalSlotAt, journalSlots, mayNeedReplay,
} from "../fs-parts/format";

const MEMORY: i32 = 3;
export const disk = new Disk(MEMORY);
export const layout = new Layout();
/** Each slot's header (at most two); `overlayCount[s]`: its images standing in for blocks (0: none). */
const journalHeaders: usize = memory.data(<i32>(2 * BLOCK_BYTES), <i32>BLOCK_BYTES);
const scratch: usize = memory.data(<i32>BLOCK_BYTES, <i32>BLOCK_BYTES);
const overlayCount = new StaticArray<u32>(2);
/** The slots of the whole transactions, newest first (-1: none). */
const byAge = new StaticArray<i32>(2);

/** Says what could not be read and ends (exit 2). */
export function fatal(what: string, status: i32): void {
  lineBegin("fsck: cannot ");
  lineAdd(what);
  lineAdd(": ");
  lineAdd(blockErrorName(status));
  linePrint(STDERR);
  exit(2);
}

/**
 * Reads `b` as the file system sees it: from the journal when a whole transaction replaces it (the
 * newest that does; of its images of `b`, the last, which the server's replay writes last: a record
 * naming a block twice, which only a hostile image holds, passed fsck with its first image while
 * the server mounted its second, redteam15).
 */
export function readBlock(b: u32, to: usize): void {
  for (let k = 0; k < 2; k++) {
    const s = unchecked(byAge[k]);
    if (s < 0) continue;
    const header = journalHeaders + (<usize>s << 12);
    for (let i = <i32>unchecked(overlayCount[s]) - 1; i >= 0; i--) {
      if (load<u32>(header + JH_TARGETS_AT + (<usize>i << 2)) == b) {
        const status = disk.read(<u64>(journalSlotAt(layout, <u32>s) + 1 + <u32>i), 1, to);
        if (status < 0) fatal("read the journal", status);
        return;
      }
    }
  }
  const status = disk.read(<u64>b, 1, to);
  if (status < 0) fatal("read block " + b.toString(), status);
}

/** The journal's transactions no longer stand in for blocks (they were replayed in place). */
export function forgetJournal(): void {
  unchecked((byAge[0] = -1));
  unchecked((byAge[1] = -1));
}

/**
 * Reads each slot's header and says what it holds; the committed transactions are read in place
 * of the blocks they replace from now on (the newest first), as the server replays them.
 */
export function checkJournal(): void {
  forgetJournal();
  const slots = journalSlots(layout);
  let newest: u64 = 0;
  for (let s: u32 = 0; s < slots; s++) {
    const count = checkSlot(s, slots > 1);
    unchecked((overlayCount[s] = count));
    if (count == 0) continue;
    const sequence = load<u64>(journalHeaders + (<usize>s << 12) + JH_SEQUENCE_AT);
    if (unchecked(byAge[0]) < 0 || sequence > newest) {
      unchecked((byAge[1] = byAge[0]));
      unchecked((byAge[0] = <i32>s));
      newest = sequence;
    } else {
      unchecked((byAge[1] = <i32>s));
    }
  }
  // As the server (journal.ts findWhole): the older of two whole records is not read over the disk
  // when the newer was written after a flush; the one whole transaction is not when the other
  // record says it is there already (format.ts mayNeedReplay).
  const only = unchecked(byAge[0]);
  if (only >= 0 && unchecked(byAge[1]) >= 0 && journalRecord(journalHeaders + (<usize>only << 12)) == RECORD_FLUSHED) {
    unchecked((overlayCount[byAge[1]] = 0));
    unchecked((byAge[1] = -1));
  } else if (slots == 2 && only >= 0 && unchecked(byAge[1]) < 0 && !mayNeedReplay(journalHeaders + (<usize>(1 - only) << 12), newest)) {
    unchecked((overlayCount[only] = 0));
    unchecked((byAge[0] = -1));
    lineBegin("fsck: journal: transaction ");
    lineAddU64(newest);
    lineAdd(" is on the disk already (the record after it began once it was): checked as it is in place");
    linePrint();
  }
}

// Checks slot `s`'s transaction and says what it holds: its block count if it is whole, else 0.
function checkSlot(s: u32, named: bool): u32 {
  const header = journalHeaders + (<usize>s << 12);
  const at = journalSlotAt(layout, s);
  const read = disk.read(<u64>at, 1, header);
  if (read < 0) fatal("read the journal", read);
  lineBegin("fsck: journal");
  if (named) {
    lineAdd(" slot ");
    lineAddU32(s);
  }
  lineAdd(": ");
  const kind = journalRecord(header);
  if (kind == RECORD_EMPTY || kind == RECORD_DAMAGED) {
    lineAdd(kind == RECORD_EMPTY ? "empty" : "a damaged header: ignored");
    linePrint();
    return 0;
  }
  const count = load<u32>(header + JH_COUNT_AT);
  let whole = count > 0 && count <= journalCapacity(layout);
  for (let i: u32 = 0; whole && i < count; i++) {
    const t = load<u32>(header + JH_TARGETS_AT + (<usize>i << 2));
    if (t < layout.bitmap || t >= layout.total) whole = false;
  }
  if (whole) {
    const wanted = load<u64>(header + JH_CHECKSUM_AT);
    store<u64>(header + JH_CHECKSUM_AT, 0);
    let sum = checksum(header, BLOCK_BYTES, 0);
    store<u64>(header + JH_CHECKSUM_AT, wanted);
    for (let i: u32 = 0; i < count; i++) {
      const status = disk.read(<u64>(at + 1 + i), 1, scratch);
      if (status < 0) fatal("read the journal", status);
      sum = checksum(scratch, BLOCK_BYTES, sum);
    }
    whole = sum == wanted;
  }
  lineAdd("transaction ");
  lineAddU64(load<u64>(header + JH_SEQUENCE_AT));
  lineAdd(" of ");
  lineAddU32(count);
  lineAdd(whole ? " blocks, committed: checked as replayed" : " blocks, torn (never committed): ignored");
  linePrint();
  return whole ? count : 0;
}
