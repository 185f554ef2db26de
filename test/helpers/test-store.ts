import type { BackingStore, StoreSlot } from "../../src/kernel/paging.ts";

/**
 * "once": drops the first read of each version of a page unanswered, then answers honestly.
 * "busy": fails the first write of each page (a pager whose queue was full, or that ended).
 */
export type Malice = "none" | "flip" | "swap" | "replay" | "lose" | "once" | "busy";

/** A pager's store in the host: honest, or one of the ways a pager can lie. */
export class TestStore implements BackingStore {
  /** Every ciphertext written for each page ("space:page"), oldest first. */
  readonly pages = new Map<string, Uint8Array[]>();
  writes = 0;
  reads = 0;
  private readonly malice: Malice;
  private readonly liesAbout: (at: StoreSlot) => boolean;
  /** Slots one read takes (the kernel asks for neighbours with a page when above 1). */
  readonly batch: number;
  /** Reads that asked for more than one slot, and the slots they asked for in all. */
  batchedReads = 0;
  slotsRead = 0;
  /**
   * `liesAbout`: the pages it is malicious with (all by default); it answers the rest honestly.
   * `batch`: the slots a read may ask for.
   */
  constructor(malice: Malice = "none", liesAbout: (at: StoreSlot) => boolean = () => true, batch = 1) {
    this.malice = malice;
    this.liesAbout = liesAbout;
    this.batch = batch;
  }

  async write(at: StoreSlot, ciphertext: Uint8Array): Promise<void> {
    this.writes++;
    const k = `${at.space}:${at.page}`;
    if (this.malice === "busy" && !this.refusedWrites.has(k)) {
      this.refusedWrites.add(k);
      throw new Error("the pager is busy");
    }
    this.slots.set(at.slot, k);
    this.pages.set(k, [...(this.pages.get(k) ?? []), ciphertext.slice()]);
  }

  readonly readKeys: string[] = [];
  /** "busy": the pages whose first write was refused. */
  readonly refusedWrites = new Set<string>();
  /** "once": reads dropped, and the version count of each page when its read was dropped. */
  dropped = 0;
  private readonly droppedAt = new Map<string, number>();
  /** Which page each slot was last written for: an honest store answers by slot alone. */
  private readonly slots = new Map<number, string>();

  async read(at: readonly StoreSlot[]): Promise<Array<Uint8Array | null>> {
    if (at.length === 0 || at.length > this.batch) throw new Error(`test bug: the kernel asked for ${at.length} slots of a store that takes ${this.batch}`);
    this.reads++;
    this.slotsRead += at.length;
    if (at.length > 1) this.batchedReads++;
    return at.map((slot) => this.readOne(slot));
  }

  private readOne(at: StoreSlot): Uint8Array | null {
    const k = `${at.space}:${at.page}`;
    this.readKeys.push(k);
    const versions = this.pages.get(this.slots.get(at.slot) ?? "");
    if (!versions) return null;
    const latest = versions[versions.length - 1]!;
    switch (this.liesAbout(at) ? this.malice : "none") {
      case "none":
      case "busy":
        return latest;
      case "flip": {
        const data = latest.slice();
        data[100] ^= 0x04;
        return data;
      }
      case "swap": {
        const other = [...this.pages.entries()].find(([key]) => key !== k);
        return other ? other[1][other[1].length - 1]! : latest;
      }
      case "replay":
        return (this.pages.get(k) ?? versions)[0]!;
      case "lose":
        return null;
      case "once":
        if (this.droppedAt.get(k) === versions.length) return latest;
        this.droppedAt.set(k, versions.length);
        this.dropped++;
        return null;
    }
  }
}
