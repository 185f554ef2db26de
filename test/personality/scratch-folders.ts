import { rmSync } from "node:fs";
import { afterAll } from "vitest";
import { scratchFolder } from "./wasi-programs.ts";

/**
 * For a test file: `folder(prefix)` makes a scratch folder on the host (wasi-programs.ts
 * scratchFolder), and every one it made is removed after the file's tests.
 */
export function scratchFolders(): (prefix: string) => string {
  const made: string[] = [];
  afterAll(() => {
    for (const dir of made) rmSync(dir, { recursive: true, force: true });
  });
  return (prefix) => {
    const dir = scratchFolder(prefix);
    made.push(dir);
    return dir;
  };
}
