// Word expansion, in POSIX's order (docs/PROGRAMS.md "Scripts"): tilde, parameters ($NAME,
// ${NAME...}, $1, $#, $@, $*, $?, $$, $!), command substitution ($(...) and `...`) and arithmetic
// ($((...))); then the results of unquoted expansions are split into fields at $IFS; then each
// field with an unquoted * ? or [ is matched against the file system's names (glob.ts); quotes go.
// "$@" makes one field per positional parameter. A word is expanded as it runs, so an assignment
// before it is seen.
//
// Each character of the result keeps whether it was quoted (then it is never a wildcard, nor split
// at), which is what `case` patterns and ${NAME%pattern} need too.
import { isName, MAX_SYNTAX_DEPTH } from "./parse";
import { evaluateArithmetic } from "./arith";

/** A field being made: its text, which characters are live wildcards, and whether anything (even "") made it. */
export class Expanded {
  text: string = "";
  wild: bool[] = [];
  hasWild: bool = false;
  /** Something quoted or expanded made this field, even if it is empty ("" is a field; an empty $X is none). */
  real: bool = false;

  add(text: string, wild: bool): void {
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      const live = wild && (c == 0x2a || c == 0x3f || c == 0x5b);
      this.wild.push(live);
      if (live) this.hasWild = true;
    }
    this.text += text;
    if (text.length > 0) this.real = true;
  }
}

/** What expansion asks of the shell: variables, the positional parameters, and running commands. */
export abstract class ExpansionHost {
  /** A variable's value, or null when it is not set. */
  abstract variable(name: string): string | null;
  abstract setVariable(name: string, value: string): void;
  /** $1 ... (not $0). */
  abstract positional(): string[];
  /** $0. */
  abstract scriptName(): string;
  abstract lastStatus(): i32;
  abstract lastBackground(): i32;
  abstract shellPid(): i32;
  /** Runs `text` as commands and answers what they wrote to their output. */
  abstract commandOutput(text: string): string;
  /** Says what went wrong (${X?}, bad arithmetic) and makes the command fail. */
  abstract expansionError(message: string): void;
}

const MODE_FIELDS: i32 = 0;
const MODE_TEXT: i32 = 1;

export class Expander {
  /** Set when an expansion failed (${X:?}, an arithmetic error): the command is not run. */
  failed: bool = false;
  /** Words being expanded inside one another (${X:-${Y:-...}}), at most MAX_SYNTAX_DEPTH. */
  private depth: i32 = 0;
  /** Characters the last word expanded to. */
  private lastSize: i32 = 0;

  constructor(readonly host: ExpansionHost) {}

  /** `word` as fields: split and globbed by the caller (fields()), or kept whole (text()). */
  private run(word: string, mode: i32, out: Expanded[]): void {
    // Recursive, as the parser is: bounded the same way (parse.ts MAX_SYNTAX_DEPTH).
    if (this.depth == MAX_SYNTAX_DEPTH) {
      if (!this.failed) this.host.expansionError("nested too deep: expansions may nest " + MAX_SYNTAX_DEPTH.toString() + " levels deep");
      this.failed = true;
      return;
    }
    this.depth++;
    const fits = this.runWord(word, mode, out);
    this.depth--;
    // A large word leaves as much garbage behind it (the pieces it was made of), which the
    // incremental collector lets stand while a loop makes the next one: collected now, a loop of
    // them stays within the shell's quota (it ran out at the fourth 1 MiB assignment otherwise).
    if (this.lastSize >= LARGE_WORD_CHARS) __collect();
    if (!fits) {
      if (!this.failed) this.host.expansionError("a word expands to more than " + MAX_WORD_CHARS.toString() + " characters");
      this.failed = true;
      out.length = 0;
    }
  }

