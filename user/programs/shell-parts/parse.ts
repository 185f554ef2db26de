// The shell's grammar, POSIX sh's everyday part (docs/PROGRAMS.md "Scripts"):
//
//   program   := list? EOF                  (newlines separate commands too)
//   list      := and-or ((";" | "&" | newline) and-or)*
//   and-or    := pipeline (("&&" | "||") newline* pipeline)*
//   pipeline  := ["!"] command ("|" newline* command)*
//   command   := simple | compound redirect* | NAME "(" ")" newline* compound redirect*
//   compound  := "{" list "}" | "(" list ")" | if | while | until | for | case
//   if        := "if" list "then" list ("elif" list "then" list)* ["else" list] "fi"
//   while     := ("while" | "until") list "do" list "done"
//   for       := "for" NAME [newline* "in" word* (";" | newline)] newline* "do" list "done"
//   case      := "case" word newline* "in" newline* (["("] pattern ("|" pattern)* ")" list? [";;"] newline*)* "esac"
//   simple    := (NAME=word | redirect)* (word | redirect)*
//   redirect  := [N] ("<" | ">" | ">>" | ">|" | "<>" | "<&" | ">&" | "<<" | "<<-") word
//
// Words are kept as written (ast.ts): quotes, `\`, $NAME, ${...}, $(...), `...` and $((...)) are
// found here only to know where a word ends. Reserved words count only where a command starts. A
// here-document's lines are read after the newline that ends its line. Text that ends inside a
// quote, a compound command or a here-document is *incomplete*: the interactive shell asks for
// another line (PS2), a script is refused with the line where it stopped.
import {
  Node, SimpleCommand, Pipeline, AndOr, List, ListItem, If, While, For, Case, CaseItem, Group, FunctionDefinition, Redirect,
  JOIN_AND, JOIN_OR, N_GROUP, N_SUBSHELL, R_IN, R_OUT, R_APPEND, R_DUP_IN, R_DUP_OUT, R_HEREDOC, R_READ_WRITE,
} from "./ast";

/**
 * Levels of compound commands (each a list inside another: ( ), { }, if, while, for, case,
 * functions) and of quotes inside expansions inside quotes, that text may nest. The parser
 * descends recursively, so without a bound a typed line of 3000 "(" used up the engine's stack and
 * the shell faulted (init restarted it, the session lost; five such lines and init gave up on it).
 */
export const MAX_SYNTAX_DEPTH: i32 = 100;
const TOO_DEEP = "nested too deep: text may nest compound commands, quotes and expansions " + MAX_SYNTAX_DEPTH.toString() + " levels deep";

const T_WORD: i32 = 1;
const T_NEWLINE: i32 = 2;
const T_EOF: i32 = 3;
const T_OP: i32 = 4;
const T_REDIRECT: i32 = 5;

class Token {
  fd: i32 = -1;
  op: i32 = 0;
  constructor(
    readonly kind: i32,
    readonly text: string,
    readonly start: i32,
    readonly end: i32,
  ) {}
}

/** What parseProgram found: the commands, or why not (and whether more text could complete it). */
export class Parsed {
  list: List | null = null;
  error: string = "";
  incomplete: bool = false;
  /** The line (from 1) where the error is. */
  line: i32 = 0;
}

