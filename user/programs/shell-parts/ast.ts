// The shell's syntax tree (parse.ts makes it, exec.ts runs it). Words are kept as written, quotes
// and all, and expanded when their command runs (expand.ts), after the assignments before them.

export const N_SIMPLE: i32 = 1;
export const N_PIPELINE: i32 = 2;
export const N_AND_OR: i32 = 3;
export const N_LIST: i32 = 4;
export const N_IF: i32 = 5;
export const N_WHILE: i32 = 6;
export const N_FOR: i32 = 7;
export const N_CASE: i32 = 8;
export const N_GROUP: i32 = 9;
export const N_SUBSHELL: i32 = 10;
export const N_FUNCTION: i32 = 11;

// Redirection operators.
export const R_IN: i32 = 1; // <
export const R_OUT: i32 = 2; // > and >|
export const R_APPEND: i32 = 3; // >>
export const R_DUP_IN: i32 = 4; // <&
export const R_DUP_OUT: i32 = 5; // >&
export const R_HEREDOC: i32 = 6; // << and <<-
export const R_READ_WRITE: i32 = 7; // <>

export class Redirect {
  /** The here-document's text once read, and whether its delimiter was quoted (then nothing in it expands). */
  heredoc: string = "";
  heredocQuoted: bool = false;
  constructor(
    /** The file descriptor it changes: 0 input, 1 output, 2 errors. */
    readonly fd: i32,
    readonly op: i32,
    /** The file, the fd to copy (`2>&1`'s "1"), or a here-document's delimiter: a word as written. */
    readonly target: string,
  ) {}
}

export class Node {
  redirects: Redirect[] = [];
  constructor(readonly kind: i32) {}
}

export class SimpleCommand extends Node {
  /** NAME=value words before the command, as written. */
  assignments: string[] = [];
  words: string[] = [];
  constructor() {
    super(N_SIMPLE);
  }
}

export class Pipeline extends Node {
  commands: Node[] = [];
  /** `! pipeline`: the status is negated. */
  bang: bool = false;
  constructor() {
    super(N_PIPELINE);
  }
}

export const JOIN_AND: i32 = 1;
export const JOIN_OR: i32 = 2;

export class AndOr extends Node {
  pipelines: Pipeline[] = [];
  /** How each pipeline after the first joins the one before it: JOIN_AND or JOIN_OR. */
  joins: i32[] = [];
  constructor() {
    super(N_AND_OR);
  }
}

export class ListItem {
  constructor(
    readonly command: AndOr,
    /** `cmd &`: run in the background. */
    readonly background: bool,
    /** The source text, for `jobs` and the reports of background jobs. */
    readonly text: string,
  ) {}
}

export class List extends Node {
  items: ListItem[] = [];
  constructor() {
    super(N_LIST);
  }
}

export class If extends Node {
  /** `if` and each `elif`: a condition and its body. */
  conditions: List[] = [];
  bodies: List[] = [];
  otherwise: List | null = null;
  constructor() {
    super(N_IF);
  }
}

export class While extends Node {
  constructor(
    readonly condition: List,
    readonly body: List,
    /** `until`: loop while the condition fails. */
    readonly until: bool,
  ) {
    super(N_WHILE);
  }
}

export class For extends Node {
  constructor(
    readonly name: string,
    /** The words after `in`, as written; null without `in` (the positional parameters). */
    readonly words: string[] | null,
    readonly body: List,
  ) {
    super(N_FOR);
  }
}

export class CaseItem {
  constructor(
    readonly patterns: string[],
    readonly body: List,
  ) {}
}

export class Case extends Node {
  items: CaseItem[] = [];
  constructor(readonly word: string) {
    super(N_CASE);
  }
}

/** `{ list; }` (GROUP) or `( list )` (SUBSHELL: what it changes is undone after). */
export class Group extends Node {
  constructor(
    kind: i32,
    readonly body: List,
  ) {
    super(kind);
  }
}

export class FunctionDefinition extends Node {
  constructor(
    readonly name: string,
    readonly body: Node,
  ) {
    super(N_FUNCTION);
  }
}
