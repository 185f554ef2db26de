import { Errno } from "./errno.ts";

/** WASI filetypes. */
export const FileType = {
  UNKNOWN: 0,
  BLOCK_DEVICE: 1,
  CHARACTER_DEVICE: 2,
  DIRECTORY: 3,
  REGULAR_FILE: 4,
  SOCKET_DGRAM: 5,
  SOCKET_STREAM: 6,
  SYMBOLIC_LINK: 7,
} as const;

/** fdflags. */
export const FdFlag = { APPEND: 1, DSYNC: 2, NONBLOCK: 4, RSYNC: 8, SYNC: 16 } as const;
export const ALL_FDFLAGS = 31;

interface Common {
  rightsBase: bigint;
  rightsInheriting: bigint;
  flags: number;
}

/**
 * Where a file or directory was opened from: the handle of the preopen it descends from and the
 * path below it (worked out by name: "." and ".." taken off). Two directories under one preopen
 * can so rename and link between them through the preopen's handle, the servers' RENAME and LINK
 * working within one handle.
 */
export interface Origin {
  readonly root: number;
  readonly path: readonly string[];
}

/** fd 0, 1 or 2: a stream capability at `slot` (null: the boot console). */
export interface StreamDescriptor extends Common {
  readonly kind: "stream";
  readonly stream: 0 | 1 | 2;
  readonly slot: number | null;
  /** Its filetype, once asked (streams.ts: the console, a pipe or a file). */
  type: number | null;
}

/** A regular file (or what else a server opened that is not a directory), at its server's handle `slot`. */
export interface FileDescriptor extends Common {
  readonly kind: "file";
  readonly slot: number;
  readonly device: number;
  /** Its filetype: a regular file, or what else a server opened that is not a directory. */
  readonly type: number;
  offset: bigint;
}

/** A directory at its server's handle `slot`; a preopen carries its name. */
export interface DirectoryDescriptor extends Common {
  readonly kind: "directory";
  readonly slot: number;
  readonly device: number;
  readonly preopen: Uint8Array | null;
  readonly origin: Origin | null;
  /** The server handle's own rights, once known (STAT): whether it may change the directory. */
  writable: boolean | null;
}

export type Descriptor = StreamDescriptor | FileDescriptor | DirectoryDescriptor;

/** fds are numbers below this (an fd past it is EBADF, never a lookup of a huge table). */
export const MAX_FDS = 1024;

/**
 * A process's descriptor table: fd → what it is, its rights and flags. New fds take the lowest
 * free number, as POSIX's do. The table only keeps state; what a descriptor holds (a server
 * handle) is closed by whoever removes it.
 */
export class DescriptorTable {
  private readonly entries = new Map<number, Descriptor>();

  get(fd: number): Descriptor | undefined {
    return Number.isInteger(fd) && fd >= 0 && fd < MAX_FDS ? this.entries.get(fd) : undefined;
  }

  set(fd: number, descriptor: Descriptor): void {
    this.entries.set(fd, descriptor);
  }

  /** Puts `descriptor` at the lowest free fd: the fd, or -EMFILE. */
  add(descriptor: Descriptor): number {
    for (let fd = 0; fd < MAX_FDS; fd++) {
      if (!this.entries.has(fd)) {
        this.entries.set(fd, descriptor);
        return fd;
      }
    }
    return -Errno.MFILE;
  }

  remove(fd: number): Descriptor | undefined {
    const found = this.get(fd);
    if (found) this.entries.delete(fd);
    return found;
  }

  /** Every open descriptor (for what a process holds when it ends). */
  all(): IterableIterator<[number, Descriptor]> {
    return this.entries.entries();
  }
}
