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

/**
 * AES-256-GCM under one key, as the sealer uses it: the 16-byte tag follows the ciphertext. A host
 * whose AES answers later (a browser's WebCrypto) returns promises: the kernel keeps an evicted
 * page's bytes until its seal is made (paging.ts), so nothing waits for it.
 */
export interface PageCipher {
  encrypt(nonce: Uint8Array, associatedData: Uint8Array, plaintext: Uint8Array): Uint8Array | Promise<Uint8Array>;
  /** The plaintext, or null when the tag does not authenticate the data, nonce and associated data. */
  decrypt(nonce: Uint8Array, associatedData: Uint8Array, sealed: Uint8Array): Uint8Array | null | Promise<Uint8Array | null>;
}

/** Makes the cipher for a key; the key lives only in what it returns. */
export type PageCipherFactory = (key: Uint8Array) => PageCipher;

/**
 * AES-256-GCM in JavaScript (@noble/ciphers), for any host. A host with a native AES (Node's
 * OpenSSL, hosts/node/node-page-cipher.ts) gives the kernel that instead: about 13 times faster.
 */
export const portablePageCipher: PageCipherFactory = (key) => ({
  encrypt: (nonce, ad, plaintext) => gcm(key, nonce, ad).encrypt(plaintext),
  decrypt(nonce, ad, sealed) {
    try {
      return gcm(key, nonce, ad).decrypt(sealed);
    } catch {
      return null;
    }
  },
});

export class PageSealer {
  private readonly cipher: PageCipher;
  private counter = 0n;

  constructor(entropy: { fill(bytes: Uint8Array): void }, cipher: PageCipherFactory = portablePageCipher) {
    const key = new Uint8Array(32);
    entropy.fill(key);
    this.cipher = cipher(key);
  }

  /** The sealed page, or (with an asynchronous cipher) a promise of it; the nonce is taken now. */
  seal(bytes: Uint8Array, id: PageIdentity): SealedPage | Promise<SealedPage> {
    const nonce = new Uint8Array(12);
    new DataView(nonce.buffer).setBigUint64(0, this.counter++, true);
    const data = this.cipher.encrypt(nonce, associatedData(id), bytes);
    return data instanceof Promise ? data.then((sealed) => ({ nonce, data: sealed })) : { nonce, data };
  }

  /** The page's bytes, or null when the blob is not what `seal` made for this identity and version. */
  open(sealed: SealedPage, id: PageIdentity): Uint8Array | null | Promise<Uint8Array | null> {
    if (!(sealed.nonce instanceof Uint8Array) || sealed.nonce.length !== 12 || !(sealed.data instanceof Uint8Array) || sealed.data.length !== SEALED_PAGE_BYTES) return null;
    return this.cipher.decrypt(sealed.nonce, associatedData(id), sealed.data);
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
