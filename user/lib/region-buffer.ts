// A client's data buffer for servers that move data in a Region (the block driver, the file
// system): a Region of `pages` pages made in `memory`, owned here and mapped read-write at
// `address`, and a read-only view of it to send with writes. A read moves the owner to the server
// and back; a server that dies with it took the buffer, so `ensure` makes a new one (at a new
// address, counted in `replaced`). Allocates only when it makes a buffer.
import { KIND_REGION, OP_REGION_INFO } from "./abi";
import { E_BAD_MESSAGE, E_INVALID_ARGUMENT, E_QUOTA } from "./errors";
import { msgBegin, msgInvoke, msgWord } from "./message";
import { capKind, capDrop } from "./caps/capability";
import { Memory } from "./caps/memory";
import { Region } from "./caps/region";

export class RegionBuffer {
  /** The owner capability and a view of it (0: none yet). */
  region: i32 = 0;
  view: i32 = 0;
  /** Where the buffer is mapped here; it changes when a lost buffer is replaced. */
  address: usize = 0;
  /** Buffers lost with a server and replaced. */
  replaced: i32 = 0;

  constructor(readonly memory: i32, readonly pages: u32) {}

  get bytes(): u32 {
    return this.pages << 12;
  }

  /** Makes sure there is a buffer owned here (a new one if it was lost): 0 or a status. */
  ensure(): i32 {
    if (this.region != 0) {
      const owned = ownership(this.region);
      // E_QUOTA: still ours, but not mapped here in full now (no page table): using it would fault.
      if (owned == 1 || owned == E_QUOTA) return owned == 1 ? 0 : E_QUOTA;
    }
    if (this.view != 0) capDrop(this.view);
    this.view = 0;
    if (this.region != 0) this.replaced++;
    this.region = 0;
    this.address = 0;
    if (this.pages == 0) return E_INVALID_ARGUMENT;
    const region = new Memory(this.memory).createRegion(this.pages);
    if (region < 0) return region;
    const info = new Region(region).info(); // allocates; only when a buffer is made
    if (info.status < 0) {
      capDrop(region); // not mapped here: never kept at address 0
      return info.status;
    }
    this.region = region;
    this.address = <usize>info.address;
    return 0;
  }

  /**
   * The hot path's `ensure`: trusts the slot the last call left (callers set `region` to 0 when
   * a call lost it), asking the kernel only when there is none. 0 or a status.
   */
  @inline ready(): i32 {
    return this.region != 0 ? 0 : this.ensure();
  }

  /** The hot path's `ensureView`, trusting the slots as `ready` does. */
  @inline readyView(): i32 {
    return this.region != 0 && this.view != 0 ? 0 : this.ensureView();
  }

  /**
   * Takes back `cap`, the owner capability a server returned after a call that moved it there:
   * kept (0) when it is this buffer's Region, owned here, at `address`, of `pages`; else dropped and
   * E_BAD_MESSAGE (a hostile or confused server: copying from `address` would fault), and `ensure`
   * makes a new buffer. One REGION_INFO.
   */
  takeBack(cap: i32): i32 {
    msgBegin(OP_REGION_INFO);
    if (msgInvoke(cap) >= 0 && msgWord(3) != 0 && <usize>msgWord(0) == this.address && msgWord(1) == this.pages) {
      this.region = cap;
      return 0;
    }
    capDrop(cap);
    this.region = 0;
    return E_BAD_MESSAGE;
  }

  /** Makes sure there is a buffer, and a view of it to send: 0 or a status. */
  ensureView(): i32 {
    const buffer = this.ensure();
    if (buffer < 0) return buffer;
    if (this.view != 0 && capKind(this.view) == <i32>KIND_REGION) return 0;
    const view = new Region(this.region).view();
    if (view < 0) return view;
    this.view = view;
    return 0;
  }
}

/**
 * 1 when `cap` is a Region this process owns (REGION_INFO's owner word), 0 when it is not (lost
 * with a server, or another object), E_QUOTA when it is mapped here only in part; without allocating.
 */
function ownership(cap: i32): i32 {
  msgBegin(OP_REGION_INFO);
  const status = msgInvoke(cap);
  if (status == E_QUOTA) return E_QUOTA;
  return status >= 0 && msgWord(3) != 0 ? 1 : 0;
}
