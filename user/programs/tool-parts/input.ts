// What the text tools read: a file named on the command line ("-", or none at all, is standard
// input), a chunk at a time, as bytes or as lines. A file is read through the file system client
// 64 KiB at a time; standard input 252 bytes a call (the stream protocol's most).
import { read, statusText, eprint } from "../../lib";
import { FsClient, FS_RIGHT_READ, FS_KIND_DIR, FS_E_IS_DIR } from "../../lib/fs-client";
import { base, within, client } from "./files";
import { visible } from "./visible";

let sharedClient: FsClient | null = null;

function fs(): FsClient {
  if (sharedClient == null) sharedClient = client();
  return sharedClient!;
}

export class Input {
  /** The file's handle (0: standard input). */
  private handle: i32 = 0;
  private offset: u64 = 0;
  /** Bytes read and not yet taken. */
  private data: Uint8Array = new Uint8Array(0);
  private at: i32 = 0;
  private end: i32 = 0;
  private eof: bool = false;
  /** Why it could not be opened or read (0: it could). */
  status: i32 = 0;
  /** Total bytes taken so far. */
  bytes: u64 = 0;
  /** The last line ended without a newline. */
  lastLineUnterminated: bool = false;

  constructor(readonly path: string) {
    // /dev/null: the file system has no devices; the shell and the tools take it as an empty file.
    if (path == "/dev/null") this.eof = true;
    else if (path != "-" && path.length > 0) this.open();
  }

  private open(): void {
    const handle = fs().open(base(this.path), within(this.path), FS_RIGHT_READ);
    if (handle < 0) {
      this.status = handle;
      return;
    }
    if (fs().kind == FS_KIND_DIR) {
      fs().close(handle);
      this.status = FS_E_IS_DIR;
      return;
    }
    this.handle = handle;
  }

  /** The name to show in messages. */
  get name(): string {
    return this.path == "-" || this.path.length == 0 ? "standard input" : visible(this.path);
  }

  /** Says "tool: NAME: why" when it failed; whether it did. */
  failed(tool: string): bool {
    if (this.status >= 0) return false;
    eprint(tool + ": " + this.name + ": " + statusText(this.status));
    return true;
  }

  /** Reads more bytes after what is left: false at the end (or an error, in `status`). */
  private fill(): bool {
    if (this.eof) return false;
    const left = this.end - this.at;
    const chunk = this.handle != 0 ? <i32>fs().bufferBytes : 252;
    if (this.data.length < left + chunk) {
      const bigger = new Uint8Array(max(this.data.length * 2, left + chunk));
      memory.copy(bigger.dataStart, this.data.dataStart + <usize>this.at, <usize>left);
      this.data = bigger;
    } else memory.copy(this.data.dataStart, this.data.dataStart + <usize>this.at, <usize>left);
    this.at = 0;
    this.end = left;
    let n: i32;
    if (this.handle != 0) {
      n = fs().read(this.handle, this.offset, <u32>chunk);
      if (n > 0) memory.copy(this.data.dataStart + <usize>this.end, fs().address, <usize>n);
    } else n = read(this.data.dataStart + <usize>this.end, chunk);
    if (n <= 0) {
      if (n < 0) this.status = n;
      this.eof = true;
      return false;
    }
    this.offset += <u64>n;
    this.end += n;
    return true;
  }

  /** The next line without its newline, or null at the end. */
  line(): string | null {
    for (;;) {
      for (let i = this.at; i < this.end; i++) {
        if (this.data[i] != 0x0a) continue;
        const s = String.UTF8.decodeUnsafe(this.data.dataStart + <usize>this.at, <usize>(i - this.at));
        this.bytes += <u64>(i + 1 - this.at);
        this.at = i + 1;
        return s;
      }
      if (!this.fill()) {
        if (this.at == this.end) return null;
        const s = String.UTF8.decodeUnsafe(this.data.dataStart + <usize>this.at, <usize>(this.end - this.at));
        this.bytes += <u64>(this.end - this.at);
        this.at = this.end;
        this.lastLineUnterminated = true;
        return s;
      }
    }
    return null;
  }

  /**
   * The next chunk of bytes (at `chunkAt`, `chunkLength` long): false at the end. What `line`
   * has not taken comes first.
   */
  chunk(): bool {
    if (this.at == this.end && !this.fill()) return false;
    this.chunkAt = this.data.dataStart + <usize>this.at;
    this.chunkLength = this.end - this.at;
    this.bytes += <u64>this.chunkLength;
    this.at = this.end;
    return true;
  }

  chunkAt: usize = 0;
  chunkLength: i32 = 0;

  close(): void {
    if (this.handle != 0) fs().close(this.handle);
    this.handle = 0;
  }
}
