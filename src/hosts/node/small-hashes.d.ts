// Types of small-hashes.js (plain JavaScript: cli-bundle.js uses it before any TypeScript).
export declare const SMALL_HASH_BYTES: number;
export declare function sha256Small(bytes: Uint8Array): string;
export declare function crc32Small(data: Uint8Array | string, value?: number): number;
export declare function wordHash(data: Uint8Array): bigint;
export declare const MODULE_BASE64: string;
export declare function moduleBytes(): Uint8Array;
