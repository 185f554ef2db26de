// A host folder's LIST, and a move's look through its links, do a bounded share of the host's
// work per request (src/machine/devices/directory-cursors.ts): a program listing a huge directory
// one entry at a time, or seeking far into it, or moving a huge tree nearer the root, cannot
// hold the machine's one thread for more than that share at a time. The host's work is counted
// through an instrumented backend (entries a directory read gave, and stats), never timed.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MOVE_CHECK_PER_REQUEST, NodeFolder } from "../../src/hosts/node/host-folder.ts";
import { READS_PER_REQUEST } from "../../src/machine/devices/directory-cursors.ts";
import type { FolderBackend, FolderEntry } from "../../src/machine/devices/folder-backend.ts";
import { FolderOp, HostFolderDevice } from "../../src/machine/devices/host-folder.ts";
import { RequestStatus } from "../../src/machine/devices/request-status.ts";
import { MemoryDmaWindow, RecordingInterrupts, RingDriver } from "./helpers.ts";

const ENTRIES = 3000;
let dir = "";

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "dogma-folder-listing-"));
  mkdirSync(join(dir, "big"));
  for (let i = 0; i < ENTRIES; i++) writeFileSync(join(dir, "big", `entry-${i}`), "");
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * `backend` with its host work counted: the entries its directory reads gave (through a stream,
 * or a whole listing as the device used to ask for) and its stats.
 */
function counted(backend: NodeFolder) {
  const work = { entries: 0, stats: 0 };
  const wrapped = new Proxy(backend, {
    get(target, name, receiver) {
      const value: unknown = Reflect.get(target, name, receiver);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        const result: unknown = value.apply(target, args);
        if (name === "stat") work.stats++;
        if (name === "list" && Array.isArray(result)) work.entries += result.length;
        if (name === "openDirectory") {
          const stream = result as { read(most: number): FolderEntry[]; close(): void };
          return {
            read: (most: number) => {
              const got = stream.read(most);
              work.entries += got.length;
              return got;
            },
            close: () => stream.close(),
          };
        }
        return result;
      };
    },
  }) as FolderBackend;
  return { work, wrapped };
}

function machine(backend: FolderBackend) {
  const driver = new RingDriver(new HostFolderDevice(8, new RecordingInterrupts(), backend), new MemoryDmaWindow(65536));
  const pathAt = driver.dataOffset;
  const buffer = pathAt + 1024;
  let id = 1;
  /** One request, answered at once (the Node backend is synchronous). */
  const ask = (op: number, path: string, position: number, room: number, second = "") => {
    const bytes = new TextEncoder().encode(path);
    driver.window.write(pathAt, bytes);
    const other = new TextEncoder().encode(second);
    if (other.length > 0) driver.window.write(buffer, other);
    driver.submit([op, id++, pathAt, bytes.length, buffer, other.length > 0 ? other.length : room, position, 0]);
    const [done] = driver.completions();
    return { ...done!, data: driver.window.bytes.slice(buffer, buffer + done!.length) };
  };
  return { ask };
}

function names(data: Uint8Array): string[] {
  const out: string[] = [];
  const view = new DataView(data.buffer, data.byteOffset);
  for (let at = 0; at + 16 <= data.length; ) {
    const length = view.getUint32(at + 4, true);
    out.push(new TextDecoder().decode(data.subarray(at + 16, at + 16 + length)));
    at += 16 + ((length + 3) & ~3);
  }
  return out;
}

