// dogma:runtime incremental
// grep [OPTION]... PATTERN [FILE]...: the lines of each FILE (standard input when none, or "-")
// that match PATTERN, a basic regular expression (-E extended, -F a fixed string;
// tool-parts/regex.ts). Status 0 when a line was selected, 1 when none was, 2 on an error.
import { args, eprint } from "../lib";
import { Options } from "../lib/options";
import { FS_RIGHT_READ, FS_KIND_DIR, FS_KIND_FILE, direntName, direntNameLength, direntNext, direntKind, FS_OPEN_DIRECTORY } from "../lib/fs-client";
import { Regex } from "./tool-parts/regex";
import { Input } from "./tool-parts/input";
import { out, outLine, finish } from "./tool-parts/output";
import { base, within, client } from "./tool-parts/files";
import { visible } from "./tool-parts/visible";

const o = new Options("grep", "[OPTION]... PATTERN [FILE]...", "Prints the lines of each FILE (standard input when none) that match PATTERN, a basic regular expression.")
  .flag("E", "extended-regexp", "PATTERN is an extended regular expression (| + ? { } ( ) unescaped)")
  .flag("F", "fixed-strings", "PATTERN is a plain string")
  .flag("G", "basic-regexp", "PATTERN is a basic regular expression (the default)")
  .value("e", "regexp", "PATTERN", "a pattern (may be given more than once)")
  .flag("i", "ignore-case", "letters match either case")
  .flag("v", "invert-match", "select the lines that do not match")
  .flag("w", "word-regexp", "match whole words only")
  .flag("x", "line-regexp", "match whole lines only")
  .flag("c", "count", "print only how many lines were selected, per file")
  .flag("l", "files-with-matches", "print only the names of files with a selected line")
  .flag("L", "files-without-match", "print only the names of files without one")
  .flag("n", "line-number", "put each line's number before it")
  .flag("o", "only-matching", "print only the matched parts, one per line")
  .flag("q", "quiet", "print nothing; the status says whether a line was selected")
  .flag("s", "no-messages", "say nothing of files that cannot be read")
  .flag("H", "with-filename", "put the file's name before each line")
  .flag("h", "no-filename", "never put file names before lines")
  .flag("r", "recursive", "search the files under each directory")
  .flag("R", "dereference-recursive", "as -r")
  .parse(args());

const patterns = o.values("e");
const operands = o.operands;
if (patterns.length == 0) {
  if (operands.length == 0) o.usageError("no PATTERN given");
  patterns.push(operands.shift());
}
const fixed = o.given("F");
const extended = o.given("E");
const ignoreCase = o.given("i");
const invert = o.given("v");
const words = o.given("w");
const whole = o.given("x");
const counting = o.given("c");
const listMatching = o.given("l");
const listMissing = o.given("L");
const numbers = o.given("n");
const only = o.given("o");
const quiet = o.given("q");
const silent = o.given("s");
const recursive = o.given("r") || o.given("R");

/** A pattern as a regular expression: a fixed string's specials escaped; -w and -x put around it. */
function compile(pattern: string): Regex {
  let p = pattern;
  let ext = extended;
  if (fixed) {
    let escaped = "";
    for (let i = 0; i < pattern.length; i++) {
      const c = pattern.charAt(i);
      if ("\\.[]*^$".includes(c)) escaped += "\\";
      escaped += c;
    }
    p = escaped;
    ext = false;
  }
  if (whole) p = ext ? "^(" + p + ")$" : "^\\(" + p + "\\)$";
  else if (words) p = ext ? "\\<(" + p + ")\\>" : "\\<\\(" + p + "\\)\\>";
  const r = new Regex(p, ext, ignoreCase);
  if (r.error.length > 0) {
    eprint("grep: " + pattern + ": " + r.error);
    finish(2);
  }
  return r;
}

// A pattern with newlines is several patterns, as in grep.
const regexes = new Array<Regex>();
for (let i = 0; i < patterns.length; i++) {
  const lines = patterns[i].split("\n");
  for (let k = 0; k < lines.length; k++) regexes.push(compile(lines[k]));
}