  /** False when the word would expand past MAX_WORD_CHARS (what it made so far is dropped). */
  private runWord(word: string, mode: i32, out: Expanded[]): bool {
    let i = 0;
    const ifs = this.host.variable("IFS");
    const cur = new ExpandState(out, mode, ifs == null ? " \t\n" : ifs!);
    if (word.startsWith("~")) i = this.tilde(word, cur);
    while (i < word.length) {
      const c = word.charCodeAt(i);
      if (c == 0x27) {
        const close = word.indexOf("'", i + 1);
        const end = close < 0 ? word.length : close;
        cur.literal(word.slice(i + 1, end), true);
        cur.field().real = true;
        i = end + 1;
      } else if (c == 0x22) {
        i = this.doubleQuoted(word, i + 1, cur);
      } else if (c == 0x5c) {
        if (i + 1 < word.length) cur.literal(word.charAt(i + 1), true);
        i += 2;
      } else if (c == 0x24) {
        i = this.dollar(word, i, cur, false);
      } else if (c == 0x60) {
        i = this.backquote(word, i, cur, false);
      } else {
        cur.literal(word.charAt(i), false);
        i++;
      }
      if (cur.tooLong) return false;
    }
    cur.finish();
    this.lastSize = cur.size;
    return !cur.tooLong;
  }

  /** The fields of `word`, split at $IFS and globbed through `glob` (null: no globbing). */
  fields(word: string): Expanded[] {
    const out = new Array<Expanded>();
    this.run(word, MODE_FIELDS, out);
    return out;
  }

  /** `word` as one string: no field splitting, no globbing (assignments, redirections, case words, here-documents). */
  text(word: string): string {
    const out = new Array<Expanded>();
    this.run(word, MODE_TEXT, out);
    let text = "";
    for (let i = 0; i < out.length; i++) text += (i > 0 ? " " : "") + out[i].text;
    return text;
  }

  /** `word` as a pattern (case, ${X%pattern}): one string whose unquoted * ? [ are wildcards. */
  pattern(word: string): Expanded {
    const out = new Array<Expanded>();
    this.run(word, MODE_TEXT, out);
    if (out.length == 0) return new Expanded();
    const first = out[0];
    for (let i = 1; i < out.length; i++) {
      first.text += " ";
      first.wild.push(false);
      first.text += out[i].text;
      for (let k = 0; k < out[i].wild.length; k++) first.wild.push(out[i].wild[k]);
    }
    return first;
  }

