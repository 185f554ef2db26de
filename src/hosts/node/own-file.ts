import type { Stats } from "node:fs";

/**
 * Whether a file of the module cache's folder (a record, the digests of program files) is one only
 * this user could have written: theirs, and writable by nobody else. A record is run in place of
 * the program, unchecked, and a digest names the record to run; in a folder others may write to
 * (a cache dir set to a shared place, a group-writable one) theirs would run their code in this
 * user's processes, past the software MMU. (A host without user ids, Windows, is not checked.)
 */
export function ownFile(info: Stats): boolean {
  const uid = process.getuid?.();
  return uid === undefined || (info.uid === uid && (info.mode & 0o022) === 0);
}
