// The WASI personality's file client (src/personality/wasi/file-server.ts) talking to a file server
// that lies, over a fake kernel that keeps a capability table and a flat memory: a server's words
// say where a map, a read buffer or the Region it gives back lies, and before redteam8 the
// personality read there whatever it was. A lying server could so have a program's reads answer
// the program's own memory (its secrets, and the buffers it moved to other servers) as file data,
// for the program to write back to it. Each case fails without its check.
import { describe, expect, it } from "vitest";
import { CAP_MOVE, ObjectKind, Rights } from "../../src/kernel/caps/object-abi.ts";
import { Status } from "../../src/kernel/errors.ts";
import type { DeliveredMessage } from "../../src/kernel/message.ts";
import type { Process } from "../../src/kernel/process.ts";
import type { KernelServices } from "../../src/kernel/services.ts";
import { FileServerClient } from "../../src/personality/wasi/file-server.ts";
import { MAP_MISS } from "../../src/personality/wasi/file-map.ts";
import { Fs, FsMore } from "../../src/personality/wasi/protocol.ts";

const PAGE = 4096;
const FS_MAP = 20;
const MAGIC = 0x50414d46;
/** The program's secret, in its own memory. */
const SECRET_AT = 0x2000;
const SECRET = new TextEncoder().encode("the program's secret key");

type Cap = { kind: "receiver"; server: string } | { kind: "region"; id: number; address: number; pages: number; owner: boolean };
interface Reply {
  label?: number;
  words?: number[];
  caps?: Cap[];
}
type Server = (label: number, words: readonly number[], brought: Cap[], k: FakeKernel) => Reply;

/** A process's table and memory as the personality sees them through KernelServices. */
class FakeKernel {
  readonly memory = new Uint8Array(1 << 24);
  readonly table = new Map<number, Cap>();
  readonly labels: Array<[string, number]> = [];
  private nextSlot = 10;
  private nextAddress = 0x100000;
  private nextId = 1;
  private readonly servers: Record<string, Server>;
  constructor(servers: Record<string, Server>) {
    this.servers = servers;
  }

  install(cap: Cap): number {
    const slot = this.nextSlot++;
    this.table.set(slot, cap);
    return slot;
  }

  /** A Region of `pages` made somewhere (a server's own); owned when the process holds it. */
  region(pages: number, owner: boolean): Cap & { kind: "region" } {
    const made = { kind: "region" as const, id: this.nextId++, address: this.nextAddress, pages, owner };
    this.nextAddress += (pages + 1) * PAGE;
    return made;
  }

  services(): KernelServices {
    const inMemory = (address: number, length: number) => address >= 0 && length >= 0 && address + length <= this.memory.length;
    const services: Partial<KernelServices> = {
      readMemory: (_p, address, length) => (inMemory(address, length) ? this.memory.slice(address, address + length) : null),
      readInto: (_p, address, into, length = into.length) => {
        if (!inMemory(address, length)) return false;
        into.set(this.memory.subarray(address, address + length));
        return true;
      },
      writeMemory: (_p, address, data) => {
        if (!inMemory(address, data.length)) return false;
        this.memory.set(data, address);
        return true;
      },
      copyWithin: (_p, to, from, length) => {
        if (!inMemory(to, length) || !inMemory(from, length)) return false;
        this.memory.copyWithin(to, from, from + length);
        return true;
      },
      createRegionFor: (_p, _memory, pages) => {
        const region = this.region(pages, true);
        return { slot: this.install(region), address: region.address };
      },
      viewFor: (_p, owner) => {
        const cap = this.table.get(owner);
        return cap?.kind === "region" ? this.install({ ...cap, owner: false }) : Status.E_WRONG_TYPE;
      },
      dropCapability: (_p, slot) => void this.table.delete(slot),
      capabilityKind: (_p, slot, rights) => {
        const cap = this.table.get(slot);
        if (!cap) return null;
        if (cap.kind === "receiver") return ObjectKind.RECEIVER;
        return (rights & Rights.REGION_OWNER) !== 0 && !cap.owner ? null : ObjectKind.REGION;
      },
      regionAt: (_p, slot) => {
        const cap = this.table.get(slot);
        return cap?.kind === "region" ? { address: cap.address, pages: cap.pages, owned: cap.owner } : Status.E_WRONG_TYPE;
      },
      callFor: (_p, slot, label, words, caps = []) => {
        const through = this.table.get(slot);
        if (through?.kind !== "receiver") return Promise.resolve(Status.E_INVALID_CAP);
        const brought = caps.map((word) => {
          const at = word & ~CAP_MOVE;
          const cap = this.table.get(at)!;
          if (word & CAP_MOVE) this.table.delete(at);
          return cap;
        });
        this.labels.push([through.server, label]);
        const reply = this.servers[through.server]!(label, words, brought, this);
        const message: DeliveredMessage = { label: reply.label ?? 0, words: reply.words ?? [], caps: (reply.caps ?? []).map((cap) => this.install(cap)), badge: 0 };
        return Promise.resolve(message);
      },
    };
    return services as KernelServices;
  }
}