/** Whether `c` ends a bare word: blanks, newline, ; & | ( ) < >. */
function isMeta(c: i32): bool {
  return c == 0x20 || c == 0x09 || c == 0x0a || c == 0x3b || c == 0x26 || c == 0x7c || c == 0x28 || c == 0x29 || c == 0x3c || c == 0x3e;
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

/** The name of an assignment word (NAME=...), or "". */
export function assignmentName(word: string): string {
  const eq = word.indexOf("=");
  if (eq < 1) return "";
  const name = word.slice(0, eq);
  return isName(name) ? name : "";
}

const RESERVED = ["if", "then", "else", "elif", "fi", "do", "done", "case", "esac", "while", "until", "for", "in", "{", "}", "!"];

class Parser {
  at: i32 = 0;
  peeked: Token | null = null;
  failed: bool = false;
  error: string = "";
  incomplete: bool = false;
  errorAt: i32 = 0;
  /** Here-documents whose lines come after the next newline. */
  pending: Redirect[] = [];
  /** Commands (compound ones hold more) and nested quotes being read, at most MAX_SYNTAX_DEPTH. */
  private depth: i32 = 0;

  constructor(readonly src: string) {}

  fail(why: string, at: i32, incomplete: bool = false): void {
    if (this.failed) return;
    this.failed = true;
    this.error = why;
    this.incomplete = incomplete;
    this.errorAt = at;
  }

  // ---- Tokens --------------------------------------------------------------------------------

  peek(): Token {
    if (this.peeked == null) this.peeked = this.scan();
    return this.peeked!;
  }

  take(): Token {
    const t = this.peek();
    this.peeked = null;
    return t;
  }

  private skipBlanks(): void {
    const s = this.src;
    while (this.at < s.length) {
      const c = s.charCodeAt(this.at);
      if (c == 0x20 || c == 0x09 || c == 0x0d) this.at++;
      else if (c == 0x5c && this.at + 1 < s.length && s.charCodeAt(this.at + 1) == 0x0a) this.at += 2; // a line continued
      else if (c == 0x23) {
        while (this.at < s.length && s.charCodeAt(this.at) != 0x0a) this.at++; // a comment
      } else break;
    }
  }

  private scan(): Token {
    this.skipBlanks();
    const s = this.src;
    const start = this.at;
    if (this.at >= s.length) return new Token(T_EOF, "", start, start);
    const c = s.charCodeAt(this.at);
    if (c == 0x0a) {
      this.at++;
      this.readHeredocs();
      return new Token(T_NEWLINE, "\n", start, start + 1);
    }
    // An IO number: digits right before < or >.
    let digits = this.at;
    while (digits < s.length && s.charCodeAt(digits) >= 0x30 && s.charCodeAt(digits) <= 0x39) digits++;
    if (digits > this.at && digits < s.length && (s.charCodeAt(digits) == 0x3c || s.charCodeAt(digits) == 0x3e)) {
      const fd = I32.parseInt(s.slice(this.at, digits));
      this.at = digits;
      const t = this.redirectToken(start);
      t.fd = fd;
      return t;
    }
    if (c == 0x3c || c == 0x3e) return this.redirectToken(start);
    const d = this.at + 1 < s.length ? s.charCodeAt(this.at + 1) : 0;
    if (c == 0x26) return this.op(d == 0x26 ? "&&" : "&");
    if (c == 0x7c) return this.op(d == 0x7c ? "||" : "|");
    if (c == 0x3b) return this.op(d == 0x3b ? ";;" : ";");
    if (c == 0x28) return this.op("(");
    if (c == 0x29) return this.op(")");
    return this.word(start);
  }

  private op(text: string): Token {
    const start = this.at;
    this.at += text.length;
    return new Token(T_OP, text, start, this.at);
  }

  private redirectToken(start: i32): Token {
    const s = this.src;
    const c = s.charCodeAt(this.at);
    const d = this.at + 1 < s.length ? s.charCodeAt(this.at + 1) : 0;
    let op = 0;
    let length = 1;
    if (c == 0x3c) {
      if (d == 0x3c) {
        op = R_HEREDOC;
        length = this.at + 2 < s.length && s.charCodeAt(this.at + 2) == 0x2d ? 3 : 2;
      } else if (d == 0x26) {
        op = R_DUP_IN;
        length = 2;
      } else if (d == 0x3e) {
        op = R_READ_WRITE;
        length = 2;
      } else op = R_IN;
    } else {
      if (d == 0x3e) {
        op = R_APPEND;
        length = 2;
      } else if (d == 0x26) {
        op = R_DUP_OUT;
        length = 2;
      } else {
        op = R_OUT;
        if (d == 0x7c) length = 2;
      }
    }
    const text = s.slice(this.at, this.at + length);
    this.at += length;
    const t = new Token(T_REDIRECT, text, start, this.at);
    t.op = op;
    return t;
  }

  /** A word, as written, up to the first unquoted metacharacter. */
  private word(start: i32): Token {
    const s = this.src;
    while (this.at < s.length && !this.failed) {
      const c = s.charCodeAt(this.at);
      if (isMeta(c)) break;
      this.at = this.skipQuoted(this.at);
    }
    return new Token(T_WORD, s.slice(start, this.at), start, this.at);
  }

  /** The position after the unit at `i`: one character, or a whole quote, escape, $(...), ${...} or `...`. */
  skipQuoted(i: i32): i32 {
    if (this.depth == MAX_SYNTAX_DEPTH) {
      this.fail(TOO_DEEP, i);
      return this.src.length;
    }
    this.depth++;
    const end = this.skipQuotedUnit(i);
    this.depth--;
    return end;
  }

  private skipQuotedUnit(i: i32): i32 {
    const s = this.src;
    const c = s.charCodeAt(i);
    if (c == 0x5c) return min(i + 2, s.length);
    if (c == 0x27) {
      const close = s.indexOf("'", i + 1);
      if (close < 0) {
        this.fail("a ' is not closed", i, true);
        return s.length;
      }
      return close + 1;
    }
    if (c == 0x22) {
      let j = i + 1;
      while (j < s.length && !this.failed) {
        const e = s.charCodeAt(j);
        if (e == 0x22) return j + 1;
        if (e == 0x5c) j = min(j + 2, s.length);
        else if (e == 0x24 || e == 0x60) j = this.skipQuoted(j);
        else j++;
      }
      this.fail('a " is not closed', i, true);
      return s.length;
    }
    if (c == 0x60) {
      let j = i + 1;
      while (j < s.length) {
        const e = s.charCodeAt(j);
        if (e == 0x60) return j + 1;
        j += e == 0x5c ? 2 : 1;
      }
      this.fail("a ` is not closed", i, true);
      return s.length;
    }
    if (c == 0x24 && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d == 0x28) return this.skipBalanced(i + 1, 0x28, 0x29, "$(");
      if (d == 0x7b) return this.skipBalanced(i + 1, 0x7b, 0x7d, "${");
    }
    return i + 1;
  }

  /** From the `open` at `i`, the position after its matching `close` (quotes and nesting respected). */
  private skipBalanced(i: i32, open: i32, close: i32, what: string): i32 {
    const s = this.src;
    let depth = 0;
    let j = i;
    while (j < s.length && !this.failed) {
      const e = s.charCodeAt(j);
      if (e == open) {
        depth++;
        j++;
      } else if (e == close) {
        depth--;
        j++;
        if (depth == 0) return j;
      } else if (e == 0x27 || e == 0x22 || e == 0x5c || e == 0x60 || e == 0x24) j = this.skipQuoted(j);
      else j++;
    }
    this.fail("a " + what + " is not closed", i - 1, true);
    return s.length;
  }

  /** Reads the lines of the here-documents of the line that just ended. */
  private readHeredocs(): void {
    const s = this.src;
    for (let k = 0; k < this.pending.length; k++) {
      const r = this.pending[k];
      const stripTabs = r.heredoc == "-";
      const delimiter = unquoteWord(r.target);
      r.heredocQuoted = delimiter != r.target;
      let body = "";
      let found = false;
      while (this.at < s.length) {
        let end = s.indexOf("\n", this.at);
        const last = end < 0;
        if (last) end = s.length;
        let line = s.slice(this.at, end);
        this.at = last ? end : end + 1;
        if (stripTabs) while (line.startsWith("\t")) line = line.slice(1);
        if (line == delimiter) {
          found = true;
          break;
        }
        body += line + "\n";
      }
      if (!found) this.fail("a here-document is not ended (" + delimiter + ")", this.at, true);
      r.heredoc = body;
    }
    this.pending.length = 0;
  }

  // ---- Grammar -------------------------------------------------------------------------------

  private isWord(t: Token, text: string): bool {
    return t.kind == T_WORD && t.text == text;
  }

  private isOp(t: Token, text: string): bool {
    return t.kind == T_OP && t.text == text;
  }

  skipNewlines(): void {
    while (!this.failed && this.peek().kind == T_NEWLINE) this.take();
  }

  /** Whether the next token ends a list: EOF, ), ;;, or a reserved word that closes a compound command. */
  private endsList(t: Token): bool {
    if (t.kind == T_EOF) return true;
    if (this.isOp(t, ")") || this.isOp(t, ";;")) return true;
    if (t.kind != T_WORD) return false;
    const w = t.text;
    return w == "then" || w == "else" || w == "elif" || w == "fi" || w == "do" || w == "done" || w == "esac" || w == "}";
  }

  /** A list: and-or lists separated by ; & or newlines, up to what ends it. */
  list(): List {
    const list = new List();
    this.skipNewlines();
    while (!this.failed && !this.endsList(this.peek())) {
      const start = this.peek().start;
      const item = this.andOr();
      if (this.failed) break;
      const t = this.peek();
      let background = false;
      let end = t.start;
      if (this.isOp(t, "&") || this.isOp(t, ";")) {
        background = t.text == "&";
        this.take();
        end = t.end;
      } else if (t.kind == T_NEWLINE) this.take();
      else if (!this.endsList(t)) {
        this.fail("unexpected " + describe(t), t.start);
        break;
      }
      list.items.push(new ListItem(item, background, this.src.slice(start, end).trim()));
      this.skipNewlines();
    }
    return list;
  }

  private andOr(): AndOr {
    const item = new AndOr();
    item.pipelines.push(this.pipeline());
    item.joins.push(0);
    while (!this.failed) {
      const t = this.peek();
      if (!this.isOp(t, "&&") && !this.isOp(t, "||")) break;
      this.take();
      this.skipNewlines();
      if (this.peek().kind == T_EOF) {
        this.fail(t.text + " with no command after it", t.start, true);
        break;
      }
      item.pipelines.push(this.pipeline());
      item.joins.push(t.text == "&&" ? JOIN_AND : JOIN_OR);
    }
    return item;
  }

  private pipeline(): Pipeline {
    const p = new Pipeline();
    if (this.isWord(this.peek(), "!")) {
      this.take();
      p.bang = true;
    }
    p.commands.push(this.command());
    while (!this.failed && this.isOp(this.peek(), "|")) {
      const bar = this.take();
      this.skipNewlines();
      if (this.peek().kind == T_EOF) {
        this.fail("a command is missing after |", bar.start, true);
        break;
      }
      p.commands.push(this.command());
    }
    return p;
  }

  /** A command; compound ones (and a function's body) hold more, one level deeper each. */
  private command(): Node {
    if (this.depth == MAX_SYNTAX_DEPTH) {
      this.fail(TOO_DEEP, this.peek().start);
      return new SimpleCommand();
    }
    this.depth++;
    const node = this.commandAt();
    this.depth--;
    return node;
  }

  private commandAt(): Node {
    const t = this.peek();
    if (t.kind == T_EOF) {
      this.fail("a command is missing", t.start, true);
      return new SimpleCommand();
    }
    if (t.kind == T_OP && t.text != "(") {
      this.fail(t.text + " with no command before it", t.start);
      return new SimpleCommand();
    }
    let node: Node | null = null;
    if (this.isOp(t, "(")) {
      this.take();
      const body = this.list();
      this.expectOp(")", t);
      node = new Group(N_SUBSHELL, body);
    } else if (t.kind == T_WORD) {
      const w = t.text;
      if (w == "{") {
        this.take();
        const body = this.list();
        this.expectWord("}", t);
        node = new Group(N_GROUP, body);
      } else if (w == "if") node = this.ifCommand();
      else if (w == "while" || w == "until") node = this.whileCommand();
      else if (w == "for") node = this.forCommand();
      else if (w == "case") node = this.caseCommand();
      else if (w == "then" || w == "else" || w == "elif" || w == "fi" || w == "do" || w == "done" || w == "esac" || w == "}") {
        this.fail("unexpected " + w, t.start);
        return new SimpleCommand();
      } else {
        // NAME ( ) compound: a function.
        this.take();
        if (isName(w) && this.isOp(this.peek(), "(")) {
          const open = this.take();
          this.expectOp(")", open);
          this.skipNewlines();
          const body = this.command();
          return new FunctionDefinition(w, body);
        }
        return this.simple(t);
      }
    }
    if (node == null) return this.simple(null);
    const compound = node!;
    this.redirects(compound);
    return compound;
  }

  private expectWord(word: string, opened: Token): void {
    if (this.failed) return;
    const t = this.peek();
    if (this.isWord(t, word)) {
      this.take();
      return;
    }
    if (t.kind == T_EOF) this.fail("'" + opened.text + "' is not closed: " + word + " is missing", opened.start, true);
    else this.fail("expected " + word + ", found " + describe(t), t.start);
  }

  private expectOp(op: string, opened: Token): void {
    if (this.failed) return;
    const t = this.peek();
    if (this.isOp(t, op)) {
      this.take();
      return;
    }
    if (t.kind == T_EOF) this.fail("'" + opened.text + "' is not closed: " + op + " is missing", opened.start, true);
    else this.fail("expected " + op + ", found " + describe(t), t.start);
  }

  private ifCommand(): Node {
    const opened = this.take();
    const node = new If();
    node.conditions.push(this.list());
    this.expectWord("then", opened);
    node.bodies.push(this.list());
    while (!this.failed) {
      const t = this.peek();
      if (this.isWord(t, "elif")) {
        this.take();
        node.conditions.push(this.list());
        this.expectWord("then", t);
        node.bodies.push(this.list());
      } else if (this.isWord(t, "else")) {
        this.take();
        node.otherwise = this.list();
        this.expectWord("fi", opened);
        break;
      } else {
        this.expectWord("fi", opened);
        break;
      }
    }
    return node;
  }

  private whileCommand(): Node {
    const opened = this.take();
    const condition = this.list();
    this.expectWord("do", opened);
    const body = this.list();
    this.expectWord("done", opened);
    return new While(condition, body, opened.text == "until");
  }

  private forCommand(): Node {
    const opened = this.take();
    const name = this.take();
    if (name.kind != T_WORD || !isName(name.text)) {
      this.fail(name.kind == T_EOF ? "for needs a variable name" : "for: '" + name.text + "' is not a variable name", name.start, name.kind == T_EOF);
      return new SimpleCommand();
    }
    this.skipNewlines();
    let words: string[] | null = null;
    if (this.isWord(this.peek(), "in")) {
      this.take();
      words = [];
      while (!this.failed && this.peek().kind == T_WORD) words!.push(this.take().text);
      const t = this.peek();
      if (this.isOp(t, ";") || t.kind == T_NEWLINE) this.take();
    } else if (this.isOp(this.peek(), ";")) this.take();
    this.skipNewlines();
    this.expectWord("do", opened);
    const body = this.list();
    this.expectWord("done", opened);
    return new For(name.text, words, body);
  }

  private caseCommand(): Node {
    const opened = this.take();
    const word = this.take();
    if (word.kind != T_WORD) {
      this.fail("case needs a word", word.start, word.kind == T_EOF);
      return new SimpleCommand();
    }
    const node = new Case(word.text);
    this.skipNewlines();
    this.expectWord("in", opened);
    this.skipNewlines();
    while (!this.failed && !this.isWord(this.peek(), "esac")) {
      if (this.peek().kind == T_EOF) {
        this.fail("'case' is not closed: esac is missing", opened.start, true);
        break;
      }
      if (this.isOp(this.peek(), "(")) this.take();
      const patterns = new Array<string>();
      for (;;) {
        const p = this.take();
        if (p.kind != T_WORD) {
          this.fail("expected a pattern, found " + describe(p), p.start, p.kind == T_EOF);
          return node;
        }
        patterns.push(p.text);
        if (this.isOp(this.peek(), "|")) {
          this.take();
          continue;
        }
        break;
      }
      this.expectOp(")", opened);
      const body = this.list();
      node.items.push(new CaseItem(patterns, body));
      if (this.isOp(this.peek(), ";;")) this.take();
      else if (!this.isWord(this.peek(), "esac") && !this.failed) {
        const t = this.peek();
        this.fail(t.kind == T_EOF ? "'case' is not closed: esac is missing" : "expected ;; or esac, found " + describe(t), t.start, t.kind == T_EOF);
      }
      this.skipNewlines();
    }
    this.expectWord("esac", opened);
    return node;
  }

  private simple(first: Token | null): Node {
    const c = new SimpleCommand();
    let words = false;
    if (first != null) {
      const w = first!.text;
      if (assignmentName(w).length > 0) c.assignments.push(w);
      else {
        c.words.push(w);
        words = true;
      }
    }
    while (!this.failed) {
      const t = this.peek();
      if (t.kind == T_REDIRECT) {
        this.redirect(c);
        continue;
      }
      if (t.kind != T_WORD) break;
      this.take();
      if (!words && assignmentName(t.text).length > 0) c.assignments.push(t.text);
      else {
        c.words.push(t.text);
        words = true;
      }
    }
    if (c.words.length == 0 && c.assignments.length == 0 && c.redirects.length == 0 && !this.failed) {
      const t = this.peek();
      this.fail(t.kind == T_EOF ? "a command is missing" : describe(t) + " with no command before it", t.start, t.kind == T_EOF);
    }
    return c;
  }

  private redirects(node: Node): void {
    while (!this.failed && this.peek().kind == T_REDIRECT) this.redirect(node);
  }

  private redirect(node: Node): void {
    const t = this.take();
    const target = this.take();
    if (target.kind != T_WORD) {
      this.fail("a file name must follow " + t.text, t.start, target.kind == T_EOF);
      return;
    }
    const fd = t.fd >= 0 ? t.fd : t.op == R_IN || t.op == R_DUP_IN || t.op == R_HEREDOC || t.op == R_READ_WRITE ? 0 : 1;
    const r = new Redirect(fd, t.op, target.text);
    if (t.op == R_HEREDOC) {
      r.heredoc = t.text == "<<-" ? "-" : "";
      this.pending.push(r);
    }
    node.redirects.push(r);
  }
}

