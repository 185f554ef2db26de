import type { PhysicalMemory } from "../machine/physical-memory.ts";
import { PAGE_SHIFT, PAGE_SIZE, TLB_AWAY_BIT, TLB_ENTRY_BYTES, TLB_INDEX_SHIFT, TLB_WRITE_OFFSET, tlbIndexMask, tlbVictimsFor } from "./constants.ts";

/**
 * A process's software TLB: a direct-mapped array in kernel frames that rewritten code reads
 * directly. Entry i (of `entries`, a power of two) serves the pages whose number is i modulo
 * `entries`; it is 16 bytes: the read tag and addend, then the write tag and addend. A tag is the
 * page's address (low 12 bits clear), an addend the frame's address minus the page's (wrapping).
 * The code reads the TLB's base from an immutable global of its process; the index mask is a
 * constant of the image's code, from its declared maximum memory (constants.ts tlbEntriesFor).
 *
 * Invariant: an entry whose tag matches maps its page to a frame the process may access with that
 * half's right; a write half only for a page the process may also read (no write-only pages, and a
 * page watched for reads is watched for writes), since the loader's shared check for a group of
 * loads and stores reads the write half alone (src/loader/access-groups.ts). An invalid tag has bit 11 set, which no masked address can match, whatever the
 * access size (rewritten code only ever sets bits 0-3 of what it compares).
 *
 * Home pages: each TLB has a `home` addend H, fixed for its process's life and passed to its code
 * as an immutable global. An entry whose frame is exactly `page + H` (a home frame) has the plain
 * tag; any other has the tag with TLB_AWAY_BIT. The inline fast path compares the plain tag and
 * then reads `a + H`, with no load of the addend on the access's critical path; so the plain tag
 * is written here only when the addend is H, and it is one more case of the invariant above (the
 * entry maps its page to that frame with that right): `a + H` is the frame's byte. Every other
 * reader compares the plain tag too (an away tag fails it: they take the slow path, which masks
 * the bit) or masks the bit and reads the addend, which every valid entry keeps.
 *
 * Every valid half of entry i is a page whose number is i modulo `entries`: a compare of entry i's
 * tag with the page of an access's last byte, where i is its first byte's entry, then holds only
 * for an access inside one page (the next page has entry i + 1), which rewritten code relies on.
 *
 * Victim entries (a table of TLB_MAX_ENTRIES: constants.ts tlbVictimsFor): a fill that displaces
 * an entry holding other pages moves the whole entry (both halves) to a small array after the
 * table, round robin, as QEMU's victim TLB; a slow path's wrapper (src/loader/rewrite-helpers.ts
 * victimTier) that finds the page of an access inside one page there swaps that victim entry with
 * the access's entry, without the kernel. So a victim entry is an entry as any other: it holds the
 * invariant above (the flushes reach it: flushPage, flushAll, empty), and both its valid halves
 * are pages of one index (they were one entry), so that the swap puts them where they belong.
 */
export const TLB_INVALID_TAG = 0x800;
/** Entries a TLB remembers filling; past this many, emptying it rewrites the whole table. */
const TRACKED_FILLS = 64;

/** Frames a TLB of `entries` entries takes: the table, and a frame for its victim entries if it has any. */
export function tlbFrames(entries: number): number {
  return (entries * TLB_ENTRY_BYTES) / PAGE_SIZE + (tlbVictimsFor(entries) > 0 ? 1 : 0);
}

export class SoftwareTlb {
  private readonly words: Int32Array;
  /** Physical byte address of entry 0. */
  readonly base: number;
  readonly entries: number;
  /** What rewritten code masks `addr >>> TLB_INDEX_SHIFT` with. */
  readonly mask: number;
  /** The home addend H: a frame is this page's home frame when `frame << 12 == page + H` (wrapping). */
  readonly home: number;
  /** Victim entries (tlbVictimsFor), at `victimWord` (a word index) right after the table. */
  readonly victims: number;
  private readonly victimWord: number;
  /** The victim entry the next displaced entry takes. */
  private nextVictim = 0;
  /**
   * Word index of each entry filled since the table was last empty, so that emptying it touches
   * only those (`empty`); null with none, or once more than TRACKED_FILLS were (then all are).
   */
  private filled: number[] | null = null;
  private untracked = false;

  /** `empty`: the frames hold an empty table already (a TLB emptied and released clean: frame-allocator.ts takeClean). */
  constructor(memory: PhysicalMemory, base: number, entries: number, empty = false, home = 0) {
    this.words = memory.words;
    this.home = home | 0;
    this.base = base;
    this.entries = entries;
    this.mask = tlbIndexMask(entries);
    this.victims = tlbVictimsFor(entries);
    this.victimWord = (base + entries * TLB_ENTRY_BYTES) >>> 2;
    if (!empty) this.flushAll();
  }

