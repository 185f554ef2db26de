/**
 * Open host directories read a piece at a time, for the host share's and the host folder's
 * `LIST` (docs/DEVICES.md). A listing used to re-read, look at and sort the whole host directory
 * at every request, whatever its position or buffer: a program listing a directory of 50,000
 * entries one at a time made the host do 50,000 × 50,000 entries' work, the machine's one thread
 * held meanwhile. Now a request does at most READS_PER_REQUEST entries of the host's work:
 *
 * - A cursor is an open host directory stream (a backend's `DirectoryStream`) and the position of
 *   the next entry it gives. Positions count the stream's entries in the host's own order from 0
 *   (sorting needs the whole directory), except in a directory of at most READS_PER_REQUEST
 *   entries, read whole at once and sorted by name (`start`).
 * - Position 0 opens a fresh stream (rewinddir): what the directory holds now.
 * - A request gives the entries from its position up to the next multiple of READS_PER_REQUEST
 *   (as many as its buffer holds): the same batch whichever cursor serves it (`serve`).
 * - A cursor keeps the last WINDOW entries it read, so a request that goes back a little (a driver
 *   asking again from the start of its last batch, whose end did not fit its caller) is answered
 *   from them without reading the host again.
 * - A position past what a cursor has read is reached by reading and dropping entries, at most
 *   READS_PER_REQUEST a request: one whose batch is not reached yet answers "again" (the driver
 *   sends the same request again, and other processes run in between). So is one before a
 *   cursor's window (a new stream, read from its start), after its cursor was taken back.
 * - At most MAX_CURSORS are open (each holds a host directory), shared by every program. A cursor
 *   that answered "again" is kept for the request sent again (it is `seeking`) while that comes
 *   within SEEK_KEPT requests: else programs listing more big directories at once than there are
 *   cursors each pushed out the cursor of another between its requests, every far position
 *   started over each time and no listing ever finished. When every cursor is so kept, a new one
 *   is not opened for a far position (the request answers "again" at no host cost and waits its
 *   turn), and one for the directory's first batch reads it from a stream closed at once.
 *   Otherwise the cursor used longest ago goes.
 *
 * A stream reflects the host directory as the host's readdir does: a name added or removed after
 * the stream was opened may or may not show; a position counts entries of that stream. A cursor
 * that must be opened again (taken back, or a position before its window) counts the
 * directory's entries as they are then, so if the directory changed, entries may be skipped or
 * given twice (as POSIX says of seekdir across changes).
 */

import type { Completion } from "./queue-device.ts";
import { RequestStatus } from "./request-status.ts";

/** An answer at once (a synchronous host) or later. */
export type Answer<T> = T | Promise<T>;

/** An open host directory. */
export interface DirectoryStream<E> {
  /** Up to `most` of the next entries (at least one unless the directory has no more: none at its end). */
  read(most: number): Answer<E[]>;
  close(): void;
}

/** Host entries one request reads (given or dropped) at most. */
export const READS_PER_REQUEST = 512;
/** Entries a cursor keeps of what it read last (twice what a request reads: see `serve`). */
const WINDOW = 2 * READS_PER_REQUEST;
/** Host directories a device keeps open at most. */
export const MAX_CURSORS = 8;
/**
 * Requests (of any directory) within which a seeking cursor must be asked again to stay kept:
 * room for every cursor's program to send again, several times over, and finite, so a program
 * that sends no more does not hold a cursor.
 */
const SEEK_KEPT = 4 * MAX_CURSORS;

interface Cursor<E> {
  readonly key: string;
  stream: DirectoryStream<E>;
  /** The position of the stream's next entry. */
  position: number;
  /** The last entries read, `kept[0]` at `keptFrom`; they end at `position`. */
  kept: E[];
  keptFrom: number;
  ended: boolean;
  used: number;
  /** Its last answer was "again": kept for the request sent again (see SEEK_KEPT). */
  seeking: boolean;
}

/** What a request gets: done (the entries given, and whether the directory ends after them), or "again". */
export type Listed = { readonly again: false; readonly end: boolean } | { readonly again: true };

