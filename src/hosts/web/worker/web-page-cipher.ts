import { type PageCipherFactory, portablePageCipher } from "../../../kernel/page-sealer.ts";

/**
 * Page sealing in the browser: AES-256-GCM in JavaScript (@noble/ciphers), not WebCrypto. The
 * kernel seals a page synchronously, in the step that evicts it (src/kernel/paging.ts: the sealed
 * blob's tag is kept before the page's frame is reused), and WebCrypto's AES-GCM only answers with
 * a Promise. Using it would take an eviction that waits for its seal: a kernel change, measured in
 * docs/WEB.md ("Page sealing") before anyone makes it.
 */
export const webPageCipher: PageCipherFactory = portablePageCipher;