describe("host folder LIST, a bounded share of the host's work at a time", () => {
  it("lists a big directory one entry a request, each request reading at most its share", async () => {
    const { work, wrapped } = counted(await NodeFolder.open(dir, false));
    const { ask } = machine(wrapped);
    const seen: string[] = [];
    let most = 0;
    for (let position = 0; ; ) {
      const before = work.entries;
      const done = ask(FolderOp.LIST, "big", position, 40);
      most = Math.max(most, work.entries - before);
      expect(done.status).toBe(RequestStatus.OK);
      const got = names(done.data);
      if (got.length === 0) break;
      expect(got.length).toBe(1);
      seen.push(...got);
      position += got.length;
      expect(seen.length).toBeLessThanOrEqual(ENTRIES);
    }
    expect(most).toBeLessThanOrEqual(READS_PER_REQUEST);
    expect(new Set(seen).size).toBe(ENTRIES);
    // The host read each entry about once, not once per request.
    expect(work.entries).toBeLessThan(2 * ENTRIES);
  });

  it("reaches a far position a share at a time (E_AGAIN until there), then goes on from it", async () => {
    const { work, wrapped } = counted(await NodeFolder.open(dir, false));
    const { ask } = machine(wrapped);
    const whole: string[] = [];
    for (let position = 0; ; ) {
      const done = ask(FolderOp.LIST, "big", position, 65536 - 2048);
      const got = names(done.data);
      if (got.length === 0) break;
      whole.push(...got);
      position += got.length;
    }
    expect(whole.length).toBe(ENTRIES);
    const far = ENTRIES - 10;
    // Fresh listings (position 0 opens the directory afresh), which push the whole listing's
    // stream out; then a seek far on, as a program seeking a cookie would.
    for (let i = 0; i < 12; i++) expect(names(ask(FolderOp.LIST, "big", 0, 40).data)).toEqual([whole[0]]);
    let agains = 0;
    for (;;) {
      const before = work.entries;
      const done = ask(FolderOp.LIST, "big", far, 40);
      expect(work.entries - before).toBeLessThanOrEqual(READS_PER_REQUEST);
      if (done.status === RequestStatus.E_AGAIN) {
        agains++;
        expect(agains).toBeLessThan(ENTRIES);
        continue;
      }
      expect(done.status).toBe(RequestStatus.OK);
      expect(names(done.data)).toEqual([whole[far]]);
      break;
    }
    expect(agains).toBeGreaterThanOrEqual(Math.floor((far - READS_PER_REQUEST) / READS_PER_REQUEST));
    // And on from there, from the stream's window.
    expect(names(ask(FolderOp.LIST, "big", far + 1, 65536 - 2048).data)).toEqual(whole.slice(far + 1));
  });

  it("answers the end with no records and extra 1, and a record too big for the buffer with E_BUFFER", async () => {
    const { ask } = machine(await NodeFolder.open(dir, false));
    const small = ask(FolderOp.LIST, "", 0, 4096);
    expect(names(small.data)).toEqual(["big"]);
    expect(small.extra).toBe(1);
    expect(names(ask(FolderOp.LIST, "", 1, 4096).data)).toEqual([]);
    expect(ask(FolderOp.LIST, "big", 0, 8).status).toBe(RequestStatus.E_BUFFER);
    expect(ask(FolderOp.LIST, "big/entry-1", 0, 4096).status).toBe(RequestStatus.E_NOT_DIRECTORY);
  });

  it("lists a directory of at most 512 entries sorted by name, the same order at every position", async () => {
    const small = join(dir, "small");
    mkdirSync(small);
    const made = ["zeta", "alpha", "Mid", "é", "beta", "10", "9"];
    for (const name of made) writeFileSync(join(small, name), "");
    const { ask } = machine(await NodeFolder.open(dir, false));
    const sorted = [...made].sort();
    expect(names(ask(FolderOp.LIST, "small", 0, 4096).data)).toEqual(sorted);
    for (let i = 0; i < 12; i++) ask(FolderOp.LIST, "big", 0, 40); // its cursor pushed out: opened afresh below
    expect(names(ask(FolderOp.LIST, "small", 3, 4096).data)).toEqual(sorted.slice(3));
    rmSync(small, { recursive: true });
  });
});

