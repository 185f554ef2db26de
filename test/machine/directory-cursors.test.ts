// The host devices' open directories (src/machine/devices/directory-cursors.ts) are shared by
// every program of the machine, MAX_CURSORS a device: a listing that must read far into a big
// directory takes several requests on one cursor. These check that programs listing more big
// directories at once than there are cursors all finish (none can push the others' cursors out
// between their requests forever), and that small listings go on while the cursors are all busy.
import { describe, expect, it } from "vitest";
import { type DirectoryStream, DirectoryCursors, MAX_CURSORS, READS_PER_REQUEST } from "../../src/machine/devices/directory-cursors.ts";

interface Entry {
  readonly name: string;
}

/** A directory of `count` entries, read through streams; `reads` counts the entries they gave. */
function directory(key: string, count: number, work: { reads: number; open: number }) {
  return (): DirectoryStream<Entry> => {
    let at = 0;
    work.open++;
    return {
      read(most: number): Entry[] {
        const out: Entry[] = [];
        while (out.length < most && at < count) out.push({ name: `${key}-${String(at++).padStart(6, "0")}` });
        work.reads += out.length;
        return out;
      },
      close() {
        work.open--;
      },
    };
  };
}

/** A program listing `key` whole, one request at a time, as many entries as `room` a request. */
function lister(cursors: DirectoryCursors<Entry>, key: string, count: number, room: number, work: { reads: number; open: number }) {
  const open = directory(key, count, work);
  const seen: string[] = [];
  let done = false;
  let agains = 0;
  return {
    seen,
    get done() {
      return done;
    },
    get agains() {
      return agains;
    },
    /** One request (sent again next turn when answered "again"). */
    step() {
      if (done) return;
      let given = 0;
      const listed = cursors.list(key, seen.length, open, (entry) => {
        if (given === room) return false;
        given++;
        seen.push(entry.name);
        return true;
      });
      if (listed instanceof Promise) throw new Error("synchronous streams answer at once");
      if (listed.again) agains++;
      else if (listed.end && given === 0) done = true;
    },
  };
}

describe("directory cursors shared by many programs", () => {
  it("finishes every listing when more programs list big directories at once than there are cursors", () => {
    const work = { reads: 0, open: 0 };
    const cursors = new DirectoryCursors<Entry>();
    const count = 4 * READS_PER_REQUEST + 100;
    const listers = Array.from({ length: MAX_CURSORS + 1 }, (_, i) => lister(cursors, `d${i}`, count, 1000, work));
    let turns = 0;
    while (listers.some((l) => !l.done)) {
      for (const l of listers) l.step();
      turns++;
      // Each listing alone takes about 2 turns a batch; the bound is generous but finite.
      if (turns > 2000) break;
    }
    for (const l of listers) {
      expect(l.done).toBe(true);
      expect(l.seen.length).toBe(count);
      expect(new Set(l.seen).size).toBe(count);
    }
    expect(work.open).toBeLessThanOrEqual(MAX_CURSORS);
  });

  it("one program holding every cursor far into big directories leaves small listings going", () => {
    const work = { reads: 0, open: 0 };
    const cursors = new DirectoryCursors<Entry>();
    const far = 40 * READS_PER_REQUEST;
    const hog = Array.from({ length: MAX_CURSORS }, (_, i) => directory(`h${i}`, 100 * READS_PER_REQUEST, work));
    const small = lister(cursors, "small", 100, 1000, work);
    for (let turn = 0; turn < 50 && !small.done; turn++) {
      for (let i = 0; i < MAX_CURSORS; i++) cursors.list(`h${i}`, far, hog[i]!, () => true);
      small.step();
    }
    expect(small.done).toBe(true);
    expect(small.seen.length).toBe(100);
    expect(work.open).toBeLessThanOrEqual(MAX_CURSORS);
  });
});

describe("a listing's positions", () => {
  it("are served by the stream opened for that listing, not an older one of the directory as it was before", () => {
    let names = ["b", "c", "d"];
    const open = (): DirectoryStream<Entry> => {
      const now = names.map((name) => ({ name }));
      let at = 0;
      return {
        read: (most: number) => {
          const out = now.slice(at, at + most);
          at += out.length;
          return out;
        },
        close() {},
      };
    };
    const cursors = new DirectoryCursors<Entry>();
    const one = (position: number): string[] => {
      const got: string[] = [];
      cursors.list("dir", position, open, (entry) => (got.length === 1 ? false : (got.push(entry.name), true)));
      return got;
    };
    // Another program's listing, one entry a request, opened before "a" was made.
    expect(one(0)).toEqual(["b"]);
    names = ["a", "b", "c", "d"];
    // A listing opened after: each entry once, in order, though the older stream is still open.
    const seen: string[] = [];
    for (let position = 0; position < 5; position++) seen.push(...one(position));
    expect(seen).toEqual(["a", "b", "c", "d"]);
  });
});
