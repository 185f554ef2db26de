// The file system as the shell sees it: the working directory (a handle of the file system's or
// the host share's, its path, its rights), the root (`use=fs`), and /host (`use=host`, docs/HOSTFS.md):
// a path that works out to /host... is opened from the host share's root with the rest of the
// path. `..` is the shell's arithmetic (resolve), since a directory capability cannot climb.
import { capDrop, capKind, E_PEER_DEAD, KIND_CAPPAGE } from "../../lib";
import { statusText } from "../../lib/status-text";
import {
  FsClient, FS_RIGHTS_ALL, FS_RIGHT_READ, FS_OPEN_DIRECTORY, FS_KIND_FILE, FS_KIND_DIR, FS_E_STALE, direntName, direntNameLength, direntNext, direntKind,
  fsRoot,
} from "../../lib/fs-client";
import { ByteBuffer, MAX_HELD_BYTES } from "./channel";

/** readText's status for a file larger than MAX_HELD_BYTES (not a file system status: those are -200 and below). */
export const TEXT_TOO_LARGE: i32 = -199;

/** What a person reads for readText's lastStatus. */
export function textStatus(status: i32): string {
  return status == TEXT_TOO_LARGE ? "larger than a script may be (" + (MAX_HELD_BYTES >> 20).toString() + " MiB)" : statusText(status);
}

/**
 * The shell's root: a session of its own on the published root `published` (docs/FS.md
 * "Sessions"), so that a service holding the rest of the file system's handle table cannot starve
 * the shell and the programs it runs, which get copies of it; `published` itself when the server
 * makes no session (it is then dropped, else kept). `published` <= 0 comes back as it is.
 */
export function shellRoot(client: FsClient, published: i32): i32 {
  if (published <= 0) return published;
  const mine = client.session(published, FS_RIGHTS_ALL);
  if (mine <= 0) return published;
  client.forget(published);
  capDrop(published); // the Cappage has it, for a new session if this one is taken back
  return mine;
}

export class DirectoryEntry {
  constructor(
    readonly name: string,
    readonly directory: bool,
  ) {}
}

export class ShellFiles {
  /** The working directory: a handle (the file system's, or the host share's), its path, and the rights it was opened with. */
  cwd: i32 = 0;
  cwdPath: string = "/";
  cwdRights: u32 = FS_RIGHTS_ALL;
  /** The host share's root (0: not found yet, or none). */
  private host: i32 = 0;
  private hostWaited: bool = false;
  /** The path `route` found, to open from the handle it answered, and whether that handle is the host share's root. */
  routed: string = "";
  routedToHost: bool = false;

  constructor(
    readonly client: FsClient,
    /** The file system's root (0: no file system); a new one after the file system was restarted (reconnect). */
    public root: i32,
    /** The Cappage the host share's server publishes its root in (0: none). */
    readonly hostRoots: i32,
    /** The Cappage the file system publishes its root in (0: none). */
    readonly roots: i32 = 0,
  ) {
    this.cwd = root;
  }

  /**
   * After the file system was restarted, its old handles answer E_PEER_DEAD: every path the shell
   * and its programs opened failed from then on, `cd /` included, until the session ended. Asked
   * before each command line (one STAT of the root): when the root is dead, or was taken back from
   * a full handle table (FS_E_STALE: its session's root goes last, but it can go), a new one is
   * taken from the Cappage the file system publishes it in, and the working directory opened again
   * by its path (the root, when it is gone). Whether the shell is connected.
   */
  reconnect(): bool {
    if (this.root == 0 || this.roots == 0) return true;
    const alive = this.client.stat(this.root);
    if (alive != E_PEER_DEAD && alive != FS_E_STALE) return true;
    // Waiting for it a while, as at the start: init restarts it after a backoff, and it replays its journal.
    const root = shellRoot(this.client, fsRoot(this.roots, 0, 500));
    if (root <= 0 || root == this.root) return false;
    const old = this.root;
    this.root = root;
    if (isHostPath(this.cwdPath)) return true;
    if (this.cwd != old) {
      this.client.forget(this.cwd);
      capDrop(this.cwd);
    }
    this.client.forget(old);
    this.cwd = root;
    if (this.cwdPath == "/") return true;
    const cwd = this.client.open(root, this.cwdPath, this.cwdRights | FS_OPEN_DIRECTORY);
    if (cwd > 0) this.cwd = cwd;
    else this.cwdPath = "/";
    return true;
  }

