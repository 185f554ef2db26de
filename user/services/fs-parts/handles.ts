// The open-handle table, over a BadgeTable (user/lib/badge-table.ts). Each capability the server
// mints carries a badge naming one entry and the entry's generation: badge = generation << 11 |
// (index + 1). CLOSE frees the entry and bumps its generation, so the closed handle's
// capabilities (any copies included) answer FS_E_STALE and a new handle in the same entry gets a
// badge they do not have. An entry also remembers the inode's generation, so a handle to a
// directory that was removed goes stale too (a file unlinked while open lives on, an orphan,
// until its last handle closes: `holds` tells the server whether one still does). Badge 0 is the
// service capability (no entry). The table is bounded (FS_E_TABLE_FULL) and shared between
// sessions: every entry belongs to one (OPEN with FS_OPEN_SESSION starts one; a handle opened or
// attached through another belongs to that one's; session 0 is the published roots'). The server
// cannot see when a client drops a capability or dies, so when the table is full a session holding
// at least two entries fewer than the largest takes that one's entry used longest ago, fresh or
// not (no client can keep more than an even share of the table from a session that needs entries);
// failing that, the entry used longest ago is taken back if it has been idle for RECLAIM_IDLE_NS (or `handle-idle-ms=N`)
// and its session is the asker's or holds more entries: a dead client's handles do not hold the
// table for ever, and a live one's answer FS_E_STALE after such a wait (docs/FS.md "Sessions").
import { capDrop } from "../../lib";
import { BadgeTable } from "../../lib/badge-table";
import { ViewedRegions } from "./viewed-regions";

/** Half a process's capability table: a client can fill it without running out of slots itself. */
export const MAX_HANDLES: i32 = 512;
/**
 * The session of the published read-only root (the Cappage's slot 1, what init's `read=` gives)
 * and of everything opened through it: never a new session's number. A reader thus shares one
 * session with the other readers and cannot start sessions of its own (SESSION through a
 * session's handle stays in it), so it holds at most an even share of the table against each
 * session that needs entries; and none of its entries counts in session 0 (init's, the
 * all-rights root's), whose share it would otherwise shrink.
 */
export const READERS_SESSION: i32 = MAX_HANDLES;
/**
 * The session of the swap door (the Cappage's slot 2, what init's `swap=` gives the pager) and of
 * the /swap handles opened through it: its own, so that the pager keeps its share of the table
 * whatever the others hold, as the session it took through the all-rights root did.
 */
export const SWAP_SESSION: i32 = MAX_HANDLES + 1;
/** Session numbers: 0, the new sessions', the readers' and the swap door's. */
export const SESSIONS: i32 = MAX_HANDLES + 2;
/** A full table takes back the entry used longest ago once it has been idle this long: 10 s. */
export const RECLAIM_IDLE_NS: i64 = 10_000_000_000;

const inodeOf = new StaticArray<u32>(MAX_HANDLES);
const inodeGeneration = new StaticArray<u32>(MAX_HANDLES);
const rightsOf = new StaticArray<u32>(MAX_HANDLES);
const kindOf = new StaticArray<u32>(MAX_HANDLES);
/** Where the stream protocol (user/lib/streams.ts) reads and writes next through this handle. */
const positionOf = new StaticArray<u64>(MAX_HANDLES);
/** The first error a write through this handle met since the last SYNC on it (0: none). */
const writeErrorOf = new StaticArray<i32>(MAX_HANDLES);
/** Where the last READ through this handle ended, and how many blocks past a miss the next sequential one reads. */
const readEndOf = new StaticArray<u64>(MAX_HANDLES);
const aheadOf = new StaticArray<u32>(MAX_HANDLES);
/** Opened with FS_OPEN_DIRECT: its reads and writes go to the disk, leaving nothing new in the page cache. */
const directOf = new StaticArray<bool>(MAX_HANDLES);
/** The session each entry is charged to (0: the published roots' own). */
const sessionOf = new StaticArray<i32>(MAX_HANDLES);
/** Whether the entry started its session (OPEN with FS_OPEN_SESSION): CLOSE leaves it open, and it is taken back last of its session's. */
const sessionStartOf = new StaticArray<bool>(MAX_HANDLES);
/** Attached entries (FS_ATTACH) per session. */
const attachedCount = new StaticArray<i32>(SESSIONS);
/** Unpinned entries open per session: a session's number is free again once it holds none. */
const sessionCount = new StaticArray<i32>(SESSIONS);