const process = {} as Process;

/** A client of `servers` with a file of server "evil" open, and the program's secret in its memory. */
function client(evil: Server) {
  const k = new FakeKernel({ evil });
  k.memory.set(SECRET, SECRET_AT);
  const services = k.services();
  const server = new FileServerClient(services, process, 7);
  const file = k.install({ kind: "receiver", server: "evil" });
  return { k, server, file };
}

/** A client of two servers, each with a directory (a preopen) and a file opened under it. */
async function twoServers(servers: Record<string, Server>) {
  const k = new FakeKernel(servers);
  const services = k.services();
  const server = new FileServerClient(services, process, 7);
  const files: Record<string, number> = {};
  for (const name of Object.keys(servers)) {
    const dir = k.install({ kind: "receiver", server: name });
    const opened = await server.open(dir, new TextEncoder().encode("f"), 0);
    files[name] = typeof opened === "number" ? opened : opened.slot;
  }
  return { k, server, files };
}

/** A map's header page (and `pages` data pages) in a Region of the server's: magic, an even sequence, `size`, every page valid. */
function mapRegion(k: FakeKernel, regionPages: number, size: number): Cap & { kind: "region" } {
  const region = k.region(regionPages, false);
  const view = new DataView(k.memory.buffer);
  view.setUint32(region.address, MAGIC, true);
  view.setUint32(region.address + 4, 2, true);
  view.setBigUint64(region.address + 8, BigInt(size), true);
  k.memory.fill(0xff, region.address + 64, region.address + 64 + 512);
  return region;
}

/** Four small reads through the server: the fourth maps the file (MAP_AFTER_READS). */
async function readFourTimes(server: FileServerClient, file: number): Promise<void> {
  for (let i = 0; i < 4; i++) expect(await server.read(file, 0n, 16)).toBeInstanceOf(Uint8Array);
}

const smallRead = (words: readonly number[]): Reply => ({ words: [Math.min(16, words[2] ?? 0), 0, 0, 0, 0] });

