// The Regions the server makes for clients to view. Attached handles' read buffers (docs/FS.md
// "Attached handles") are made in a Memory of their own under the server's, whose quota is half
// the server's; file maps (file-maps.ts) are freed through here too. A client gets a view of each;
// when the server frees one (CLOSE, a handle taken back) and a client that cannot pay for the
// range keeps its view, the kernel makes the buffer's Memory pay 1/16 of it until that view goes
// (docs/ABI.md, Regions). Made in the server's own Memory, a client with a full quota that
// attached and closed in a loop, keeping the views, wore the server's quota down until its page
// cache held nothing and every ATTACH answered E_QUOTA (redteam, Medium). Here what read buffers
// and the ranges kept for them cost together is bounded: the page cache, the metadata and the
// journal keep the other half, whatever clients do with their views. And each session (handles.ts)
// is told apart: what freeing its read buffers — and the file maps its handles were the last to
// hold (file-maps.ts, in the server's own Memory) — left charged is counted, and a session that
// left 1/8 of the half so is refused more of either (E_QUOTA), so that one client alone cannot
// spend the half other sessions attach from, nor the server's own Memory by maps; many sessions of
// one client still can (docs/FS.md).
import { E_QUOTA, Memory, REGION_ZERO_ON_FREE, capDrop } from "../../lib";
import { PageCache } from "./page-cache";

/** The part of the read buffers' half one session may leave charged by keeping views: 1/8. */
const LEAK_SHARE_SHIFT: u32 = 3;

export class ViewedRegions {
  private memory: i32 = 0;
  private quota: u32 = 0;
  /** Pages that freeing each session's read buffers left charged (its views of them live on). */
  private readonly leakedBy: StaticArray<u32>;

  /** The session whose handle is being closed now (handles.ts sets it around a close; -1: none). */
  closing: i32 = -1;

  /** `sessions`: how many session numbers there are (handles.ts). */
  constructor(private readonly serverMemory: i32, sessions: i32) {
    this.leakedBy = new StaticArray<u32>(sessions);
    const server = new Memory(serverMemory).info();
    if (server.status >= 0) this.quota = server.quota >> 1;
  }

  /** Whether `session`'s kept views hold its share already: it gets no more read buffers or file maps. */
  refuses(session: i32): bool {
    return session >= 0 && unchecked(this.leakedBy[session]) >= this.quota >> LEAK_SHARE_SHIFT;
  }

  /**
   * A new read buffer of `pages` (its owner capability), or a status: E_QUOTA when read buffers
   * and the ranges kept for them hold their half already. When the server's own quota is what is
   * short, the page cache gives up chunks for it, for good (its limit comes down by chunks).
   */
  create(pages: u32, cache: PageCache, session: i32): i32 {
    if (this.memory == 0) {
      const made = new Memory(this.serverMemory).createMemory(this.quota);
      if (made < 0) return made;
      this.memory = made;
    }
    if (this.refuses(session)) return E_QUOTA; // its views hold its share
    const mine = new Memory(this.memory);
    const info = mine.info();
    if (info.status < 0) return info.status;
    if (info.quota - min(info.used, info.quota) < pages) return E_QUOTA; // its own half: the page cache would give up chunks for nothing
    let region = mine.createRegion(pages, REGION_ZERO_ON_FREE);
    while (region == E_QUOTA && cache.giveUpChunk()) region = mine.createRegion(pages, REGION_ZERO_ON_FREE);
    return region;
  }

  /**
   * Frees read buffer `region` (its owner capability) of `pages`, which `session` was given: what
   * the kernel keeps charged for the range (a view held by a process that cannot pay) counts
   * against that session.
   */
  release(region: i32, pages: u32, session: i32): void {
    this.releaseIn(this.memory, region, pages, session);
  }

  /**
   * Frees `region` of `pages`, a Region of Memory `memory` that clients view (a file map, in the
   * server's own Memory: file-maps.ts), counting what stays charged against `session` (-1: none).
   */
  releaseIn(memory: i32, region: i32, pages: u32, session: i32): void {
    if (session < 0) {
      capDrop(region);
      return;
    }
    const before = new Memory(memory).info();
    capDrop(region);
    const after = new Memory(memory).info();
    if (before.status < 0 || after.status < 0 || before.used < after.used) return;
    const given = before.used - after.used;
    if (given < pages) unchecked((this.leakedBy[session] += pages - given));
  }

  /** A new session has number `session`: nothing counts against it. */
  forgetSession(session: i32): void {
    unchecked((this.leakedBy[session] = 0));
  }
}