function describe(t: Token): string {
  if (t.kind == T_EOF) return "the end";
  if (t.kind == T_NEWLINE) return "a newline";
  return "'" + t.text + "'";
}

/** A word with its quotes taken off (no expansion): a here-document's delimiter. */
export function unquoteWord(word: string): string {
  let out = "";
  for (let i = 0; i < word.length; i++) {
    const c = word.charCodeAt(i);
    if (c == 0x27 || c == 0x22) continue;
    if (c == 0x5c && i + 1 < word.length) {
      out += word.charAt(++i);
      continue;
    }
    out += word.charAt(i);
  }
  return out;
}

/** Parses a whole program (a line, several lines, a script). */
export function parseProgram(text: string): Parsed {
  const p = new Parser(text);
  const out = new Parsed();
  const list = p.list();
  if (!p.failed) {
    const t = p.peek();
    if (t.kind != T_EOF) p.fail("unexpected " + describe(t), t.start);
    else if (p.pending.length > 0) p.fail("a here-document is not ended", t.start, true);
  }
  if (p.failed) {
    out.error = p.error;
    out.incomplete = p.incomplete;
    let line = 1;
    for (let i = 0; i < min(p.errorAt, text.length); i++) if (text.charCodeAt(i) == 0x0a) line++;
    out.line = line;
    return out;
  }
  out.list = list;
  return out;
}

/** Whether `word` (as written) is a reserved word: no quotes, one of if then else... */
export function isReserved(word: string): bool {
  return RESERVED.includes(word);
}
