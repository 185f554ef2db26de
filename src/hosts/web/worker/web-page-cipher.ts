import { type PageCipherFactory, joined } from "../../../kernel/page-sealer.ts";

/**
 * Page sealing in the browser with WebCrypto's AES-256-GCM (native, about 20 times faster than
 * AES in JavaScript: docs/WEB.md "Figures"). WebCrypto answers with promises; the kernel keeps an
 * evicted page's bytes until its seal is made, and a page-in awaits the opening
 * (src/kernel/paging.ts). The key is imported once, not extractable; the bytes given are wiped.
 */
export const webPageCipher: PageCipherFactory = (given) => {
  const raw = Uint8Array.from(given);
  given.fill(0);
  const key = crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]).finally(() => raw.fill(0));
  // The associated data is copied now: the sealer reuses its buffer once the call returns, and
  // the key is awaited before WebCrypto takes its own copy.
  const params = (nonce: Uint8Array, ad: Uint8Array): AesGcmParams => ({ name: "AES-GCM", iv: nonce as Uint8Array<ArrayBuffer>, additionalData: ad.slice() as Uint8Array<ArrayBuffer>, tagLength: 128 });
  return {
    async encrypt(nonce, ad, plaintext) {
      return new Uint8Array(await crypto.subtle.encrypt(params(nonce, ad), await key, plaintext as Uint8Array<ArrayBuffer>));
    },
    async decrypt(nonce, ad, ciphertext, tag) {
      try {
        return new Uint8Array(await crypto.subtle.decrypt(params(nonce, ad), await key, joined(ciphertext, tag) as Uint8Array<ArrayBuffer>));
      } catch {
        return null;
      }
    },
  };
};
