import { ObjectKind, Rights } from "../../kernel/caps/object-abi.ts";
import type { Process } from "../../kernel/process.ts";
import type { KernelServices } from "../../kernel/services.ts";
import { type Descriptor, DescriptorTable, type DirectoryDescriptor, type FileDescriptor, type StreamDescriptor } from "./descriptors.ts";
import { Errno } from "./errno.ts";
import { FileServerClient } from "./file-server.ts";
import { GuestMemory } from "./guest-memory.ts";
import { wasiConfigOf } from "./preopens.ts";
import { DIRECTORY_CHANGING_RIGHTS, DIRECTORY_RIGHTS, INHERITABLE_RIGHTS, FILE_CHANGING_RIGHTS, STREAM_IN_RIGHTS, STREAM_OUT_RIGHTS, has } from "./rights.ts";
import { FsRight } from "./protocol.ts";
import { streamSlot } from "./streams.ts";

const encoder = new TextEncoder();

/**
 * One WASI process's state: its descriptor table, the client that speaks to file servers for it,
 * and bytes a poll took from a stream before the program read them. Made at the process's first
 * WASI call from what its capability table holds (preopens.ts says where).
 */
export class WasiProcess {
  readonly table = new DescriptorTable();
  readonly server: FileServerClient;
  readonly k: KernelServices;
  readonly process: Process;
  readonly memory: GuestMemory;
  /** Bytes read from a standard stream by poll_oneoff and not yet by fd_read, per fd. */
  readonly pending = new Map<number, Uint8Array>();

  constructor(k: KernelServices, process: Process, memory: GuestMemory) {
    this.k = k;
    this.process = process;
    this.memory = memory;
    const config = wasiConfigOf(process);
    this.server = new FileServerClient(k, process, config.memorySlot);
    for (const fd of [0, 1, 2] as const) {
      const slot = streamSlot(k, process, config.streams, fd);
      this.table.set(fd, { kind: "stream", stream: fd, slot, type: null, rightsBase: fd === 0 ? STREAM_IN_RIGHTS : STREAM_OUT_RIGHTS, rightsInheriting: 0n, flags: 0 });
    }
    let device = 1;
    for (const preopen of config.preopens) {
      if (k.capabilityKind(process, preopen.slot, Rights.RECEIVER_CALL) !== ObjectKind.RECEIVER) continue;
      this.table.add({
        kind: "directory",
        slot: preopen.slot,
        device: device++,
        preopen: encoder.encode(preopen.name),
        origin: { root: preopen.slot, path: [] },
        rightsBase: DIRECTORY_RIGHTS,
        rightsInheriting: INHERITABLE_RIGHTS,
        flags: 0,
        writable: null,
      });
    }
  }

  /** The descriptor at `fd` if it holds `rights`: else EBADF (not open) or ENOTCAPABLE. */
  descriptor(fd: number, rights = 0n): Descriptor | number {
    const found = this.table.get(fd);
    if (!found) return Errno.BADF;
    if (!has(found.rightsBase, rights)) return Errno.NOTCAPABLE;
    return found;
  }

  /**
   * The directory at `fd` with `rights`: EBADF when none is open there, ENOTDIR when it is not a
   * directory, ENOTCAPABLE without the rights. Its own rights are narrowed to what its server
   * handle allows the first time (a read-only handle cannot change the directory).
   */
  async directory(fd: number, rights = 0n): Promise<DirectoryDescriptor | number> {
    const found = this.table.get(fd);
    if (!found) return Errno.BADF;
    if (found.kind !== "directory") return Errno.NOTDIR;
    await this.learnWritable(found);
    if (!has(found.rightsBase, rights)) return Errno.NOTCAPABLE;
    return found;
  }

  /** A preopen's server rights are not known until asked: a read-only one loses the rights that change things. */
  async learnWritable(dir: DirectoryDescriptor): Promise<void> {
    if (dir.writable !== null) return;
    const stat = await this.server.stat(dir.slot);
    dir.writable = typeof stat === "number" ? true : (stat.rights & FsRight.WRITE) !== 0;
    if (!dir.writable) {
      dir.rightsBase &= ~DIRECTORY_CHANGING_RIGHTS;
      dir.rightsInheriting &= ~(DIRECTORY_CHANGING_RIGHTS | FILE_CHANGING_RIGHTS);
    }
  }

  /** A regular file at `fd` with `rights`; a directory is EISDIR, a stream ESPIPE (it has no offset). */
  file(fd: number, rights = 0n): FileDescriptor | number {
    const found = this.descriptor(fd);
    if (typeof found === "number") return found;
    if (found.kind === "directory") return Errno.ISDIR;
    if (found.kind === "stream") return Errno.SPIPE;
    return has(found.rightsBase, rights) ? found : Errno.NOTCAPABLE;
  }

  /** A standard stream at `fd`, or null when `fd` is something else. */
  stream(fd: number): StreamDescriptor | null {
    const found = this.table.get(fd);
    return found?.kind === "stream" ? found : null;
  }

  /** Closes what a descriptor holds: a server handle is closed and leaves the table; a standard stream's capability stays. */
  async release(descriptor: Descriptor): Promise<void> {
    if (descriptor.kind === "stream") return;
    await this.server.close(descriptor.slot);
  }
}
