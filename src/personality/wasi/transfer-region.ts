import { CAP_MOVE, ObjectKind, Rights } from "../../kernel/caps/object-abi.ts";
import type { Process } from "../../kernel/process.ts";
import type { KernelServices } from "../../kernel/services.ts";

/** The largest Region, in pages: one call moves up to 1 MiB of file data. */
export const TRANSFER_MAX_PAGES = 256;
/**
 * The sizes Regions come in. A Region moves to the server and back with every call, mapped and
 * unmapped whole each way, so a call uses the smallest that holds what it moves: a 4 KiB read
 * moves one page, not 256.
 */
const SIZES = [1, 16, TRANSFER_MAX_PAGES] as const;
/** The attached handles' write buffer: writes up to 64 KiB move no Region (larger ones do, once a MiB). */
const ATTACH_PAGES = 16;
const PAGE = 4096;

interface Held {
  slot: number;
  address: number;
}

/**
 * The Regions a process's file data travels in (docs/FS.md "Data moves by Region"): made in the
 * process's Memory the first time a call moves more than fits in message words, one of each size
 * as calls need them. The owner capability of the one in use goes to the server with each READ
 * or WRITE (moved) and comes back in the reply, at another slot of the process's table but mapped
 * at the same global address, so the personality copies bytes in and out there. A server that
 * dies holding one takes it along: the next call makes another. A server may keep a view of a
 * Region it held, so each preopen's handles have a TransferRegion of their own (FileServerClient).
 */
export class TransferRegion {
  private readonly held: (Held | null)[] = SIZES.map(() => null);
  /** The one `ensure` chose, which `moved` and `settle` act on. */
  private current = 0;
  private readonly k: KernelServices;
  private readonly process: Process;
  private readonly memorySlot: number;

  constructor(k: KernelServices, process: Process, memorySlot: number) {
    this.k = k;
    this.process = process;
    this.memorySlot = memorySlot;
  }

  /** A Region of ATTACH_PAGES that never moves, a view of which an attached file handle keeps (made once; null until then). */
  private lent: Held | null = null;

  get address(): number {
    return this.held[this.current]?.address ?? 0;
  }

  /**
   * The buffer attached file handles write from (docs/FS.md "Attached handles"): a Region of
   * ATTACH_PAGES this process owns and never moves, whose views the file servers keep; made at the
   * first use. Null when the process's Memory cannot pay for it (writes then move Regions).
   */
  attachBuffer(): { slot: number; address: number; bytes: number } | null {
    if (this.lent === null) {
      const made = this.k.createRegionFor(this.process, this.memorySlot, ATTACH_PAGES);
      if (typeof made === "number") return null;
      this.lent = { slot: made.slot, address: made.address };
    }
    return { ...this.lent, bytes: ATTACH_PAGES * PAGE };
  }

  /** Picks the smallest Region that holds min(`bytes`, 1 MiB), made if it must be: the bytes it holds, or a (negative) status. */
  ensure(bytes: number): number {
    const wanted = Math.min(TRANSFER_MAX_PAGES, Math.max(1, Math.ceil(bytes / PAGE)));
    const size = SIZES.findIndex((pages) => pages >= wanted);
    this.current = size;
    if (this.held[size] === null) {
      const made = this.k.createRegionFor(this.process, this.memorySlot, SIZES[size]!);
      if (typeof made === "number") return made;
      this.held[size] = { slot: made.slot, address: made.address };
    }
    return SIZES[size]! * PAGE;
  }

  /** The capability word that moves the current Region with a call. */
  moved(): number {
    return this.held[this.current]!.slot | CAP_MOVE;
  }

  /**
   * After a call that moved the current Region: it came back among the reply's capabilities (the
   * first that is a Region this process owns; which slot it got is returned so a caller can tell
   * it from the others), or, when the call failed, it stayed where it was or went with the message
   * (a server that died).
   */
  settle(replyCaps: readonly number[] | null): number {
    const held = this.held[this.current]!;
    const back = (replyCaps ?? []).find((cap) => this.k.capabilityKind(this.process, cap, Rights.REGION_OWNER) === ObjectKind.REGION);
    if (back !== undefined) {
      // Only this very Region (owned here, at its address, of its size) is taken back: a server
      // that kept it and gave back one of its own would have the personality copy from a range
      // the process no longer has, and make it a new one at each call (redteam8).
      const region = this.k.regionAt(this.process, back);
      if (typeof region !== "number" && region.owned && region.address === held.address && region.pages === SIZES[this.current]) {
        held.slot = back;
        return back;
      }
      this.k.dropCapability(this.process, back);
      this.held[this.current] = null;
      return 0;
    }
    if (this.k.capabilityKind(this.process, held.slot, Rights.REGION_OWNER) !== ObjectKind.REGION) this.held[this.current] = null;
    return 0;
  }
}
