import { readFileSync } from "node:fs";
import { join } from "node:path";

/** A program built by `npm run build` (npm test builds them first). */
export function program(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(import.meta.dirname, "../../build/user", `${name}.wasm`)));
}
