import type { SealedPage } from "../../src/kernel/page-sealer.ts";
import type { BackingStore, PageKey } from "../../src/kernel/paging.ts";

export type Malice = "none" | "flip" | "swap" | "replay" | "lose";

/** A pager's store in the host: honest, or one of the ways a pager can lie. */
export class TestStore implements BackingStore {
  readonly pages = new Map<string, SealedPage[]>();
  writes = 0;
  reads = 0;
  private readonly malice: Malice;
  private readonly liesAbout: (key: PageKey) => boolean;
  /** `liesAbout`: the pages it is malicious with (all by default); it answers the rest honestly. */
  constructor(malice: Malice = "none", liesAbout: (key: PageKey) => boolean = () => true) {
    this.malice = malice;
    this.liesAbout = liesAbout;
  }

  async write(key: PageKey, sealed: SealedPage): Promise<void> {
    this.writes++;
    const k = `${key.space}:${key.page}`;
    this.pages.set(k, [...(this.pages.get(k) ?? []), { nonce: sealed.nonce.slice(), data: sealed.data.slice() }]);
  }

  readonly readKeys: string[] = [];

  async read(key: PageKey): Promise<SealedPage | null> {
    this.reads++;
    this.readKeys.push(`${key.space}:${key.page}`);
    const versions = this.pages.get(`${key.space}:${key.page}`);
    if (!versions) return null;
    const latest = versions[versions.length - 1]!;
    switch (this.liesAbout(key) ? this.malice : "none") {
      case "none":
        return latest;
      case "flip": {
        const data = latest.data.slice();
        data[100] ^= 0x04;
        return { nonce: latest.nonce, data };
      }
      case "swap": {
        const other = [...this.pages.entries()].find(([k]) => k !== `${key.space}:${key.page}`);
        return other ? other[1][other[1].length - 1]! : latest;
      }
      case "replay":
        return versions[0]!;
      case "lose":
        return null;
    }
  }
}

