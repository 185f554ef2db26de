// Where attached handles' read buffers are made (docs/FS.md "Attached handles"): a Memory of
// their own under the server's, whose quota is half the server's. A client gets a view of each;
// when the server frees one (CLOSE, a handle taken back) and a client that cannot pay for the
// range keeps its view, the kernel makes the buffer's Memory pay 1/16 of it until that view goes
// (docs/ABI.md, Regions). Made in the server's own Memory, a client with a full quota that
// attached and closed in a loop, keeping the views, wore the server's quota down until its page
// cache held nothing and every ATTACH answered E_QUOTA (redteam, Medium). Here what read buffers
// and the ranges kept for them cost together is bounded: the page cache, the metadata and the
// journal keep the other half, whatever clients do with their views.
import { E_QUOTA, Memory, REGION_ZERO_ON_FREE } from "../../lib";
import { PageCache } from "./page-cache";

export class ReadBuffers {
  private memory: i32 = 0;

  constructor(private readonly serverMemory: i32) {}

  /**
   * A new read buffer of `pages` (its owner capability), or a status: E_QUOTA when read buffers
   * and the ranges kept for them hold their half already. When the server's own quota is what is
   * short, the page cache gives up chunks for it, for good (its limit comes down by chunks).
   */
  create(pages: u32, cache: PageCache): i32 {
    if (this.memory == 0) {
      const server = new Memory(this.serverMemory).info();
      if (server.status < 0) return server.status;
      const made = new Memory(this.serverMemory).createMemory(server.quota >> 1);
      if (made < 0) return made;
      this.memory = made;
    }
    const mine = new Memory(this.memory);
    const info = mine.info();
    if (info.status < 0) return info.status;
    if (info.quota - min(info.used, info.quota) < pages) return E_QUOTA; // its own half: the page cache would give up chunks for nothing
    let region = mine.createRegion(pages, REGION_ZERO_ON_FREE);
    while (region == E_QUOTA && cache.giveUpChunk()) region = mine.createRegion(pages, REGION_ZERO_ON_FREE);
    return region;
  }
}
