// The CLI reads at most one byte more than the loader accepts: `dogma run /dev/zero` is refused
// at once instead of reading for ever (issue 16, finding 7).
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { readAtMost } from "../../src/hosts/node/read-at-most.ts";

it("reads a short file whole and an endless one up to the limit", async () => {
  const file = join(mkdtempSync(join(tmpdir(), "dogma-read-")), "short");
  writeFileSync(file, "abc");
  expect(new TextDecoder().decode(await readAtMost(file, 10))).toBe("abc");
  if (existsSync("/dev/zero")) expect((await readAtMost("/dev/zero", 3_000_000)).length).toBe(3_000_000);
});

it("dogma run /dev/zero is refused for its size", () => {
  if (!existsSync("/dev/zero")) return;
  const result = spawnSync(process.execPath, [join(import.meta.dirname, "../../bin/dogma.js"), "run", "/dev/zero"], { encoding: "utf8", timeout: 30_000 });
  expect(result.status).toBe(126);
  expect(result.stderr).toMatch(/^dogma: refused zero: file: 67108865 bytes is more than the 67108864 bytes a binary may have\n$/);
});
