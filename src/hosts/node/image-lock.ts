import { hostname } from "node:os";
import { DatabaseSync } from "node:sqlite";

/** Why a lock was refused, as one line: the image's path and who holds it, or why it could not be taken. */
export class ImageLockedError extends Error {
  /** Another process holds it (else the lock file could not be made or read). */
  readonly inUse: boolean;
  constructor(message: string, inUse: boolean) {
    super(message);
    this.inUse = inUse;
  }
}

/**
 * An advisory lock on a disk image (`IMAGE.lock` beside it) that another `dogma boot` of the same
 * image sees, held for as long as the machine uses the disk.
 *
 * Why it is sound: the lock is an OS file lock, not a pidfile. Node has no flock, but its built-in
 * SQLite takes its locks with the OS's record locks (fcntl on POSIX, LockFileEx on Windows), and
 * the lock file is a SQLite database in WAL mode whose write lock the holder keeps in an open
 * transaction. The OS drops a process's record locks when it ends, however it ends (exit, crash,
 * SIGKILL), so a dead holder never leaves a lock behind and nobody has to guess from a pid whether
 * the holder still lives; taking the lock is one atomic step (BEGIN IMMEDIATE with no busy wait).
 * The holder commits its pid before taking the lock for good, and WAL readers see the last commit
 * while a writer holds the lock, so a refused boot can say which process holds it.
 *
 * Limits: advisory (only Dogma hosts look at it); one image reached by two hard links has two lock
 * files (symlinks are resolved: the lock sits beside the real path); a `--read-only` boot takes it
 * too, so two of them on one image are refused like two writers; WAL needs the machines that share
 * the lock to be one host, so on a network file system the lock may not be taken at all, and the
 * boot is refused with SQLite's reason rather than run unlocked.
 */
export class ImageLock {
  private readonly db: DatabaseSync;

  private constructor(db: DatabaseSync) {
    this.db = db;
  }

  /** Takes the lock on the image at `image` (a real path), or throws ImageLockedError naming the holder. */
  static acquire(image: string): ImageLock {
    const path = `${image}.lock`;
    let db: DatabaseSync;
    try {
      db = new DatabaseSync(path, { timeout: 0 });
      db.exec("PRAGMA journal_mode = WAL");
      db.exec("CREATE TABLE IF NOT EXISTS holder (pid INTEGER, host TEXT, since TEXT)");
    } catch (error) {
      if (isBusy(error)) throw new ImageLockedError(`the disk image ${image} is in use by another process; stop that machine first, or boot a copy of the image`, true);
      throw new ImageLockedError(`cannot lock the disk image ${image}: ${lockProblem(path, error)}`, false);
    }
    // Take it, say who holds it, and take it again for good: between the two someone else may
    // get in, and then this boot is the one refused.
    for (const step of ["take", "keep"] as const) {
      try {
        db.exec("BEGIN IMMEDIATE");
      } catch (error) {
        const holder = describeHolder(db);
        db.close();
        if (!isBusy(error)) throw new ImageLockedError(`cannot lock the disk image ${image}: ${lockProblem(path, error)}`, false);
        throw new ImageLockedError(`the disk image ${image} is in use by ${holder}; stop that machine first, or boot a copy of the image`, true);
      }
      if (step === "keep") break;
      db.exec("DELETE FROM holder");
      db.prepare("INSERT INTO holder (pid, host, since) VALUES (?, ?, ?)").run(process.pid, hostname(), new Date().toISOString());
      db.exec("COMMIT");
    }
    return new ImageLock(db);
  }

  /** Lets the image go (the host's end does the same, whatever it is). */
  release(): void {
    if (!this.db.isOpen) return;
    try {
      this.db.exec("DELETE FROM holder");
      this.db.exec("COMMIT");
    } finally {
      this.db.close();
    }
  }
}

function isBusy(error: unknown): boolean {
  const code = (error as { errcode?: number }).errcode;
  // SQLITE_BUSY and SQLITE_LOCKED, with or without an extended code.
  return code !== undefined && ((code & 0xff) === 5 || (code & 0xff) === 6);
}

function describeHolder(db: DatabaseSync): string {
  try {
    const row = db.prepare("SELECT pid, host, since FROM holder").get() as { pid: number; host: string; since: string } | undefined;
    if (row) return `process ${row.pid}${row.host !== hostname() ? ` on ${row.host}` : ""} (a dogma boot since ${row.since})`;
  } catch {
    // The holder is still writing its name: say what is known.
  }
  return "another process";
}

function lockProblem(path: string, error: unknown): string {
  // SQLITE_CANTOPEN: the lock file cannot be made or opened.
  if ((error as { errcode?: number }).errcode === 14) return `cannot create or open ${path} (is its folder writable?)`;
  return `${path}: ${(error as Error).message}`;
}
