/**
 * The moves nearer a folder's root whose links are being looked through, request after request
 * (NodeFolder's `linksStayInside`), in every host folder of this process: folders may overlap
 * (`--dir a --dir a/b`, or one folder given twice), so a link planted through one in a tree
 * another is checking must stop that check too.
 *
 * A check is dropped (it starts over at its next request) only by a change that can bring a
 * symbolic link into the tree it moves or move the tree itself: a link made, a hard link, a
 * rename, at a path inside that tree or above it (`changed`). Writes, creations of files and
 * directories, removals and times cannot, so a program writing its log no longer makes another's
 * move start over at every request (it never finished while one wrote between its requests), nor
 * one move another's (two moves of big trees used to drop each other's check forever).
 *
 * At most MAX_CHECKS are kept; one not sent again within KEPT_FOR checks' requests may be pushed
 * out by a new one, and a new one finding every place kept waits (answers "again" at no host cost)
 * rather than push out a move under way, which would then never finish either.
 */

import type { Dir } from "node:fs";
import { isAbsolute, relative, sep } from "node:path";

export interface MoveCheck {
  /** The folder the move is in (a check is resumed only by the same folder's same move). */
  readonly folder: object;
  /** The request that resumes it. */
  readonly what: string;
  /** The real path of the tree it moves. */
  readonly tree: string;
  /** Directories left to look through: where each is now, and where it will be. */
  readonly pending: [string, string][];
  reading: { readonly dir: Dir; readonly now: string; readonly future: string } | null;
  seen: number;
  used: number;
}

const MAX_CHECKS = 8;
/** Check requests (of any move) within which a kept check must be resumed to stay kept. */
const KEPT_FOR = 4 * MAX_CHECKS;

export class MoveChecks {
  private readonly checks: MoveCheck[] = [];
  private clock = 0;

  /** `folder`'s check of `what` under way, taken out of the list (give it back with `keep`), or null. */
  take(folder: object, what: string): MoveCheck | null {
    this.clock++;
    const at = this.checks.findIndex((check) => check.folder === folder && check.what === what);
    return at < 0 ? null : this.checks.splice(at, 1)[0]!;
  }

  /** Whether a new check has a place (pushing out one not resumed lately if need be). */
  makeRoom(): boolean {
    if (this.checks.length < MAX_CHECKS) return true;
    let oldest = -1;
    for (let i = 0; i < this.checks.length; i++) {
      const check = this.checks[i]!;
      if (this.clock - check.used <= KEPT_FOR) continue;
      if (oldest < 0 || check.used < this.checks[oldest]!.used) oldest = i;
    }
    if (oldest < 0) return false;
    close(this.checks.splice(oldest, 1)[0]!);
    return true;
  }

  /** Keeps `check` (taken, or new after `makeRoom`) for its next request. */
  keep(check: MoveCheck): void {
    check.used = this.clock;
    this.checks.push(check);
  }

  /** A link may have come into, or a tree moved at, each of `paths` (real paths): drops the checks of trees they are in or above. */
  changed(...paths: string[]): void {
    for (let i = this.checks.length - 1; i >= 0; i--) {
      const tree = this.checks[i]!.tree;
      if (paths.some((path) => within(path, tree) || within(tree, path))) close(this.checks.splice(i, 1)[0]!);
    }
  }

  /** Drops `folder`'s checks (its device was reset). */
  forget(folder: object): void {
    for (let i = this.checks.length - 1; i >= 0; i--) if (this.checks[i]!.folder === folder) close(this.checks.splice(i, 1)[0]!);
  }
}

/** Every host folder's moves under way (see the file's comment). */
export const moveChecks = new MoveChecks();

/** Closes what `check` was reading (it is dropped, or through). */
export function close(check: MoveCheck): void {
  if (check.reading === null) return;
  try {
    check.reading.dir.closeSync();
  } catch {
    // Closed is closed.
  }
  check.reading = null;
}

/** Whether `path` is `dir` or inside it. */
function within(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel === "" || (rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}