  /**
   * The host share's root: 0 when this machine has none. The first time `wait` is set it waits
   * up to 2 s for the server to publish it (it starts just before the shell); later, no wait.
   */
  hostRoot(wait: bool): i32 {
    if (this.host > 0 || this.hostRoots == 0 || capKind(this.hostRoots) != <i32>KIND_CAPPAGE) return this.host;
    const tries = wait && !this.hostWaited ? 200 : 1;
    if (wait) this.hostWaited = true;
    const found = fsRoot(this.hostRoots, 0, tries);
    if (found > 0) this.host = found;
    return this.host;
  }

  /** Whether there is any file system to open paths in. */
  get present(): bool {
    return this.root != 0 || this.hostRoot(false) != 0;
  }

  /** `path` (absolute, or relative to the working directory) with `.` and `..` worked out. */
  resolve(path: string): string {
    const parts = (path.startsWith("/") ? path : this.cwdPath + "/" + path).split("/");
    const out = new Array<string>();
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i];
      if (part.length == 0 || part == ".") continue;
      if (part == "..") {
        if (out.length > 0) out.pop();
      } else out.push(part);
    }
    return "/" + out.join("/");
  }

  /**
   * The directory `path` is opened from, with the path to open from it in `routed`: the host
   * share's root and the rest for what works out to /host... (when there is a host share), else
   * the root for `/…` and the working directory for the rest.
   */
  route(path: string): i32 {
    const absolute = this.resolve(path);
    const host = isHostPath(absolute) ? this.hostRoot(true) : 0;
    this.routedToHost = host > 0;
    if (host > 0) {
      this.routed = absolute.length == 5 ? "/" : absolute.slice(5);
      return host;
    }
    this.routed = path;
    return path.startsWith("/") ? this.root : this.cwd;
  }

  /** Opens `path` with `flags`: a handle, or a status (kind and size in `client`). */
  open(path: string, flags: u32): i32 {
    const from = this.route(path);
    if (from == 0) return -201; // FS_E_NOT_FOUND: no file system to look in
    return this.client.open(from, this.routed, flags);
  }

  /** The kind of what `path` names (FS_KIND_*), or a status. */
  kindOf(path: string): i32 {
    const handle = this.open(path, FS_RIGHT_READ);
    if (handle < 0) return handle;
    const kind = <i32>this.client.kind;
    this.client.close(handle);
    return kind;
  }

  isFile(path: string): bool {
    return this.kindOf(path) == <i32>FS_KIND_FILE;
  }

  isDirectory(path: string): bool {
    return this.kindOf(path) == <i32>FS_KIND_DIR;
  }

  /** The names in the directory at `path` (absolute, or relative to the working directory): null when it cannot be listed. */
  list(path: string): DirectoryEntry[] | null {
    const dir = this.open(path.length == 0 ? "." : path, FS_RIGHT_READ | FS_OPEN_DIRECTORY);
    if (dir < 0) return null;
    const names = new Array<DirectoryEntry>();
    let cookie: u32 = 0;
    for (;;) {
      const n = this.client.readdir(dir, cookie);
      if (n <= 0) break;
      let at = this.client.address;
      for (let i = 0; i < n; i++) {
        names.push(new DirectoryEntry(String.UTF8.decodeUnsafe(direntName(at), direntNameLength(at)), direntKind(at) == FS_KIND_DIR));
        at = direntNext(at);
      }
      cookie = this.client.cookie;
    }
    this.client.close(dir);
    return names;
  }

  /**
   * The whole file at `path` as text, or null (with the status in `lastStatus`) when it cannot be
   * read; one larger than `limit` bytes is TEXT_TOO_LARGE by its size, before a byte is read.
   */
  readText(path: string, limit: i32 = MAX_HELD_BYTES): string | null {
    const file = this.open(path, FS_RIGHT_READ);
    if (file < 0) {
      this.lastStatus = file;
      return null;
    }
    if (this.client.kind != FS_KIND_FILE) {
      this.client.close(file);
      this.lastStatus = -204; // FS_E_IS_DIR
      return null;
    }
    if (this.client.size > <u64>limit) {
      this.client.close(file);
      this.lastStatus = TEXT_TOO_LARGE;
      return null;
    }
    const bytes = new ByteBuffer(limit);
    let offset: u64 = 0;
    for (;;) {
      const n = this.client.read(file, offset, this.client.bufferBytes);
      if (n < 0) {
        this.client.close(file);
        this.lastStatus = n;
        return null;
      }
      if (n == 0) break;
      if (!bytes.append(this.client.address, n)) {
        this.client.close(file);
        this.lastStatus = TEXT_TOO_LARGE;
        return null;
      }
      offset += <u64>n;
    }
    this.client.close(file);
    return bytes.text();
  }

  lastStatus: i32 = 0;
}

/** Whether an absolute path names the host share (/host) or something in it. */
export function isHostPath(absolute: string): bool {
  return absolute == "/host" || absolute.startsWith("/host/");
}