describe("the WASI personality's file client against a lying server", () => {
  it("takes a map only where its Region lies: one that points at the program's own memory reads no secret", async () => {
    const { k, server, file } = client((label, words, _brought, k) => {
      if (label === FS_MAP && words[0] === 1) return {}; // FS_MAP_RELEASE
      if (label === FS_MAP) {
        // A view of a Region of its own, and the program's memory as the map's address: the
        // header there is the secret, so it is the program's bytes a mapped read would copy.
        const view = new DataView(k.memory.buffer);
        view.setUint32(SECRET_AT - PAGE, MAGIC, true);
        view.setBigUint64(SECRET_AT - PAGE + 8, 1n << 20n, true);
        k.memory.fill(0xff, SECRET_AT - PAGE + 64, SECRET_AT - PAGE + 128);
        return { words: [16, SECRET_AT - PAGE], caps: [k.region(17, false)] };
      }
      if (label === Fs.READ) return smallRead(words);
      return {};
    });
    await readFourTimes(server, file);
    expect(server.mapCount).toBe(0);
    expect(server.readMapped(file, 0n, SECRET.length, [[0x8000, SECRET.length]])).toBe(MAP_MISS);
    expect(k.memory.subarray(0x8000, 0x8000 + SECRET.length)).not.toEqual(SECRET);
    // The refused map is let go of at the server, and its view dropped.
    expect(k.labels.filter(([, label]) => label === FS_MAP)).toHaveLength(2);
    expect([...k.table.values()].filter((cap) => cap.kind === "region" && !cap.owner)).toEqual([]);
  });

  it("refuses a map whose header names more pages than its Region holds", async () => {
    const { server, file } = client((label, words, _brought, k) => {
      if (label === FS_MAP) {
        const region = mapRegion(k, 1, 8 * PAGE);
        return { words: [8, region.address], caps: [region] };
      }
      if (label === Fs.READ) return smallRead(words);
      return {};
    });
    await readFourTimes(server, file);
    expect(server.mapCount).toBe(0);
  });

  it("takes a map that is what it says (the check refuses nothing a true server gives)", async () => {
    const { k, server, file } = client((label, words, _brought, k) => {
      if (label === FS_MAP) {
        const region = mapRegion(k, 9, 8 * PAGE);
        k.memory.fill(0x5a, region.address + PAGE, region.address + 9 * PAGE);
        return { words: [8, region.address], caps: [region] };
      }
      if (label === Fs.READ) return smallRead(words);
      return {};
    });
    await readFourTimes(server, file);
    expect(server.mapCount).toBe(1);
    expect(server.readMapped(file, 100n, 300, [[0x8000, 300]])).toBe(300);
    expect(k.memory[0x8000 + 299]).toBe(0x5a);
  });

  it("refuses an attached read buffer that is not where the server says, or smaller: the read goes through the Region", async () => {
    for (const lie of ["the program's memory", "one page said to be sixteen"]) {
      const { k, server, file } = client((label, words, brought, k) => {
        if (label === FsMore.ATTACH) {
          const buffer = k.region(1, false);
          const handle: Cap = { kind: "receiver", server: "evil" };
          return lie === "the program's memory" ? { words: [PAGE, PAGE, SECRET_AT], caps: [handle, buffer] } : { words: [16 * PAGE, 16 * PAGE, buffer.address], caps: [handle, buffer] };
        }
        if (label === Fs.READ) return { words: [Math.min(PAGE, words[2] ?? 0)], caps: brought };
        return {};
      });
      const read = await server.readInPlace(file, 0n, lie === "the program's memory" ? 1024 : 16 * PAGE);
      expect(typeof read, lie).toBe("object");
      const { at } = read as { at: number };
      expect(at, lie).not.toBe(SECRET_AT);
      // It read through the transfer Region, the process's own: the attached handle was closed.
      expect([...k.table.values()].some((cap) => cap.kind === "region" && cap.owner && cap.address === at), lie).toBe(true);
      expect(k.labels.filter(([, label]) => label === Fs.CLOSE), lie).toHaveLength(1);
    }
  });

  it("lends a server only buffers no other server was lent: what moves to one never lies where another may look", async () => {
    // Each server notes the Regions it was brought (moved, or a view to keep): a hostile one can
    // keep a view of any of them (REGION_VIEW while it holds the owner) and read them later.
    const seen: Record<string, Set<number>> = { evil: new Set(), good: new Set() };
    const serve =
      (name: string): Server =>
      (label, words, brought, k) => {
        for (const cap of brought) if (cap.kind === "region") seen[name]!.add(cap.address);
        if (label === Fs.OPEN) return { words: [1, 0, 0, 7], caps: [{ kind: "receiver", server: name }, ...brought] };
        if (label === FsMore.ATTACH) {
          const buffer = k.region(16, false);
          return { words: [16 * PAGE, brought.length > 0 ? 16 * PAGE : 0, buffer.address], caps: [{ kind: "receiver", server: name }, buffer] };
        }
        if (label === Fs.READ || label === Fs.WRITE) return { words: [words[2] ?? 0], caps: brought };
        return {};
      };
    const { server, files } = await twoServers({ evil: serve("evil"), good: serve("good") });
    for (const name of ["evil", "good"]) {
      const file = files[name]!;
      expect(await server.read(file, 0n, 4096)).toBeInstanceOf(Uint8Array); // the attached handle's buffer
      expect(await server.read(file, 0n, 100 * PAGE)).toBeInstanceOf(Uint8Array); // a moved Region
      expect(await server.write(file, 0n, new Uint8Array(1000), false)).toEqual({ written: 1000, size: null }); // the attach buffer
      expect(await server.write(file, 0n, new Uint8Array(100 * PAGE), false)).toEqual({ written: 100 * PAGE, size: null });
    }
    expect(seen.evil!.size).toBeGreaterThanOrEqual(2);
    expect([...seen.good!].filter((address) => seen.evil!.has(address))).toEqual([]);
  });

  it("fails a READ whose server keeps the process's Region and gives back one of its own with E_BAD_MESSAGE, and makes a new one", async () => {
    const kept: Cap[] = [];
    const given: number[] = [];
    const { k, server, file } = client((label, _words, brought, k) => {
      if (label !== Fs.READ) return {};
      kept.push(brought[0]!);
      const other = k.region(1, true);
      given.push(other.address);
      return { words: [PAGE], caps: [other] };
    });
    expect(await server.read(file, 0n, 1000)).toBe(Status.E_BAD_MESSAGE);
    // The server's Region is not kept, and the next call moves a new Region of the process's.
    expect([...k.table.values()].some((cap) => cap.kind === "region" && given.includes(cap.address))).toBe(false);
    expect(await server.read(file, 0n, 1000)).toBe(Status.E_BAD_MESSAGE);
    expect(kept).toHaveLength(2);
    expect(kept[1]).not.toBe(kept[0]);
  });
});