  /** A here-document's text: $ expansions, `...` and \ before $ ` \ and newline; quotes are kept. */
  heredoc(text: string): string {
    const out = new Array<Expanded>();
    const cur = new ExpandState(out, MODE_TEXT, "");
    let i = 0;
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c == 0x5c && i + 1 < text.length) {
        const d = text.charCodeAt(i + 1);
        if (d == 0x24 || d == 0x60 || d == 0x5c) {
          cur.literal(text.charAt(i + 1), true);
          i += 2;
          continue;
        }
        if (d == 0x0a) {
          i += 2;
          continue;
        }
      }
      if (c == 0x24) i = this.dollar(text, i, cur, true);
      else if (c == 0x60) i = this.backquote(text, i, cur, true);
      else {
        cur.literal(text.charAt(i), true);
        i++;
      }
    }
    cur.finish();
    return out.length > 0 ? out[0].text : "";
  }

  private tilde(word: string, cur: ExpandState): i32 {
    let end = 1;
    while (end < word.length && word.charCodeAt(end) != 0x2f) end++;
    if (end > 1) return 0; // ~user: there are no other users
    const home = this.host.variable("HOME");
    if (home == null) return 0;
    cur.literal(home!, true);
    return 1;
  }

  /** Inside "...", from `i` (after the opening quote): the position after the closing one. */
  private doubleQuoted(word: string, i: i32, cur: ExpandState): i32 {
    cur.field().real = true;
    while (i < word.length) {
      const c = word.charCodeAt(i);
      if (c == 0x22) return i + 1;
      if (c == 0x5c && i + 1 < word.length) {
        const d = word.charCodeAt(i + 1);
        if (d == 0x24 || d == 0x60 || d == 0x22 || d == 0x5c) {
          cur.literal(word.charAt(i + 1), true);
          i += 2;
          continue;
        }
        if (d == 0x0a) {
          i += 2;
          continue;
        }
      }
      if (c == 0x24) i = this.dollar(word, i, cur, true);
      else if (c == 0x60) i = this.backquote(word, i, cur, true);
      else {
        cur.literal(word.charAt(i), true);
        i++;
      }
    }
    return i;
  }

  /** `...`: the commands between the backquotes (\ before ` \ $ taken off), their output. */
  private backquote(word: string, i: i32, cur: ExpandState, quoted: bool): i32 {
    let j = i + 1;
    let inner = "";
    while (j < word.length && word.charCodeAt(j) != 0x60) {
      const c = word.charCodeAt(j);
      if (c == 0x5c && j + 1 < word.length) {
        const d = word.charCodeAt(j + 1);
        if (d == 0x60 || d == 0x5c || d == 0x24) {
          inner += word.charAt(j + 1);
          j += 2;
          continue;
        }
      }
      inner += word.charAt(j);
      j++;
    }
    cur.expansion(trimNewlines(this.host.commandOutput(inner)), quoted);
    return j + 1;
  }

  /** A $ at `i`: what follows it expanded into `cur`; the position after it. */
  private dollar(word: string, i: i32, cur: ExpandState, quoted: bool): i32 {
    if (i + 1 >= word.length) {
      cur.literal("$", quoted);
      return i + 1;
    }
    const d = word.charCodeAt(i + 1);
    if (d == 0x28) {
      if (i + 2 < word.length && word.charCodeAt(i + 2) == 0x28) {
        const end = matchingClose(word, i + 1);
        if (end > 0 && word.charCodeAt(end - 2) == 0x29) {
          const inside = this.text(word.slice(i + 3, end - 2));
          const result = evaluateArithmetic(inside, this.host);
          if (result.error.length > 0) {
            this.host.expansionError("arithmetic: " + result.error + ": " + inside.trim());
            this.failed = true;
          }
          cur.expansion(result.value.toString(), quoted);
          return end;
        }
      }
      const end = matchingClose(word, i + 1);
      cur.expansion(trimNewlines(this.host.commandOutput(word.slice(i + 2, end - 1))), quoted);
      return end;
    }
    if (d == 0x7b) return this.braced(word, i, cur, quoted);
    if (d == 0x40 || d == 0x2a) {
      // $@ and $*: the positional parameters; "$@" keeps each one a field of its own.
      const all = this.host.positional();
      if (quoted && d == 0x2a) cur.expansion(all.join(this.separator()), true);
      else cur.parameters(all, quoted);
      return i + 2;
    }
    const special = this.special(d);
    if (special != null) {
      cur.expansion(special!, quoted);
      return i + 2;
    }
    if (d >= 0x30 && d <= 0x39) {
      cur.expansion(this.numbered(d - 0x30), quoted);
      return i + 2;
    }
    let end = i + 1;
    while (end < word.length && isNameChar(word.charCodeAt(end), end == i + 1)) end++;
    if (end == i + 1) {
      cur.literal("$", quoted);
      return i + 1;
    }
    const value = this.host.variable(word.slice(i + 1, end));
    cur.expansion(value == null ? "" : value!, quoted);
    return end;
  }

  /** $? $# $$ $! $- and $0; null for any other character. */
  private special(c: i32): string | null {
    if (c == 0x3f) return this.host.lastStatus().toString();
    if (c == 0x23) return this.host.positional().length.toString();
    if (c == 0x24) return this.host.shellPid().toString();
    if (c == 0x21) {
      const pid = this.host.lastBackground();
      return pid > 0 ? pid.toString() : "";
    }
    if (c == 0x2d) return "";
    if (c == 0x30) return this.host.scriptName();
    return null;
  }

  private numbered(n: i32): string {
    if (n == 0) return this.host.scriptName();
    const all = this.host.positional();
    return n <= all.length ? all[n - 1] : "";
  }

  private separator(): string {
    const ifs = this.host.variable("IFS");
    if (ifs == null) return " ";
    return ifs!.length > 0 ? ifs!.charAt(0) : "";
  }

  /** A parameter's value by name (a variable, a digit string, or a special one); null when unset. */
  private parameter(name: string): string | null {
    if (name.length == 1) {
      const c = name.charCodeAt(0);
      if (c == 0x40 || c == 0x2a) return this.host.positional().join(c == 0x2a ? this.separator() : " ");
      const special = this.special(c);
      if (special != null) return special;
    }
    let digits = name.length > 0;
    for (let k = 0; k < name.length; k++) if (name.charCodeAt(k) < 0x30 || name.charCodeAt(k) > 0x39) digits = false;
    if (digits) {
      const n = I32.parseInt(name);
      const all = this.host.positional();
      if (n == 0) return this.host.scriptName();
      return n <= all.length ? all[n - 1] : null;
    }
    return this.host.variable(name);
  }

  /** ${...} at `i`: the position after its closing brace. */
  private braced(word: string, i: i32, cur: ExpandState, quoted: bool): i32 {
    const end = matchingClose(word, i + 1);
    const inside = word.slice(i + 2, end - 1);
    if (inside.startsWith("#") && inside.length > 1) {
      const value = this.parameter(inside.slice(1));
      cur.expansion((value == null ? 0 : value!.length).toString(), quoted);
      return end;
    }
    // The name: a variable name, digits, or one special character.
    let n = 0;
    if (inside.length > 0 && isNameChar(inside.charCodeAt(0), true)) {
      while (n < inside.length && isNameChar(inside.charCodeAt(n), n == 0)) n++;
    } else if (inside.length > 0 && inside.charCodeAt(0) >= 0x30 && inside.charCodeAt(0) <= 0x39) {
      while (n < inside.length && inside.charCodeAt(n) >= 0x30 && inside.charCodeAt(n) <= 0x39) n++;
    } else if (inside.length > 0) n = 1;
    const name = inside.slice(0, n);
    const op = inside.slice(n);
    if (name.length == 0) {
      this.host.expansionError("${" + inside + "}: bad substitution");
      this.failed = true;
      return end;
    }
    if ((name == "@" || name == "*") && op.length == 0) {
      const all = this.host.positional();
      if (quoted && name == "*") cur.expansion(all.join(this.separator()), true);
      else cur.parameters(all, quoted);
      return end;
    }
    const value = this.parameter(name);
    if (op.length == 0) {
      cur.expansion(value == null ? "" : value!, quoted);
      return end;
    }
    const colon = op.startsWith(":");
    const kind = colon ? op.charAt(1) : op.charAt(0);
    const argument = op.slice(colon ? 2 : 1);
    const unset = value == null || (colon && value!.length == 0);
    if (kind == "-") {
      if (unset) this.expandInto(argument, cur, quoted);
      else cur.expansion(value!, quoted);
    } else if (kind == "=") {
      if (unset) {
        const assigned = this.text(argument);
        if (isName(name)) this.host.setVariable(name, assigned);
        cur.expansion(assigned, quoted);
      } else cur.expansion(value!, quoted);
    } else if (kind == "+") {
      if (!unset) this.expandInto(argument, cur, quoted);
    } else if (kind == "?") {
      if (unset) {
        const message = argument.length > 0 ? this.text(argument) : "parameter not set";
        this.host.expansionError(name + ": " + message);
        this.failed = true;
      } else cur.expansion(value!, quoted);
    } else if (!colon && (kind == "%" || kind == "#")) {
      const longest = op.length > 1 && op.charAt(1) == kind;
      const pattern = this.pattern(op.slice(longest ? 2 : 1));
      const text = value == null ? "" : value!;
      // Each place the pattern may end (or begin) is a match: quadratic in the value, so bounded.
      if (text.length > MAX_TRIMMED_CHARS && pattern.hasWild) {
        this.host.expansionError("${" + inside + "}: a value of more than " + MAX_TRIMMED_CHARS.toString() + " characters to match a pattern against");
        this.failed = true;
      } else cur.expansion(trimPattern(text, pattern, kind == "#", longest), quoted);
    } else {
      this.host.expansionError("${" + inside + "}: bad substitution");
      this.failed = true;
    }
    return end;
  }

  /** The word of ${X:-word} and ${X:+word}, expanded where it stands (quoted if the ${} was). */
  private expandInto(argument: string, cur: ExpandState, quoted: bool): void {
    if (quoted) {
      cur.expansion(this.text(argument), true);
      return;
    }
    const parts = new Array<Expanded>();
    this.run(argument, MODE_TEXT, parts);
    for (let k = 0; k < parts.length; k++) cur.expansion(parts[k].text, false);
  }
}