export class DirectoryCursors<E extends { readonly name: string }> {
  private readonly cursors: Cursor<E>[] = [];
  private clock = 0;

  /**
   * Gives `take` the entries of directory `key` from `position` on, until it answers false (the
   * entry does not fit: it is given again next time) or this request's share of the host's work
   * is done. `open` opens the directory anew when no cursor can serve.
   */
  list(key: string, position: number, open: () => Answer<DirectoryStream<E>>, take: (entry: E) => boolean): Answer<Listed> {
    this.clock++;
    const found = position === 0 ? undefined : this.pick(key, position);
    if (found) return this.serve(found, position, READS_PER_REQUEST, take);
    const room = this.room();
    // Every cursor kept for a program's next request: a far position, which needs a kept cursor,
    // waits (no host work); the first batch needs none.
    if (room === null && position >= READS_PER_REQUEST) return { again: true };
    return then(open(), (stream) => {
      const cursor = this.add(key, stream, room);
      const served = then(this.start(cursor), (spent) => this.serve(cursor, position, READS_PER_REQUEST - spent, take));
      return then(served, (listed) => {
        if (!this.cursors.includes(cursor)) closeQuietly(stream);
        return listed;
      });
    });
  }

  /**
   * A new cursor's first piece, before any of it is given: a directory found whole in it (at most
   * READS_PER_REQUEST entries) is sorted by name, code point order, as the device always listed
   * (its positions are then those of the sorted list, the same each time it is opened while it
   * does not change); a bigger one comes in the host's order. The entries read.
   */
  private start(cursor: Cursor<E>): Answer<number> {
    return then(cursor.stream.read(READS_PER_REQUEST), (first) => {
      this.grow(cursor, first);
      if (first.length === 0 || first.length >= READS_PER_REQUEST) return first.length;
      return then(cursor.stream.read(1), (more) => {
        this.grow(cursor, more);
        if (cursor.ended) cursor.kept.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
        return first.length + more.length;
      });
    });
  }

  /** Closes every stream (the device was reset). */
  closeAll(): void {
    for (const cursor of this.cursors.splice(0)) closeQuietly(cursor.stream);
  }

  /**
   * A cursor of `key` that reaches `position` without opening anew: one whose window holds it,
   * else the nearest before it; of those, the one opened last. A listing's positions count the
   * stream its position 0 opened (or a later one): an older stream of the directory as it was
   * before a change counts other entries, and served a listing that began after the change with
   * entries skipped or given twice though none changed during it.
   */
  private pick(key: string, position: number): Cursor<E> | undefined {
    let best: Cursor<E> | undefined;
    // Cursors are in the order they were opened: the last first.
    for (let i = this.cursors.length - 1; i >= 0; i--) {
      const cursor = this.cursors[i]!;
      if (cursor.key !== key || cursor.keptFrom > position) continue;
      if (position <= cursor.position) return cursor;
      if (!best || cursor.position > best.position) best = cursor;
    }
    return best;
  }

  /**
   * Where a new cursor may go: -1 for a free place, the index of the cursor it pushes out (the one
   * used longest ago of those not kept for a seeking program), or null when there is none.
   */
  private room(): number | null {
    if (this.cursors.length < MAX_CURSORS) return -1;
    let oldest: number | null = null;
    for (let i = 0; i < this.cursors.length; i++) {
      const cursor = this.cursors[i]!;
      if (cursor.seeking && this.clock - cursor.used <= SEEK_KEPT) continue;
      if (oldest === null || cursor.used < this.cursors[oldest]!.used) oldest = i;
    }
    return oldest;
  }

  /** A cursor for `stream`, in `room` (see `room`; null: one that is not kept, its stream closed after the request). */
  private add(key: string, stream: DirectoryStream<E>, room: number | null): Cursor<E> {
    const cursor: Cursor<E> = { key, stream, position: 0, kept: [], keptFrom: 0, ended: false, used: 0, seeking: false };
    if (room === null) return cursor;
    // The list may have changed while the stream opened (an asynchronous host): look again.
    const place = this.room();
    if (place !== null && place >= 0) closeQuietly(this.cursors.splice(place, 1)[0]!.stream);
    else if (place === null) {
      // Every place taken by a seeking program meanwhile: this one is not kept.
      return cursor;
    }
    this.cursors.push(cursor);
    return cursor;
  }

