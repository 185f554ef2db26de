/** Words for the errors a host call can meet, so that a failure is one line a person can act on. */
const WORDS: Record<string, string> = {
  ENOENT: "it does not exist",
  ENOTDIR: "a part of the path is not a folder",
  EISDIR: "it is a folder",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "the file system is read-only",
  ENOSPC: "no space left on the device",
  EDQUOT: "the disk quota is exhausted",
  EIO: "an I/O error",
  ELOOP: "too many symbolic links",
  ENAMETOOLONG: "the name is too long",
  EMFILE: "too many open files",
  EBUSY: "the resource is busy",
};

/** "it does not exist (ENOENT)" for a Node system error; the message for anything else. */
export function errnoText(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code && WORDS[code]) return `${WORDS[code]} (${code})`;
  if (code) return code;
  return (error as Error).message;
}
