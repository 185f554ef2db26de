import { Errno } from "./errno.ts";
import { FS_PATH_MAX } from "./protocol.ts";

/** A path as a call gave it, checked: its bytes without trailing slashes, and whether it had any. */
export interface CheckedPath {
  readonly bytes: Uint8Array;
  readonly trailingSlash: boolean;
}

const SLASH = 0x2f;
const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * The checks every path of a path_* call gets before it goes to a server: it is relative to the
 * directory descriptor (an absolute path is ENOTCAPABLE: a capability names no root), holds no NUL
 * (EINVAL), is UTF-8 (EILSEQ), is not empty (ENOENT) and fits a request (ENAMETOOLONG). Trailing
 * slashes are taken off and remembered: what they end must be a directory. `..` is left to the
 * server, which refuses to climb above the directory's handle (FS_E_ESCAPE: ENOTCAPABLE).
 */
export function checkPath(bytes: Uint8Array): CheckedPath | number {
  if (bytes.length === 0) return Errno.NOENT;
  if (bytes.length > FS_PATH_MAX) return Errno.NAMETOOLONG;
  if (bytes[0] === SLASH) return Errno.NOTCAPABLE;
  if (bytes.includes(0)) return Errno.INVAL;
  try {
    utf8.decode(bytes);
  } catch {
    return Errno.ILSEQ;
  }
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === SLASH) end--;
  return { bytes: bytes.subarray(0, end), trailingSlash: end < bytes.length };
}

/** Whether the path names the directory itself ("." or empty after the slashes went). */
export function namesItself(path: CheckedPath): boolean {
  return path.bytes.length === 0 || (path.bytes.length === 1 && path.bytes[0] === 0x2e);
}

/**
 * Whether the path climbs above its directory by its names alone ("..", "a/../.."), links aside.
 * For servers without an operation, whose answer (ENOTSUP) would otherwise hide an escape.
 */
export function escapesByName(path: Uint8Array): boolean {
  let depth = 0;
  for (const name of new TextDecoder().decode(path).split("/")) {
    if (name === "" || name === ".") continue;
    depth += name === ".." ? -1 : 1;
    if (depth < 0) return true;
  }
  return false;
}
