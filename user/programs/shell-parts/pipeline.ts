// A pipeline ready to start (jobs.ts): its commands' words expanded, files named, environment
// made (expand.ts does it from the syntax of parse.ts).

/** Where a command's errors go. */
export const ERRORS_CONSOLE: i32 = 0;
/** To the file `errors` (2> or 2>>). */
export const ERRORS_FILE: i32 = 1;
/** To where its output goes: the next program's pipe, or the console (2>&1 before any >). */
export const ERRORS_OUTPUT_STREAM: i32 = 2;
/** To its output file (2>&1 after >). */
export const ERRORS_OUTPUT_FILE: i32 = 3;

export class Command {
  argv: string[] = [];
  /** A file for standard input (`< file`), or "". */
  input: string = "";
  /** A file for standard output (`> file`, `>> file`), or "". */
  output: string = "";
  append: bool = false;
  errorsTo: i32 = ERRORS_CONSOLE;
  /** The file for ERRORS_FILE. */
  errors: string = "";
  errorsAppend: bool = false;
  /** Its environment: NAME=value strings. */
  env: string[] = [];
}

export class Pipeline {
  commands: Command[] = [];
  background: bool = false;
  /** The line as typed, for `jobs`. */
  text: string = "";
}
