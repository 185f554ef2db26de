import { CAP_MOVE, ObjectKind, Rights } from "../../kernel/caps/object-abi.ts";
import type { Process } from "../../kernel/process.ts";
import type { KernelServices } from "../../kernel/services.ts";

/** The Region grows to this many pages at most: one call moves up to 1 MiB of file data. */
export const TRANSFER_MAX_PAGES = 256;
const TRANSFER_FIRST_PAGES = 16;
const PAGE = 4096;

/**
 * The Region a process's file data travels in (docs/FS.md "Data moves by Region"): made in the
 * process's Memory the first time a call moves more than fits in message words, and grown once to
 * 1 MiB when a call wants more. Its owner capability goes to the server with each READ or WRITE
 * (moved) and comes back in the reply, at another slot of the process's table but mapped at the
 * same global address, so the personality copies bytes in and out there. A server that dies
 * holding it takes it along: the next call makes another.
 */
export class TransferRegion {
  private slotValue = 0;
  private addressValue = 0;
  private pages = 0;
  private readonly k: KernelServices;
  private readonly process: Process;
  private readonly memorySlot: number;

  constructor(k: KernelServices, process: Process, memorySlot: number) {
    this.k = k;
    this.process = process;
    this.memorySlot = memorySlot;
  }

  get address(): number {
    return this.addressValue;
  }

  /** Its bytes (0: none yet). */
  get capacity(): number {
    return this.slotValue === 0 ? 0 : this.pages * PAGE;
  }

  /** Makes sure the Region holds at least min(`bytes`, 1 MiB): the bytes it holds, or a (negative) status. */
  ensure(bytes: number): number {
    const wanted = Math.min(TRANSFER_MAX_PAGES, Math.max(1, Math.ceil(bytes / PAGE)));
    if (this.slotValue !== 0 && this.pages >= wanted) return this.capacity;
    const pages = wanted <= TRANSFER_FIRST_PAGES ? TRANSFER_FIRST_PAGES : TRANSFER_MAX_PAGES;
    const made = this.k.createRegionFor(this.process, this.memorySlot, pages);
    if (typeof made === "number") return made;
    this.drop();
    this.slotValue = made.slot;
    this.addressValue = made.address;
    this.pages = pages;
    return this.capacity;
  }

  /** The capability word that moves the Region with a call. */
  moved(): number {
    return this.slotValue | CAP_MOVE;
  }

  /**
   * After a call that moved the Region: it came back as the reply's first capability, or, when the
   * call failed, it stayed where it was or went with the message (a server that died).
   */
  settle(replyCaps: readonly number[] | null): void {
    if (replyCaps !== null && replyCaps.length > 0 && this.k.capabilityKind(this.process, replyCaps[0]!, Rights.REGION_OWNER) === ObjectKind.REGION) {
      this.slotValue = replyCaps[0]!;
      return;
    }
    if (this.k.capabilityKind(this.process, this.slotValue, Rights.REGION_OWNER) !== ObjectKind.REGION) this.slotValue = 0;
  }

  private drop(): void {
    if (this.slotValue !== 0) this.k.dropCapability(this.process, this.slotValue);
    this.slotValue = 0;
  }
}
