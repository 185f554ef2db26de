// Paths from a handle's place in the share. A handle names a path from the share's root (names
// separated by '/', no "." or "..", "" for the root itself); a request's path is walked from it
// as the file system server walks one from a directory (fs-parts/paths.ts): empty names and "."
// are skipped, a leading '/' is the handle's own directory, ".." steps back one name of those the
// request added and at the handle's own directory is FS_E_ESCAPE. So ".." never reaches the
// device (which refuses it outright) and a capability reaches nothing above itself. A name has
// 1-255 bytes with no zero byte and no '\' (the device refuses those): FS_E_NAME otherwise.
import { FS_E_ESCAPE, FS_E_NAME, FS_NAME_MAX } from "../../lib/fs-protocol";
import { PATH_MAX } from "./share";

const SLASH: u8 = 0x2f;
const DOT: u8 = 0x2e;
const BACKSLASH: u8 = 0x5c;
const MAX_DEPTH: i32 = 2048;

/** Where each name the request added began in the output (to step back with ".."). */
const starts = new StaticArray<u32>(MAX_DEPTH);

/**
 * Writes the handle's path (`baseLength` bytes at `base`) followed by the request's (`length`
 * bytes at `path`) to `out` (PATH_MAX bytes): the result's length, or FS_E_ESCAPE / FS_E_NAME.
 * `out` may not overlap the others.
 */
export function joinPath(out: usize, base: usize, baseLength: u32, path: usize, length: u32): i32 {
  if (baseLength > PATH_MAX) return FS_E_NAME;
  memory.copy(out, base, baseLength);
  let used = baseLength;
  let depth = 0;
  let i: u32 = 0;
  while (i < length) {
    while (i < length && load<u8>(path + i) == SLASH) i++;
    if (i >= length) break;
    let end = i;
    while (end < length && load<u8>(path + end) != SLASH) end++;
    const name = path + i;
    const n = end - i;
    i = end;
    if (n == 1 && load<u8>(name) == DOT) continue;
    if (n == 2 && load<u8>(name) == DOT && load<u8>(name + 1) == DOT) {
      if (depth == 0) return FS_E_ESCAPE;
      used = unchecked(starts[--depth]);
      continue;
    }
    if (n > <u32>FS_NAME_MAX || !plainName(name, n)) return FS_E_NAME;
    if (depth >= MAX_DEPTH) return FS_E_NAME;
    const slash: u32 = used > 0 ? 1 : 0;
    if (used + slash + n > PATH_MAX) return FS_E_NAME;
    unchecked((starts[depth++] = used));
    if (slash != 0) store<u8>(out + used, SLASH);
    memory.copy(out + used + slash, name, n);
    used += slash + n;
  }
  return <i32>used;
}

function plainName(name: usize, length: u32): bool {
  for (let i: u32 = 0; i < length; i++) {
    const c = load<u8>(name + i);
    if (c == 0 || c == BACKSLASH) return false;
  }
  return true;
}

/** A number for what a path names (FNV-1a of its bytes, never 0): the protocol's "inode". */
export function pathNumber(path: usize, length: u32, more: usize = 0, moreLength: u32 = 0): u32 {
  let h: u32 = 0x811c9dc5;
  for (let i: u32 = 0; i < length; i++) h = (h ^ <u32>load<u8>(path + i)) * 0x01000193;
  if (moreLength > 0) {
    if (length > 0) h = (h ^ <u32>SLASH) * 0x01000193;
    for (let i: u32 = 0; i < moreLength; i++) h = (h ^ <u32>load<u8>(more + i)) * 0x01000193;
  }
  return h == 0 ? 1 : h;
}
