import type { DirectoryStream } from "../../../machine/devices/directory-cursors.ts";
import { type ShareBackend, type ShareEntry, ShareError, type ShareStat } from "../../../machine/devices/share-backend.ts";
import type { GivenEntry } from "../protocol.ts";

type Node = File | FileSystemDirectoryHandle | FileSystemFileHandle;

/**
 * What the user gave the page, read-only, as the host share's backend (/host): each picked or
 * dropped folder is /host/NAME/, each dropped file /host/NAME; something given again under the
 * same name replaces what was there. The File System Access API has no symlinks and no "..", so
 * nothing here leads outside what was given.
 */
export class GivenFilesShare implements ShareBackend {
  private readonly given = new Map<string, File | FileSystemDirectoryHandle>();
  /** When the share's root last changed (its modification time). */
  private changedMs = Date.now();

  give(entries: readonly GivenEntry[]): void {
    for (const entry of entries) this.given.set(entry.name, "file" in entry ? entry.file : entry.directory);
    this.changedMs = Date.now();
  }

  get names(): string[] {
    return [...this.given.keys()];
  }

  async stat(path: readonly string[]): Promise<ShareStat> {
    const node = await this.find(path);
    if (node === null) return { kind: "directory", size: 0, modifiedNs: BigInt(this.changedMs) * 1_000_000n };
    if (node instanceof File) return fileStat(node);
    if (node.kind === "file") return fileStat(await failing(node.getFile()));
    return { kind: "directory", size: 0, modifiedNs: 0n };
  }

  /** The folder's entries as a stream the device reads a piece at a time (the given names at the root). */
  async openDirectory(path: readonly string[]): Promise<DirectoryStream<ShareEntry>> {
    const node = await this.find(path);
    let entries: AsyncIterator<[string, FileSystemHandle | File]>;
    if (node === null) entries = fromList([...this.given]);
    else if (node instanceof File || node.kind === "file") throw new ShareError("not-directory", `${path.join("/")} is a file`);
    else entries = directoryEntries(node)[Symbol.asyncIterator]();
    return {
      read: async (most: number): Promise<ShareEntry[]> => {
        const out: ShareEntry[] = [];
        while (out.length < most) {
          const next = await failing(entries.next());
          if (next.done === true) break;
          const [name, handle] = next.value;
          out.push({ name, kind: handle instanceof File || handle.kind === "file" ? "file" : "directory" });
        }
        return out;
      },
      close: () => void entries.return?.().catch(() => undefined),
    };
  }

  async read(path: readonly string[], offset: number, length: number): Promise<Uint8Array> {
    const node = await this.find(path);
    if (node === null || (!(node instanceof File) && node.kind === "directory")) throw new ShareError("is-directory", `${path.join("/") || "/"} is a folder`);
    const file = node instanceof File ? node : await failing(node.getFile());
    return new Uint8Array(await failing(file.slice(offset, offset + length).arrayBuffer()));
  }

  /** The node at `path`, or null for the root. */
  private async find(path: readonly string[]): Promise<Node | null> {
    if (path.length === 0) return null;
    const [first, ...rest] = path;
    let node: Node | undefined = this.given.get(first!);
    if (!node) throw new ShareError("not-found", `nothing named ${first} was given to the page`);
    for (const [i, name] of rest.entries()) {
      if (node instanceof File || node.kind === "file") throw new ShareError("not-directory", `${path.slice(0, i + 1).join("/")} is a file`);
      node = await childOf(node, name, path.slice(0, i + 2).join("/"));
    }
    return node;
  }
}

async function childOf(directory: FileSystemDirectoryHandle, name: string, shown: string): Promise<FileSystemDirectoryHandle | FileSystemFileHandle> {
  try {
    return await directory.getFileHandle(name);
  } catch (error) {
    if ((error as DOMException).name !== "TypeMismatchError" && (error as DOMException).name !== "NotFoundError") throw shareError(error, shown);
  }
  try {
    return await directory.getDirectoryHandle(name);
  } catch (error) {
    throw shareError(error, shown);
  }
}

function fileStat(file: File): ShareStat {
  return { kind: "file", size: file.size, modifiedNs: BigInt(file.lastModified) * 1_000_000n };
}

async function* fromList<T>(items: readonly T[]): AsyncGenerator<T> {
  yield* items;
}

/** A folder's entries: FileSystemDirectoryHandle is async-iterable in browsers; lib.dom lacks the typing. */
function directoryEntries(directory: FileSystemDirectoryHandle): AsyncIterable<[string, FileSystemHandle]> {
  return (directory as unknown as { entries(): AsyncIterable<[string, FileSystemHandle]> }).entries();
}

async function failing<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (error) {
    throw shareError(error, "");
  }
}

/** A DOMException of the File System Access API as the ShareError a driver gets a status for. */
function shareError(error: unknown, shown: string): ShareError {
  if (error instanceof ShareError) return error;
  const name = (error as DOMException).name;
  const what = `${shown ? `${shown}: ` : ""}${(error as Error).message}`;
  if (name === "NotFoundError") return new ShareError("not-found", what);
  if (name === "TypeMismatchError") return new ShareError("not-directory", what);
  if (name === "NotAllowedError" || name === "SecurityError") return new ShareError("denied", what);
  return new ShareError("io", what);
}