  fill(write: boolean, address: number, frame: number): void {
    const pageAddress = (address & ~(PAGE_SIZE - 1)) | 0;
    const slot = this.slot(write, address);
    const entry = slot & ~3;
    const words = this.words;
    if (words[entry] === TLB_INVALID_TAG && words[entry + 2] === TLB_INVALID_TAG) this.tracked(entry);
    // Another page's entry goes whole to the victims, both halves: the one it leaves is invalid
    // but for the half filled here (translate then fills the other if the page allows it).
    else if (this.victims > 0 && (words[entry]! & ~TLB_AWAY_BIT) !== pageAddress && (words[entry + 2]! & ~TLB_AWAY_BIT) !== pageAddress) this.displace(entry);
    const addend = ((frame << PAGE_SHIFT) - pageAddress) | 0;
    // The plain tag only for the home frame: the fast path then reads `a + home` (see the top).
    this.words[slot] = addend === this.home ? pageAddress : pageAddress | TLB_AWAY_BIT;
    this.words[slot + 1] = addend;
  }

  /** The physical address of `address` if the TLB holds its page for this access, else -1. */
  hit(write: boolean, address: number): number {
    const slot = this.slot(write, address);
    if ((this.words[slot]! & ~TLB_AWAY_BIT) !== ((address & ~(PAGE_SIZE - 1)) | 0)) return -1;
    return (address + this.words[slot + 1]!) >>> 0;
  }

  /** Drops any entry for the page holding `address`, in both halves. */
  flushPage(address: number): void {
    const page = (address & ~(PAGE_SIZE - 1)) | 0;
    const slot = this.slot(false, address);
    if ((this.words[slot]! & ~TLB_AWAY_BIT) === page) this.words[slot] = TLB_INVALID_TAG;
    if ((this.words[slot + 2]! & ~TLB_AWAY_BIT) === page) this.words[slot + 2] = TLB_INVALID_TAG;
    for (let at = this.victimWord, end = at + this.victims * 4; at < end; at += 2) {
      if ((this.words[at]! & ~TLB_AWAY_BIT) === page) this.words[at] = TLB_INVALID_TAG;
    }
  }

  flushAll(): void {
    // Every word of every frame, addends and the victims' frame too: an invalid entry's addend is
    // never read, and one fill is fastest.
    const first = this.base >>> 2;
    this.words.fill(TLB_INVALID_TAG, first, first + ((tlbFrames(this.entries) * PAGE_SIZE) >>> 2));
    this.filled = null;
    this.untracked = false;
  }

  /**
   * Invalidates every entry, writing only those filled when there were few (a short-lived process
   * fills a handful of its thousands), so that the frames can start the next process's TLB as
   * they are: a process never sees another's entries.
   */
  empty(): void {
    if (this.untracked) return this.flushAll();
    for (const entry of this.filled ?? []) {
      this.words[entry] = TLB_INVALID_TAG;
      this.words[entry + 2] = TLB_INVALID_TAG;
    }
    this.emptyVictims();
    this.filled = null;
  }

  /** Entry `entry` (a word index) copied to the next victim entry, round robin, and made invalid. */
  private displace(entry: number): void {
    const words = this.words;
    const to = this.victimWord + this.nextVictim * 4;
    this.nextVictim = (this.nextVictim + 1) % this.victims;
    words[to] = words[entry]!;
    words[to + 1] = words[entry + 1]!;
    words[to + 2] = words[entry + 2]!;
    words[to + 3] = words[entry + 3]!;
    words[entry] = TLB_INVALID_TAG;
    words[entry + 2] = TLB_INVALID_TAG;
  }

  private emptyVictims(): void {
    for (let at = this.victimWord, end = at + this.victims * 4; at < end; at += 2) this.words[at] = TLB_INVALID_TAG;
  }

  private tracked(entry: number): void {
    if (this.untracked) return;
    this.filled ??= [];
    if (this.filled.length === TRACKED_FILLS) {
      this.filled = null;
      this.untracked = true;
    } else this.filled.push(entry);
  }

  /**
   * Every valid half of every entry, the victims' after the table's: its page's address, the frame
   * it names, whether its tag says home, and its entry's index, `entries` and up for a victim
   * (for the invariant checker).
   */
  *validEntries(): IterableIterator<{ write: boolean; address: number; frame: number; home: boolean; entry: number }> {
    const words = this.words;
    for (let i = 0, at = this.base >>> 2; i < this.entries + this.victims; i++, at += 4) {
      for (let half = 0; half <= 2; half += 2) {
        const tag = words[at + half]!;
        if (tag === TLB_INVALID_TAG) continue;
        const address = tag & ~TLB_AWAY_BIT;
        yield { write: half === 2, address: address >>> 0, frame: ((address + words[at + half + 1]!) >>> 0) >>> PAGE_SHIFT, home: (tag & TLB_AWAY_BIT) === 0, entry: i };
      }
    }
  }

  private slot(write: boolean, address: number): number {
    return (this.base + ((address >>> TLB_INDEX_SHIFT) & this.mask) + (write ? TLB_WRITE_OFFSET : 0)) >>> 2;
  }
}
