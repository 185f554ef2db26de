import { printable } from "../kernel/printable.ts";

/**
 * Why the loader refused a binary: what is wrong and where (section, import, function, offset),
 * in words a person can act on. Never a stack trace. The binary's words it quotes (names) are
 * `printable`: a refusal is printed on a terminal, and the binary never ran.
 */
export class LoadError extends Error {
  readonly binaryName: string;
  readonly where: string;
  readonly reason: string;
  constructor(binaryName: string, where: string, reason: string) {
    binaryName = printable(binaryName);
    where = printable(where);
    reason = printable(reason);
    super(`${binaryName}: ${where}: ${reason}`);
    this.binaryName = binaryName;
    this.where = where;
    this.reason = reason;
  }
}
