// The shell's command language (docs/PROGRAMS.md "The shell"):
//
//   line     := and-or ((";" | "&") and-or)* [";" | "&"]
//   and-or   := pipeline (("&&" | "||") pipeline)*
//   pipeline := command ("|" command)*
//   command  := (NAME=word)* (word | redirect)+        (or assignments alone)
//   redirect := "<" word | ">" word | ">>" word | "2>" word | "2>>" word | "2>&1"
//
// Words keep how each of their parts was quoted ('…' nothing expands, "…" $NAME does, bare text
// $NAME and * ?), so that expansion (expand.ts) can happen when the command runs, after the
// assignments before it. `\` escapes one character; `#` at the start of a word starts a comment.

/** How a part of a word was written. */
export const PART_BARE: i32 = 0;
export const PART_SINGLE: i32 = 1;
export const PART_DOUBLE: i32 = 2;

export class WordPart {
  constructor(readonly kind: i32, readonly text: string) {}
}

export class Word {
  parts: WordPart[] = [];
}

export const REDIRECT_IN: i32 = 0;
export const REDIRECT_OUT: i32 = 1;
export const REDIRECT_APPEND: i32 = 2;
export const REDIRECT_ERRORS: i32 = 3;
export const REDIRECT_ERRORS_APPEND: i32 = 4;
/** 2>&1: errors go where output goes at this point. */
export const REDIRECT_ERRORS_TO_OUTPUT: i32 = 5;

export class Redirect {
  constructor(readonly kind: i32, readonly target: Word | null) {}
}

export class Assignment {
  constructor(readonly name: string, readonly value: Word) {}
}

export class SimpleCommand {
  assignments: Assignment[] = [];
  words: Word[] = [];
  redirects: Redirect[] = [];
}

export class PipelineSyntax {
  commands: SimpleCommand[] = [];
}

/** How a pipeline of an and-or list joins the one before it. */
export const JOIN_FIRST: i32 = 0;
export const JOIN_AND: i32 = 1;
export const JOIN_OR: i32 = 2;

export class AndOr {
  pipelines: PipelineSyntax[] = [];
  joins: i32[] = [];
  background: bool = false;
  /** The source text, for `jobs` and the reports of background jobs. */
  text: string = "";
}

export class CommandList {
  items: AndOr[] = [];
  /** Why the line could not be parsed ("" when it could). */
  error: string = "";
}

const T_WORD: i32 = 0;
const T_PIPE: i32 = 1;
const T_AND: i32 = 2;
const T_OR: i32 = 3;
const T_SEMI: i32 = 4;
const T_AMP: i32 = 5;
const T_REDIRECT: i32 = 6;
const T_ERROR: i32 = -1;

class Token {
  word: Word | null = null;
  redirect: i32 = 0;
  constructor(readonly kind: i32, readonly start: i32, readonly end: i32, readonly why: string = "") {}
}

function isSpace(c: i32): bool {
  return c == 0x20 || c == 0x09 || c == 0x0a || c == 0x0d;
}

/** Characters that end a bare word: | & ; < > and space. */
function isBreak(c: i32): bool {
  return isSpace(c) || c == 0x7c || c == 0x26 || c == 0x3b || c == 0x3c || c == 0x3e;
}

class Tokenizer {
  at: i32 = 0;
  constructor(readonly line: string) {}

  next(): Token | null {
    const s = this.line;
    while (this.at < s.length && isSpace(s.charCodeAt(this.at))) this.at++;
    if (this.at >= s.length || s.charCodeAt(this.at) == 0x23) return null; // # starts a comment
    const start = this.at;
    const c = s.charCodeAt(start);
    const d = start + 1 < s.length ? s.charCodeAt(start + 1) : 0;
    if (c == 0x7c) return this.operator(d == 0x7c ? T_OR : T_PIPE, d == 0x7c ? 2 : 1);
    if (c == 0x26) return this.operator(d == 0x26 ? T_AND : T_AMP, d == 0x26 ? 2 : 1);
    if (c == 0x3b) return this.operator(T_SEMI, 1);
    if (c == 0x3c) return this.redirect(REDIRECT_IN, 1);
    if (c == 0x3e) return d == 0x3e ? this.redirect(REDIRECT_APPEND, 2) : this.redirect(REDIRECT_OUT, 1);
    if (c == 0x32 && d == 0x3e) {
      // 2> 2>> 2>&1: a "2" right before ">" is the errors' stream, not a word.
      if (s.substr(start, 4) == "2>&1") return this.redirect(REDIRECT_ERRORS_TO_OUTPUT, 4);
      if (s.substr(start, 3) == "2>>") return this.redirect(REDIRECT_ERRORS_APPEND, 3);
      return this.redirect(REDIRECT_ERRORS, 2);
    }
    return this.word(start);
  }

  private operator(kind: i32, length: i32): Token {
    this.at += length;
    return new Token(kind, this.at - length, this.at);
  }

  private redirect(kind: i32, length: i32): Token {
    const token = this.operator(T_REDIRECT, length);
    token.redirect = kind;
    return token;
  }