/**
 * An attached handle's buffers (FS_ATTACH): the read buffer the server made (its owner, and where
 * it is mapped) and the client's buffer it was given (a view, or the owner); 0: none.
 */
const readRegionOf = new StaticArray<i32>(MAX_HANDLES);
const readAddressOf = new StaticArray<usize>(MAX_HANDLES);
const readBytesOf = new StaticArray<u32>(MAX_HANDLES);
const writeRegionOf = new StaticArray<i32>(MAX_HANDLES);
/** Where the client's buffer is mapped here and its bytes (REGION_INFO once, at ATTACH: a Region never moves). */
const writeAddressOf = new StaticArray<usize>(MAX_HANDLES);
const writeBytesOf = new StaticArray<u32>(MAX_HANDLES);
/** Whether the client's buffer came as a filler: reads may be written straight into it (REGION_FILL). */
const fillsOf = new StaticArray<bool>(MAX_HANDLES);

/** Read-ahead's first window (blocks) once a handle reads sequentially, and its largest (256 KiB). */
const AHEAD_FIRST: u32 = 4;
const AHEAD_MAX: u32 = 64;

/** Told when an entry closes or is taken back from a full table (file-maps.ts lets go of what it held). */
export interface HandleWatcher {
  closed(index: i32): void;
}

export class Handles {
  private readonly table: BadgeTable = new BadgeTable(MAX_HANDLES, RECLAIM_IDLE_NS);

  get used(): i32 {
    return this.table.used;
  }

  /** How long an entry must be idle before a full table takes it back (RECLAIM_IDLE_NS unless the server is told: `handle-idle-ms=N`). */
  set reclaimIdleNs(ns: i64) {
    this.table.reclaimIdleNs = ns;
  }
  /** Entries taken back from a full table. */
  get reclaimed(): u32 {
    return this.table.reclaimed;
  }

  /**
   * The inode of the entry the last `open` took back from a full table (0: none): if it is an
   * orphan that no other handle holds, the server frees it.
   */
  released: u32 = 0;
  /** Entries with buffers (FS_ATTACH). */
  attached: i32 = 0;
  /** The swap door's entry (-1: none published): it opens /swap and nothing else (docs/FS.md "Who gets the root"). */
  swapDoor: i32 = -1;
  watcher: HandleWatcher | null = null;
  /** Where read buffers are freed (counted against the session they were given to); none: dropped. */
  viewed: ViewedRegions | null = null;

  /**
   * A new entry charged to `session`: its index, or -1 when the table is full, no entry has been
   * idle long enough to take back and no session holds more than one entry more than `session`.
   */
  open(ino: u32, inodeGen: u32, kind: u32, rights: u32, direct: bool = false, session: i32 = 0): i32 {
    let i = this.table.take(false);
    let back = -1;
    if (i < 0) {
      const victim = this.victim(session);
      if (victim >= 0 && this.table.takeBack(victim)) {
        back = victim;
        i = this.table.take(false);
      }
    }
    this.released = back >= 0 ? unchecked(inodeOf[back]) : 0;
    if (back >= 0) this.detach(back);
    if (i < 0) return -1;
    unchecked((sessionOf[i] = session));
    unchecked((sessionStartOf[i] = false));
    unchecked((sessionCount[session] += 1));
    unchecked((inodeOf[i] = ino));
    unchecked((inodeGeneration[i] = inodeGen));
    unchecked((kindOf[i] = kind));
    unchecked((rightsOf[i] = rights));
    unchecked((positionOf[i] = 0));
    unchecked((writeErrorOf[i] = 0));
    unchecked((readEndOf[i] = 0));
    unchecked((aheadOf[i] = 0));
    unchecked((directOf[i] = direct));
    return i;
  }

  /** The session entry `index` is charged to. */
  session(index: i32): i32 {
    return unchecked(sessionOf[index]);
  }

  /** A session number no entry holds, for OPEN with FS_OPEN_SESSION (one is always free: sessions are fewer than entries). */
  newSession(): i32 {
    for (let s = 1; s < READERS_SESSION; s++) {
      if (unchecked(sessionCount[s]) != 0) continue;
      const buffers = this.viewed;
      if (buffers != null) buffers.forgetSession(s);
      return s;
    }
    return 0;
  }

  /**
   * Entry `index` starts its session: CLOSE answers E_INVALID_ARGUMENT on it, as on a published
   * root (a client hands copies of its session's root to others, who must not end it under it).
   * It goes when it is taken back, last of its session's entries.
   */
  markSessionStart(index: i32): void {
    unchecked((sessionStartOf[index] = true));
  }
  startsSession(index: i32): bool {
    return unchecked(sessionStartOf[index]);
  }