  /**
   * The entries from `from` up to the next multiple of READS_PER_REQUEST (or the end), as many as
   * `take` accepts: the stream is read up to there first (at most `budget` entries: else "again",
   * nothing given), then the window gives them. So a request's answer depends on its position
   * and buffer only, never on which cursor served it or how far that one had read: a driver that
   * asks again from the start of a batch gets the same batch (the WASI personality counts on it:
   * its cookies are a batch's start and a place in it). The window holds every entry from `from`
   * on: a request reads at most READS_PER_REQUEST entries, and the window keeps twice that.
   */
  private serve(cursor: Cursor<E>, from: number, budget: number, take: (entry: E) => boolean): Answer<Listed> {
    cursor.used = this.clock;
    cursor.seeking = false;
    const limit = from - (from % READS_PER_REQUEST) + READS_PER_REQUEST;
    while (!cursor.ended && cursor.position < limit) {
      if (budget <= 0) {
        cursor.seeking = true;
        return { again: true };
      }
      const read = cursor.stream.read(Math.min(budget, limit - cursor.position));
      if (read instanceof Promise) {
        return read.then((entries) => this.serve(cursor, from, budget - this.grow(cursor, entries), take));
      }
      budget -= this.grow(cursor, read);
    }
    let at = from;
    for (const last = Math.min(limit, cursor.position); at < last; at++) {
      const entry = cursor.kept[at - cursor.keptFrom];
      if (entry === undefined || !take(entry)) return { again: false, end: false };
    }
    return { again: false, end: cursor.ended && at >= cursor.position };
  }

  /** Adds what the stream gave to the window (its end when nothing). */
  private grow(cursor: Cursor<E>, entries: E[]): number {
    if (entries.length === 0) {
      cursor.ended = true;
      return 0;
    }
    cursor.kept.push(...entries);
    cursor.position += entries.length;
    const over = cursor.kept.length - WINDOW;
    if (over > 0) {
      cursor.kept.splice(0, over);
      cursor.keptFrom += over;
    }
    return entries.length;
  }
}

/** LIST's completion: the records, whether the directory ends after them; E_BUFFER when not even one fits. */
export function listCompletion<E>(listed: Listed, records: ListedRecords<E>, buffer: number): Completion {
  if (listed.again) return { status: RequestStatus.E_AGAIN };
  if (records.count === 0 && !listed.end) return { status: RequestStatus.E_BUFFER };
  const data = records.bytes();
  return { status: RequestStatus.OK, length: data.length, extra: listed.end ? 1 : 0, output: { offset: buffer, data } };
}

/** A LIST's records, as many whole ones as `room` bytes hold. */
export class ListedRecords<E> {
  private readonly parts: Uint8Array[] = [];
  private used = 0;
  private readonly room: number;
  private readonly encode: (entry: E) => Uint8Array;
  count = 0;

  constructor(room: number, encode: (entry: E) => Uint8Array) {
    this.room = room;
    this.encode = encode;
  }

  /** Adds `entry`'s record: false when it does not fit. */
  add(entry: E): boolean {
    const record = this.encode(entry);
    if (this.used + record.length > this.room) return false;
    this.parts.push(record);
    this.used += record.length;
    this.count++;
    return true;
  }

  bytes(): Uint8Array {
    const out = new Uint8Array(this.used);
    let at = 0;
    for (const part of this.parts) {
      out.set(part, at);
      at += part.length;
    }
    return out;
  }
}

function then<T, U>(answer: Answer<T>, f: (value: T) => Answer<U>): Answer<U> {
  return answer instanceof Promise ? answer.then(f) : f(answer);
}

function closeQuietly<E>(stream: DirectoryStream<E>): void {
  try {
    stream.close();
  } catch {
    // Closed with the host.
  }
}
