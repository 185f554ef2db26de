// find [PATH...] [EXPRESSION]: each file and directory under each PATH (. when none), one per
// line, those the expression selects: -name PATTERN, -iname PATTERN, -path PATTERN, -type f|d|l,
// -empty, -maxdepth N, -mindepth N, -newer FILE, -print, ! or -not, -a, -o, ( ). Directories are
// read in their own order (as GNU find does), and never followed through symbolic links.
import { args, eprint, exit, statusText } from "../lib";
import { parseCount } from "../lib/options";
import { FsClient, FS_RIGHT_READ, FS_OPEN_NOFOLLOW, FS_KIND_FILE, FS_KIND_DIR, FS_KIND_SYMLINK } from "../lib/fs-client";
import { base, within, client, workingDirectory } from "./tool-parts/files";
import { visible } from "./tool-parts/visible";
import { entries, join, lastStatus } from "./tool-parts/walk";
import { outLine, finish } from "./tool-parts/output";

const USAGE = "usage: find [PATH...] [-name PATTERN] [-iname PATTERN] [-path PATTERN] [-type f|d|l] [-empty] [-newer FILE] [-maxdepth N] [-mindepth N] [! EXPR] [EXPR -o EXPR] [-print]";
const argv = args();
if (argv.length == 2 && argv[1] == "--help") {
  outLine(USAGE);
  outLine("Prints each file and directory under each PATH (. when none) that the expression selects.");
  finish(0);
}

function usageError(why: string): void {
  eprint("find: " + why);
  eprint(USAGE);
  exit(2);
}

// The expression, parsed into a small tree.
const E_TRUE = 0;
const E_NAME = 1;
const E_INAME = 2;
const E_PATH = 3;
const E_TYPE = 4;
const E_EMPTY = 5;
const E_NEWER = 6;
const E_NOT = 7;
const E_AND = 8;
const E_OR = 9;
const E_PRINT = 10;

class Expr {
  text: string = "";
  time: i64 = 0;
  left: Expr | null = null;
  right: Expr | null = null;
  constructor(readonly kind: i32) {}
}

let at = 1;
const paths = new Array<string>();
while (at < argv.length && !argv[at].startsWith("-") && argv[at] != "!" && argv[at] != "(") paths.push(argv[at++]);
if (paths.length == 0) paths.push(".");
let maxDepth: i64 = -1;
let minDepth: i64 = 0;
let printed = false;
workingDirectory("find");
const fs = client();

function value(option: string): string {
  if (at >= argv.length) usageError("missing argument to '" + option + "'");
  return argv[at++];
}

function primary(): Expr {
  if (at >= argv.length) usageError("expected an expression");
  const a = argv[at++];
  if (a == "(") {
    const e = orExpr();
    if (at >= argv.length || argv[at] != ")") usageError("missing ')'");
    at++;
    return e;
  }
  if (a == "!" || a == "-not") {
    const e = new Expr(E_NOT);
    e.left = primary();
    return e;
  }
  if (a == "-name" || a == "-iname" || a == "-path" || a == "-wholename") {
    const e = new Expr(a == "-name" ? E_NAME : a == "-iname" ? E_INAME : E_PATH);
    e.text = value(a);
    return e;
  }
  if (a == "-type") {
    const e = new Expr(E_TYPE);
    e.text = value(a);
    if (e.text != "f" && e.text != "d" && e.text != "l") usageError("-type " + e.text + ": only f, d and l");
    return e;
  }
  if (a == "-empty") return new Expr(E_EMPTY);
  if (a == "-print") {
    printed = true;
    return new Expr(E_PRINT);
  }
  if (a == "-newer") {
    const e = new Expr(E_NEWER);
    const path = value(a);
    const h = fs.open(base(path), within(path), FS_RIGHT_READ);
    if (h < 0) {
      eprint("find: " + visible(path) + ": " + statusText(h));
      exit(1);
    }
    fs.stat(h);
    e.time = fs.modified;
    fs.close(h);
    return e;
  }
  if (a == "-maxdepth" || a == "-mindepth") {
    const n = parseCount(value(a));
    if (n < 0) usageError(a + ": not a number");
    if (a == "-maxdepth") maxDepth = n;
    else minDepth = n;
    return new Expr(E_TRUE);
  }
  if (a == "-true") return new Expr(E_TRUE);
  usageError("unknown predicate '" + a + "'");
  return new Expr(E_TRUE);
}

function andExpr(): Expr {
  let left = primary();
  while (at < argv.length && argv[at] != "-o" && argv[at] != "-or" && argv[at] != ")") {
    if (argv[at] == "-a" || argv[at] == "-and") at++;
    const e = new Expr(E_AND);
    e.left = left;
    e.right = primary();
    left = e;
  }
  return left;
}

