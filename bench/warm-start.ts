// A warm start: `dogma run hello.wasm` as a whole process, its rewritten module already in the
// cache (and Node's compile cache warm), beside `node -e 0` on the same Node. bin/dogma.js runs
// the bundled command line (build/node, built by `npm run bench` first) while it is as new as the
// sources, the sources otherwise: a bench run on a tree edited since measures the slower start.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { median, now, result, type Result } from "./harness.ts";

const RUNS = 9;

export function warmStart(): Result[] {
  const root = fileURLToPath(new URL("..", import.meta.url));
  const cacheDir = mkdtempSync(join(tmpdir(), "dogma-warm-start-"));
  const time = (args: string[]): number => {
    const start = now();
    execFileSync(process.execPath, args, { cwd: root, env: { ...process.env, DOGMA_CACHE_DIR: cacheDir }, stdio: "ignore" });
    return now() - start;
  };
  const dogma = ["bin/dogma.js", "run", "build/user/hello.wasm"];
  try {
    time(dogma); // fills both caches
    const dogmaMs: number[] = [];
    const nodeMs: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      dogmaMs.push(time(dogma));
      nodeMs.push(time(["-e", "0"]));
    }
    return [result("dogma run hello.wasm, module cached, whole process", median(dogmaMs), "ms", "node -e 0", median(nodeMs))];
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
}
