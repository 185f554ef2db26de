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

/** A sealed page to open: its nonce, its ciphertext (as the store gave it back) and the tag the kernel kept. */
export interface SealedParts {
  readonly nonce: Uint8Array;
  readonly ciphertext: Uint8Array;
  readonly tag: Uint8Array;
}

export const TAG_BYTES = 16;
export const SEALED_PAGE_BYTES = 4096 + TAG_BYTES;

/** Ciphertext and tag in one array, for a cipher that wants them so. */
export function joined(ciphertext: Uint8Array, tag: Uint8Array): Uint8Array {
  const sealed = new Uint8Array(ciphertext.length + tag.length);
  sealed.set(ciphertext);
  sealed.set(tag, ciphertext.length);
  return sealed;
}

/** The parts of a sealed page as `seal` made it. */
export function partsOf(sealed: SealedPage): SealedParts {
  const body = sealed.data.length - TAG_BYTES;
  return { nonce: sealed.nonce, ciphertext: sealed.data.subarray(0, body), tag: sealed.data.subarray(body) };
}

/**
 * AES-256-GCM under one key, as the sealer uses it: the 16-byte tag follows the ciphertext. A host
 * whose AES answers later (a browser's WebCrypto) returns promises: the kernel keeps an evicted
 * page's bytes until its seal is made (paging.ts), so nothing waits for it. Every input is the
 * caller's only during the call (the sealer reuses its associated-data buffer; the plaintext is a
 * view of a frame that goes to another page when the eviction returns): an asynchronous cipher
 * copies what it uses later before it first awaits anything.
 */
export interface PageCipher {
  encrypt(nonce: Uint8Array, associatedData: Uint8Array, plaintext: Uint8Array): Uint8Array | Promise<Uint8Array>;
  /**
   * The plaintext, or null when the tag does not authenticate the ciphertext, nonce and associated
   * data. The tag comes apart from the ciphertext: the kernel keeps it, the pager the ciphertext,
   * and a cipher that takes them apart (Node's) needs no copy to join them.
   */
  decrypt(nonce: Uint8Array, associatedData: Uint8Array, ciphertext: Uint8Array, tag: Uint8Array): Uint8Array | null | Promise<Uint8Array | null>;
}

/** Makes the cipher for a key; the key lives only in what it returns. */
export type PageCipherFactory = (key: Uint8Array) => PageCipher;

type Gcm = typeof import("@noble/ciphers/aes.js").gcm;
let gcm: Gcm | null = null;
let loadingGcm: Promise<Gcm> | null = null;

/** @noble/ciphers, loaded at the first page sealed: a host that never pages, or seals with its own AES, never pays for it (8 ms of every `dogma run`'s start). */
function loadGcm(): Promise<Gcm> {
  return (loadingGcm ??= import("@noble/ciphers/aes.js").then((module) => (gcm = module.gcm)));
}

function openWith(g: Gcm, key: Uint8Array, nonce: Uint8Array, ad: Uint8Array, ciphertext: Uint8Array, tag: Uint8Array): Uint8Array | null {
  try {
    return g(key, nonce, ad).decrypt(joined(ciphertext, tag));
  } catch {
    return null;
  }
}

/**
 * AES-256-GCM in JavaScript (@noble/ciphers), for any host. A host with a native AES (Node's
 * OpenSSL, hosts/node/node-page-cipher.ts) gives the kernel that instead: about 13 times faster.
 * Until the library has loaded it answers with promises, its inputs copied first (PageCipher).
 */
export const portablePageCipher: PageCipherFactory = (key) => ({
  encrypt(nonce, ad, plaintext) {
    if (gcm) return gcm(key, nonce, ad).encrypt(plaintext);
    const [n, a, p] = [nonce.slice(), ad.slice(), plaintext.slice()];
    return loadGcm().then((g) => g(key, n, a).encrypt(p));
  },
  decrypt(nonce, ad, ciphertext, tag) {
    if (gcm) return openWith(gcm, key, nonce, ad, ciphertext, tag);
    const [n, a, c, t] = [nonce.slice(), ad.slice(), ciphertext.slice(), tag.slice()];
    return loadGcm().then((g) => openWith(g, key, n, a, c, t));
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

  /**
   * The page's bytes, or null when the blob is not what `seal` made for this identity and version
   * (anything but 4 KiB of ciphertext, a 12-byte nonce and a 16-byte tag is refused unopened).
   */
  open(sealed: SealedParts | SealedPage, id: PageIdentity): Uint8Array | null | Promise<Uint8Array | null> {
    if ("data" in sealed && (!(sealed.data instanceof Uint8Array) || sealed.data.length !== SEALED_PAGE_BYTES)) return null;
    const { nonce, ciphertext, tag } = "data" in sealed ? partsOf(sealed) : sealed;
    if (!(nonce instanceof Uint8Array) || nonce.length !== 12 || !(ciphertext instanceof Uint8Array) || ciphertext.length !== SEALED_PAGE_BYTES - TAG_BYTES) return null;
    if (!(tag instanceof Uint8Array) || tag.length !== TAG_BYTES) return null;
    return this.cipher.decrypt(nonce, associatedData(id), ciphertext, tag);
  }
}

/** One buffer for every call: a cipher uses the associated data during the call only (PageCipher). */
const AD = new Uint8Array(16);
const AD_VIEW = new DataView(AD.buffer);

/** The page's identity as associated data: space, page (32 bits each), version (64 bits), little-endian. */
function associatedData(id: PageIdentity): Uint8Array {
  AD_VIEW.setUint32(0, id.space, true);
  AD_VIEW.setUint32(4, id.page, true);
  AD_VIEW.setUint32(8, id.version >>> 0, true);
  AD_VIEW.setUint32(12, Math.floor(id.version / 2 ** 32), true);
  return AD;
}