describe("STAT_AT and READLINK_AT: a path's stat or link in one call", () => {
  const name = new TextEncoder().encode("sub/x");
  const stat15 = [1, 5, 0, 0, 0, 0, 0, 42, 0, 1, 0, 0, 0, 0, 1];

  it("asks a server that has them once a path, and one that has not once at all", async () => {
    const k = new FakeKernel({
      folder: (label) => (label === FsMore.STAT_AT ? { words: stat15 } : label === FsMore.READLINK_AT ? { words: [3, 5, 0x6c6c6568, 0x6f] } : { label: 11 }),
      disk: () => ({ label: 11 }), // E_INVALID_ARGUMENT: no such request
    });
    const server = new FileServerClient(k.services(), process, 7);
    const folder = k.install({ kind: "receiver", server: "folder" });
    const disk = k.install({ kind: "receiver", server: "disk" });
    expect(await server.statAt(folder, name, true)).toMatchObject({ kind: 1, size: 5n, inode: 42 });
    expect(await server.readlinkAt(folder, name)).toEqual({ kind: 3, contents: new TextEncoder().encode("hello") });
    expect(k.labels).toEqual([["folder", FsMore.STAT_AT], ["folder", FsMore.READLINK_AT]]);
    expect(await server.statAt(disk, name, false)).toBeNull();
    expect(await server.statAt(disk, name, false)).toBeNull();
    expect(await server.readlinkAt(disk, name)).toBeNull();
    expect(k.labels.filter(([s]) => s === "disk")).toHaveLength(1);
  });

  it("refuses a READLINK_AT whose length is more than it carries, or than a reply may: E_BAD_MESSAGE", async () => {
    for (const words of [[3, 200, 0x41414141], [3, 100_000, ...new Array<number>(60).fill(0)]]) {
      const k = new FakeKernel({ evil: () => ({ words }) });
      const server = new FileServerClient(k.services(), process, 7);
      expect(await server.readlinkAt(k.install({ kind: "receiver", server: "evil" }), name)).toBe(Status.E_BAD_MESSAGE);
    }
  });
});
