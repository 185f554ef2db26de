// The shell's command language: words (with '…' and "…" quoting and \ escapes), pipelines with
// `|`, redirections `<`, `>` and `>>`, `&` at the end for a background job, and `;` between
// commands run one after the other.
//
//   line     := segment (";" segment)*
//   segment  := pipeline ["&"]
//   pipeline := command ("|" command)*
//   command  := (word | "<" word | ">" word | ">>" word)+

export class Command {
  argv: string[] = [];
  /** A file for standard input (`< file`), or "". */
  input: string = "";
  /** A file for standard output (`> file`, `>> file`), or "". */
  output: string = "";
  append: bool = false;
}

export class Pipeline {
  commands: Command[] = [];
  background: bool = false;
  /** Why the line could not be parsed ("" when it could). */
  error: string = "";
  /** The line as typed, for `jobs`. */
  text: string = "";
}

const WORD: i32 = 0;
const PIPE: i32 = 1;
const FROM: i32 = 2;
const TO: i32 = 3;
const APPEND: i32 = 4;
const BACKGROUND: i32 = 5;

class Token {
  constructor(readonly kind: i32, readonly text: string) {}
}

function isSpace(c: i32): bool {
  return c == 0x20 || c == 0x09 || c == 0x0a || c == 0x0d;
}

function isOperator(c: i32): bool {
  return c == 0x7c || c == 0x3c || c == 0x3e || c == 0x26; // | < > &
}

/** Splits `line` into tokens; on an error the last token's kind is -1 and its text says why. */
function tokenize(line: string): Token[] {
  const tokens = new Array<Token>();
  let i = 0;
  while (i < line.length) {
    const c = line.charCodeAt(i);
    if (isSpace(c)) {
      i++;
      continue;
    }
    if (c == 0x23) break; // # starts a comment
    if (c == 0x7c) tokens.push(new Token(PIPE, "|"));
    else if (c == 0x3c) tokens.push(new Token(FROM, "<"));
    else if (c == 0x26) tokens.push(new Token(BACKGROUND, "&"));
    else if (c == 0x3e) {
      if (i + 1 < line.length && line.charCodeAt(i + 1) == 0x3e) {
        tokens.push(new Token(APPEND, ">>"));
        i++;
      } else tokens.push(new Token(TO, ">"));
    }
    if (isOperator(c)) {
      i++;
      continue;
    }
    let word = "";
    while (i < line.length) {
      const d = line.charCodeAt(i);
      if (isSpace(d) || isOperator(d)) break;
      if (d == 0x27 || d == 0x22) {
        const close = line.indexOf(String.fromCharCode(d), i + 1);
        if (close < 0) {
          tokens.push(new Token(-1, "a " + (d == 0x27 ? "'" : '"') + " is not closed"));
          return tokens;
        }
        word += line.slice(i + 1, close);
        i = close + 1;
        continue;
      }
      if (d == 0x5c && i + 1 < line.length) {
        word += line.charAt(i + 1);
        i += 2;
        continue;
      }
      word += line.charAt(i);
      i++;
    }
    tokens.push(new Token(WORD, word));
  }
  return tokens;
}

/** The parts of a line between unquoted `;`s (a `#` comment ends the line). */
export function splitSequence(line: string): string[] {
  const parts = new Array<string>();
  let start = 0;
  let quote = 0;
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (quote != 0) {
      if (c == quote) quote = 0;
      continue;
    }
    if (c == 0x5c) {
      i++; // the escaped character is part of a word
      continue;
    }
    if (c == 0x27 || c == 0x22) quote = c;
    else if (c == 0x23) break;
    else if (c == 0x3b) {
      parts.push(line.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(line.slice(start));
  return parts;
}

/** Parses one segment. An empty one gives a pipeline with no commands. */
export function parseLine(line: string): Pipeline {
  const p = new Pipeline();
  p.text = line.trim();
  const tokens = tokenize(line);
  let command = new Command();
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t.kind == -1) return failed(p, t.text);
    if (t.kind == WORD) {
      command.argv.push(t.text);
      continue;
    }
    if (t.kind == PIPE) {
      if (command.argv.length == 0) return failed(p, "a | with no command before it");
      p.commands.push(command);
      command = new Command();
      continue;
    }
    if (t.kind == BACKGROUND) {
      if (i != tokens.length - 1) return failed(p, "& can only end a line");
      p.background = true;
      continue;
    }
    // A redirection takes the next word.
    if (i + 1 >= tokens.length || tokens[i + 1].kind != WORD) return failed(p, "a file name must follow " + t.text);
    const file = tokens[++i].text;
    if (t.kind == FROM) command.input = file;
    else {
      command.output = file;
      command.append = t.kind == APPEND;
    }
  }
  if (command.argv.length > 0) p.commands.push(command);
  else if (p.commands.length > 0 || command.input.length > 0 || command.output.length > 0) return failed(p, "a command is missing");
  if (p.background && p.commands.length == 0) return failed(p, "& with no command");
  return p;
}

function failed(p: Pipeline, why: string): Pipeline {
  p.error = why;
  p.commands = [];
  return p;
}
