// A program run from a file: read into a Region of its job's Memory (up to 16 MiB, what
// MEMORY_CREATE_IMAGE takes) and handed to the process manager to load and spawn
// (PROC_SPAWN_BINARY); a bigger one, up to 256 MiB, read 1 MiB at a time into an image builder of
// the job's Memory, loaded by the shell, and the Image handed over (PROC_SPAWN_IMAGE).
import { Memory, Region, capDrop, statusText, CAP_MOVE, E_QUOTA } from "../../lib";
import { procSpawnBinary, procSpawnImage, lastLoadError } from "../../lib/proc-client";
import { ImageBuilder } from "../../lib/caps/image";
import { FsClient, FS_RIGHT_READ, FS_E_IO } from "../../lib/fs-client";
import { ShellFiles } from "./shell-files";
import { manifestTextIn, manifestSectionError, NOT_WASM } from "../../lib/manifest";
import { procGrantsOfText } from "../../lib/manifest-grants";
import { manifestTextInFile } from "../../lib/manifest-file";

/** A binary run from a file up to this size is read whole into a Region of the job's Memory. */
const MAX_REGION_BINARY_BYTES: u64 = 16 << 20;
/** Past it, the shell hands it to the kernel a piece at a time (an image builder), up to what that takes. */
const MAX_BINARY_BYTES: u64 = 256 << 20;
/** The pieces of a binary handed to an image builder. */
const PIECE_BYTES: u32 = 1 << 20;

export class BinaryLoader {
  /** The job capability of the last spawn. */
  spawned: i32 = 0;
  /** The manifest text of the last binary read (null: it has none, or it was too big to look); why it is malformed, else "". */
  manifestText: string | null = null;
  manifestError: string = "";

  constructor(
    public proc: i32,
    readonly files: ShellFiles,
  ) {}

  /**
   * Reads the binary at `path` and has it spawned in `memory`, with slots 2 and 3 as its manifest
   * asks (user/lib/manifest-grants.ts): "" (the job in `spawned`), or why not.
   */
  spawn(memory: i32, path: string): string {
    this.manifestText = null;
    this.manifestError = "";
    const file = this.files.open(path, FS_RIGHT_READ);
    if (file < 0) return statusText(file);
    const client = this.files.client;
    const size = client.size;
    if (size == 0 || size > MAX_BINARY_BYTES) {
      client.close(file);
      return size == 0 ? "an empty file is no program" : "larger than " + (MAX_BINARY_BYTES >> 20).toString() + " MiB, the most the kernel loads";
    }
    const base = path.lastIndexOf("/");
    const short = path.slice(base + 1);
    const name = short.length > 32 ? short.slice(0, 32) : short;
    if (size > MAX_REGION_BINARY_BYTES) {
      const why = this.spawnBuilt(memory, file, size, name);
      client.close(file);
      return why;
    }
    // Its Regions are the job's Memory's, and go with it only if the shell keeps none of them (drop).
    const buffer = new FsClient(memory, <u32>((size + 4095) >> 12));
    let done: u64 = 0;
    while (done < size) {
      const n = buffer.read(file, done, <u32>(size - done), <u32>done);
      if (n <= 0) {
        client.close(file);
        buffer.drop();
        return "reading it: " + statusText(n < 0 ? n : FS_E_IO);
      }
      done += <u64>n;
    }
    client.close(file);
    this.manifestText = manifestTextIn(buffer.address, <u32>size);
    this.manifestError = manifestSectionError;
    const view = new Region(buffer.region).view();
    if (view < 0) {
      buffer.drop();
      return statusText(view);
    }
    this.spawned = procSpawnBinary(this.proc, <u32>memory, <u32>view | CAP_MOVE, <u32>size, name, procGrantsOfText(this.manifestText));
    buffer.drop();
    if (this.spawned < 0 && lastLoadError.length > 0) return (this.spawned == E_QUOTA ? "cannot load it: " : "not a program the loader takes: ") + lastLoadError;
    return "";
  }

  /**
   * A binary too big for one Region: read a piece at a time into a Region of 1 MiB and handed to
   * an image builder of the job's Memory (which pays for the Image), loaded, and the Image given
   * to the process manager (PROC_SPAWN_IMAGE): "" (the job in `spawned`), or why not.
   */
  private spawnBuilt(memory: i32, file: i32, size: u64, name: string): string {
    const buffer = new FsClient(memory, PIECE_BYTES >> 12);
    // Its manifest decides its grants as a smaller binary's does (it ran with the shell's session before).
    this.manifestText = manifestTextInFile(buffer, file, <u32>size);
    this.manifestError = manifestSectionError;
    // Not WebAssembly at all: the loader says so, as for a smaller binary.
    if (this.manifestError.length > 0 && this.manifestError != NOT_WASM) {
      buffer.drop();
      return "its manifest section is malformed: " + this.manifestError;
    }
    const home = new Memory(memory);
    const made = home.createImageBuilder(<u32>size, name);
    if (made < 0) {
      buffer.drop();
      return "cannot load it: " + statusText(made);
    }
    const builder = new ImageBuilder(made);
    let done: u64 = 0;
    let why = "";
    while (done < size && why.length == 0) {
      const n = buffer.read(file, done, <u32>min(<u64>PIECE_BYTES, size - done), 0);
      if (n <= 0) why = "reading it: " + statusText(n < 0 ? n : FS_E_IO);
      else {
        const appended = builder.append(buffer.region, <u32>n);
        if (appended < 0) why = "cannot load it: " + statusText(appended);
        done += <u64>n;
      }
    }
    buffer.drop();
    if (why.length > 0) {
      capDrop(made);
      return why;
    }
    const image = builder.load();
    capDrop(made);
    if (image < 0) {
      const reason = home.loadError();
      if (reason.length == 0) return "cannot load it: " + statusText(image);
      // E_QUOTA's reason says what the Image would cost and what is left.
      return (image == E_QUOTA ? "cannot load it: " : "not a program the loader takes: ") + reason;
    }
    this.spawned = procSpawnImage(this.proc, <u32>memory, <u32>image | CAP_MOVE, procGrantsOfText(this.manifestText));
    return "";
  }
}
