// When the page cache may grow, and when it must give memory back (docs/FS.md "The page cache").
// The file system is pinned (a page-in goes through it) and its cache lives in Regions, so the
// kernel can never evict a cache page: if the cache kept its pages while memory ran short, the
// kernel would page out other processes' pages to a pager that writes them through this very
// server. So the server watches the kernel, through a Kernel capability with no rights
// (`kernel-info` in the config: KERNEL_INFO and KERNEL_PAGING_INFO answer it):
// - it grows only while at least a quarter of the machine's frames are free;
// - when the kernel has evicted pages since the last look, or fewer than an eighth of the frames are
//   free (`short`), it gives back a quarter of its chunks (at least one), and does not grow again
//   for a second; the metadata cache gives back half its pages above a few (fs.ts relieve);
// - it looks at most every CHECK_NS while serving (the server asks every 16th call), and every
//   IDLE_CHECK_NS while idle with pages held (the receive's timeout), so memory another process
//   needs comes back within a fraction of a second even when nobody calls the server.
// The other bound is its own Memory's quota (PageCache.configure). Without the capability only the
// quota bounds it.
import { OP_KERNEL_INFO, OP_KERNEL_PAGING_INFO, msgBegin, msgInvoke, msgWord, now } from "../../lib";

/** How often, at most, the kernel is asked while the server is busy. */
const CHECK_NS: i64 = 20_000_000;
/** How long the cache waits after giving memory back before it may grow again. */
const HOLD_NS: i64 = 1_000_000_000;
/** How long an idle server with pages in its cache waits for a call before it looks. */
export const IDLE_CHECK_NS: u64 = 100_000_000;

export class CachePressure {
  /** Times the cache was told to shrink. */
  shrinks: u32 = 0;
  private lastCheck: i64 = 0;
  private holdUntil: i64 = 0;
  private evictions: u64 = 0;
  private frames: u32 = 0;
  private free: u32 = 0;

  /** `kernel`: a Kernel capability (any rights), or 0: none, and the quota alone bounds the cache. */
  constructor(readonly kernel: i32) {
    if (kernel != 0 && this.read()) this.evictions = this.lastEvictions;
  }

  get watching(): bool {
    return this.kernel != 0;
  }

  /** Whether the cache may take a chunk more now. */
  mayGrow(): bool {
    if (this.kernel == 0) return true;
    const t = now();
    if (t < this.holdUntil || !this.read()) return false;
    return this.free >= this.frames / 4;
  }

  /**
   * Whether the kernel is short of memory, looking at it if CHECK_NS has passed since the last look
   * (`force`: now): it evicted pages since the last look, or fewer than an eighth of the frames are
   * free. Saying so holds the cache's growth for HOLD_NS.
   */
  short(force: bool = false): bool {
    if (this.kernel == 0) return false;
    const t = now();
    if (!force && t - this.lastCheck < CHECK_NS) return false;
    this.lastCheck = t;
    if (!this.read()) return false;
    const evicted = this.lastEvictions != this.evictions;
    this.evictions = this.lastEvictions;
    if (!evicted && this.free >= this.frames / 8) return false;
    this.holdUntil = t + HOLD_NS;
    this.shrinks++;
    return true;
  }

  private lastEvictions: u64 = 0;

  // Reads the frames, free frames and evictions so far; false when the kernel does not answer.
  private read(): bool {
    msgBegin(OP_KERNEL_INFO);
    if (msgInvoke(this.kernel) < 0) return false;
    this.frames = msgWord(1);
    this.free = msgWord(2);
    msgBegin(OP_KERNEL_PAGING_INFO);
    if (msgInvoke(this.kernel) < 0) return false;
    this.lastEvictions = msgWord(0) != 0 ? <u64>msgWord(2) : 0;
    return true;
  }
}