  /** Entries (unpinned) open in `session`. */
  sessionHolds(session: i32): i32 {
    return unchecked(sessionCount[session]);
  }

  // The entry a full table gives to `session` (-1: none). When the session holding the most holds
  // at least two more than `session` (so that two sessions never take one entry back and forth),
  // that one's entry used longest ago, idle or not: a session under its even share is never
  // refused, and never takes a smaller session's idle handle while a larger one holds more.
  // (A session's first entry is the last of it to go.)
  // Else the entry used longest ago among those idle RECLAIM_IDLE_NS in `session` or in a session
  // holding more entries: a dead client's handles go, but never to a larger session's profit.
  private victim(session: i32): i32 {
    const mine = unchecked(sessionCount[session]);
    let largest = 0;
    for (let s = 1; s < SESSIONS; s++) if (unchecked(sessionCount[s]) > unchecked(sessionCount[largest])) largest = s;
    const fromLargest = unchecked(sessionCount[largest]) >= mine + 2;
    let chosen = -1;
    for (let i = 0; i < MAX_HANDLES; i++) {
      if (!this.table.isOpen(i) || this.table.isPinned(i)) continue;
      const s = unchecked(sessionOf[i]);
      if (unchecked(sessionStartOf[i]) && unchecked(sessionCount[s]) > 1) continue;
      const eligible = fromLargest ? s == largest : (s == session || unchecked(sessionCount[s]) > mine) && this.table.idleNs(i) >= this.table.reclaimIdleNs;
      if (eligible && (chosen < 0 || this.table.lastUsedAt(i) < this.table.lastUsedAt(chosen))) chosen = i;
    }
    return chosen;
  }

  badge(index: i32): u32 {
    return this.table.badge(index);
  }
  lookup(badge: u32): i32 {
    return this.table.lookup(badge);
  }
  /** Frees entry `index` (and its buffers): false if it is pinned (a root the server published stays open). */
  close(index: i32): bool {
    if (!this.table.close(index)) return false;
    this.detach(index);
    return true;
  }

  /**
   * Gives entry `index` buffers: the read buffer's owner and address, the client's buffer (0: none)
   * with where it is mapped and its bytes.
   */
  attach(index: i32, readRegion: i32, readAddress: usize, readBytes: u32, writeRegion: i32, writeAddress: usize, writeBytes: u32, fills: bool): void {
    unchecked((fillsOf[index] = fills));
    unchecked((readRegionOf[index] = readRegion));
    unchecked((readAddressOf[index] = readAddress));
    unchecked((readBytesOf[index] = readBytes));
    unchecked((writeRegionOf[index] = writeRegion));
    unchecked((writeAddressOf[index] = writeAddress));
    unchecked((writeBytesOf[index] = writeBytes));
    this.attached++;
    unchecked((attachedCount[unchecked(sessionOf[index])] += 1));
  }

  /**
   * The attached entry to take back when all FS_ATTACH_MAX are and `session` asks for one (-1:
   * none), as `victim` chooses in the whole table: the one used longest ago of the session holding
   * the most attached, if it holds two more than `session`; else the one used longest ago among
   * those idle RECLAIM_IDLE_NS in `session` or in a session holding more (a client that died with
   * an attached handle does not keep its buffers for good).
   */
  attachedVictim(session: i32): i32 {
    const mine = unchecked(attachedCount[session]);
    let largest = 0;
    for (let s = 1; s < SESSIONS; s++) if (unchecked(attachedCount[s]) > unchecked(attachedCount[largest])) largest = s;
    const fromLargest = unchecked(attachedCount[largest]) >= mine + 2;
    let chosen = -1;
    for (let i = 0; i < MAX_HANDLES; i++) {
      if (unchecked(readRegionOf[i]) == 0 || !this.table.isOpen(i)) continue;
      const s = unchecked(sessionOf[i]);
      const eligible = fromLargest ? s == largest : (s == session || unchecked(attachedCount[s]) > mine) && this.table.idleNs(i) >= this.table.reclaimIdleNs;
      if (eligible && (chosen < 0 || this.table.lastUsedAt(i) < this.table.lastUsedAt(chosen))) chosen = i;
    }
    return chosen;
  }

  /** Where entry `index`'s read buffer is mapped (0: not attached). */
  readBuffer(index: i32): usize {
    return unchecked(readAddressOf[index]);
  }

