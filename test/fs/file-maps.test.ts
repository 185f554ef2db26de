// Mapped reads (docs/FS.md "Mapped reads"): a file's pages mapped read-only into the handles that
// ask (FS_MAP), read with no call while the map holds them. A writer's change is seen by the
// mapped reader's next read, from the map; a cut shows no byte past it, even through the raw view;
// a second mapping shares the map; a kept view of a freed map reads zeros; and, in two processes
// at once, a reader of a mapped file that another process rewrites and cuts never sees a torn or
// stale read.
import { describe, expect, it } from "vitest";
import { MemoryBlockBackend } from "../../src/machine/devices/block-backend.ts";
import { bootBlockMachine } from "../drivers/block-machine.ts";
import { patience } from "../helpers/patience.ts";
import { FSCK_LINES, verdict } from "./fs-machine.ts";

const LINES = `service registry registry
driver  block    block     device=block interrupt=block memory=512
service fs       fs        memory=4096 publish=fs -- cache-pages=512
`;

/** fs-map-check in `mode` on the fs, until it says the mode is all right, with no fault. */
async function check(mode: string, disk = new MemoryBlockBackend(16 << 20)): Promise<void> {
  const m = await bootBlockMachine(`${LINES}service ${mode} fs-map-check use=fs memory=512 -- ${mode}\n`, ["registry", "block", "fs", "fs-map-check"], disk);
  try {
    await verdict(m, new RegExp(`^fs-map-check: ${mode} all right$`), /FAIL/);
    expect(m.faults).toEqual([]);
  } finally {
    await m.halt();
  }
}

/**
 * A stamper rewriting and cutting a file at random beside a reader in `readerMode`: the reader saw
 * no torn or stale read, and its reads did come from the map, did go to the server (after a write,
 * a cut) and did meet the file cut (else the test showed nothing).
 */
async function stampedReads(readerMode: string): Promise<void> {
  const m = await bootBlockMachine(`${LINES}service stamp fs-map-check use=fs memory=512 -- stamper 300
service read     fs-map-check    use=fs memory=512 -- ${readerMode} 300
`, ["registry", "block", "fs", "fs-map-check"], new MemoryBlockBackend(16 << 20));
  try {
    await verdict(m, /^fs-map-check: stamper done 300 rounds$/, /FAIL/);
    const line = await verdict(m, /^fs-map-check: reader done \d+ reads, \d+ from the map, \d+ cut short$/, /FAIL/);
    const [reads, hits, short] = /(\d+) reads, (\d+) from the map, (\d+) cut short/.exec(line)!.slice(1).map(Number);
    expect(hits, line).toBeGreaterThan(0);
    expect(hits, line).toBeLessThan(reads!);
    expect(short, line).toBeGreaterThan(0);
    expect(m.faults).toEqual([]);
  } finally {
    await m.halt();
  }
}

describe("mapped reads", () => {
  it("a mapped handle's next read sees another handle's write, cut and growth, from the map; bytes past a cut are zeros in the view; a second mapping shares it; a kept view of a freed map reads zeros, a client whose map is freed under it gets its reads from the server; FS_MAP refuses a directory, a link, a direct handle and a handle without READ, and answers E_QUOTA when the server has no room", async () => {
    const disk = new MemoryBlockBackend(16 << 20);
    await check("edges", disk);
    const f = await bootBlockMachine(FSCK_LINES, ["registry", "block", "fsck"], disk);
    try {
      await verdict(f, /^fsck: clean: /, /^fsck: (\d+ problems?|cannot .*)$/);
    } finally {
      await f.halt();
    }
  }, patience(60_000));

  it("a reader of a mapped file that another process rewrites whole and cuts at random never reads two writes' words in one read, nor an older write than one it was told had finished", async () => {
    await stampedReads("reader");
  }, patience(60_000));

  it("the client's map reader, against a map laid out by hand: an odd sequence, a page not valid, pages past the map's and a map gone are misses; the size says where the file ends", async () => {
    await check("seqlock");
  }, patience(60_000));

  it("FsClient.read maps a file by itself at a handle's fourth read through the server (not after a one-shot read), and its next reads see another session's write, cut and growth at once; a client reading more files than it maps lets go of the least recently read, here and in the server", async () => {
    await check("auto");
  }, patience(60_000));

  it("a reader whose plain handle FsClient.read mapped by itself, of a file another process rewrites whole and cuts at random, never reads a torn or stale read", async () => {
    await stampedReads("reader-auto");
  }, patience(60_000));
});