  private word(start: i32): Token {
    const s = this.line;
    const word = new Word();
    let bare = "";
    while (this.at < s.length) {
      const c = s.charCodeAt(this.at);
      if (isBreak(c)) break;
      if (c == 0x27 || c == 0x22) {
        const close = s.indexOf(String.fromCharCode(c), this.at + 1);
        if (close < 0) return new Token(T_ERROR, start, this.at, "a " + (c == 0x27 ? "'" : '"') + " is not closed");
        if (bare.length > 0) word.parts.push(new WordPart(PART_BARE, bare));
        bare = "";
        const inside = s.slice(this.at + 1, close);
        word.parts.push(new WordPart(c == 0x27 ? PART_SINGLE : PART_DOUBLE, c == 0x22 ? unescapeDouble(inside) : inside));
        this.at = close + 1;
        continue;
      }
      if (c == 0x5c && this.at + 1 < s.length) {
        // An escaped character is literal, as if quoted.
        if (bare.length > 0) word.parts.push(new WordPart(PART_BARE, bare));
        bare = "";
        word.parts.push(new WordPart(PART_SINGLE, s.charAt(this.at + 1)));
        this.at += 2;
        continue;
      }
      bare += s.charAt(this.at);
      this.at++;
    }
    if (bare.length > 0 || word.parts.length == 0) word.parts.push(new WordPart(PART_BARE, bare));
    const token = new Token(T_WORD, start, this.at);
    token.word = word;
    return token;
  }
}

/** Inside "…", \ escapes only $ " \ and `, as in sh. */
function unescapeDouble(text: string): string {
  if (text.indexOf("\\") < 0) return text;
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c == 0x5c && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d == 0x24 || d == 0x22 || d == 0x5c || d == 0x60) {
        // Keep the escape for $ so expansion leaves it alone; take it off the others.
        out += d == 0x24 ? "\\$" : String.fromCharCode(d);
        i++;
        continue;
      }
    }
    out += text.charAt(i);
  }
  return out;
}

/** The name of an assignment word (NAME=...), or "" when the word is none. */
function assignmentName(word: Word): string {
  const first = word.parts[0];
  if (first.kind != PART_BARE) return "";
  const eq = first.text.indexOf("=");
  if (eq < 1) return "";
  const name = first.text.slice(0, eq);
  return isName(name) ? name : "";
}

/** Whether `name` is a variable name: a letter or _, then letters, digits and _. */
export function isName(name: string): bool {
  if (name.length == 0) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    const letter = (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c == 0x5f;
    if (!letter && !(i > 0 && c >= 0x30 && c <= 0x39)) return false;
  }
  return true;
}

/** The value part of an assignment word (what follows NAME=). */
function assignmentValue(word: Word, name: string): Word {
  const value = new Word();
  const rest = word.parts[0].text.slice(name.length + 1);
  if (rest.length > 0) value.parts.push(new WordPart(PART_BARE, rest));
  for (let i = 1; i < word.parts.length; i++) value.parts.push(word.parts[i]);
  if (value.parts.length == 0) value.parts.push(new WordPart(PART_BARE, ""));
  return value;
}

function failed(list: CommandList, why: string): CommandList {
  list.error = why;
  list.items = [];
  return list;
}

/** Parses a whole line. An empty one gives a list with no items. */
export function parseCommandLine(line: string): CommandList {
  const list = new CommandList();
  const tokens = new Array<Token>();
  const tokenizer = new Tokenizer(line);
  for (let t = tokenizer.next(); t != null; t = tokenizer.next()) {
    if (t.kind == T_ERROR) return failed(list, t.why);
    tokens.push(t);
  }
  let item = new AndOr();
  let pipeline = new PipelineSyntax();
  let command = new SimpleCommand();
  let itemStart = -1;
  let join = JOIN_FIRST;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (itemStart < 0) itemStart = t.start;
    if (t.kind == T_WORD) {
      const word = t.word!;
      const name = command.words.length == 0 ? assignmentName(word) : "";
      if (name.length > 0) command.assignments.push(new Assignment(name, assignmentValue(word, name)));
      else command.words.push(word);
      continue;
    }
    if (t.kind == T_REDIRECT) {
      if (t.redirect == REDIRECT_ERRORS_TO_OUTPUT) {
        command.redirects.push(new Redirect(t.redirect, null));
        continue;
      }
      if (i + 1 >= tokens.length || tokens[i + 1].kind != T_WORD) return failed(list, "a file name must follow " + line.slice(t.start, t.end));
      command.redirects.push(new Redirect(t.redirect, tokens[++i].word));
      continue;
    }
    // An operator ends the command.
    const empty = command.words.length == 0 && command.assignments.length == 0;
    if (empty && command.redirects.length > 0) return failed(list, "a command is missing");
    if (t.kind == T_PIPE) {
      if (empty) return failed(list, "a | with no command before it");
      pipeline.commands.push(command);
      command = new SimpleCommand();
      continue;
    }
    if (empty) return failed(list, line.slice(t.start, t.end) + " with no command before it");
    pipeline.commands.push(command);
    command = new SimpleCommand();
    item.pipelines.push(pipeline);
    item.joins.push(join);
    pipeline = new PipelineSyntax();
    if (t.kind == T_AND || t.kind == T_OR) {
      join = t.kind == T_AND ? JOIN_AND : JOIN_OR;
      continue;
    }
    // ; or &: the and-or list ends.
    item.background = t.kind == T_AMP;
    item.text = line.slice(itemStart, t.end).trim();
    if (item.background && item.pipelines.length > 1) return failed(list, "& can only run a pipeline in the background, not a list with && or ||");
    list.items.push(item);
    item = new AndOr();
    join = JOIN_FIRST;
    itemStart = -1;
  }
  const empty = command.words.length == 0 && command.assignments.length == 0;
  if (empty && (command.redirects.length > 0 || pipeline.commands.length > 0)) return failed(list, "a command is missing");
  if (empty && item.pipelines.length > 0) return failed(list, (join == JOIN_AND ? "&&" : "||") + " with no command after it");
  if (!empty) {
    pipeline.commands.push(command);
    item.pipelines.push(pipeline);
    item.joins.push(join);
    item.text = line.slice(itemStart).trim();
    list.items.push(item);
  }
  return list;
}
