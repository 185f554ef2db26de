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
    // The V8 flags the Node host runs with (src/hosts/node/engine-flags.ts).
    setupFiles: ["test/helpers/engine-flags-setup.ts"],
    // Bounds against hangs, scaled on a loaded machine by DOGMA_TEST_SLOWDOWN (test/helpers/patience.ts).
    testTimeout: 60_000 * SLOWDOWN,
    hookTimeout: 60_000 * SLOWDOWN,
  },
});
