/**
 * Why the loader refused a binary: what is wrong and where (section, import, function, offset),
 * in words a person can act on. Never a stack trace.
 */
export class LoadError extends Error {
  readonly binaryName: string;
  readonly where: string;
  readonly reason: string;
  constructor(binaryName: string, where: string, reason: string) {
    super(`${binaryName}: ${where}: ${reason}`);
    this.binaryName = binaryName;
    this.where = where;
    this.reason = reason;
  }
}
