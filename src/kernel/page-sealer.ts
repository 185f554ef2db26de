import { gcm } from "@noble/ciphers/aes.js";

/**
 * Seals pages that leave the kernel for the pager: AES-256-GCM under a key drawn from the machine's
 * entropy at boot, which never leaves this object. The associated data is the page's identity
 * (address space, virtual page) and its version, which the kernel bumps on every eviction and
 * keeps itself; so a pager that reads a page sees only ciphertext, and one that flips bits, hands
 * back another page's blob, or replays an older version of this page is caught by the tag.
 *
 * Invariants: no nonce is used twice under one key (a 64-bit counter, never reset while the key
 * lives); `open` returns bytes only for exactly what `seal` produced for that identity and version.
 */
export interface PageIdentity {
  /** The address space (its pid: pids are never reused within a boot, and the key is per boot). */
  readonly space: number;
  readonly page: number;
  readonly version: number;
}

/** What the pager stores: the nonce and the ciphertext with its 16-byte tag. */
export interface SealedPage {
  readonly nonce: Uint8Array;
  readonly data: Uint8Array;
}

export const SEALED_PAGE_BYTES = 4096 + 16;

export class PageSealer {
  private readonly key = new Uint8Array(32);
  private counter = 0n;

  constructor(entropy: { fill(bytes: Uint8Array): void }) {
    entropy.fill(this.key);
  }

  seal(bytes: Uint8Array, id: PageIdentity): SealedPage {
    const nonce = new Uint8Array(12);
    new DataView(nonce.buffer).setBigUint64(0, this.counter++, true);
    return { nonce, data: gcm(this.key, nonce, associatedData(id)).encrypt(bytes) };
  }

  /** The page's bytes, or null when the blob is not what `seal` made for this identity and version. */
  open(sealed: SealedPage, id: PageIdentity): Uint8Array | null {
    if (!(sealed.nonce instanceof Uint8Array) || sealed.nonce.length !== 12 || !(sealed.data instanceof Uint8Array) || sealed.data.length !== SEALED_PAGE_BYTES) return null;
    try {
      return gcm(this.key, sealed.nonce, associatedData(id)).decrypt(sealed.data);
    } catch {
      return null;
    }
  }
}

function associatedData(id: PageIdentity): Uint8Array {
  const ad = new Uint8Array(16);
  const view = new DataView(ad.buffer);
  view.setUint32(0, id.space, true);
  view.setUint32(4, id.page, true);
  view.setBigUint64(8, BigInt(id.version), true);
  return ad;
}
