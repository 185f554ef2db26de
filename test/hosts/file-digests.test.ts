// The digests of program files a warm `dogma run` remembers by the file's identity
// (src/hosts/node/file-digests.ts): a file seen before is not hashed again; a file written since
// is; a file that changed while it was read is not remembered.
import { createHash } from "node:crypto";
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { FileDigests, statExactly } from "../../src/hosts/node/file-digests.ts";

const sha = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
let dir = "";
/** A clock ten seconds ahead: the files written here are old enough to be remembered. */
const later = () => BigInt(Date.now() + 10_000) * 1_000_000n;
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
    const digests = new FileDigests(join(dir, "cache"), later);
    expect(await digestOf(digests, program)).toBe(sha(Buffer.from("first")));

    // What it remembers is what it answers (the file's bytes are not hashed again): plant a
    // digest under the file's identity to see it come back.
    const memo = join(dir, "cache", "digests.json");
    const [[identity]] = JSON.parse(readFileSync(memo, "utf8")) as Array<[string, string]>;
    writeFileSync(memo, JSON.stringify([[identity, "ab".repeat(32)]]));
    expect(await digestOf(digests, program)).toBe("ab".repeat(32));

    writeFileSync(program, "second");
    expect(await digestOf(digests, program)).toBe(sha(Buffer.from("second")));
    expect(await digestOf(new FileDigests(join(dir, "cache"), later), program)).toBe(sha(Buffer.from("second")));
  });

  it("does not remember a file that changed while it was read, nor trust a damaged memo", async () => {
    dir = mkdtempSync(join(tmpdir(), "dogma-digests-"));
    const program = join(dir, "p.wasm");
    writeFileSync(program, "old");
    const digests = new FileDigests(join(dir, "cache"), later);
    const before = (await statExactly(program))!;
    writeFileSync(program, "new, and longer");
    const bytes = new Uint8Array(readFileSync(program));
    expect(await digests.digest(bytes, before, (await statExactly(program))!)).toBe(sha(bytes));
    expect(() => readFileSync(join(dir, "cache", "digests.json"))).toThrow();

    const damaged = join(dir, "damaged");
    const memo = new FileDigests(damaged, later);
    expect(await digestOf(memo, program)).toBe(sha(bytes));
    writeFileSync(join(damaged, "digests.json"), "{not json");
    expect(await digestOf(memo, program)).toBe(sha(bytes));
  });

  // redteam4: a file system's times advance in ticks (a jiffy on Linux before 6.13, 2 s on FAT):
  // a file rewritten in place with the same size in the tick after it was read keeps its identity,
  // and the digest remembered for the old bytes named the new ones (`dogma run` ran the old
  // program's cached rewrite). A file changed lately is hashed, never remembered.
  it("does not remember a file changed within the last seconds: the same identity may hold other bytes", async () => {
    dir = mkdtempSync(join(tmpdir(), "dogma-digests-"));
    const program = join(dir, "p.wasm");
    writeFileSync(program, "old!");
    const stats = (await statExactly(program))!;
    const digests = new FileDigests(join(dir, "cache"));
    expect(await digests.digest(Buffer.from("old!"), stats, stats)).toBe(sha(Buffer.from("old!")));
    // The same stats, as a rewrite within the same tick leaves them, and new bytes.
    expect(await digests.digest(Buffer.from("new!"), stats, stats)).toBe(sha(Buffer.from("new!")));
    expect(() => readFileSync(join(dir, "cache", "digests.json"))).toThrow();
    // Once it is older, it is remembered.
    const old = new FileDigests(join(dir, "cache"), later);
    await old.digest(Buffer.from("new!"), stats, stats);
    expect(readFileSync(join(dir, "cache", "digests.json"), "utf8")).toContain(sha(Buffer.from("new!")));
  });

  it("does not trust a memo others may write (it names the record to run)", async () => {
    dir = mkdtempSync(join(tmpdir(), "dogma-digests-"));
    const program = join(dir, "p.wasm");
    writeFileSync(program, "mine");
    const digests = new FileDigests(join(dir, "cache"), later);
    await digestOf(digests, program);
    const memo = join(dir, "cache", "digests.json");
    expect(statSync(memo).mode & 0o077).toBe(0);
    const [[identity]] = JSON.parse(readFileSync(memo, "utf8")) as Array<[string, string]>;
    writeFileSync(memo, JSON.stringify([[identity, "cd".repeat(32)]]));
    expect(await digestOf(digests, program)).toBe("cd".repeat(32));
    chmodSync(memo, 0o666);
    expect(await digestOf(digests, program)).toBe(sha(Buffer.from("mine")));
  });
});
