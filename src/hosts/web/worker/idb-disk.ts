import type { BlockBackend } from "../../../machine/devices/block-backend.ts";

const DATABASE = "dogma-disk";
const STORE = "chunks";
/** The disk is kept as chunks of this many bytes, each a record. */
const CHUNK_BYTES = 64 << 10;
/** The record that holds the disk's size (chunks never written have no record). */
const SIZE_RECORD = -1;

/**
 * The disk in IndexedDB, for a browser without OPFS: whole chunks as records, a copy of the disk
 * in memory for reads. A write puts the chunks it touches in a transaction of its own, and
 * transactions on the store commit in the order they were made, so the disk on storage is always
 * the disk as of some write; flush waits (durability "strict") until every write before it has
 * committed. So, as with a file, a reload keeps what was flushed and possibly some writes after it.
 */
export class IdbDisk implements BlockBackend {
  private readonly database: IDBDatabase;
  private bytes: Uint8Array;
  private readonly writing = new Set<Promise<void>>();

  private constructor(database: IDBDatabase, bytes: Uint8Array) {
    this.database = database;
    this.bytes = bytes;
  }

  static async open(size: number): Promise<{ disk: IdbDisk; fresh: boolean }> {
    const database = await openDatabase();
    const records = await request<Array<{ index: number; data: Uint8Array; size?: number }>>(database.transaction(STORE).objectStore(STORE).getAll());
    const sizeRecord = records.find((r) => r.index === SIZE_RECORD);
    const fresh = sizeRecord === undefined;
    const bytes = new Uint8Array(sizeRecord?.size ?? size);
    for (const record of records) if (record.index >= 0) bytes.set(record.data.subarray(0, Math.max(0, bytes.length - record.index * CHUNK_BYTES)), record.index * CHUNK_BYTES);
    const disk = new IdbDisk(database, bytes);
    if (fresh) await disk.putSize();
    return { disk, fresh };
  }

  get size(): number {
    return this.bytes.length;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    return this.bytes.slice(offset, offset + length);
  }

  /** `write` copies into memory at once (IndexedDB is written from there). */
  readonly takesWritesAtOnce = true;

  write(offset: number, data: Uint8Array): Promise<void> {
    this.bytes.set(data, offset);
    const first = Math.floor(offset / CHUNK_BYTES);
    const last = Math.floor((offset + Math.max(1, data.length) - 1) / CHUNK_BYTES);
    return this.track(this.putChunks(first, last));
  }

  async flush(): Promise<void> {
    await Promise.allSettled([...this.writing]);
  }

  /** Replaces the whole disk with `bytes` (an uploaded image), committed before it returns. */
  async replace(bytes: Uint8Array): Promise<void> {
    await this.flush();
    await request(this.database.transaction(STORE, "readwrite").objectStore(STORE).clear());
    this.bytes = bytes.slice();
    await this.putSize();
    await this.putChunks(0, Math.ceil(this.bytes.length / CHUNK_BYTES) - 1);
  }

  readAll(): Uint8Array {
    return this.bytes.slice();
  }

  close(): void {
    this.database.close();
  }

  private async putSize(): Promise<void> {
    await request(this.database.transaction(STORE, "readwrite", { durability: "strict" }).objectStore(STORE).put({ index: SIZE_RECORD, data: new Uint8Array(0), size: this.bytes.length }));
  }

  private putChunks(first: number, last: number): Promise<void> {
    const transaction = this.database.transaction(STORE, "readwrite", { durability: "strict" });
    const store = transaction.objectStore(STORE);
    for (let index = first; index <= last; index++) {
      store.put({ index, data: this.bytes.slice(index * CHUNK_BYTES, (index + 1) * CHUNK_BYTES) });
    }
    return new Promise((resolve, reject) => {
      transaction.oncomplete = () => resolve();
      transaction.onerror = transaction.onabort = () => reject(transaction.error ?? new Error("the disk's IndexedDB transaction was aborted"));
    });
  }

  private track(done: Promise<void>): Promise<void> {
    this.writing.add(done);
    const forget = () => void this.writing.delete(done);
    done.then(forget, forget);
    return done;
  }
}

function openDatabase(): Promise<IDBDatabase> {
  const opening = indexedDB.open(DATABASE, 1);
  opening.onupgradeneeded = () => opening.result.createObjectStore(STORE, { keyPath: "index" });
  return request(opening);
}

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error("an IndexedDB request failed"));
  });
}