describe("listing again after a change", () => {
  it("lists a directory of 700 entries whole again after a name was added, each entry once", async () => {
    const root = mkdtempSync(join(tmpdir(), "dogma-folder-again-"));
    try {
      for (let i = 0; i < 700; i++) writeFileSync(join(root, `n-${i}`), "");
      const { ask } = machine(await NodeFolder.open(root, false));
      const whole = () => {
        const seen: string[] = [];
        for (let position = 0; ; ) {
          const got = names(ask(FolderOp.LIST, "", position, 65536 - 2048).data);
          if (got.length === 0) return seen;
          seen.push(...got);
          position += got.length;
        }
      };
      expect(new Set(whole()).size).toBe(700);
      for (let i = 0; i < 40; i++) writeFileSync(join(root, `late-${i}`), "");
      const again = whole();
      expect(again.length).toBe(740);
      expect(new Set(again).size).toBe(740);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe("a move nearer the root looks through its links a share at a time", () => {
  function tree(escaping: boolean): string {
    const root = mkdtempSync(join(tmpdir(), "dogma-folder-move-"));
    mkdirSync(join(root, "a", "b"), { recursive: true });
    for (let i = 0; i < 1500; i++) writeFileSync(join(root, "a", "b", `f-${i}`), "");
    mkdirSync(join(root, "a", "b", "z"));
    // From a/b/z, "../../../x" reaches the folder's root; moved to b/z (one nearer) it leads out.
    if (escaping) symlinkSync("../../../x", join(root, "a", "b", "z", "link"));
    return root;
  }

  it("answers E_AGAIN a share at a time, then refuses a move that would make a link lead out", async () => {
    const root = tree(true);
    try {
      const { work, wrapped } = counted(await NodeFolder.open(root, false));
      const backend = wrapped;
      const { ask } = machine(backend);
      let agains = 0;
      let done;
      for (;;) {
        const before = work.entries;
        done = ask(FolderOp.RENAME, "a/b", 0, 0, "b");
        expect(work.entries - before).toBe(0); // no LIST stream: the check reads its own, bounded below
        if (done.status !== RequestStatus.E_AGAIN) break;
        agains++;
        expect(agains).toBeLessThan(100);
      }
      expect(agains).toBeGreaterThanOrEqual(Math.floor(1500 / MOVE_CHECK_PER_REQUEST));
      expect(done.status).toBe(RequestStatus.E_DENIED);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("moves once through, and starts over when the folder changed in between", async () => {
    const root = tree(false);
    try {
      const { ask } = machine(await NodeFolder.open(root, false));
      expect(ask(FolderOp.RENAME, "a/b", 0, 0, "b").status).toBe(RequestStatus.E_AGAIN);
      expect(ask(FolderOp.RENAME, "a/b", 0, 0, "b").status).toBe(RequestStatus.E_AGAIN);
      // A change in between: a link that would lead out, in a directory perhaps looked through already.
      expect(ask(FolderOp.SYMLINK, "a/b/z/late", 0, 0, "../../../x").status).toBe(RequestStatus.OK);
      let status;
      for (let i = 0; i < 100; i++) if ((status = ask(FolderOp.RENAME, "a/b", 0, 0, "b").status) !== RequestStatus.E_AGAIN) break;
      expect(status).toBe(RequestStatus.E_DENIED);
      rmSync(join(root, "a", "b", "z", "late"));
      for (let i = 0; i < 100; i++) if ((status = ask(FolderOp.RENAME, "a/b", 0, 0, "b").status) !== RequestStatus.E_AGAIN) break;
      expect(status).toBe(RequestStatus.OK);
      expect(ask(FolderOp.STAT, "b/z", 0, 48).status).toBe(RequestStatus.OK);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe("a move's look through its links, with other programs at work", () => {
  function trees(root: string, names: string[]): void {
    for (const name of names) {
      mkdirSync(join(root, "a", name, "deep"), { recursive: true });
      for (let i = 0; i < 1500; i++) writeFileSync(join(root, "a", name, "deep", `f-${i}`), "");
    }
  }
  /** Sends `move` again until it is not "again" (each round `between` runs first); its status. */
  function until(ask: ReturnType<typeof machine>["ask"], from: string, to: string, between: () => void): number {
    for (let i = 0; i < 100; i++) {
      const status = ask(FolderOp.RENAME, from, 0, 0, to).status;
      if (status !== RequestStatus.E_AGAIN) return status;
      between();
    }
    return RequestStatus.E_AGAIN;
  }

  it("finishes a move while another program writes files and makes directories between its requests", async () => {
    const root = mkdtempSync(join(tmpdir(), "dogma-folder-move-"));
    try {
      trees(root, ["t"]);
      const { ask } = machine(await NodeFolder.open(root, false));
      let n = 0;
      const status = until(ask, "a/t", "t", () => {
        expect(ask(FolderOp.OPEN, `log-${n}`, 1 | 8, 48).status).toBe(RequestStatus.OK);
        expect(ask(FolderOp.MKDIR, `made-${n++}`, 0, 0).status).toBe(RequestStatus.OK);
      });
      expect(status).toBe(RequestStatus.OK);
      expect(ask(FolderOp.STAT, "t/deep/f-1", 0, 48).status).toBe(RequestStatus.OK);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("finishes two moves whose requests take turns", async () => {
    const root = mkdtempSync(join(tmpdir(), "dogma-folder-move-"));
    try {
      trees(root, ["t", "u"]);
      const { ask } = machine(await NodeFolder.open(root, false));
      let other: number = RequestStatus.E_AGAIN;
      const first = until(ask, "a/t", "t", () => {
        if (other === RequestStatus.E_AGAIN) other = ask(FolderOp.RENAME, "a/u", 0, 0, "u").status;
      });
      expect(first).toBe(RequestStatus.OK);
      if (other === RequestStatus.E_AGAIN) other = until(ask, "a/u", "u", () => undefined);
      expect(other).toBe(RequestStatus.OK);
      expect(ask(FolderOp.STAT, "u/deep/f-1", 0, 48).status).toBe(RequestStatus.OK);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("starts over when a link is made in the moving tree through another folder given over the same host tree", async () => {
    const root = mkdtempSync(join(tmpdir(), "dogma-folder-move-"));
    try {
      // a/t itself is looked through in the first request (its 1,500 in a/t/deep take three).
      trees(root, ["t"]);
      const one = machine(await NodeFolder.open(root, false));
      // The same host tree given a second time: a link a/t/out to "../../x" stays inside it (and
      // inside the first), but once t is moved to the root it leads out.
      const two = machine(await NodeFolder.open(root, false));
      let planted = false;
      const status = until(one.ask, "a/t", "t", () => {
        if (!planted) expect(two.ask(FolderOp.SYMLINK, "a/t/out", 0, 0, "../../x").status).toBe(RequestStatus.OK);
        planted = true;
      });
      expect(planted).toBe(true);
      expect(status).toBe(RequestStatus.E_DENIED);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe("a walk goes through a bounded number of names", () => {
  it("refuses a path whose links make it more than 8,192 names (E_LOOP), and walks one under that", async () => {
    const root = mkdtempSync(join(tmpdir(), "dogma-folder-walk-"));
    try {
      mkdirSync(join(root, "end"));
      // Each link is 2,000 "." names then the next link: 40 such links would be 80,000 lstats in one request.
      for (let i = 0; i < 6; i++) symlinkSync(`${"./".repeat(2000)}${i === 5 ? "end" : `l${i + 1}`}`, join(root, `l${i}`));
      const { ask } = machine(await NodeFolder.open(root, false));
      expect(ask(FolderOp.STAT, "l0", 1, 48).status).toBe(RequestStatus.E_LOOP);
      expect(ask(FolderOp.STAT, "l3", 1, 48).status).toBe(RequestStatus.OK);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
