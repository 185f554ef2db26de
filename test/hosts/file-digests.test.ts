// The digests of program files a warm `dogma run` remembers by the file's identity
// (src/hosts/node/file-digests.ts): a file seen before is not hashed again; a file written since
// is; a file that changed while it was read is not remembered.
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { FileDigests, statExactly } from "../../src/hosts/node/file-digests.ts";

const sha = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
let dir = "";
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function digestOf(digests: FileDigests, path: string): Promise<string> {
  const before = (await statExactly(path))!;
  const bytes = new Uint8Array(readFileSync(path));
  return digests.digest(bytes, before, (await statExactly(path))!);
}

describe("FileDigests", () => {
  it("hashes a file once, answers from what it remembered after, and hashes it again once written", async () => {
    dir = mkdtempSync(join(tmpdir(), "dogma-digests-"));
    const program = join(dir, "p.wasm");
    writeFileSync(program, "first");
    const digests = new FileDigests(join(dir, "cache"));
    expect(await digestOf(digests, program)).toBe(sha(Buffer.from("first")));

    // What it remembers is what it answers (the file's bytes are not hashed again): plant a
    // digest under the file's identity to see it come back.
    const memo = join(dir, "cache", "digests.json");
    const [[identity]] = JSON.parse(readFileSync(memo, "utf8")) as Array<[string, string]>;
    writeFileSync(memo, JSON.stringify([[identity, "ab".repeat(32)]]));
    expect(await digestOf(digests, program)).toBe("ab".repeat(32));

    writeFileSync(program, "second");
    expect(await digestOf(digests, program)).toBe(sha(Buffer.from("second")));
    expect(await digestOf(new FileDigests(join(dir, "cache")), program)).toBe(sha(Buffer.from("second")));
  });

  it("does not remember a file that changed while it was read, nor trust a damaged memo", async () => {
    dir = mkdtempSync(join(tmpdir(), "dogma-digests-"));
    const program = join(dir, "p.wasm");
    writeFileSync(program, "old");
    const digests = new FileDigests(join(dir, "cache"));
    const before = (await statExactly(program))!;
    writeFileSync(program, "new, and longer");
    const bytes = new Uint8Array(readFileSync(program));
    expect(await digests.digest(bytes, before, (await statExactly(program))!)).toBe(sha(bytes));
    expect(() => readFileSync(join(dir, "cache", "digests.json"))).toThrow();

    const damaged = join(dir, "damaged");
    const memo = new FileDigests(damaged);
    expect(await digestOf(memo, program)).toBe(sha(bytes));
    writeFileSync(join(damaged, "digests.json"), "{not json");
    expect(await digestOf(memo, program)).toBe(sha(bytes));
  });
});