/**
 * Characters a word may expand to, its fields together (each field counted 16 more): the shell
 * builds them in its own memory, and `x=$x$x` in a loop, or "$x" a thousand times, grew it to its
 * quota, where the shell faulted (out of memory) and init restarted it. The same bound as $(...).
 */
export const MAX_WORD_CHARS: i32 = 1 << 20;
const FIELD_CHARS: i32 = 16;
/** A word this large is followed by a full collection (Expander.run). */
const LARGE_WORD_CHARS: i32 = 128 << 10;

/** Fields being made: the one being filled, and what the mode does with unquoted expansions. */
class ExpandState {
  private current: Expanded = new Expanded();
  /** Characters (and fields) made so far, against MAX_WORD_CHARS. */
  private used: i32 = 0;

  get size(): i32 {
    return this.used;
  }
  /** Past MAX_WORD_CHARS: nothing more is added, and the word fails. */
  tooLong: bool = false;

  /** Whether `n` more characters fit the word's budget; past it, tooLong. */
  private fits(n: i32): bool {
    if (this.tooLong || n > MAX_WORD_CHARS - this.used) {
      this.tooLong = true;
      return false;
    }
    this.used += n;
    return true;
  }
  constructor(
    readonly out: Expanded[],
    readonly mode: i32,
    /** $IFS: where unquoted expansions are split (its blanks run together; its other characters each end a field). */
    readonly ifs: string,
  ) {}

