import { describe, expect, it } from "vitest";
import type { DirectoryDescriptor } from "../../src/personality/wasi/descriptors.ts";
import { Errno } from "../../src/personality/wasi/errno.ts";
import { fdReaddir } from "../../src/personality/wasi/fd-calls.ts";
import type { ServerListing } from "../../src/personality/wasi/file-server.ts";
import type { WasiProcess } from "../../src/personality/wasi/wasi-process.ts";

/**
 * fd_readdir against a directory of many entries, with the personality's collaborators stood in
 * for (a server answering READDIR batches as the file system does: a cookie per slot, slots left
 * free between names; the process's memory a plain buffer).
 *
 * Redteam5: the personality kept every entry it had listed on the descriptor (a JavaScript object
 * per name) until the next cookie 0, charged to nobody: a program holding 1024 descriptors of a big
 * directory, each listed to the end, made the host hold gigabytes (a folder of 20,000 names listed
 * through 1024 fds: ~4 GB), past Node's heap and the whole machine down.
 */
const NAMES = 20_000;
const BATCH = 700;
const BUFFER = 4096;
const encoder = new TextEncoder();

function standIns() {
  const names = Array.from({ length: NAMES }, (_, i) => `entry-${i.toString().padStart(5, "0")}`);
  // Slot i * 2 holds name i (odd slots free, as removed names leave them).
  const list = async (_dir: number, cookie: number): Promise<ServerListing> => {
    const first = Math.ceil(cookie / 2);
    const entries = names.slice(first, first + BATCH).map((name, i) => ({ inode: 100 + first + i, kind: 1, name: encoder.encode(name) }));
    return { entries, next: (first + entries.length) * 2 };
  };
  const guest = new Uint8Array(BUFFER + 8);
  const dir: DirectoryDescriptor = {
    kind: "directory", slot: 5, device: 1, preopen: null, origin: null, rightsBase: 0xffff_ffffn, rightsInheriting: 0n, flags: 0, writable: true,
  } as unknown as DirectoryDescriptor;
  const w = {
    process: {},
    directory: async () => dir,
    server: {
      list,
      stat: async () => ({ inode: 7 }),
      open: async () => ({ slot: 6, inode: 3 }),
      close: async () => 0,
    },
    memory: {
      write: (_p: unknown, address: number, bytes: Uint8Array) => {
        if (address + bytes.length > BUFFER) return false;
        guest.set(bytes, address);
        return true;
      },
      putU32: (_p: unknown, address: number, value: number) => {
        new DataView(guest.buffer).setUint32(address, value, true);
        return true;
      },
    },
  } as unknown as WasiProcess;
  return { w, dir, guest, names };
}

/** The whole entries in `used` bytes of dirents: name and d_next each. */
function parse(guest: Uint8Array, used: number): { name: string; next: bigint }[] {
  const view = new DataView(guest.buffer);
  const out: { name: string; next: bigint }[] = [];
  for (let at = 0; at + 24 <= used; ) {
    const length = view.getUint32(at + 16, true);
    if (at + 24 + length > used) break;
    out.push({ name: new TextDecoder().decode(guest.subarray(at + 24, at + 24 + length)), next: view.getBigUint64(at, true) });
    at += 24 + length;
  }
  return out;
}

describe("fd_readdir over a big directory", () => {
  it("lists every entry once, in order, resuming from each d_next, and keeps nothing per entry on the descriptor", async () => {
    const { w, dir, guest, names } = standIns();
    const seen: string[] = [];
    let cookie = 0n;
    for (let calls = 0; calls < 10_000; calls++) {
      expect(await fdReaddir(w, 3, 0, BUFFER, cookie, BUFFER + 4)).toBe(Errno.SUCCESS);
      const used = new DataView(guest.buffer).getUint32(BUFFER + 4, true);
      const entries = parse(guest, used);
      seen.push(...entries.map((e) => e.name));
      if (used < BUFFER) break;
      cookie = entries.at(-1)!.next;
    }
    expect(seen).toEqual([".", "..", ...names]);
    // What the descriptor holds once listed to the end, the fd still open: a few hundred bytes, not the directory.
    const kept = JSON.stringify(dir, (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value instanceof Uint8Array ? Array.from(value) : value));
    expect(kept.length).toBeLessThan(4096);
  });

  it("answers a cookie it never gave with nothing, and a buffer too small for one entry with part of it", async () => {
    const { w, guest } = standIns();
    expect(await fdReaddir(w, 3, 0, BUFFER, 1n << 62n, BUFFER + 4)).toBe(Errno.SUCCESS);
    expect(new DataView(guest.buffer).getUint32(BUFFER + 4, true)).toBe(0);
    expect(await fdReaddir(w, 3, 0, 10, 0n, BUFFER + 4)).toBe(Errno.SUCCESS);
    expect(new DataView(guest.buffer).getUint32(BUFFER + 4, true)).toBe(10);
  });
});
