// Types of cli-bundle.js (plain JavaScript: bin/dogma.js loads it before any TypeScript).
export declare const BUNDLE_FORMAT: number;
export declare const MANIFEST: string;
export declare const BUNDLE_DIR: string;
export declare function freshBundle(root: string, dir?: string): string | null;
export declare function stampOf(path: string): [number, number | null] | null;
export declare const CODE_CACHE_DIR: string;
export declare function freshManifest(root: string, dir?: string): { file: string; build: string } | null;
export declare function runBundle(bundle: { file: string; build: string }, argv: string[]): Promise<number>;