  field(): Expanded {
    return this.current;
  }

  /** Text written in the word: quoted text is never a wildcard. */
  literal(text: string, quoted: bool): void {
    if (!this.fits(text.length)) return;
    this.current.add(text, !quoted);
    if (quoted) this.current.real = true;
  }

  /** An expansion's result: unquoted, it is split at blanks (in MODE_FIELDS) and its * ? [ are live. */
  expansion(text: string, quoted: bool): void {
    if (!this.fits(text.length)) return;
    if (quoted || this.mode != MODE_FIELDS) {
      this.current.add(text, false);
      if (quoted) this.current.real = true;
      return;
    }
    let start = 0;
    for (let i = 0; i <= text.length; i++) {
      const separator = i < text.length && this.ifs.includes(text.charAt(i));
      if (i < text.length && !separator) continue;
      if (i > start) this.current.add(text.slice(start, i), true);
      if (separator) {
        if (isBlank(text.charCodeAt(i))) this.split();
        else {
          // A separator that is not blank ends the field, even an empty one ("a::b" is a, "", b).
          this.out.push(this.current);
          this.current = new Expanded();
        }
      }
      start = i + 1;
    }
  }

  /** $@: each parameter its own field ("$@"), or each split like any unquoted expansion. */
  parameters(all: string[], quoted: bool): void {
    if (!quoted || this.mode != MODE_FIELDS) {
      for (let k = 0; k < all.length; k++) {
        if (k > 0) this.split();
        this.expansion(all[k], false);
      }
      return;
    }
    for (let k = 0; k < all.length; k++) {
      if (k > 0) {
        this.current.real = true;
        this.out.push(this.current);
        this.current = new Expanded();
      }
      if (!this.fits(all[k].length + FIELD_CHARS)) return;
      this.current.add(all[k], false);
      this.current.real = true;
    }
  }

  /** Ends the field being made at a blank of an unquoted expansion. */
  split(): void {
    if (this.current.real || this.current.text.length > 0) {
      if (!this.fits(FIELD_CHARS)) return;
      this.out.push(this.current);
    }
    this.current = new Expanded();
  }

  finish(): void {
    if (this.current.real || this.current.text.length > 0 || (this.mode != MODE_FIELDS && this.out.length == 0)) this.out.push(this.current);
  }
}

function isBlank(c: i32): bool {
  return c == 0x20 || c == 0x09 || c == 0x0a;
}

function isNameChar(c: i32, first: bool): bool {
  const letter = (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c == 0x5f;
  return letter || (!first && c >= 0x30 && c <= 0x39);
}

function trimNewlines(text: string): string {
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) == 0x0a) end--;
  return text.slice(0, end);
}

/** From the opening ( or { at `i`, the position after its match (quotes respected). */
export function matchingClose(word: string, i: i32): i32 {
  const open = word.charCodeAt(i);
  const close = open == 0x28 ? 0x29 : 0x7d;
  let depth = 0;
  let j = i;
  while (j < word.length) {
    const c = word.charCodeAt(j);
    if (c == 0x5c) {
      j += 2;
      continue;
    }
    if (c == 0x27) {
      const q = word.indexOf("'", j + 1);
      j = q < 0 ? word.length : q + 1;
      continue;
    }
    if (c == 0x22) {
      j++;
      while (j < word.length && word.charCodeAt(j) != 0x22) j += word.charCodeAt(j) == 0x5c ? 2 : 1;
      j++;
      continue;
    }
    if (c == open) depth++;
    else if (c == close) {
      depth--;
      if (depth == 0) return j + 1;
    }
    j++;
  }
  return word.length;
}