function orExpr(): Expr {
  let left = andExpr();
  while (at < argv.length && (argv[at] == "-o" || argv[at] == "-or")) {
    at++;
    const e = new Expr(E_OR);
    e.left = left;
    e.right = andExpr();
    left = e;
  }
  return left;
}

const expression = at < argv.length ? orExpr() : new Expr(E_TRUE);
if (at < argv.length) usageError("unexpected '" + argv[at] + "'");

/** Whether `name` matches the glob `pattern` (* ? [...]). */
function glob(pattern: string, p: i32, name: string, n: i32): bool {
  while (p < pattern.length) {
    const c = pattern.charAt(p);
    if (c == "*") {
      for (let k = n; k <= name.length; k++) if (glob(pattern, p + 1, name, k)) return true;
      return false;
    }
    if (n >= name.length) return false;
    if (c == "[") {
      const close = pattern.indexOf("]", p + 2);
      if (close > 0) {
        let set = pattern.slice(p + 1, close);
        const negate = set.startsWith("!") || set.startsWith("^");
        if (negate) set = set.slice(1);
        let found = false;
        const ch = name.charCodeAt(n);
        for (let k = 0; k < set.length; k++) {
          if (k + 2 < set.length && set.charAt(k + 1) == "-") {
            if (ch >= set.charCodeAt(k) && ch <= set.charCodeAt(k + 2)) found = true;
            k += 2;
          } else if (set.charCodeAt(k) == ch) found = true;
        }
        if (found == negate) return false;
        p = close + 1;
        n++;
        continue;
      }
    }
    if (c == "\\" && p + 1 < pattern.length) {
      p++;
      if (pattern.charAt(p) != name.charAt(n)) return false;
    } else if (c != "?" && c != name.charAt(n)) return false;
    p++;
    n++;
  }
  return n == name.length;
}

class Info {
  kind: u32 = 0;
  size: u64 = 0;
  modified: i64 = 0;
  empty: bool = false;
}

function info(path: string, fsc: FsClient): Info | null {
  const h = fsc.open(base(path), within(path), FS_RIGHT_READ | FS_OPEN_NOFOLLOW);
  if (h < 0) {
    eprint("find: " + visible(path) + ": " + statusText(h));
    return null;
  }
  fsc.stat(h);
  const i = new Info();
  i.kind = fsc.kind;
  i.size = fsc.size;
  i.modified = fsc.modified;
  fsc.close(h);
  return i;
}

function test(e: Expr, path: string, name: string, i: Info): bool {
  switch (e.kind) {
    case E_TRUE: return true;
    case E_NAME: return glob(e.text, 0, name, 0);
    case E_INAME: return glob(e.text.toLowerCase(), 0, name.toLowerCase(), 0);
    case E_PATH: return glob(e.text, 0, path, 0);
    case E_TYPE: return (e.text == "f" && i.kind == FS_KIND_FILE) || (e.text == "d" && i.kind == FS_KIND_DIR) || (e.text == "l" && i.kind == FS_KIND_SYMLINK);
    case E_EMPTY: return i.empty;
    case E_NEWER: return i.modified > e.time;
    case E_NOT: return !test(e.left!, path, name, i);
    case E_AND: return test(e.left!, path, name, i) && test(e.right!, path, name, i);
    case E_OR: return test(e.left!, path, name, i) || test(e.right!, path, name, i);
    case E_PRINT:
      outLine(visible(path));
      return true;
  }
  return false;
}

let failed = false;

function visit(path: string, name: string, depth: i64): void {
  const i = info(path, fs);
  if (i == null) {
    failed = true;
    return;
  }
  const children = i!.kind == FS_KIND_DIR && (maxDepth < 0 || depth < maxDepth) ? entries(fs, path) : null;
  if (i!.kind == FS_KIND_DIR && children == null && (maxDepth < 0 || depth < maxDepth)) {
    eprint("find: " + visible(path) + ": " + statusText(lastStatus));
    failed = true;
  }
  i!.empty = i!.kind == FS_KIND_DIR ? children != null && children!.length == 0 : i!.size == 0;
  if (i!.kind == FS_KIND_DIR && children == null) {
    const all = entries(fs, path);
    i!.empty = all != null && all!.length == 0;
  }
  if (depth >= minDepth && test(expression, path, name, i!) && !printed) outLine(visible(path));
  if (children == null) return;
  for (let k = 0; k < children!.length; k++) visit(join(path, children![k].name), children![k].name, depth + 1);
}

for (let k = 0; k < paths.length; k++) {
  const p = paths[k];
  const slash = p.lastIndexOf("/", p.length - 2);
  visit(p, slash < 0 ? p : p.slice(slash + 1), 0);
}
finish(failed ? 1 : 0);
