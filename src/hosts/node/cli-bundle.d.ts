// Types of cli-bundle.js (plain JavaScript: bin/dogma.js loads it before any TypeScript).
export declare const BUNDLE_FORMAT: number;
export declare const MANIFEST: string;
export declare const BUNDLE_DIR: string;
export declare function freshBundle(root: string, dir?: string): string | null;
export declare function stampOf(path: string): [number, number | null] | null;