/** ${X#p} ${X##p} (from the start) and ${X%p} ${X%%p} (from the end): `value` without the shortest or longest match. */
/**
 * The longest value ${X%pattern} and the like match a pattern with wildcards against: each of its
 * places is tried, O(value² × pattern) at worst (a value of 1 Mi characters, what a word may hold,
 * kept the shell deaf for hours). A pattern without wildcards has no such limit.
 */
const MAX_TRIMMED_CHARS: i32 = 16 << 10;

function trimPattern(value: string, pattern: Expanded, fromStart: bool, longest: bool): string {
  const n = value.length;
  if (fromStart) {
    for (let k = 0; k <= n; k++) {
      const len = longest ? n - k : k;
      if (matchPattern(pattern.text, pattern.wild, 0, value, 0, len)) return value.slice(len);
    }
  } else {
    for (let k = 0; k <= n; k++) {
      const start = longest ? k : n - k;
      if (matchPattern(pattern.text, pattern.wild, 0, value, start)) return value.slice(0, start);
    }
  }
  return value;
}

/**
 * Whether `name` from `n` matches `pattern` from `p`: a live * any run of characters, a live ?
 * one, a live [...] one of a set (ranges a-z, ! or ^ first to negate); anything else itself.
 */
export function matchPattern(pattern: string, wild: bool[], p: i32, name: string, n: i32, end: i32 = -1): bool {
  // `name` up to `end` (all of it by default): a prefix is matched without a copy of it.
  const length = end < 0 ? name.length : end;
  // Iterative, with one way back: to just after the last * seen, which then takes one more
  // character. Each * matching any run, the last one's choice is the only one worth revisiting, so
  // this is O(pattern × name) with no recursion. (It recursed at each *: 5000 of them used up the
  // engine's stack, and *a*a*a... against a long run of a's took exponential time.)
  let starAt = -1;
  let starName = 0;
  while (n < length) {
    if (p < pattern.length) {
      const c = pattern.charCodeAt(p);
      if (wild[p] && c == 0x2a) {
        starAt = p++;
        starName = n;
        continue;
      }
      if (wild[p] && c == 0x3f) {
        p++;
        n++;
        continue;
      }
      const end = wild[p] && c == 0x5b ? bracketEnd(pattern, p) : 0;
      if (end > 0) {
        if (inBracket(pattern, p + 1, end, name.charCodeAt(n))) {
          p = end + 1;
          n++;
          continue;
        }
      } else if (c == name.charCodeAt(n)) {
        p++;
        n++;
        continue;
      }
    }
    if (starAt < 0) return false;
    p = starAt + 1;
    n = ++starName;
  }
  while (p < pattern.length && wild[p] && pattern.charCodeAt(p) == 0x2a) p++;
  return p == pattern.length;
}

/** The position of the ] that closes the [ at `p`, or -1 (then the [ is itself). */
function bracketEnd(pattern: string, p: i32): i32 {
  let j = p + 1;
  if (j < pattern.length && (pattern.charCodeAt(j) == 0x21 || pattern.charCodeAt(j) == 0x5e)) j++;
  if (j < pattern.length && pattern.charCodeAt(j) == 0x5d) j++; // a ] first is itself
  while (j < pattern.length && pattern.charCodeAt(j) != 0x5d) j++;
  return j < pattern.length ? j : -1;
}

function inBracket(pattern: string, from: i32, end: i32, c: i32): bool {
  let negate = false;
  let j = from;
  if (j < end && (pattern.charCodeAt(j) == 0x21 || pattern.charCodeAt(j) == 0x5e)) {
    negate = true;
    j++;
  }
  let found = false;
  while (j < end) {
    const a = pattern.charCodeAt(j);
    if (j + 2 < end && pattern.charCodeAt(j + 1) == 0x2d) {
      const b = pattern.charCodeAt(j + 2);
      if (c >= a && c <= b) found = true;
      j += 3;
      continue;
    }
    if (a == c) found = true;
    j++;
  }
  return found != negate;
}

/** Whether `text` matches the pattern word `pattern` as written (for callers with a plain pattern: every character live). */
export function matchesPlain(pattern: string, text: string): bool {
  const wild = new Array<bool>(pattern.length);
  for (let i = 0; i < pattern.length; i++) wild[i] = true;
  return matchPattern(pattern, wild, 0, text, 0);
}
