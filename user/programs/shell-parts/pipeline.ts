// A pipeline of programs ready to start (jobs.ts): each command's arguments, environment and
// where its input, output and errors go (channel.ts), worked out by exec.ts from the syntax.
import { Channel } from "./channel";

export class Command {
  argv: string[] = [];
  /** Its environment: NAME=value strings. */
  env: string[] = [];
  /** Input, output and errors; IO_PIPE_NEXT on input is the pipe from the program before, on output the pipe to the next. */
  fds: Channel[] = [];
  /** The binary it runs from a file ("" for a boot module), found by the launcher. */
  binary: string = "";
}

/** A file a redirection opened: closed when the job ends, synced first when it was written. */
export class OpenedFile {
  constructor(
    readonly handle: i32,
    readonly path: string,
    readonly written: bool,
  ) {}
}

export class Pipeline {
  commands: Command[] = [];
  background: bool = false;
  /** The line as typed, for `jobs`. */
  text: string = "";
  /** Files its redirections opened, which the job closes when it ends. */
  files: OpenedFile[] = [];
}
