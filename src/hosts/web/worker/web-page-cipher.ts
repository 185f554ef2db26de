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
  // Every input is copied during the call, before the key is awaited (WebCrypto copies its inputs
  // only when it is called): the sealer reuses its associated-data buffer, and the page's bytes are
  // a view of its frame, which goes to another page as soon as the eviction returns. A page sealed
  // from a view read after the await held the frame's next contents, authentically: memtest read
  // back another page's bytes (the page test in Chromium).
  const params = (nonce: Uint8Array, ad: Uint8Array): AesGcmParams => ({ name: "AES-GCM", iv: nonce.slice() as Uint8Array<ArrayBuffer>, additionalData: ad.slice() as Uint8Array<ArrayBuffer>, tagLength: 128 });
  return {
    async encrypt(nonce, ad, plaintext) {
      const how = params(nonce, ad);
      const data = plaintext.slice();
      return new Uint8Array(await crypto.subtle.encrypt(how, await key, data));
    },
    async decrypt(nonce, ad, ciphertext, tag) {
      const how = params(nonce, ad);
      const sealed = joined(ciphertext, tag);
      try {
        return new Uint8Array(await crypto.subtle.decrypt(how, await key, sealed as Uint8Array<ArrayBuffer>));
      } catch {
        return null;
      }
    },
  };
};
