import { type BlockBackend, MemoryBlockBackend } from "../../../machine/devices/block-backend.ts";
import type { DiskStore } from "../protocol.ts";
import { IdbDisk } from "./idb-disk.ts";
import { OpfsDisk } from "./opfs-disk.ts";

/** The machine's disk in this browser, whichever store holds it. */
export interface BrowserDisk {
  readonly store: DiskStore;
  readonly backend: BlockBackend;
  /** It was created just now (a first visit, or storage cleared). */
  readonly fresh: boolean;
  /** Why the store is not the one asked for, if it is not. */
  readonly note: string | null;
  replace(bytes: Uint8Array): Promise<void>;
  readAll(): Uint8Array;
  close(): void;
}

/**
 * Opens the disk in `store`: OPFS by default, IndexedDB where OPFS (or its synchronous handles) is
 * missing, memory when asked (a disk lost on reload, for tests of a blank machine).
 */
export async function openDisk(store: DiskStore, size: number): Promise<BrowserDisk> {
  if (store === "opfs") {
    if (typeof navigator.storage?.getDirectory === "function" && "createSyncAccessHandle" in FileSystemFileHandle.prototype) {
      const { disk, fresh } = await OpfsDisk.open(size);
      return { store, backend: disk, fresh, note: null, replace: async (bytes) => disk.replace(bytes), readAll: () => disk.readAll(), close: () => disk.close() };
    }
    const fallback = await openDisk("idb", size);
    return { ...fallback, note: "this browser has no Origin Private File System with synchronous access in workers: the disk is kept in IndexedDB" };
  }
  if (store === "idb") {
    const { disk, fresh } = await IdbDisk.open(size);
    return { store, backend: disk, fresh, note: null, replace: (bytes) => disk.replace(bytes), readAll: () => disk.readAll(), close: () => disk.close() };
  }
  const memory = new MemoryBlockBackend(size);
  return {
    store,
    backend: memory,
    fresh: true,
    note: "the disk is in memory only: a reload loses it",
    replace: async (bytes) => void memory.bytes.set(bytes.subarray(0, memory.bytes.length)),
    readAll: () => memory.bytes.slice(),
    close: () => {},
  };
}
