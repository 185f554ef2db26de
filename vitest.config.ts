import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";
import { SLOWDOWN } from "./test/helpers/patience.ts";

// One test file per core (vitest's default leaves one core to itself, which on the 2-core
// machines here ran the whole suite in one worker): the files mostly wait on machines, child
// processes and timers, so the main process needs no core of its own. DOGMA_TEST_WORKERS overrides.
const workers = Number(process.env.DOGMA_TEST_WORKERS) || availableParallelism();

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Long soaks run with `npm run test:soak` (vitest.soak.config.ts), not in `npm test`.
    exclude: ["test/soak/**", "**/node_modules/**"],
    maxWorkers: workers,
    // A worker runs its files one after another in one module graph instead of importing the kernel,
    // the loader and binaryen (0.45-0.5 s alone, for each of the 64 files that assemble WAT) afresh
    // for each: imports 77 s -> 10 s of the suite's time, the whole suite 271 s -> 200-209 s on the
    // 2-core machine (2026-12-07). Test files keep no state between them: every machine, kernel and
    // loader is made by the test that uses it, mocks and fake timers are restored in afterEach.
    isolate: false,
    // The V8 flags the Node host runs with (src/hosts/node/engine-flags.ts).
    setupFiles: ["test/helpers/engine-flags-setup.ts"],
    // Bounds against hangs, scaled on a loaded machine by DOGMA_TEST_SLOWDOWN (test/helpers/patience.ts).
    testTimeout: 60_000 * SLOWDOWN,
    hookTimeout: 60_000 * SLOWDOWN,
  },
});