/** Whether `line` matches any pattern (start and end of the match in the regex). */
function matches(line: string): Regex | null {
  for (let i = 0; i < regexes.length; i++) if (regexes[i].search(line, 0, false)) return regexes[i];
  return null;
}

let selectedAny = false;
let troubled = false;

/** Searches one input; `label` is what goes before its lines. */
function searchInput(input: Input, label: string, showName: bool): void {
  let count = 0;
  let number = 0;
  for (let line = input.line(); line != null; line = input.line()) {
    number++;
    const text = line!;
    const found = matches(text);
    const selected = (found != null) != invert;
    if (!selected) continue;
    count++;
    selectedAny = true;
    if (quiet) finish(0);
    if (counting || listMatching || listMissing) {
      if (listMatching) break;
      continue;
    }
    const prefix = (showName ? label + ":" : "") + (numbers ? number.toString() + ":" : "");
    if (only && !invert) {
      // Every match of every pattern on the line, leftmost first, each the longest there.
      let from = 0;
      while (from <= text.length) {
        let bestStart = -1;
        let bestEnd = -1;
        for (let i = 0; i < regexes.length; i++) {
          const r = regexes[i];
          if (!r.search(text, from, true)) continue;
          if (bestStart < 0 || r.start < bestStart || (r.start == bestStart && r.end > bestEnd)) {
            bestStart = r.start;
            bestEnd = r.end;
          }
        }
        if (bestStart < 0) break;
        if (bestEnd > bestStart) outLine(prefix + text.slice(bestStart, bestEnd));
        from = bestEnd > bestStart ? bestEnd : bestStart + 1;
      }
      continue;
    }
    outLine(prefix + text);
  }
  if (input.status < 0) {
    troubled = true;
    if (!silent) input.failed("grep");
  }
  if (counting) outLine((showName ? label + ":" : "") + count.toString());
  if (listMatching && count > 0) outLine(label);
  if (listMissing && count == 0) outLine(label);
}

function searchPath(path: string, showName: bool): void {
  const input = new Input(path);
  if (input.status < 0) {
    if (recursive && path != "-" && isDirectory(path)) {
      walk(path);
      return;
    }
    troubled = true;
    if (!silent) input.failed("grep");
    return;
  }
  searchInput(input, path == "-" ? "(standard input)" : visible(path), showName);
  input.close();
}

function isDirectory(path: string): bool {
  const fs = client();
  const h = fs.open(base(path), within(path), FS_RIGHT_READ);
  if (h < 0) return false;
  const dir = fs.kind == FS_KIND_DIR;
  fs.close(h);
  return dir;
}

/** -r: every file under `dir`, in name order. */
function walk(dir: string): void {
  const fs = client();
  const h = fs.open(base(dir), within(dir), FS_RIGHT_READ | FS_OPEN_DIRECTORY);
  if (h < 0) return;
  const names = new Array<string>();
  const kinds = new Array<u32>();
  let cookie: u32 = 0;
  for (;;) {
    const n = fs.readdir(h, cookie);
    if (n <= 0) break;
    let at = fs.address;
    for (let i = 0; i < n; i++) {
      names.push(String.UTF8.decodeUnsafe(direntName(at), direntNameLength(at)));
      kinds.push(direntKind(at));
      at = direntNext(at);
    }
    cookie = fs.cookie;
  }
  fs.close(h);
  for (let i = 0; i < names.length; i++) {
    const path = dir.endsWith("/") ? dir + names[i] : dir + "/" + names[i];
    if (kinds[i] == FS_KIND_DIR) walk(path);
    else if (kinds[i] == FS_KIND_FILE) searchPath(path, true);
  }
}

if (operands.length == 0) operands.push(recursive ? "." : "-");
const showNames = o.given("h") ? false : o.given("H") || operands.length > 1 || recursive;
for (let i = 0; i < operands.length; i++) searchPath(operands[i], showNames);
out("");
finish(troubled && !(quiet && selectedAny) ? 2 : selectedAny ? 0 : 1);