  /** The size of entry `index`'s read buffer. */
  readBytes(index: i32): u32 {
    return unchecked(readBytesOf[index]);
  }

  /** The client's buffer entry `index` was given (0: none). */
  writeBuffer(index: i32): i32 {
    return unchecked(writeRegionOf[index]);
  }

  /** Where the client's buffer of entry `index` is mapped, and its bytes. */
  writeAddress(index: i32): usize {
    return unchecked(writeAddressOf[index]);
  }
  writeBytes(index: i32): u32 {
    return unchecked(writeBytesOf[index]);
  }

  /** Whether entry `index`'s client buffer is a filler (reads may land in it through the kernel). */
  fills(index: i32): bool {
    return unchecked(fillsOf[index]);
  }

  // An entry goes: its session holds one fewer, and its buffers are dropped (the read buffer is
  // freed, the client's view reads zeros; the client's buffer's capability goes back to nobody).
  private detach(index: i32): void {
    unchecked((sessionCount[unchecked(sessionOf[index])] -= 1));
    const watcher = this.watcher;
    const buffers = this.viewed;
    // A map this entry was the last to hold is freed now: what its views keep charged is this session's.
    if (buffers != null) buffers.closing = unchecked(sessionOf[index]);
    if (watcher != null) watcher.closed(index);
    if (buffers != null) buffers.closing = -1;
    if (unchecked(readRegionOf[index]) == 0 && unchecked(writeRegionOf[index]) == 0) return;
    const read = unchecked(readRegionOf[index]);
    if (read != 0 && buffers != null) buffers.release(read, unchecked(readBytesOf[index]) >> 12, unchecked(sessionOf[index]));
    else if (read != 0) capDrop(read);
    if (unchecked(writeRegionOf[index]) != 0) capDrop(unchecked(writeRegionOf[index]));
    unchecked((readRegionOf[index] = 0));
    unchecked((readAddressOf[index] = 0));
    unchecked((writeRegionOf[index] = 0));
    unchecked((writeAddressOf[index] = 0));
    unchecked((writeBytesOf[index] = 0));
    unchecked((fillsOf[index] = false));
    this.attached--;
    unchecked((attachedCount[unchecked(sessionOf[index])] -= 1));
  }
  pin(index: i32): void {
    this.table.pin(index);
    unchecked((sessionCount[unchecked(sessionOf[index])] -= 1)); // a published root is no session's to count
  }

  /** Whether an open entry (other than `except`) holds inode `ino`. */
  holds(ino: u32, except: i32 = -1): bool {
    for (let i = 0; i < MAX_HANDLES; i++) {
      if (i != except && unchecked(inodeOf[i]) == ino && this.table.isOpen(i)) return true;
    }
    return false;
  }

  inode(index: i32): u32 {
    return unchecked(inodeOf[index]);
  }
  inodeGeneration(index: i32): u32 {
    return unchecked(inodeGeneration[index]);
  }
  kind(index: i32): u32 {
    return unchecked(kindOf[index]);
  }
  rights(index: i32): u32 {
    return unchecked(rightsOf[index]);
  }
  position(index: i32): u64 {
    return unchecked(positionOf[index]);
  }
  setPosition(index: i32, position: u64): void {
    unchecked((positionOf[index] = position));
  }
  direct(index: i32): bool {
    return unchecked(directOf[index]);
  }

  /**
   * A READ of `length` bytes at `offset` through `index`: how many blocks past it a miss should
   * read too. A read that starts where the handle's last one ended (or at 0, the first) is
   * sequential, and the window doubles from AHEAD_FIRST to AHEAD_MAX; any other read closes it.
   */
  readAhead(index: i32, offset: u64, length: u32): u32 {
    let ahead: u32 = 0;
    if (offset == unchecked(readEndOf[index])) ahead = min(AHEAD_MAX, max(AHEAD_FIRST, unchecked(aheadOf[index]) << 1));
    unchecked((aheadOf[index] = ahead));
    unchecked((readEndOf[index] = offset + <u64>length));
    return ahead;
  }

  /** A write through `index` failed with `status`: kept, unless an earlier failure is. */
  noteWriteError(index: i32, status: i32): void {
    if (status < 0 && unchecked(writeErrorOf[index]) == 0) unchecked((writeErrorOf[index] = status));
  }
  /** The failure kept on `index` (0: none), forgotten now. */
  takeWriteError(index: i32): i32 {
    const status = unchecked(writeErrorOf[index]);
    unchecked((writeErrorOf[index] = 0));
    return status;
  }
}
