import { defineConfig } from "vitest/config";
import { SLOWDOWN } from "./test/helpers/patience.ts";

/** `npm run test:soak`: the long soaks of test/soak/, one file at a time. */
export default defineConfig({
  test: {
    include: ["test/soak/**/*.test.ts"],
    maxWorkers: 1,
    setupFiles: ["test/helpers/engine-flags-setup.ts"],
    testTimeout: 1_800_000 * SLOWDOWN,
    hookTimeout: 120_000 * SLOWDOWN,
  },
});
