// AssemblyScript's abort hook, bound with `--use abort=lib/abort/dogmaAbort` so that programs
// need no `env.abort` import: the message goes to the error stream, then exit 134 (SIGABRT's
// conventional status).
import { eprint } from "./io";
import { exit } from "./sys";

export const ABORT_EXIT_CODE: i32 = 134;

export function dogmaAbort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  let text = "abort";
  if (message !== null) text += ": " + message;
  if (fileName !== null) text += " at " + fileName + ":" + line.toString() + ":" + column.toString();
  eprint(text);
  exit(ABORT_EXIT_CODE);
  unreachable();
}
